"""The PWA offline: manifest, service worker, the IndexedDB outbox, sign-out, first-load size.

Each test drives a fresh Chromium profile at phone size against the live server and checks the
server's side through the API, as clinician X reads it.
"""

from __future__ import annotations

import json
import re
import struct
import time
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import brotli
from playwright.sync_api import Page, expect

from server.web import PWA_DIR, shell_version
from tests.browser.conftest import OUTPUT, screenshot
from tests.conftest import PASSWORD, Browser

ALICE = "alice@example.org"
ENTRIES = "**/api/v1/patients/*/entries"  # the PWA names the patient: /patients/<id>/
SAVED_ON_PHONE = re.compile(r"saved on this phone.*sent when you are online", re.IGNORECASE)
FIRST_LOAD_LIMIT = 60 * 1024
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
NINE_ANSWERS_ERROR = {
    "code": 422,
    "status": "Unprocessable Entity",
    "errors": {"json": {"answers": ["Must have exactly 9 answers."]}},
}

# Reads one object store without creating the database: an upgrade is aborted, so a page
# that has not opened 'tidemark' yet still gets its own upgrade later.
READ_STORE = """(store) => new Promise((resolve, reject) => {
  const opening = indexedDB.open('tidemark');
  opening.onupgradeneeded = () => opening.transaction.abort();
  opening.onerror = () => resolve(null);
  opening.onsuccess = () => {
    const db = opening.result;
    if (!db.objectStoreNames.contains(store)) { db.close(); resolve(null); return; }
    const request = db.transaction(store, 'readonly').objectStore(store).getAll();
    request.onsuccess = () => { db.close(); resolve(request.result); };
    request.onerror = () => { db.close(); reject(request.error); };
  };
})"""

CACHED_URLS = """async () => {
  const cached = {};
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    cached[name] = (await cache.keys()).map((request) => {
      const url = new URL(request.url);
      return url.pathname + url.search;
    });
  }
  return cached;
}"""

# Checks for a new sw.js and resolves once the new worker is activated (old caches deleted).
UPDATE_SERVICE_WORKER = """async () => {
  const registration = await navigator.serviceWorker.getRegistration();
  await registration.update();
  const worker = registration.installing || registration.waiting || registration.active;
  if (worker.state !== 'activated') {
    await new Promise((resolve) => worker.addEventListener('statechange', () => {
      if (worker.state === 'activated') resolve();
    }));
  }
  return worker.scriptURL;
}"""

# Marks this page (a reload forgets it) and notes when a new service worker takes it over.
MARK_PAGE = """() => {
  window.marked = true;
  window.tookOver = new Promise((resolve) => {
    navigator.serviceWorker.addEventListener('controllerchange', resolve, { once: true });
  });
}"""

# ---------------------------------------------------------------- helpers


def entries_of(world) -> list[dict]:
    """Patient A's stored entries, as clinician X reads them through the API."""
    response = world.as_clinician_x().get(f"/api/v1/patients/{world.patient_a.id}/entries")
    assert response.status_code == 200, response.json
    return response.json["items"]


def sign_in(page: Page) -> None:
    page.goto("/#/signin")
    page.get_by_label("Email").fill(ALICE)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Alice A")


def wait_until_controlled(page: Page) -> None:
    """The service worker is active and controls this page (clients.claim, no reload)."""
    assert page.evaluate("navigator.serviceWorker.ready.then((r) => r.active.state)") in {
        "activating",
        "activated",
    }
    page.wait_for_function("navigator.serviceWorker.controller !== null")


def read_store(page: Page, store: str) -> list[dict]:
    rows = page.evaluate(READ_STORE, store)
    assert rows is not None, f"IndexedDB 'tidemark' has no '{store}' store"
    return rows


def complete_phq9(page: Page) -> None:
    """From Home, a PHQ-9 by tapping: 1 on items 1–8, 0 on item 9, then the difficulty question."""
    page.get_by_role("link", name="Mood check-in (PHQ-9)").click()
    for number in range(1, 10):
        expect(page.get_by_text(f"Question {number} of 9")).to_be_visible()
        option = "Not at all" if number == 9 else "Several days"
        page.get_by_text(option, exact=True).click()
    expect(page.get_by_text("One last question (you may skip it)")).to_be_visible()
    page.get_by_text("Somewhat difficult", exact=True).click()
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()


def done_status(page: Page):
    return page.locator("main p.saved")


