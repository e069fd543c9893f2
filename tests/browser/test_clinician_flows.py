"""The clinician's workspace in a real Chromium: panel, flags, patient page, print, admin, axe.

Every test drives the PWA at desktop size (1280×900) against the live server, seeds what it needs
through the API as the patients and clinicians of clinic X, and checks the server's side through
the API as well.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import OUTPUT, ScreenWalk, screenshot, sizes_and_schemes
from tests.conftest import PASSWORD, Browser, TokenClient, database, entry_body, make_patient

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
ZONE = "Europe/Berlin"  # the clinic's and the browser's time zone, so local inputs are certain
ITEM_9 = "Thoughts that you would be better off dead or of hurting yourself in some way"
MADRS_ITEMS = [
    "Apparent sadness",
    "Reported sadness",
    "Inner tension",
    "Reduced sleep",
    "Reduced appetite",
    "Concentration difficulties",
    "Lassitude",
    "Inability to feel",
    "Pessimistic thoughts",
    "Suicidal thoughts",
]
# 3+3+2+2+1+1+2+2+1+0 = 17: mild, suicidal thoughts at 0.
MADRS_RATING = [3, 3, 2, 2, 1, 1, 2, 2, 1, 0]
PAGE_OBJECT = re.compile(rb"/Type\s*/Page[^s]")


# ---------------------------------------------------------------- fixtures and helpers


@pytest.fixture
def desk(chromium, live_server):
    """A fresh browser profile at desktop size, in the clinic's time zone; fails on JS errors."""
    context = chromium.new_context(
        viewport=DESKTOP,
        base_url=live_server,
        timezone_id=ZONE,
        accept_downloads=True,
        # The clinician's screens are never offline: no service worker to install and
        # precache in every fresh profile (about a fifth of these tests' time).
        service_workers="block",
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def ago(days: float = 0, hours: float = 0) -> datetime:
    """A moment in the past, to the second (the server keeps seconds only)."""
    return (datetime.now(UTC) - timedelta(days=days, hours=hours)).replace(microsecond=0)


def phq9(total: int, item_9: int = 0) -> list[int]:
    """PHQ-9 answers adding up to `total`, with item 9 at `item_9`."""
    answers, remaining = [0] * 9, total - item_9
    for position in range(8):
        answers[position] = min(3, remaining)
        remaining -= answers[position]
    assert remaining == 0, f"{total} does not fit the PHQ-9"
    answers[8] = item_9
    return answers


def gad7(total: int) -> list[int]:
    answers, remaining = [0] * 7, total
    for position in range(7):
        answers[position] = min(3, remaining)
        remaining -= answers[position]
    assert remaining == 0, f"{total} does not fit the GAD-7"
    return answers


def submit(
    client: Browser,
    answers: list[int],
    taken_at: datetime,
    instrument: str = "phq9",
    context: str = "routine",
    pid: str = "me",
) -> dict:
    """Store one entry through the API (the patient's own "me", or a clinician's pid)."""
    body = entry_body(instrument, answers, taken_at=taken_at.isoformat(), context=context)
    response = client.post(f"/api/v1/patients/{pid}/entries", json=body)
    assert response.status_code == 201, response.json
    return response.json


def add_session(clinician: Browser, pid: str, started_at: datetime, **fields) -> dict:
    body = {"started_at": started_at.isoformat(), "treatment": "ketamine_iv", **fields}
    response = clinician.post(f"/api/v1/patients/{pid}/sessions", json=body)
    assert response.status_code == 201, response.json
    return response.json


def entries_of(world, patient_id: str) -> list[dict]:
    """The patient's stored entries, as clinician X reads them through the API."""
    response = world.as_clinician_x().get(f"/api/v1/patients/{patient_id}/entries")
    assert response.status_code == 200, response.json
    return response.json["items"]


def flag_patient_b(world) -> dict:
    """Patient B answers item 9 with "Several days": one open flag."""
    return submit(world.as_patient_b(), phq9(9, item_9=1), ago(days=3))


def sign_in(page: Page, email: str) -> None:
    page.goto("/#/signin")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Patients")


def nav(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name).click()


def panel_rows(page: Page) -> Locator:
    return page.locator("table.panel tbody tr")


def open_patient(page: Page, patient_id: str, name: str) -> None:
    page.goto(f"/#/patient?id={patient_id}")
    expect(page.get_by_role("heading", level=1)).to_have_text(name)


def region(page: Page, name: str) -> Locator:
    return page.get_by_role("region", name=name, exact=True)


def entry_row(page: Page, text: str) -> Locator:
    return region(page, "Entries").locator("tbody tr").filter(has_text=text)


# ---------------------------------------------------------------- the main flow


def test_a_clinician_resolves_a_flag_then_adds_a_session_and_a_madrs_and_exports_json(desk, world):
    flagged = flag_patient_b(world)
    alice = world.as_patient_a()
    submit(alice, phq9(15), ago(days=10))
    submit(alice, phq9(11), ago(days=2))
    note = "Called Bob; safety plan reviewed, no current intent."

    sign_in(desk, "doc.x@example.org")
    first = panel_rows(desk).first
    expect(first.locator("th")).to_have_text("Bob B")
    expect(first.locator(".badge.flag")).to_have_text("1 open · less than an hour")

    nav(desk, "Safety flags")
    expect(desk.get_by_role("heading", level=1)).to_have_text("Open safety flags")
    card = desk.get_by_role("article", name="Bob B")
    expect(card).to_contain_text(
        f"PHQ-9 question 9 ({ITEM_9[0].lower()}{ITEM_9[1:]}): “Several days”"
    )
    card.get_by_label("What was done").fill(note)
    card.get_by_role("button", name="Resolve").click()
    expect(desk.get_by_text("No open safety flags.")).to_be_visible()
    expect(desk.get_by_role("article")).to_have_count(0)

    resolved = world.as_clinician_x().get("/api/v1/flags?status=resolved").json["items"]
    assert [(flag["entry"]["id"], flag["status"], flag["note"]) for flag in resolved] == [
        (flagged["id"], "resolved", note)
    ]

    nav(desk, "Patients")
    desk.get_by_role("link", name="Alice A", exact=True).click()
    expect(desk.get_by_role("heading", level=1)).to_have_text("Alice A")

    started = (datetime.now(ZoneInfo(ZONE)) - timedelta(days=5)).replace(second=0, microsecond=0)
    desk.get_by_role("button", name="Add a session").click()
    form = desk.locator("form").filter(has=desk.get_by_role("heading", name="Add a session"))
    form.get_by_label("Start").fill(started.strftime("%Y-%m-%dT%H:%M"))
    form.get_by_label("Treatment").select_option(label="Esketamine nasal spray")
    form.get_by_label("Dose in mg (optional)").fill("56")
    form.get_by_role("button", name="Add session").click()
    sessions = region(desk, "Treatment sessions").locator("tbody tr")
    expect(sessions).to_have_count(1)
    expect(sessions.locator("td").nth(0)).to_have_text("Esketamine nasal spray")
    expect(sessions.locator("td").nth(1)).to_have_text("56 mg")
    stored = world.as_clinician_x().get(f"/api/v1/patients/{world.patient_a.id}/sessions")
    assert [(s["treatment"], s["dose_mg"], s["started_at"]) for s in stored.json["items"]] == [
        ("esketamine_nasal", 56, started.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    ]

    madrs = region(desk, "Enter a MADRS rating")
    for item, value in zip(MADRS_ITEMS, MADRS_RATING, strict=True):
        madrs.get_by_label(item, exact=True).select_option(str(value))
    madrs.get_by_label("Context").select_option(label="Routine")
    madrs.get_by_role("button", name="Save MADRS").click()
    row = entry_row(desk, "MADRS")
    expect(row).to_have_count(1)
    expect(row.locator("td").nth(2)).to_have_text("17 (mild)")
    rated = [e for e in entries_of(world, world.patient_a.id) if e["instrument"] == "madrs"]
    assert [(e["answers"], e["total"], e["entered_by"]["role"]) for e in rated] == [
        (MADRS_RATING, 17, "clinician")
    ]

    with desk.expect_download() as download_info:
        desk.get_by_role("link", name="Export JSON").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".json")
    document = json.loads(download.path().read_text(encoding="utf-8"))
    assert document["format"] == "tidemark.export"
    [block] = document["patients"]
    assert block["patient"]["id"] == world.patient_a.id
    assert sorted(e["id"] for e in block["entries"]) == sorted(
        e["id"] for e in entries_of(world, world.patient_a.id)
    )
    assert len(block["entries"]) == 3


# ---------------------------------------------------------------- panel


def test_the_panel_says_why_there_is_no_response_when_the_baseline_is_below_10(desk, world):
    alice = world.as_patient_a()
    submit(alice, phq9(8), ago(days=10))
    submit(alice, phq9(5), ago(days=2))

    sign_in(desk, "doc.x@example.org")

    row = panel_rows(desk).filter(has_text="Alice A")
    expect(row.locator("td").nth(4)).to_have_text("n/a: baseline below 10")


def test_the_panel_shows_a_responder_with_a_yes_badge_and_the_change(desk, world):
    bob = world.as_patient_b()
    submit(bob, phq9(18), ago(days=20))
    submit(bob, phq9(8), ago(days=2))

    sign_in(desk, "doc.x@example.org")

    row = panel_rows(desk).filter(has_text="Bob B")
    expect(row.locator("td").nth(2)).to_have_text("8 (mild)")
    expect(row.locator("td").nth(3)).to_have_text("↓ 10 points, 55 % better")
    expect(row.locator("td").nth(4).locator(".badge.yes")).to_have_text("responding")
    expect(row.locator("td").nth(4)).not_to_contain_text("remission")
    trend = row.get_by_role("img")
    expect(trend).to_have_accessible_name("PHQ-9, last 2 scores, oldest first: 18, 8")
    expect(row.locator("td").nth(5)).to_have_text("2 days ago")


def test_the_panel_is_filtered_by_name(desk, world):
    submit(world.as_patient_a(), phq9(12), ago(days=2))
    submit(world.as_patient_b(), phq9(12), ago(days=2))
    sign_in(desk, "doc.x@example.org")
    expect(panel_rows(desk)).to_have_count(2)

    desk.get_by_label("Name contains").fill("ali")
    desk.get_by_role("button", name="Show").click()

    expect(panel_rows(desk).locator("th")).to_have_text(["Alice A"])
    expect(desk.get_by_label("Name contains")).to_have_value("ali")
    assert "q=ali" in desk.url


def test_the_panel_puts_the_overdue_patient_first_and_can_be_ordered_by_name(desk, world):
    submit(world.as_patient_a(), phq9(12), ago(days=2))
    submit(world.as_patient_b(), phq9(12), ago(days=20))  # PHQ-9 every 14 days: overdue
    sign_in(desk, "doc.x@example.org")
    expect(panel_rows(desk).locator("th")).to_have_text(["Bob B", "Alice A"])
    expect(panel_rows(desk).first.locator(".badge.overdue")).to_have_text("overdue 6 days")

    desk.get_by_label("Order").select_option(label="Name")
    desk.get_by_role("button", name="Show").click()

    expect(panel_rows(desk).locator("th")).to_have_text(["Alice A", "Bob B"])
    expect(desk.get_by_label("Order")).to_have_value("name")


def test_the_panel_shows_twelve_patients_above_the_fold_with_counts_that_filter(desk, world):
    clinician = world.as_clinician_x()
    with database(world.app):
        added = [make_patient(world.clinic_x, f"Pat {n:02d}", enrolled=False).id for n in range(12)]
    for n, pid in enumerate(added[:4]):  # four responders, from 20 to 8
        submit(clinician, phq9(20), ago(days=30 + n), pid=pid)
        submit(clinician, phq9(8), ago(days=20 + n), pid=pid)  # and overdue: 14 days
    flag_patient_b(world)
    desk.set_viewport_size({"width": 1280, "height": 800})
    sign_in(desk, "doc.x@example.org")
    expect(panel_rows(desk)).to_have_count(14)

    fold = desk.evaluate(
        "[...document.querySelectorAll('table.panel tbody tr')]"
        ".filter(row => row.getBoundingClientRect().bottom <= innerHeight).length"
    )
    assert fold >= 12, f"{fold} patients above the fold"
    # The whole row is on screen: nothing to scroll sideways for.
    assert desk.evaluate("document.querySelector('table.panel').scrollWidth <= innerWidth")
    counts = desk.get_by_role("navigation", name="Show patients").get_by_role("link")
    expect(counts).to_have_text(
        # Overdue: the responders (last seen 20 days ago) and everyone never seen but Bob.
        ["14 All", "1 Open flags", "13 Overdue", "4 Responding", "9 No baseline"]
    )
    expect(panel_rows(desk).nth(1).get_by_role("img")).to_have_accessible_name(
        re.compile(r"^PHQ-9, last 2 scores, oldest first: 20, 8$")
    )
    screenshot(desk, "clinician-panel-fourteen")

    counts.filter(has_text="Responding").click()
    expect(panel_rows(desk)).to_have_count(4)
    expect(counts.filter(has_text="Responding")).to_have_attribute("aria-current", "true")
    counts.filter(has_text="Overdue").click()
    expect(panel_rows(desk)).to_have_count(13)
    expect(counts.filter(has_text="Overdue")).to_have_attribute("aria-current", "true")
    counts.filter(has_text="No baseline").click()
    expect(panel_rows(desk).locator("th a")).to_have_count(9)
    expect(panel_rows(desk).filter(has_text="Pat 00")).to_have_count(0)
    counts.filter(has_text="Open flags").click()
    expect(panel_rows(desk).locator("th")).to_have_text(["Bob B"])


def test_the_enrollment_handout_prints_alone_on_one_page(desk, world):
    sign_in(desk, "doc.x@example.org")
    desk.get_by_role("button", name="Add a patient").click()
    desk.get_by_label("Name", exact=True).fill("Dana D")
    desk.get_by_role("button", name="Add patient", exact=True).click()
    handout = desk.locator(".handout")
    expect(handout.get_by_role("heading", name="Three steps for the patient")).to_be_visible()
    expect(handout.locator("ol.steps li")).to_have_count(3)
    desk.wait_for_function("document.querySelector('img.qr').naturalWidth > 0")
    desk.evaluate("window.print = () => { window.printed = true; }")  # no dialog in a test

    handout.get_by_role("button", name="Print handout").click()

    assert desk.evaluate("window.printed")
    desk.emulate_media(media="print")
    expect(handout.locator(".handout-title")).to_have_text(
        "Clinic X: your Tidemark check-ins, for Dana D"
    )
    expect(handout.locator("img.qr")).to_be_visible()
    expect(handout.locator("strong.code")).to_be_visible()
    expect(desk.locator("table.panel")).to_be_hidden()
    expect(desk.get_by_role("heading", level=1)).to_be_hidden()
    screenshot(desk, "clinician-handout-print")
    path = OUTPUT / "clinician-enrollment-handout.pdf"
    desk.pdf(path=str(path), format="A4")
    pages = len(PAGE_OBJECT.findall(path.read_bytes()))
    assert pages == 1, f"the handout has {pages} pages: {path}"


# ---------------------------------------------------------------- patient page


def test_a_clinician_voids_an_entry_with_a_reason_and_it_is_shown_as_voided(desk, world):
    alice = world.as_patient_a()
    kept = submit(alice, phq9(15), ago(days=10))
    mistaken = submit(alice, phq9(11), ago(days=2))
    reason = "Entered twice by mistake"
    sign_in(desk, "doc.x@example.org")
    open_patient(desk, world.patient_a.id, "Alice A")

    row = entry_row(desk, "11 (moderate)")
    row.get_by_role("button", name=re.compile("^Void the entry of")).click()
    row.get_by_label("Reason").fill(reason)
    row.get_by_role("button", name="Void entry").click()

    voided = entry_row(desk, f"voided: {reason}")
    expect(voided).to_have_count(1)
    expect(voided).to_have_class("voided")
    expect(voided.get_by_role("button")).to_have_count(0)
    stored = {e["id"]: e for e in entries_of(world, world.patient_a.id)}
    assert (stored[mistaken["id"]]["voided"], stored[mistaken["id"]]["void_reason"]) == (
        True,
        reason,
    )
    assert stored[kept["id"]]["voided"] is False


def test_use_as_baseline_sets_the_baseline_explicitly(desk, world):
    alice = world.as_patient_a()
    submit(alice, phq9(12), ago(days=20))
    chosen = submit(alice, phq9(16), ago(days=10))
    submit(alice, phq9(8), ago(days=2))
    sign_in(desk, "doc.x@example.org")
    open_patient(desk, world.patient_a.id, "Alice A")
    figures = region(desk, "PHQ-9").locator("dl.figures dd")
    expect(figures.first).to_contain_text("12 (moderate)")
    expect(figures.first).to_contain_text("first entry")

    entry_row(desk, "16 (moderately severe)").get_by_role(
        "button", name=re.compile("^Use the entry of .* as PHQ-9 baseline$")
    ).click()

    expect(figures.first).to_contain_text("16 (moderately severe)")
    expect(figures.first).to_contain_text("set by a clinician")
    expect(entry_row(desk, "16 (moderately severe)")).to_contain_text("baseline (set)")
    summary = world.as_clinician_x().get(
        f"/api/v1/patients/{world.patient_a.id}/summary?instrument=phq9"
    )
    assert (summary.json["baseline"]["id"], summary.json["baseline_rule"]) == (chosen["id"], 1)


def test_a_clinician_edits_the_check_in_schedule(desk, world):
    sign_in(desk, "doc.x@example.org")
    open_patient(desk, world.patient_a.id, "Alice A")
    schedule = region(desk, "Check-in schedule")
    expect(schedule.get_by_label("PHQ-9", exact=True)).to_be_checked()
    expect(schedule.get_by_label("PHQ-9: every how many days")).to_have_value("14")
    expect(schedule.get_by_label("GAD-7", exact=True)).not_to_be_checked()

    schedule.get_by_label("PHQ-9: every how many days").fill("7")
    schedule.get_by_label("GAD-7", exact=True).check()
    schedule.get_by_label("GAD-7: every how many days").fill("28")
    with desk.expect_response(
        lambda r: r.request.method == "PUT" and r.url.endswith("/schedule")
    ) as saved:
        schedule.get_by_role("button", name="Save schedule").click()

    assert saved.value.status == 200
    desk.reload()  # the form as the server has it now
    schedule = region(desk, "Check-in schedule")
    expect(schedule.get_by_label("PHQ-9: every how many days")).to_have_value("7")
    expect(schedule.get_by_label("PHQ-9", exact=True)).to_be_checked()
    expect(schedule.get_by_label("GAD-7", exact=True)).to_be_checked()
    expect(schedule.get_by_label("GAD-7: every how many days")).to_have_value("28")
    response = world.as_clinician_x().get(f"/api/v1/patients/{world.patient_a.id}/schedule")
    assert response.status_code == 200
    assert response.json["instruments"] == [
        {"instrument": "phq9", "every_days": 7},
        {"instrument": "gad7", "every_days": 28},
    ]


def test_a_new_enrollment_code_is_shown_with_its_link_and_a_qr_code(desk, world):
    created = world.as_clinician_x().post("/api/v1/patients", json={"display_name": "Dana D"})
    assert created.status_code == 201, created.json
    pid, first_code = created.json["patient"]["id"], created.json["enrollment"]["code"]
    sign_in(desk, "doc.x@example.org")
    open_patient(desk, pid, "Dana D")
    expect(desk.get_by_text("Not enrolled yet.", exact=False)).to_be_visible()

    enrollment = region(desk, "Enrollment")
    enrollment.get_by_role("button", name="Issue a new enrollment code").click()

    code = enrollment.locator("strong.code")
    expect(code).to_have_text(re.compile(r"^[A-Z2-9-]{12,}$"))
    issued = code.inner_text()
    assert issued != first_code
    link = enrollment.get_by_role("link")
    expect(link).to_have_attribute("href", re.compile("code="))
    expect(link).to_have_text(link.get_attribute("href"))
    assert issued.replace("-", "") in link.get_attribute("href").replace("-", "")
    qr = enrollment.get_by_role("img", name=re.compile("QR code"))
    expect(qr).to_be_visible()
    expect(qr).to_have_attribute("src", re.compile(r"^data:image/svg\+xml"))


def test_the_sessions_table_marks_a_pre_and_post_pair_with_overlapping_recall(desk, world):
    started = ago(days=10)
    add_session(world.as_clinician_x(), world.patient_a.id, started)
    alice = world.as_patient_a()
    submit(alice, phq9(15), started - timedelta(hours=2), context="pre_session")
    submit(alice, phq9(9), started + timedelta(days=1), context="post_session")
    sign_in(desk, "doc.x@example.org")

    open_patient(desk, world.patient_a.id, "Alice A")

    row = region(desk, "Treatment sessions").locator("tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("PHQ-9: pre 15, post 9, ↓ 6 points better")
    # Marked, and said once under the table rather than on every row.
    expect(row.locator(".overlap-mark")).to_have_text("* (recall periods overlap)")
    footnotes = region(desk, "Treatment sessions").locator("p.hint").filter(has_text="*")
    expect(footnotes).to_have_count(1)


def test_session_notes_are_shown_in_the_sessions_table_and_in_the_printed_summary(desk, world):
    notes = "Nausea after 20 min, settled with ondansetron; BP 150/95 at 40 min."
    add_session(world.as_clinician_x(), world.patient_a.id, ago(days=3), notes=notes)
    add_session(world.as_clinician_x(), world.patient_a.id, ago(days=1))
    sign_in(desk, "doc.x@example.org")

    open_patient(desk, world.patient_a.id, "Alice A")

    table = region(desk, "Treatment sessions").get_by_role("table")
    expect(table.get_by_role("columnheader", name="Notes")).to_be_visible()
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0).locator("td.session-notes")).to_have_text(notes)
    expect(rows.nth(1).locator("td.session-notes")).to_have_text("–")
    desk.emulate_media(media="print")
    expect(rows.nth(0).locator("td.session-notes")).to_be_visible()
    expect(rows.nth(0).locator("td.session-notes")).to_have_text(notes)


