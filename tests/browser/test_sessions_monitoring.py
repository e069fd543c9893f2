"""Planned sessions and the monitoring record in a real Chromium (issue 11).

The patient sees their next session on the home screen; a clinician cancels a session, fills a
monitoring record on a tablet (768×1024) and prints the session sheet on one page.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import OUTPUT, axe_violations, describe_violations, screenshot
from tests.conftest import PASSWORD, Browser

ZONE = "Europe/Berlin"  # the patients' and the browser's time zone
TABLET = {"width": 768, "height": 1024}
PHONE = {"width": 390, "height": 844}
PAGE_OBJECT = re.compile(rb"/Type\s*/Page[^s]")
MINUTE = timedelta(minutes=1)


def browser_context(chromium, live_server, viewport):
    # en-GB: a 24-hour clock, as the issue words it ("Thursday 10:00").
    context = chromium.new_context(
        viewport=viewport,
        base_url=live_server,
        timezone_id=ZONE,
        locale="en-GB",
        service_workers="allow",
    )
    context.set_default_timeout(10_000)
    return context


@pytest.fixture
def phone(chromium, live_server):
    context = browser_context(chromium, live_server, PHONE)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture
def tablet(chromium, live_server):
    context = browser_context(chromium, live_server, TABLET)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def add_session(clinician: Browser, pid: str, started_at: datetime, **fields) -> dict:
    body = {"started_at": started_at.isoformat(), "treatment": "ketamine_iv", **fields}
    response = clinician.post(f"/api/v1/patients/{pid}/sessions", json=body)
    assert response.status_code == 201, response.json
    return response.json


def cancel(clinician: Browser, pid: str, sid: str) -> None:
    response = clinician.patch(
        f"/api/v1/patients/{pid}/sessions/{sid}", json={"status": "cancelled"}
    )
    assert response.status_code == 200, response.json


def local(moment: datetime) -> datetime:
    return moment.astimezone(ZoneInfo(ZONE))


def hhmm(moment: datetime) -> str:
    return local(moment).strftime("%H:%M")


def at_local(days_ahead: int, hour: int, minute: int = 0) -> datetime:
    """A local wall-clock time `days_ahead` days from today in the patients' zone."""
    today = datetime.now(ZoneInfo(ZONE)).date() + timedelta(days=days_ahead)
    return datetime(today.year, today.month, today.day, hour, minute, tzinfo=ZoneInfo(ZONE))


def sign_in(page: Page, email: str, heading: str) -> None:
    page.goto("/#/signin")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)


def pdf_pages(page: Page, name: str, paper: str) -> int:
    path = OUTPUT / f"{name}-{paper.lower()}.pdf"
    path.parent.mkdir(parents=True, exist_ok=True)
    margin = {side: "12mm" for side in ("top", "right", "bottom", "left")}
    page.pdf(path=str(path), format=paper, margin=margin, print_background=True)
    return len(PAGE_OBJECT.findall(path.read_bytes()))


# ---------------------------------------------------------------- the patient's next session


def test_the_patient_sees_their_next_planned_session_on_home(phone, world):
    clinician, pid = world.as_clinician_x(), world.patient_a.id
    add_session(clinician, pid, at_local(-2, 9))
    called_off = add_session(clinician, pid, at_local(1, 9, 30))
    cancel(clinician, pid, called_off["id"])
    planned = at_local(3, 10)
    add_session(clinician, pid, planned, dose_mg=35)
    add_session(clinician, pid, at_local(5, 11))

    sign_in(phone, "alice@example.org", "Hello, Alice A")

    card = phone.get_by_role("region", name=re.compile("^Your next session"))
    expect(card.get_by_role("heading")).to_have_text(
        f"Your next session: {planned.strftime('%A')} 10:00"
    )
    expect(card).to_contain_text("Ketamine infusion")
    screenshot(phone, "patient-home-next-session")


def test_home_says_nothing_of_sessions_when_none_is_planned(phone, world):
    clinician, pid = world.as_clinician_x(), world.patient_a.id
    add_session(clinician, pid, at_local(-2, 9))
    called_off = add_session(clinician, pid, at_local(2, 9, 30))
    cancel(clinician, pid, called_off["id"])

    sign_in(phone, "alice@example.org", "Hello, Alice A")

    expect(phone.get_by_role("heading", name="Due now")).to_be_visible()
    expect(phone.get_by_text("Your next session")).to_have_count(0)


