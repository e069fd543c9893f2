"""Two years of daily points: every point is drawn and reachable, in one frame's work."""

import uuid
from datetime import UTC, datetime, timedelta

from server.data.extensions import db
from server.data.models import Entry
from server.domain.instruments import PHQ9, score
from tests.browser.conftest import OUTPUT
from tests.conftest import PASSWORD, database

DAYS = 730


def _two_years_of_daily_entries(app, patient, account_id):
    now = datetime.now(UTC).replace(microsecond=0)
    # At noon UTC (13:00 or 14:00 in Berlin): never near local midnight, so a DST change
    # cannot put two entries on one local day, whatever the time the test runs.
    last = (now - timedelta(days=1)).replace(hour=12, minute=0, second=0)
    rows = []
    for day in range(DAYS):
        answers = [(day + item) % 3 for item in range(8)] + [0]
        scored = score(PHQ9, answers)
        rows.append(
            {
                "id": str(uuid.uuid4()),
                "patient_id": patient.id,
                "instrument": "phq9",
                "answers": answers,
                "taken_at": last - timedelta(days=DAYS - 1 - day),
                "context": "routine",
                "session_explicit": False,
                "total": scored.total,
                "severity": scored.severity,
                "flags": [],
                "imputed_items": [],
                "received_at": now,
                "entered_by_id": account_id,
                "entered_by_role": "patient",
                "request_hash": uuid.uuid4().hex,
                "voided": False,
            }
        )
    with database(app) as session:
        session.execute(db.insert(Entry), rows)
        session.commit()


def test_two_years_of_daily_points_are_all_drawn_and_read_out_by_keyboard(app, world, page):
    account = world.account_of(world.patient_a)
    _two_years_of_daily_entries(app, world.patient_a, account.id)
    page.goto("/")
    page.get_by_label("Email").fill("alice@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Hello").wait_for()
    page.goto("/#/history")
    chart = page.locator("svg.chart")
    chart.wait_for()
    assert page.locator("svg.chart circle.dot").count() == DAYS

    # The chart code's own cost for these points, timed in the page (reported, not asserted).
    milliseconds = page.evaluate(
        """async () => {
            const { chart } = await import('/chart.js');
            const points = Array.from({ length: 730 }, (_, i) => ({
                at: new Date(Date.now() - (730 - i) * 86400000), value: i % 27, label: `p${i}`,
            }));
            const started = performance.now();
            const figure = chart({ title: 't', points, bands: [], max: 27 });
            document.body.append(figure);
            figure.getBoundingClientRect();
            const spent = performance.now() - started;
            figure.remove();
            return spent;
        }"""
    )
    OUTPUT.mkdir(exist_ok=True)
    (OUTPUT / "chart-730-points-ms.txt").write_text(f"{milliseconds:.1f} ms for {DAYS} points\n")
    print(f"chart with {DAYS} daily points built and laid out in {milliseconds:.1f} ms")

    chart.focus()
    page.keyboard.press("End")
    last = page.locator(".chart-caption").inner_text()
    page.keyboard.press("ArrowLeft")
    assert page.locator(".chart-caption").inner_text() != last
    assert page.locator("svg.chart .current").count() == 1