def test_prorated_totals_and_their_change_are_shown_rounded_to_one_decimal(desk, world):
    # scales.md's example: B = 16 × 9 / 7, F = 9 × 9 / 7: change 9, 43.8 %.
    clinician, pid = world.as_clinician_x(), world.patient_a.id
    submit(clinician, [3, 3, 3, 3, 3, 1, None, None, 0], ago(days=20), context="baseline", pid=pid)
    submit(clinician, [2, 2, 2, 1, 1, 1, None, None, 0], ago(days=2), pid=pid)
    sign_in(desk, "doc.x@example.org")

    open_patient(desk, world.patient_a.id, "Alice A")

    figures = desk.locator("dl.figures").first
    expect(figures).to_contain_text("20.6 (severe)")
    expect(figures).to_contain_text("11.6 (moderate)")
    expect(figures).to_contain_text("↓ 9 points, 43 % better")
    expect(entry_row(desk, "20.6 (severe), prorated")).to_have_count(1)
    expect(region(desk, "Entries")).not_to_contain_text("20.57")


# ---------------------------------------------------------------- print


def seed_a_course_of_treatment(world) -> None:
    """Six weeks of a typical course for patient A: PHQ-9 and GAD-7, two MADRS, two sessions."""
    clinician, alice, pid = world.as_clinician_x(), world.as_patient_a(), world.patient_a.id
    first, second = ago(days=28), ago(days=14)
    add_session(clinician, pid, first, dose_mg=35)
    add_session(clinician, pid, second, dose_mg=35)
    for days, total in [(42, 19), (35, 18), (21, 13), (7, 9), (1, 7)]:
        submit(alice, phq9(total), ago(days=days))
    submit(alice, phq9(17), first - timedelta(hours=2), context="pre_session")
    submit(alice, phq9(12), first + timedelta(days=1), context="post_session")
    for days, total in [(42, 14), (21, 9), (1, 5)]:
        submit(alice, gad7(total), ago(days=days), instrument="gad7")
    for days, answers in [(42, [3] * 10), (1, [1] * 10)]:
        submit(clinician, answers, ago(days=days), instrument="madrs", pid=pid)