# ---------------------------------------------------------------- the clinician's session list


def test_the_session_list_shows_status_notes_and_cancels_a_session(tablet, world):
    clinician, pid = world.as_clinician_x(), world.patient_a.id
    add_session(clinician, pid, at_local(-3, 9), notes="Tolerated well; BP settled by 60 min.")
    planned = add_session(clinician, pid, at_local(4, 10), notes="Bring a driver.")
    sign_in(tablet, "doc.x@example.org", "Patients")
    tablet.goto(f"/#/patient?id={pid}")
    sessions = tablet.get_by_role("region", name="Treatment sessions", exact=True)
    rows = sessions.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("done")
    expect(rows.nth(0)).to_contain_text("Tolerated well; BP settled by 60 min.")
    expect(rows.nth(1).locator(".badge.planned")).to_have_text("planned")
    expect(rows.nth(1)).to_contain_text("Bring a driver.")

    # Every action of a row is in reach on the tablet, not scrolled off the table's edge.
    for action in (
        sessions.locator(".row-actions").get_by_role("link").all()
        + sessions.locator(".row-actions").get_by_role("button").all()
    ):
        box = action.bounding_box()
        assert box["x"] + box["width"] <= TABLET["width"], action.inner_text()

    rows.nth(1).get_by_role("button", name=re.compile("^Cancel the session")).click()
    tablet.get_by_role("button", name="Yes, cancel this session").click()

    expect(rows.nth(1).locator(".badge.cancelled")).to_contain_text("cancelled")
    struck = rows.nth(1).locator("th").evaluate("el => getComputedStyle(el).textDecorationLine")
    assert struck == "line-through"
    expect(rows.nth(1).get_by_role("button", name=re.compile("^Cancel"))).to_have_count(0)
    screenshot(tablet, "clinician-tablet-sessions-cancelled")
    [stored] = [
        s
        for s in clinician.get(f"/api/v1/patients/{pid}/sessions").json["items"]
        if s["id"] == planned["id"]
    ]
    assert stored["status"] == "cancelled"


# ---------------------------------------------------------------- the monitoring record


def reading_row(page: Page, number: int):
    return page.get_by_role("group", name=f"Reading {number}", exact=True)


def fill_reading(page: Page, number: int, at: datetime, systolic, diastolic, pulse="", spo2=""):
    row = reading_row(page, number)
    row.get_by_label("Time").fill(hhmm(at))
    row.get_by_label("Systolic").fill(str(systolic))
    row.get_by_label("Diastolic").fill(str(diastolic))
    row.get_by_label("Heart rate").fill(str(pulse))
    row.get_by_label("SpO₂").fill(str(spo2))