def go_home(page: Page) -> None:
    page.get_by_role("link", name="Home", exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Alice A")


def waiting_section(page: Page):
    return page.get_by_role("heading", name="Waiting to be sent")


def is_entries_post(response) -> bool:
    return (
        response.request.method == "POST"
        and "/api/v1/patients/" in response.url
        and response.url.endswith("/entries")
    )


def wait_for(condition, page: Page, timeout: float = 10.0) -> None:
    """Let Playwright run its handlers (routes, events) until `condition()` holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        page.wait_for_timeout(20)


def png_size(body: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk, which always comes first."""
    assert body[:8] == PNG_SIGNATURE, "not a PNG"
    assert body[12:16] == b"IHDR"
    return struct.unpack(">II", body[16:24])


# ---------------------------------------------------------------- the installable app


def test_the_manifest_names_the_app_and_its_icons_answer_at_their_size(page, context):
    page.goto("/")
    expect(page.locator("link[rel=manifest]")).to_have_attribute("href", "/manifest.webmanifest")

    response = context.request.get("/manifest.webmanifest")

    assert response.status == 200
    assert response.headers["content-type"].split(";")[0] == "application/manifest+json"
    manifest = response.json()
    assert manifest["name"] == "Tidemark"
    assert manifest["short_name"]
    assert manifest["start_url"] == "/"
    assert manifest["display"] == "standalone"
    assert re.fullmatch(r"#[0-9a-fA-F]{6}", manifest["theme_color"])
    assert re.fullmatch(r"#[0-9a-fA-F]{6}", manifest["background_color"])
    # A long press on the installed app's icon offers "Check in now", straight to the PHQ-9.
    [shortcut] = manifest["shortcuts"]
    assert shortcut["name"] == "Check in now"
    assert shortcut["url"] == "/#/checkin?instrument=phq9"
    icons = manifest["icons"]
    assert {icon["sizes"] for icon in icons} >= {"192x192", "512x512"}
    assert any("maskable" in icon.get("purpose", "").split() for icon in icons)
    # The install dialog shows the app: a phone's screenshot and a desktop's.
    screenshots = manifest["screenshots"]
    assert {shot["form_factor"] for shot in screenshots} == {"narrow", "wide"}
    assert all(shot["label"] for shot in screenshots)
    for icon in icons + screenshots:
        answer = context.request.get(icon["src"])
        assert answer.status == 200, icon["src"]
        assert answer.headers["content-type"] == "image/png", icon["src"]
        assert icon["type"] == "image/png"
        width, height = png_size(answer.body())
        assert f"{width}x{height}" == icon["sizes"], icon["src"]


def test_the_service_worker_controls_the_page_and_caches_the_shell_but_never_the_api(world, page):
    sign_in(page)
    wait_until_controlled(page)
    # More API calls after the shell is cached: the history view's summary and sessions.
    with page.expect_response(lambda r: "/summary" in r.url):
        page.get_by_role("link", name="History").click()
    expect(page.get_by_role("heading", name="Your history")).to_be_visible()

    cached = page.evaluate(CACHED_URLS)

    shell_caches = [name for name in cached if name.startswith("tidemark-shell-")]
    assert shell_caches == [f"tidemark-shell-{shell_version()}"]
    shell = cached[shell_caches[0]]
    assert "/" in shell
    assert "/app.js" in shell
    every_url = [url for urls in cached.values() for url in urls]
    assert not [url for url in every_url if "/api/" in url]


def test_a_new_shell_version_replaces_the_old_shell_cache(world, page, monkeypatch):
    sign_in(page)
    wait_until_controlled(page)
    old_cache = f"tidemark-shell-{shell_version()}"
    assert old_cache in page.evaluate("caches.keys()")
    # Any change to a PWA file changes the version the server writes into sw.js.
    monkeypatch.setattr("server.web.shell_version", lambda: "0123456789ab")

    page.evaluate(UPDATE_SERVICE_WORKER)

    cached = page.evaluate(CACHED_URLS)
    assert list(cached) == ["tidemark-shell-0123456789ab"]
    assert "/app.js" in cached["tidemark-shell-0123456789ab"]


def test_a_new_version_taking_over_loads_the_next_screen_afresh_so_versions_never_mix(
    world, page, monkeypatch
):
    sign_in(page)
    wait_until_controlled(page)
    page.reload()  # controlled from the start, as an installed app is
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Alice A")
    page.evaluate(MARK_PAGE)
    monkeypatch.setattr("server.web.shell_version", lambda: "0123456789ab")

    page.evaluate(UPDATE_SERVICE_WORKER)
    page.evaluate("window.tookOver")
    assert page.evaluate("window.marked") is True  # nothing reloads while a screen is in use
    page.get_by_role("link", name="History").click()

    expect(page.get_by_role("heading", name="Your history")).to_be_visible()
    assert page.evaluate("window.marked") is None  # a fresh page: all of it the new version


def test_the_first_install_taking_over_reloads_nothing(world, page):
    sign_in(page)
    page.evaluate(MARK_PAGE)
    wait_until_controlled(page)
    page.get_by_role("link", name="History").click()

    expect(page.get_by_role("heading", name="Your history")).to_be_visible()
    assert page.evaluate("window.marked") is True


# ---------------------------------------------------------------- the outbox


def test_a_check_in_made_offline_survives_a_reload_and_is_stored_once_when_online(
    world, page, context
):
    sign_in(page)
    wait_until_controlled(page)
    context.set_offline(True)
    expect(page.get_by_text("Offline", exact=True)).to_be_visible()

    complete_phq9(page)

    expect(done_status(page)).to_have_text(SAVED_ON_PHONE)
    screenshot(page, "offline-check-in-saved-on-this-phone")
    [queued] = read_store(page, "outbox")
    assert queued["state"] == "queued"
    go_home(page)

    reloaded = page.reload()

    assert reloaded is not None and reloaded.from_service_worker
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Alice A")
    expect(waiting_section(page)).to_be_visible()
    section = page.locator("section", has=waiting_section(page))
    expect(section.get_by_role("status")).to_have_text(SAVED_ON_PHONE)
    expect(section.get_by_role("listitem")).to_have_text(re.compile(r"^PHQ-9 from "))
    screenshot(page, "offline-home-waiting-to-be-sent")
    assert [row["id"] for row in read_store(page, "outbox")] == [queued["id"]]
    assert entries_of(world) == []

    page.evaluate("document.querySelector('main h1').keptFromBefore = true")
    below_the_bar = (
        "document.getElementById('nav').getBoundingClientRect().top"
        " - document.querySelector('.bar').getBoundingClientRect().bottom"
    )
    gap = page.evaluate(below_the_bar)
    context.set_offline(False)

    # Sent: said on screen (the card and the header), the offline notice gone, and Home not
    # drawn afresh (its heading is the same element).
    expect(page.get_by_role("heading", name="✓ Sent")).to_be_visible()
    expect(page.locator("#sent")).to_have_text("✓ Sent to your care team")
    # Over the page, not in it: nothing moved under the patient's finger, and a tap on the
    # note reaches what is beneath it.
    assert page.evaluate(below_the_bar) == gap
    assert (
        page.evaluate(
            "(() => { const r = document.getElementById('sent').getBoundingClientRect();"
            " return document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2).id; })()"
        )
        != "sent"
    )
    expect(page.get_by_text("You are offline")).to_have_count(0)
    expect(page.get_by_text("Offline", exact=True)).to_be_hidden()
    assert page.evaluate("document.querySelector('main h1').keptFromBefore === true")
    screenshot(page, "offline-home-sent-after-reconnecting")
    expect(waiting_section(page)).to_have_count(0)
    assert read_store(page, "outbox") == []
    assert [entry["id"] for entry in entries_of(world)] == [queued["id"]]

    page.reload()

    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Alice A")
    expect(page.get_by_role("heading", name="Your latest mood score")).to_be_visible()
    assert read_store(page, "outbox") == []
    assert [entry["id"] for entry in entries_of(world)] == [queued["id"]]


def test_offline_the_gad7_history_shows_its_scores_though_never_opened_online(world, page, context):
    taken = datetime.now(UTC) - timedelta(days=1)
    response = world.as_clinician_x().post(
        f"/api/v1/patients/{world.patient_a.id}/entries",
        json={
            "id": str(uuid4()),
            "instrument": "gad7",
            "answers": [2, 2, 1, 1, 1, 1, 1],
            "taken_at": taken.isoformat(),
            "context": "routine",
        },
    )
    assert response.status_code == 201, response.json
    sign_in(page)  # Home, and nothing else, is opened online
    wait_until_controlled(page)
    wait_for(
        lambda: {row["key"] for row in read_store(page, "cache")} >= {"summary:gad7", "entries"},
        page,
    )
    context.set_offline(True)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="History").click()
    # Home has a GAD-7 link too: choose the history's, once the history screen is there.
    expect(page.get_by_role("heading", name="Your history")).to_be_visible()
    page.get_by_role("link", name="GAD-7").click()

    expect(page.get_by_text("You are offline: this is what was saved")).to_be_visible()
    expect(page.locator(".chart .dot")).to_have_count(1)
    expect(page.get_by_text("No scores yet")).to_have_count(0)
    expect(page.get_by_role("heading", name="Your last GAD-7 check-ins")).to_be_visible()
    screenshot(page, "offline-gad7-history")