def test_the_patient_page_prints_as_a_one_page_summary_with_its_scores_and_who_printed_it(
    desk, world
):
    seed_a_course_of_treatment(world)
    sign_in(desk, "doc.x@example.org")
    open_patient(desk, world.patient_a.id, "Alice A")
    expect(desk.locator("svg.chart")).to_have_count(3)

    desk.emulate_media(media="print")

    assert desk.evaluate("matchMedia('print').matches")
    for form in desk.locator("form").all():
        expect(form).to_be_hidden()
    for control in desk.locator("button, a.button").all():
        expect(control).to_be_hidden()
    expect(desk.get_by_role("navigation", name="Main")).to_be_hidden()
    head = desk.locator(".print-head")
    expect(head).to_contain_text("Clinic X")
    expect(head).to_contain_text("Printed ")
    expect(head).to_contain_text("by Dr Test")
    expect(desk.locator("dl.figures").first).to_be_visible()
    expect(desk.locator("svg.chart").first).to_be_visible()
    legend = desk.get_by_role("list", name="How the charts are drawn")
    expect(legend).to_be_visible()
    expect(legend).to_contain_text("lower is better")
    expect(legend).to_contain_text("Treatment session")
    phq9_scores = region(desk, "PHQ-9").locator("table.scores")
    expect(phq9_scores.locator("caption")).to_have_text("PHQ-9 scores")
    expect(phq9_scores.locator("tbody tr")).to_have_count(7)
    expect(phq9_scores.locator("tbody tr").first.locator("td").first).to_have_text("7 mild")
    expect(region(desk, "Safety flags")).to_contain_text("No open safety flags")
    expect(region(desk, "Treatment sessions").get_by_role("table")).to_be_visible()
    # Empty sections stay off the paper; a badge is no taller than the text beside it.
    expect(region(desk, "Side effects reported after sessions")).to_be_hidden()
    badge = region(desk, "Treatment sessions").locator(".badge").first
    cell = region(desk, "Treatment sessions").locator("tbody tr td").first
    size = "e => parseFloat(getComputedStyle(e).fontSize)"
    badge_size = desk.evaluate(size, badge.element_handle())
    cell_size = desk.evaluate(size, cell.element_handle())
    assert badge_size <= cell_size, (badge_size, cell_size)
    screenshot(desk, "clinician-patient-print")

    path = OUTPUT / "clinician-patient-summary.pdf"
    path.parent.mkdir(parents=True, exist_ok=True)
    desk.pdf(path=str(path), format="A4")
    pages = len(PAGE_OBJECT.findall(path.read_bytes()))
    assert pages == 1, f"the printed summary has {pages} pages: {path}"