def test_a_clinician_fills_the_monitoring_record_on_a_tablet_and_prints_one_page(tablet, world):
    clinician, pid = world.as_clinician_x(), world.patient_a.id
    started = (datetime.now(UTC) - timedelta(hours=2)).replace(second=0, microsecond=0)
    session = add_session(clinician, pid, started, dose_mg=35, notes="Second infusion.")
    sign_in(tablet, "doc.x@example.org", "Patients")
    tablet.goto(f"/#/patient?id={pid}")
    tablet.get_by_role("link", name=re.compile("^Record monitoring")).click()
    expect(tablet.get_by_role("heading", level=1)).to_have_text("Monitoring: Alice A")

    fill_reading(tablet, 1, started - 10 * MINUTE, 146, 88, 76, 98)  # raised before dosing
    tablet.get_by_role("button", name="Add a reading").click()
    fill_reading(tablet, 2, started + 40 * MINUTE, 150, 170, 80, 97)  # a slip: 170
    tablet.get_by_role("button", name="Add a reading").click()
    fill_reading(tablet, 3, started + 100 * MINUTE, 132, 84, 70, 98)
    tablet.get_by_label("Sedation (worst)").select_option(label="Mild")
    tablet.get_by_label("Dissociation (worst)").select_option(label="Moderate")
    tablet.get_by_label("Respiratory depression").select_option(label="No")
    tablet.get_by_label("Nausea").check()
    tablet.get_by_label("Dizziness").check()
    tablet.get_by_label("Monitored for (minutes)").fill("120")
    tablet.get_by_label("Ready to leave after (minutes)").fill("110")
    tablet.get_by_label("Discharged at").fill(hhmm(started + 118 * MINUTE))
    tablet.get_by_label("Notes", exact=True).fill(
        "Nausea settled by 60 min. Escorted home by partner."
    )
    tablet.get_by_role("button", name="Save monitoring record").click()

    # The server's refusal, beside the field it names, in words.
    diastolic = reading_row(tablet, 2).get_by_label("Diastolic")
    expect(diastolic).to_have_attribute("aria-invalid", "true")
    error = reading_row(tablet, 2).locator(".field-error")
    expect(error).to_have_text("Reading 2 diastolic: Must be 20 to 160 mmHg.")
    expect(tablet.get_by_role("alert")).to_contain_text("Reading 2 diastolic")
    screenshot(tablet, "clinician-tablet-monitoring-error")
    assert clinician.get(f"/api/v1/patients/{pid}/sessions/{session['id']}/monitoring").json is None

    diastolic.fill("96")
    tablet.get_by_role("button", name="Save monitoring record").click()

    expect(tablet.get_by_role("status")).to_contain_text("Saved at")
    record = clinician.get(f"/api/v1/patients/{pid}/sessions/{session['id']}/monitoring").json
    assert [(v["systolic"], v["diastolic"], v["raised"]) for v in record["vitals"]] == [
        (146, 88, True),
        (150, 96, False),
        (132, 84, False),
    ]
    assert record["vitals"][0]["at"] == (started - 10 * MINUTE).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert (record["sedation"], record["dissociation"]) == ("mild", "moderate")
    assert record["adverse_events"] == ["nausea", "dizziness"]
    assert record["discharged_at"] == (started + 118 * MINUTE).strftime("%Y-%m-%dT%H:%M:%SZ")
    chart = tablet.locator(".monitoring-layout svg.vitals-chart")
    expect(chart).to_be_visible()
    # One raised reading: its systolic and its diastolic point are ringed, at the same time.
    raised = chart.locator(".vital-dot.raised")
    expect(raised).to_have_count(2)
    assert len({dot.get_attribute("cx") for dot in raised.all()}) == 1
    saved = tablet.get_by_role("table").filter(has_text="Saved readings")
    expect(saved.locator("tr.raised")).to_have_count(1)
    expect(saved.locator("tr.raised")).to_contain_text("146/88")
    # The form shows what was saved: three readings, the choices kept.
    expect(tablet.get_by_role("group", name=re.compile(r"^Reading \d$"))).to_have_count(3)
    expect(tablet.get_by_label("Sedation (worst)")).to_have_value("mild")
    overflow = tablet.evaluate("document.documentElement.scrollWidth")
    assert overflow <= TABLET["width"], f"the page is {overflow} px wide on a tablet"
    screenshot(tablet, "clinician-tablet-monitoring-saved")
    violations = axe_violations(tablet)
    assert not violations, describe_violations(violations)

    tablet.emulate_media(media="print")
    sheet = tablet.locator(".session-sheet")
    expect(sheet).to_be_visible()
    expect(tablet.locator("form")).to_be_hidden()
    expect(tablet.get_by_role("button", name="Print session sheet")).to_be_hidden()
    for words in [
        "Alice A",
        "Clinic X",
        "Ketamine infusion",
        "35 mg",
        "Second infusion.",
        "146/88",
        "raised",
        "Mild",
        "Moderate",
        "Nausea, Dizziness",
        "120 minutes after dosing",
        "110 minutes after dosing",
        "Escorted home by partner.",
        "Recorded by Dr Test",
        "Printed",
    ]:
        expect(sheet).to_contain_text(words)
    expect(sheet.get_by_text("Respiratory depression")).to_be_visible()
    expect(sheet.locator("svg.vitals-chart")).to_be_visible()
    width = tablet.evaluate("document.documentElement.scrollWidth")
    assert width <= TABLET["width"], f"the printed sheet is {width} px wide"
    screenshot(tablet, "clinician-tablet-session-sheet-print")
    for paper in ("A4", "Letter"):
        pages = pdf_pages(tablet, "session-sheet", paper)
        assert pages == 1, f"the session sheet takes {pages} pages on {paper}"