def test_the_apps_files_come_compressed_at_brotlis_best_and_revalidate(app):
    client = Browser(app)
    raw = (PWA_DIR / "views" / "checkin.js").read_bytes()

    first = client.get("/views/checkin.js", headers={"Accept-Encoding": "gzip, br"})
    again = client.get(
        "/views/checkin.js",
        headers={"Accept-Encoding": "gzip, br", "If-None-Match": first.headers["ETag"]},
    )
    without_brotli = client.get("/views/checkin.js", headers={"Accept-Encoding": "gzip"})

    assert first.headers["Content-Encoding"] == "br"
    assert brotli.decompress(first.data) == raw
    assert len(first.data) <= len(brotli.compress(raw, quality=11))
    assert "Accept-Encoding" in first.headers["Vary"]
    assert again.status_code == 304
    assert without_brotli.headers["Content-Encoding"] == "gzip"


def test_a_server_error_while_sending_keeps_the_check_in_queued(world, page):
    sign_in(page)
    refused = []

    def unavailable(route):
        if route.request.method != "POST":
            route.continue_()
            return
        refused.append(route.request.post_data_json["id"])
        route.fulfill(
            status=503,
            content_type="application/json",
            body=json.dumps({"code": 503, "status": "Service Unavailable"}),
        )

    page.route(ENTRIES, unavailable)

    complete_phq9(page)

    expect(done_status(page)).to_have_text(SAVED_ON_PHONE)
    [queued] = read_store(page, "outbox")
    assert queued["state"] == "queued"
    assert refused == [queued["id"]]
    assert entries_of(world) == []

    page.unroute(ENTRIES, unavailable)
    go_home(page)
    expect(waiting_section(page)).to_be_visible()
    with page.expect_response(is_entries_post) as sent:
        page.evaluate("window.dispatchEvent(new Event('online'))")

    assert sent.value.status == 201
    expect(waiting_section(page)).to_have_count(0)
    assert read_store(page, "outbox") == []
    assert [entry["id"] for entry in entries_of(world)] == [queued["id"]]