# ---------------------------------------------------------------- clinic admin


def open_account_page(desk: Page, email: str = "admin.x@example.org", title="Clinic admin") -> None:
    sign_in(desk, email)
    nav(desk, title)
    expect(desk.get_by_role("heading", level=1)).to_have_text(title)


def test_an_admin_creates_a_token_shown_once_that_works_as_a_bearer_token(desk, world):
    open_account_page(desk)
    tokens = region(desk, "API tokens")

    tokens.get_by_label("Name").fill("nightly export")
    tokens.get_by_role("button", name="Create token").click()

    expect(tokens.get_by_role("status")).to_contain_text('Token "nightly export"')
    secret = tokens.locator("code.secret").inner_text()
    assert secret.startswith("tmk_")
    assert TokenClient(world.app, secret).get("/api/v1/patients").status_code == 200
    expect(tokens.locator("tbody tr").filter(has_text="nightly export")).to_have_count(1)

    desk.reload()
    expect(desk.get_by_role("heading", level=1)).to_have_text("Clinic admin")
    expect(region(desk, "API tokens").locator("tbody tr")).to_have_count(1)
    expect(desk.get_by_text(secret)).to_have_count(0)


def test_a_read_only_token_made_in_the_app_reads_but_cannot_write(desk, world):
    open_account_page(desk)
    tokens = region(desk, "API tokens")

    tokens.get_by_label("Name").fill("reporting")
    tokens.get_by_label("The token may").select_option(label="read only")
    tokens.get_by_role("button", name="Create token").click()

    expect(tokens.get_by_role("status")).to_contain_text('Token "reporting"')
    client = TokenClient(world.app, tokens.locator("code.secret").inner_text())
    assert client.get("/api/v1/patients").status_code == 200
    assert client.post("/api/v1/patients", json={"display_name": "Nobody"}).status_code == 403
    row = tokens.locator("tbody tr").filter(has_text="reporting")
    expect(row.locator("td").first).to_have_text("read only")