def test_the_print_button_prints_the_sheet(tablet, world):
    clinician, pid = world.as_clinician_x(), world.patient_a.id
    session = add_session(clinician, pid, datetime.now(UTC) - timedelta(hours=1))
    sign_in(tablet, "doc.x@example.org", "Patients")
    tablet.goto(f"/#/monitoring?patient={pid}&session={session['id']}")
    expect(tablet.get_by_role("heading", level=1)).to_have_text("Monitoring: Alice A")
    tablet.evaluate("window.print = () => { document.body.dataset.printed = 'yes'; }")

    tablet.get_by_role("button", name="Print session sheet").click()

    expect(tablet.locator("body")).to_have_attribute("data-printed", "yes")


def test_before_anything_is_recorded_the_sheet_prints_blank_to_fill_in_on_one_page(tablet, world):
    clinician, pid = world.as_clinician_x(), world.patient_a.id
    session = add_session(clinician, pid, datetime.now(UTC) + timedelta(minutes=30), dose_mg=56)
    sign_in(tablet, "doc.x@example.org", "Patients")
    tablet.goto(f"/#/monitoring?patient={pid}&session={session['id']}")
    expect(tablet.get_by_role("heading", level=2, name="Record monitoring")).to_be_visible()

    tablet.emulate_media(media="print")

    sheet = tablet.locator(".session-sheet")
    expect(sheet.locator("tr.blank-row")).to_have_count(8)
    expect(sheet).to_contain_text("☐ None")
    expect(sheet).to_contain_text("Yes / No")
    width = tablet.evaluate("document.documentElement.scrollWidth")
    assert width <= TABLET["width"], f"the printed sheet is {width} px wide"
    screenshot(tablet, "clinician-tablet-session-sheet-blank")
    for paper in ("A4", "Letter"):
        pages = pdf_pages(tablet, "session-sheet-blank", paper)
        assert pages == 1, f"the blank sheet takes {pages} pages on {paper}"


def test_a_cancelled_session_offers_no_monitoring_form(tablet, world):
    clinician, pid = world.as_clinician_x(), world.patient_a.id
    session = add_session(clinician, pid, datetime.now(UTC) + timedelta(days=1))
    cancel(clinician, pid, session["id"])
    sign_in(tablet, "doc.x@example.org", "Patients")

    tablet.goto(f"/#/monitoring?patient={pid}&session={session['id']}")

    expect(tablet.get_by_text("This session was cancelled")).to_be_visible()
    expect(tablet.locator("form")).to_have_count(0)
    expect(tablet.get_by_role("button", name="Print session sheet")).to_have_count(0)


def test_an_admin_sets_the_clinics_blood_pressure_thresholds(tablet, world):
    sign_in(tablet, "admin.x@example.org", "Patients")
    tablet.goto("/#/admin")
    section = tablet.get_by_role("region", name="Blood pressure thresholds")
    expect(section).to_contain_text("before dosing above 140/90, at any time above 180/110")

    section.get_by_label("Before dosing: systolic (mmHg)").fill("130")
    section.get_by_label("Before dosing: diastolic (mmHg)").fill("135")
    section.get_by_role("button", name="Save thresholds").click()

    error = section.locator(".field-error")
    expect(error).to_have_text(
        "Before dosing: systolic (mmHg): Must be above the diastolic pressure."
    )
    section.get_by_label("Before dosing: diastolic (mmHg)").fill("85")
    section.get_by_role("button", name="Save thresholds").click()
    expect(section.get_by_role("status")).to_contain_text("Saved")
    expect(section).to_contain_text("before dosing above 130/85")
    clinic = world.as_clinician_x().get("/api/v1/clinic").json
    assert clinic["blood_pressure_thresholds"]["before_dosing"] == {
        "systolic": 130,
        "diastolic": 85,
    }