def test_a_rejected_check_in_is_shown_to_the_patient_and_not_stored(world, page):
    sign_in(page)

    def unprocessable(route):
        if route.request.method != "POST":
            route.continue_()
            return
        route.fulfill(
            status=422, content_type="application/json", body=json.dumps(NINE_ANSWERS_ERROR)
        )

    page.route(ENTRIES, unprocessable)

    complete_phq9(page)

    expect(done_status(page)).to_have_text(
        re.compile(r"^Not sent: .*Must have exactly 9 answers\.")
    )
    expect(done_status(page)).to_have_attribute("role", "alert")
    [failed] = read_store(page, "outbox")
    assert failed["state"] == "failed"

    go_home(page)
    alert = page.get_by_role("alert").filter(has_text="Must have exactly 9 answers.")
    expect(alert).to_contain_text("could not be sent")
    screenshot(page, "offline-home-rejected-check-in")
    assert entries_of(world) == []

    alert.get_by_role("button", name="Remove it from this phone").click()
    # Deleting answers asks once more; until then they stay on the phone.
    assert len(read_store(page, "outbox")) == 1
    alert.get_by_role("button", name="Yes, delete these answers").click()

    expect(alert).to_have_count(0)
    expect(waiting_section(page)).to_have_count(0)
    assert read_store(page, "outbox") == []
    assert entries_of(world) == []


def test_losing_the_answer_to_a_stored_check_in_never_stores_it_twice(world, page):
    sign_in(page)
    stored = []

    def store_then_lose_the_answer(route):
        if route.request.method != "POST":
            route.continue_()
            return
        stored.append(route.fetch().status)  # the server stores it ...
        route.abort("internetdisconnected")  # ... and the page never hears back

    page.route(ENTRIES, store_then_lose_the_answer)

    complete_phq9(page)

    expect(done_status(page)).to_have_text(SAVED_ON_PHONE)
    assert stored == [201]
    [queued] = read_store(page, "outbox")
    assert queued["state"] == "queued"
    assert [entry["id"] for entry in entries_of(world)] == [queued["id"]]

    page.unroute(ENTRIES, store_then_lose_the_answer)
    go_home(page)
    with page.expect_response(is_entries_post) as replay:
        page.evaluate("window.dispatchEvent(new Event('online'))")

    assert replay.value.status == 200
    expect(waiting_section(page)).to_have_count(0)
    assert read_store(page, "outbox") == []
    assert [entry["id"] for entry in entries_of(world)] == [queued["id"]]