def test_an_admin_revokes_a_token_and_the_api_refuses_it_from_then_on(desk, world):
    secret = world.token_for(world.admin_x)  # named "script"
    assert TokenClient(world.app, secret).get("/api/v1/patients").status_code == 200
    open_account_page(desk)
    row = region(desk, "API tokens").locator("tbody tr").filter(has_text="script")

    row.get_by_role("button", name="Revoke the token script").click()

    expect(row.locator("td").nth(1)).to_have_text("revoked")  # after the scope column
    expect(row.get_by_role("button")).to_have_count(0)
    assert TokenClient(world.app, secret).get("/api/v1/patients").status_code == 401


def test_an_admin_adds_a_clinician_who_can_sign_in_until_deactivated(desk, world, app):
    email = f"doc.{uuid.uuid4().hex[:6]}@example.org"
    open_account_page(desk)
    clinicians = region(desk, "Clinicians")

    clinicians.get_by_label("Name").fill("Dr New")
    clinicians.get_by_label("Email").fill(email)
    clinicians.get_by_label("First password").fill(PASSWORD)
    clinicians.get_by_role("button", name="Add clinician").click()

    row = region(desk, "Clinicians").locator("tbody tr").filter(has_text="Dr New")
    expect(row.locator("td")).to_have_text([email, "clinician", "active", "Reset code Deactivate"])
    assert Browser(app).login(email).status_code == 200

    row.get_by_role("button", name="Deactivate Dr New").click()

    expect(row.locator("td").nth(2)).to_have_text("deactivated")
    assert Browser(app).login(email).status_code == 401


