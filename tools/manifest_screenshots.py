"""Take the screenshots the web app manifest shows in an install dialog (pwa/screenshots/).

A synthetic patient with three months of history, served from a throwaway SQLite file and
photographed in Debian's Chromium: Home on a phone (narrow) and the history chart on a
desktop (wide). Run again after changing those screens:

    .venv/bin/python tools/manifest_screenshots.py
"""

from __future__ import annotations

import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import flask_migrate  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402
from sqlalchemy import select  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from server import create_app  # noqa: E402
from server.data.extensions import db  # noqa: E402
from server.data.models import OutcomeSnapshot, User  # noqa: E402
from server.services.synthetic import SYNTHETIC_PASSWORD, build_clinic  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_FLAGS  # noqa: E402

OUT = ROOT / "pwa" / "screenshots"
SHOTS = [
    ("home-phone.png", {"width": 390, "height": 844}, None),
    ("history-desktop.png", {"width": 1280, "height": 800}, "History"),
]


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(
            {
                "DEVELOPMENT": True,
                "SECRET_KEY": "screenshots-only-secret-key-0123456789",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/shots.db",
                "SESSION_COOKIE_SECURE": False,
            }
        )
        with app.app_context():
            flask_migrate.upgrade()
            build_clinic("Tidemark Clinic", 8, 0.25, seed=5)
            # The patient whose PHQ-9 improved most: what the app is for.
            email = db.session.scalar(
                select(User.email)
                .join(OutcomeSnapshot, OutcomeSnapshot.patient_id == User.patient_id)
                .where(OutcomeSnapshot.instrument == "phq9", OutcomeSnapshot.change.is_not(None))
                .order_by(OutcomeSnapshot.change.desc())
                .limit(1)
            )
            db.session.remove()
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}"
        OUT.mkdir(exist_ok=True)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            for name, viewport, path in SHOTS:  # path: the link to follow from Home
                context = browser.new_context(viewport=viewport, base_url=base)
                page = context.new_page()
                page.goto("/#/signin")
                page.get_by_label("Email").fill(email)
                page.get_by_label("Password").fill(SYNTHETIC_PASSWORD)
                page.get_by_role("button", name="Sign in").click()
                page.get_by_role("heading", level=1).wait_for()
                if path:
                    page.get_by_role("link", name=path, exact=True).click()
                    page.locator("svg.chart").wait_for()
                page.wait_for_load_state("networkidle")
                page.screenshot(path=str(OUT / name))
                context.close()
                print(f"wrote {OUT / name}")
            browser.close()
        server.shutdown()


if __name__ == "__main__":
    main()