def test_coming_back_online_sends_even_while_an_earlier_send_is_still_failing(world, page, context):
    """A send that hangs on a bad network, then fails, does not swallow the reconnect's send."""
    sign_in(page)
    held = []

    def hold_the_first_send(route):
        if route.request.method == "POST" and not held:
            held.append(route)  # the first send hangs ...
        else:
            route.continue_()

    page.route(ENTRIES, hold_the_first_send)
    complete_phq9(page)
    expect(done_status(page)).to_have_text("Sending…")
    wait_for(lambda: held, page)
    context.set_offline(True)
    expect(page.get_by_text("Offline", exact=True)).to_be_visible()
    context.set_offline(False)
    # The `online` handler has run (it hides the banner, then asks the outbox to send) ...
    expect(page.get_by_text("Offline", exact=True)).to_be_hidden()
    held[0].abort("internetdisconnected")  # ... and only then does the first send fail.

    expect(page.locator("#live")).to_have_text("1 saved check-in sent.")
    assert read_store(page, "outbox") == []
    assert len(entries_of(world)) == 1


# ---------------------------------------------------------------- sign-out


def test_signing_out_clears_the_offline_copy_from_the_phone(world, page):
    sign_in(page)
    complete_phq9(page)
    expect(done_status(page)).to_have_text("Sent to your care team.")
    with page.expect_response(lambda r: r.url.endswith("/sessions")):
        page.get_by_role("link", name="See your history").click()
    expect(page.get_by_role("heading", name="Your history")).to_be_visible()
    kept = {row["key"] for row in read_store(page, "cache")}
    assert kept >= {"me", "instruments", "entries", "sessions", "patient"}

    page.get_by_role("link", name="My data").click()
    page.get_by_role("button", name="Sign out").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    assert read_store(page, "cache") == []
    assert read_store(page, "outbox") == []
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()


# ---------------------------------------------------------------- first load


def test_the_first_load_transfers_at_most_60_kb_compressed(context, page):
    """Everything a first visit to the sign-in screen downloads, icons and /api/ excluded.

    The page's own requests are counted by Chromium (CDP encodedDataLength: compressed body and
    headers); the service worker's precache, fetched from the worker, by its Resource Timing
    transferSize; the worker script by its compressed Content-Length and headers.
    """
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    urls: dict[str, str] = {}
    finished: dict[str, int] = {}
    cdp.on(
        "Network.responseReceived",
        lambda event: urls.__setitem__(event["requestId"], event["response"]["url"]),
    )
    cdp.on(
        "Network.loadingFinished",
        lambda event: finished.__setitem__(event["requestId"], event["encodedDataLength"]),
    )

    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    wait_until_controlled(page)  # installed: the precache is complete
    page.wait_for_load_state("networkidle")

    def counted(url: str) -> bool:
        return "/icons/" not in url and "/api/" not in url

    page_bytes = {
        urls[request]: size
        for request, size in finished.items()
        if request in urls and counted(urls[request])
    }
    worker = (context.service_workers or [context.wait_for_event("serviceworker")])[0]
    precache = worker.evaluate(
        "performance.getEntriesByType('resource').map((e) => [e.name, e.transferSize])"
    )
    precache_bytes = {url: size for url, size in precache if counted(url)}
    script = context.request.get("/sw.js", headers={"Accept-Encoding": "br, gzip"})
    script_headers = sum(len(f"{h['name']}: {h['value']}\r\n") for h in script.headers_array)
    script_bytes = int(script.headers["content-length"]) + script_headers
    total = sum(page_bytes.values()) + sum(precache_bytes.values()) + script_bytes

    report = "\n".join(
        [
            f"first load: {total} bytes (limit {FIRST_LOAD_LIMIT}), icons and /api/ excluded",
            f"  page: {sum(page_bytes.values())} bytes in {len(page_bytes)} responses",
            *(f"    {size:>6}  {url}" for url, size in page_bytes.items()),
            f"  service worker precache: {sum(precache_bytes.values())} bytes"
            f" in {len(precache_bytes)} responses",
            *(f"    {size:>6}  {url}" for url, size in precache_bytes.items()),
            f"  service worker script: {script_bytes} bytes",
        ]
    )
    print(report)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    (OUTPUT / "first-load-bytes.txt").write_text(report + "\n")

    assert any(url.endswith("/app.js") for url in page_bytes), "the page's own load was missed"
    assert any(url.endswith("/app.js") for url in precache_bytes), "the precache was missed"
    assert total <= FIRST_LOAD_LIMIT