def test_the_audit_log_shows_events_and_filters_by_action(desk, world):
    flag_patient_b(world)
    clinician = world.as_clinician_x()
    [flag] = clinician.get("/api/v1/flags?status=open").json["items"]
    assert (
        clinician.post(f"/api/v1/flags/{flag['id']}/resolve", json={"note": "Called"}).status_code
        == 200
    )
    open_account_page(desk)
    audit = region(desk, "Audit log")
    actions = audit.locator("tbody tr td:first-of-type")
    expect(actions.filter(has_text="auth.login").first).to_be_visible()
    assert actions.count() > 2

    audit.get_by_label("Action").select_option("flag.resolve")
    audit.get_by_role("button", name="Filter").click()

    expect(region(desk, "Audit log").locator("tbody tr td:first-of-type")).to_have_text(
        ["flag.resolve"]
    )
    expect(region(desk, "Audit log").get_by_label("Action")).to_have_value("flag.resolve")
    resolved = region(desk, "Audit log").locator("tbody tr")
    expect(resolved.get_by_role("link")).to_have_text("Bob B")
    expect(resolved.locator("td").nth(1)).to_have_text("Dr Test, clinician")


def test_a_clinician_who_is_not_an_admin_sees_tokens_but_no_clinicians_or_audit(desk, world):
    open_account_page(desk, "doc.x@example.org", title="Account")

    expect(region(desk, "API tokens")).to_be_visible()
    expect(region(desk, "Clinicians")).to_have_count(0)
    expect(region(desk, "Audit log")).to_have_count(0)
    expect(desk.get_by_role("navigation", name="Main").get_by_role("link")).to_have_text(
        ["Patients", "Safety flags", "Account"]
    )


# ---------------------------------------------------------------- accessibility and screenshots


def through_every_clinician_screen(page: Page, world, visit) -> None:
    """Walk the clinician's screens as admin X and call visit(name) on each one."""
    flag_patient_b(world)
    seed_a_course_of_treatment(world)

    sign_in(page, "admin.x@example.org")
    expect(panel_rows(page)).to_have_count(2)
    visit("panel")

    page.get_by_role("button", name="Add a patient").click()
    expect(page.get_by_role("heading", name="Add a patient")).to_be_visible()
    visit("add-patient")

    page.get_by_label("Name", exact=True).fill("Dana D")
    page.get_by_role("button", name="Add patient", exact=True).click()
    expect(page.get_by_role("heading", name="Dana D was added")).to_be_visible()
    expect(page.locator("img.qr")).to_be_visible()
    # Drawn, not just its alt text: an SVG image without its namespace loads as nothing.
    page.wait_for_function("document.querySelector('img.qr').naturalWidth > 0")
    visit("patient-added")

    nav(page, "Safety flags")
    expect(page.get_by_role("article", name="Bob B")).to_be_visible()
    visit("flags-open")

    page.get_by_label("What was done").fill("Called Bob; safety plan reviewed.")
    page.get_by_role("button", name="Resolve").click()
    expect(page.get_by_text("No open safety flags.")).to_be_visible()
    page.get_by_role("link", name="Resolved", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Resolved safety flags")
    expect(page.get_by_role("article", name="Bob B")).to_contain_text("Called Bob")
    visit("flags-resolved")

    nav(page, "Patients")
    page.get_by_role("link", name="Alice A", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Alice A")
    expect(page.locator("svg.chart")).to_have_count(3)
    visit("patient")

    page.get_by_role("link", name=re.compile("^Record monitoring")).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Monitoring: Alice A")
    visit("monitoring")

    nav(page, "Clinic admin")
    expect(region(page, "Audit log").locator("tbody tr").first).to_be_visible()
    visit("admin")


SCREENS = [
    "panel",
    "add-patient",
    "patient-added",
    "flags-open",
    "flags-resolved",
    "patient",
    "monitoring",
    "admin",
]


def test_every_clinician_screen_is_axe_clean_fits_the_screen_and_is_saved(desk, world):
    """One walk through the screens; each is checked at desktop and phone size, light and
    dark (resized and switched in place): axe finds nothing, Sign out is in its header, it is
    no wider than the screen (a phone too: 390 px), and it is saved."""
    too_wide: dict[str, int] = {}

    def file_name(variant, number: int, screen: str) -> str:
        device, scheme = variant
        size = "" if device == "desktop" else "phone-"
        return f"clinician-{size}{'dark-' if scheme == 'dark' else ''}{number:02d}-{screen}"

    walk = ScreenWalk(
        desk,
        sizes_and_schemes(DESKTOP, sizes=("desktop", "phone")),
        file_name,
        back=(DESKTOP, "light"),
    )

    def visit(name: str) -> None:
        def fits(variant, viewport, shot) -> None:
            banner = desk.get_by_role("banner")
            expect(banner.get_by_role("button", name="Sign out")).to_be_visible()
            width = desk.evaluate("document.documentElement.scrollWidth")
            if width > viewport["width"]:
                too_wide[f"{name} ({walk.label(variant)})"] = width
            png_width = int.from_bytes(shot.read_bytes()[16:20], "big")  # PNG header
            assert png_width == viewport["width"], (shot.name, png_width)

        walk.visit(name, also=fits)

    desk.set_viewport_size(DESKTOP)
    through_every_clinician_screen(desk, world, visit)

    for (device, scheme), shots in walk.saved.items():
        prefix = f"clinician-{'' if device == 'desktop' else 'phone-'}"
        prefix += "dark-" if scheme == "dark" else ""
        assert [path.stem.removeprefix(prefix)[3:] for path in shots] == SCREENS
    assert too_wide == {}
    walk.assert_axe_clean()


def test_a_clinician_sees_and_sets_the_patients_reminders(desk, world):
    sign_in(desk, "doc.x@example.org")
    open_patient(desk, world.patient_a.id, "Alice A")

    reminders = region(desk, "Reminders")
    expect(reminders).to_contain_text("No device of the patient gets reminders yet")
    expect(reminders.get_by_label("Check-in reminder at")).to_have_value("18:00")
    reminders.get_by_label("Check-in reminder at").fill("07:15")
    reminders.get_by_label("Before a planned session").select_option(
        label="The day before (24 hours)"
    )
    reminders.get_by_role("button", name="Save reminder settings").click()
    expect(reminders.get_by_role("status")).to_contain_text("The patient's reminders follow")

    saved = world.as_patient_a().get("/api/v1/patients/me/reminders").json
    assert (saved["time_of_day"], saved["pre_session_hours"]) == ("07:15", 24)
    screenshot(desk, "clinician-patient-reminders")
