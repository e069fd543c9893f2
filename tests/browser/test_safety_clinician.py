"""Safety on the clinician's side, in a real Chromium: flags nobody can miss, no silent defaults
on clinical forms, and the clinic's crisis resources.

Flags are seeded through the API the way they arise (a patient's PHQ-9 with item 9 above 0, a
patient's safety signal from an unfinished check-in, a clinician's MADRS with item 10 at 4 or
more); their age is set in the database where a test needs an old flag. What the PWA did is
checked on the server through the API.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Locator, Page, expect

from server.data.models import Flag
from tests.browser.conftest import ScreenWalk, screenshot, sizes_and_schemes
from tests.conftest import PASSWORD, Browser, database, entry_body

DESKTOP = {"width": 1280, "height": 800}
ZONE = "Europe/Berlin"
ITEM_9 = "thoughts that you would be better off dead or of hurting yourself in some way"
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
READY_CRISIS = {
    "emergency_number": "112",
    "crisis_line": {"name": "Telefonseelsorge", "phone": "0800 111 0 111", "sms": None},
    "clinic_phone": "+49 30 1234 5678",
    "clinic_hours": "Mon–Fri 8–18",
    "message": None,
}
UNSET_CRISIS = {
    "emergency_number": None,
    "crisis_line": None,
    "clinic_phone": None,
    "clinic_hours": None,
    "message": None,
}


# ---------------------------------------------------------------- fixtures and helpers


@pytest.fixture
def browse(chromium, live_server):
    """Open pages in fresh profiles (desktop unless told, light unless told); fails on JS errors."""
    contexts, errors = [], []

    def open_page(viewport=DESKTOP, scheme="light") -> Page:
        context = chromium.new_context(
            viewport=viewport,
            base_url=live_server,
            timezone_id=ZONE,
            color_scheme=scheme,
            # The clinician's screens are never offline: no service worker to install and
            # precache in every fresh profile (about a fifth of these tests' time).
            service_workers="block",
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture
def desk(browse) -> Page:
    return browse()


def ago(days: float = 0, hours: float = 0) -> datetime:
    return (datetime.now(UTC) - timedelta(days=days, hours=hours)).replace(microsecond=0)


def phq9(total: int, item_9: int = 0) -> list[int]:
    """PHQ-9 answers adding up to `total`, with item 9 at `item_9`."""
    answers, remaining = [0] * 9, total - item_9
    for position in range(8):
        answers[position] = min(3, remaining)
        remaining -= answers[position]
    assert remaining == 0
    answers[8] = item_9
    return answers


def submit(client: Browser, instrument: str, answers: list[int], taken_at: datetime, pid="me"):
    body = entry_body(instrument, answers, taken_at=taken_at.isoformat())
    response = client.post(f"/api/v1/patients/{pid}/entries", json=body)
    assert response.status_code == 201, response.json
    return response.json


def open_flags(world) -> list[dict]:
    response = world.as_clinician_x().get("/api/v1/flags?status=open")
    assert response.status_code == 200, response.json
    return response.json["items"]


def flag_of_entry(world, entry: dict) -> dict:
    [flag] = [f for f in open_flags(world) if f["entry"] and f["entry"]["id"] == entry["id"]]
    return flag


def set_opened_at(app, flag_id: str, opened_at: datetime) -> None:
    """Make a flag older than it is, as if it had waited since `opened_at`."""
    with database(app) as session:
        session.get(Flag, flag_id).opened_at = opened_at
        session.commit()


def flag_bob(world, item_9: int = 2, days_open: float = 3) -> dict:
    """Bob's PHQ-9 with item 9 above 0, its flag open for `days_open` days; the flag."""
    entry = submit(world.as_patient_b(), "phq9", phq9(12, item_9=item_9), ago(days=days_open))
    flag = flag_of_entry(world, entry)
    set_opened_at(world.app, flag["id"], ago(days=days_open))
    return flag


def madrs_flag_for_alice(world, item_10: int = 5) -> dict:
    """Clinician X rates Alice's MADRS with suicidal thoughts at `item_10`; the flag."""
    answers = [2, 2, 2, 1, 1, 1, 1, 1, 2, item_10]
    entry = submit(world.as_clinician_x(), "madrs", answers, ago(hours=2), world.patient_a.id)
    return flag_of_entry(world, entry)


def signal_for_alice(world) -> dict:
    """Alice answers item 9 "Several days" and never finishes the check-in; the flag."""
    body = {
        "id": str(uuid.uuid4()),
        "checkin_id": str(uuid.uuid4()),
        "instrument": "phq9",
        "item": "phq9_9",
        "answer": 1,
        "answered_at": ago(hours=1).isoformat(),
    }
    response = world.as_patient_a().post("/api/v1/patients/me/safety-signals", json=body)
    assert response.status_code == 201, response.json
    return response.json


def set_crisis(world, crisis: dict) -> None:
    response = world.as_admin_x().patch("/api/v1/clinic", json={"crisis": crisis})
    assert response.status_code == 200, response.json


def sign_in(page: Page, email: str = "doc.x@example.org") -> None:
    page.goto("/#/signin")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Patients")


def open_patient(page: Page, patient_id: str, name: str) -> None:
    page.goto(f"/#/patient?id={patient_id}")
    expect(page.get_by_role("heading", level=1)).to_have_text(name)


def banner(page: Page) -> Locator:
    return page.locator("section.flag-banner")


def region(page: Page, name: str) -> Locator:
    return page.get_by_role("region", name=name, exact=True)


def posted(page: Page, path_end: str) -> list[str]:
    """The URLs of the POSTs to paths ending in `path_end` that the page sends from now on."""
    sent: list[str] = []
    page.on(
        "request",
        lambda r: sent.append(r.url) if r.method == "POST" and r.url.endswith(path_end) else None,
    )
    return sent


# ---------------------------------------------------------------- the patient page's banner


def test_a_flagged_patients_page_shows_the_banner_above_everything_else(desk, world):
    flag_bob(world, item_9=2, days_open=3)
    sign_in(desk)
    open_patient(desk, world.patient_b.id, "Bob B")

    shown = banner(desk)
    expect(shown).to_be_visible()
    expect(shown.get_by_role("heading", level=2)).to_have_text(
        "Open safety flag for Bob B: overdue"
    )
    expect(shown).to_contain_text(f"PHQ-9 question 9 ({ITEM_9}): “More than half the days”")
    expect(shown).to_contain_text("Opened 3 days ago")
    expect(shown.locator(".overdue-flag")).to_have_text("overdue")
    bottom = shown.bounding_box()["y"] + shown.bounding_box()["height"]
    # What is on screen (the printed summary's score tables are print-only).
    content = desk.locator("#main h1:visible, #main svg.chart:visible, #main table:visible")
    assert content.count() >= 3
    for element in content.all():
        assert element.bounding_box()["y"] >= bottom, element.evaluate("e => e.outerHTML")[:80]
    # The first thing a screen reader is taken to is the flag, not the name below it.
    expect(shown.get_by_role("heading", level=2)).to_be_focused()


def test_the_banner_resolves_the_flag_in_place_without_navigating(desk, world):
    flag = flag_bob(world)
    note = "Called Bob; safety plan reviewed, no current intent."
    sign_in(desk)
    open_patient(desk, world.patient_b.id, "Bob B")
    url = desk.url
    desk.locator("#main h1").evaluate("heading => { heading.dataset.kept = 'yes'; }")
    desk.evaluate("window.stillHere = true")

    banner(desk).get_by_label("What was done").fill(note)
    with desk.expect_response(lambda r: r.url.endswith(f"/flags/{flag['id']}/resolve")) as sent:
        banner(desk).get_by_role("button", name="Resolve").click()

    assert sent.value.status == 200
    expect(banner(desk)).to_have_count(0)
    expect(desk.get_by_role("status").filter(has_text="The flag was resolved")).to_be_focused()
    assert desk.url == url
    assert desk.evaluate("window.stillHere") is True
    expect(desk.locator("#main h1")).to_have_attribute("data-kept", "yes")  # not re-rendered
    assert open_flags(world) == []
    [resolved] = world.as_clinician_x().get("/api/v1/flags?status=resolved").json["items"]
    assert (resolved["id"], resolved["note"], resolved["resolved_by"]["display_name"]) == (
        flag["id"],
        note,
        "Dr Test",
    )


def test_the_banner_refuses_an_empty_note_and_shows_the_servers_refusal_in_words(desk, world):
    flag = flag_bob(world)
    sign_in(desk)
    open_patient(desk, world.patient_b.id, "Bob B")
    resolves = posted(desk, "/resolve")

    banner(desk).get_by_label("What was done").fill("   ")
    banner(desk).get_by_role("button", name="Resolve").click()

    expect(banner(desk).get_by_role("alert")).to_have_text(
        "Write what was done before resolving the flag."
    )
    expect(banner(desk).get_by_label("What was done")).to_be_focused()
    assert resolves == []

    # Meanwhile a colleague resolves it: the server's 409 is shown, in words.
    assert (
        world.as_admin_x()
        .post(f"/api/v1/flags/{flag['id']}/resolve", json={"note": "Seen in clinic."})
        .status_code
        == 200
    )
    banner(desk).get_by_label("What was done").fill("Called Bob.")
    banner(desk).get_by_role("button", name="Resolve").click()
    expect(banner(desk).get_by_role("alert")).to_have_text(re.compile("already resolved"))


def test_a_flag_from_an_unfinished_check_in_says_so_on_the_banner(desk, world):
    signal_for_alice(world)
    sign_in(desk)
    open_patient(desk, world.patient_a.id, "Alice A")

    expect(banner(desk)).to_contain_text(f"PHQ-9 question 9 ({ITEM_9}): “Several days”")
    expect(banner(desk)).to_contain_text("during a check-in that has not been finished")
    expect(banner(desk)).to_contain_text("Opened less than an hour ago")
    expect(banner(desk).locator(".overdue-flag")).to_have_count(0)


def test_a_patient_without_open_flags_has_no_banner(desk, world):
    submit(world.as_patient_a(), "phq9", phq9(12), ago(days=2))
    sign_in(desk)
    open_patient(desk, world.patient_a.id, "Alice A")
    expect(desk.locator("svg.chart")).to_have_count(1)
    expect(banner(desk)).to_have_count(0)


def test_the_print_summary_lists_open_and_recently_resolved_flags(desk, world):
    flag_bob(world, item_9=2, days_open=3)
    old = flag_bob(world, item_9=1, days_open=2)
    world.as_clinician_x().post(f"/api/v1/flags/{old['id']}/resolve", json={"note": "Called."})
    sign_in(desk)
    open_patient(desk, world.patient_b.id, "Bob B")

    desk.emulate_media(media="print")

    expect(banner(desk)).to_be_visible()
    expect(banner(desk)).to_contain_text("“More than half the days”")
    expect(banner(desk).locator("form")).to_be_hidden()
    printed = region(desk, "Safety flags")
    expect(printed).to_be_visible()
    expect(printed.locator("li")).to_have_count(1)
    expect(printed).to_contain_text("Resolved in the last 30 days:")
    expect(printed).to_contain_text("“Several days”")
    expect(printed).to_contain_text("Resolved in 2 days by Dr Test")
    expect(printed).to_contain_text("Note: Called.")
    screenshot(desk, "safety-clinician-patient-print")

    desk.emulate_media(media="screen")
    expect(printed).to_be_hidden()


# ---------------------------------------------------------------- no silent defaults


def test_a_madrs_starts_unrated_and_is_not_saved_until_every_item_is_chosen(desk, world):
    sign_in(desk)
    open_patient(desk, world.patient_a.id, "Alice A")
    madrs = region(desk, "Enter a MADRS rating")
    for item in MADRS_ITEMS:
        expect(madrs.get_by_label(item, exact=True)).to_have_value("")
    expect(madrs.get_by_label("Context")).to_have_value("")
    saves = posted(desk, "/entries")

    madrs.get_by_role("button", name="Save MADRS").click()  # one click, nothing chosen

    expect(madrs.get_by_role("alert")).to_contain_text(
        "Not saved yet: choose a rating for 10 items: Apparent sadness, Reported sadness"
    )
    expect(madrs.get_by_role("alert")).to_contain_text("Suicidal thoughts; and choose the context.")
    expect(madrs.get_by_label("Apparent sadness", exact=True)).to_be_focused()

    for item in MADRS_ITEMS[:-1]:
        madrs.get_by_label(item, exact=True).select_option("2")
    madrs.get_by_label("Context").select_option(label="Routine")
    madrs.get_by_role("button", name="Save MADRS").click()

    expect(madrs.get_by_role("alert")).to_have_text(
        "Not saved yet: choose a rating for Suicidal thoughts."
    )
    expect(madrs.get_by_label("Suicidal thoughts", exact=True)).to_be_focused()
    expect(madrs.get_by_label("Suicidal thoughts", exact=True)).to_have_attribute(
        "aria-invalid", "true"
    )
    assert saves == []
    stored = world.as_clinician_x().get(f"/api/v1/patients/{world.patient_a.id}/entries")
    assert stored.json["items"] == []

    madrs.get_by_label("Suicidal thoughts", exact=True).select_option("0")
    with desk.expect_response(lambda r: r.request.method == "POST" and "/entries" in r.url) as sent:
        madrs.get_by_role("button", name="Save MADRS").click()

    assert sent.value.status == 201
    stored = world.as_clinician_x().get(f"/api/v1/patients/{world.patient_a.id}/entries")
    assert [(e["instrument"], e["answers"], e["context"]) for e in stored.json["items"]] == [
        ("madrs", [2] * 9 + [0], "routine")
    ]


def test_a_new_session_is_not_saved_until_the_treatment_is_chosen(desk, world):
    sign_in(desk)
    open_patient(desk, world.patient_a.id, "Alice A")
    desk.get_by_role("button", name="Add a session").click()
    form = desk.locator("form").filter(has=desk.get_by_role("heading", name="Add a session"))
    expect(form.get_by_label("Treatment")).to_have_value("")
    expect(form.get_by_label("Dose in mg (optional)")).to_have_value("")
    saves = posted(desk, "/sessions")

    form.get_by_role("button", name="Add session").click()

    expect(form.get_by_role("alert")).to_have_text("Choose the treatment given.")
    expect(form.get_by_label("Treatment")).to_be_focused()
    assert saves == []

    form.get_by_label("Treatment").select_option(label="Esketamine nasal spray")
    form.get_by_role("button", name="Add session").click()
    expect(region(desk, "Treatment sessions").locator("tbody tr")).to_have_count(1)
    stored = world.as_clinician_x().get(f"/api/v1/patients/{world.patient_a.id}/sessions")
    assert [(s["treatment"], s["dose_mg"]) for s in stored.json["items"]] == [
        ("esketamine_nasal", None)
    ]


# ---------------------------------------------------------------- panel and inbox


def test_the_panel_shows_the_age_of_the_oldest_open_flag_and_whether_it_is_overdue(desk, world):
    flag_bob(world, days_open=2)
    madrs_flag_for_alice(world)  # opened just now
    sign_in(desk)

    rows = desk.locator("table.panel tbody tr")
    bob, alice = rows.filter(has_text="Bob B"), rows.filter(has_text="Alice A")
    expect(bob.locator("td").first).to_have_text("1 open · 2 days overdue")
    expect(bob.locator(".overdue-flag")).to_have_text("overdue")
    expect(bob).to_have_class(re.compile("flag-overdue"))
    expect(alice.locator("td").first).to_have_text("1 open · less than an hour")
    expect(alice.locator(".overdue-flag")).to_have_count(0)
    expect(rows.locator("th")).to_have_text(["Bob B", "Alice A"])  # oldest open flag first


def test_the_inbox_lists_open_flags_oldest_first_with_their_age(desk, world):
    madrs_flag_for_alice(world)
    flag_bob(world, days_open=4)
    sign_in(desk)
    desk.get_by_role("navigation", name="Main").get_by_role("link", name="Safety flags").click()

    cards = desk.get_by_role("article")
    expect(cards.locator("h2")).to_have_text(["Bob B", "Alice A"])
    expect(cards.first).to_contain_text("Opened 4 days ago")
    expect(cards.first.locator(".overdue-flag")).to_have_text("overdue")
    expect(cards.nth(1)).to_contain_text("Opened less than an hour ago")
    expect(cards.nth(1).locator(".overdue-flag")).to_have_count(0)
    expect(desk.get_by_text("2 open flags, oldest first, 1 overdue")).to_be_visible()
    expect(desk.get_by_text("open longer than 24 hours")).to_be_visible()


def test_a_flag_raised_by_madrs_item_10_says_madrs_item_10(desk, world):
    madrs_flag_for_alice(world, item_10=5)
    sign_in(desk)

    desk.goto("/#/flags")
    card = desk.get_by_role("article", name="Alice A")
    expect(card).to_contain_text("MADRS item 10 (suicidal thoughts) rated 5")
    expect(card).not_to_contain_text("PHQ-9")
    expect(card).not_to_contain_text("item 9")

    open_patient(desk, world.patient_a.id, "Alice A")
    expect(banner(desk)).to_contain_text("MADRS item 10 (suicidal thoughts) rated 5")
    row = region(desk, "Entries").locator("tbody tr").filter(has_text="MADRS")
    expect(row.locator(".badge.flag")).to_have_text("flag: MADRS item 10")


def test_a_resolved_flag_shows_how_long_it_took_and_who_resolved_it(desk, world):
    flag = flag_bob(world)
    resolved = world.as_clinician_x().post(
        f"/api/v1/flags/{flag['id']}/resolve", json={"note": "Called Bob."}
    )
    assert resolved.status_code == 200
    resolved_at = datetime.fromisoformat(resolved.json["resolved_at"])
    set_opened_at(world.app, flag["id"], resolved_at - timedelta(hours=5, minutes=10))
    sign_in(desk)

    desk.goto("/#/flags?status=resolved")
    card = desk.get_by_role("article", name="Bob B")
    expect(card).to_contain_text("Resolved in 5 hours by Dr Test")
    expect(card).to_contain_text("Note: Called Bob.")
    expect(card.get_by_role("button")).to_have_count(0)


# ---------------------------------------------------------------- crisis resources


def open_admin(page: Page) -> Locator:
    sign_in(page, "admin.x@example.org")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Clinic admin").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Clinic admin")
    return region(page, "Crisis resources")


def test_an_admin_saves_the_clinics_crisis_resources(desk, world):
    set_crisis(world, UNSET_CRISIS)
    crisis = open_admin(desk)
    expect(crisis).to_contain_text("Crisis resources are not set yet.")
    expect(crisis).to_contain_text("Patients cannot be added until these are set")

    crisis.get_by_label("Emergency number").fill("911")
    crisis.get_by_label("Crisis line name").fill("988 Suicide & Crisis Lifeline")
    crisis.get_by_label("Crisis line phone number").fill("988")
    crisis.get_by_label("Crisis line text message number (optional)").fill("988")
    crisis.get_by_label("Clinic phone number").fill("+1 (555) 010-0100")
    crisis.get_by_label("Clinic opening hours").fill("Mon–Fri 9–17")
    crisis.get_by_label("Message to patients (optional)").fill("Out of hours, call 988.")
    crisis.get_by_label(re.compile("overdue after")).fill("12")
    crisis.get_by_role("button", name="Save crisis resources").click()

    expect(crisis.get_by_role("status")).to_contain_text("Saved.")
    expect(crisis).not_to_contain_text("not set yet")
    clinic = world.as_admin_x().get("/api/v1/clinic").json
    assert clinic["crisis"] == {
        "emergency_number": "911",
        "crisis_line": {"name": "988 Suicide & Crisis Lifeline", "phone": "988", "sms": "988"},
        "clinic_phone": "+1 (555) 010-0100",
        "clinic_hours": "Mon–Fri 9–17",
        "message": "Out of hours, call 988.",
    }
    assert (clinic["crisis_ready"], clinic["flag_overdue_hours"]) == (True, 12)

    desk.reload()
    expect(region(desk, "Crisis resources").get_by_label("Crisis line phone number")).to_have_value(
        "988"
    )


def test_the_crisis_form_shows_the_servers_field_error_beside_the_field_in_words(desk, world):
    set_crisis(world, READY_CRISIS)
    crisis = open_admin(desk)
    phone = crisis.get_by_label("Clinic phone number")
    expect(phone).to_have_value(READY_CRISIS["clinic_phone"])

    phone.fill("call reception")
    crisis.get_by_role("button", name="Save crisis resources").click()

    alert = crisis.get_by_role("alert")
    expect(alert).to_contain_text("Clinic phone number: ")
    expect(alert).not_to_contain_text("clinic_phone")
    expect(phone).to_have_attribute("aria-invalid", "true")
    beside = crisis.locator(".field-error")
    expect(beside).to_have_count(1)
    expect(beside).to_contain_text("Clinic phone number: ")
    assert beside.get_attribute("id") in phone.get_attribute("aria-describedby").split()
    assert world.as_admin_x().get("/api/v1/clinic").json["crisis"] == READY_CRISIS

    phone.fill("+49 30 9999")
    crisis.get_by_role("button", name="Save crisis resources").click()
    expect(crisis.get_by_role("status")).to_contain_text("Saved.")
    expect(crisis.locator(".field-error")).to_have_count(0)
    assert world.as_admin_x().get("/api/v1/clinic").json["crisis"]["clinic_phone"] == "+49 30 9999"


def test_adding_a_patient_before_crisis_resources_are_set_links_to_the_form(desk, world):
    set_crisis(world, UNSET_CRISIS)
    sign_in(desk, "admin.x@example.org")
    desk.get_by_role("button", name="Add a patient").click()
    desk.get_by_label("Name", exact=True).fill("Dana D")
    desk.get_by_role("button", name="Add patient", exact=True).click()

    alert = desk.get_by_role("alert")
    expect(alert).to_contain_text("Set the clinic's crisis resources")
    alert.get_by_role("link", name="Set the crisis resources in Clinic admin").click()

    expect(desk.get_by_role("heading", level=1)).to_have_text("Clinic admin")
    expect(region(desk, "Crisis resources")).to_contain_text("not set yet")


def test_a_clinician_who_is_not_an_admin_sees_the_crisis_resources_but_no_form(desk, world):
    set_crisis(world, READY_CRISIS)
    sign_in(desk)
    desk.goto("/#/admin")
    crisis = region(desk, "Crisis resources")
    expect(crisis).to_contain_text("0800 111 0 111")
    expect(crisis).to_contain_text("Only a clinic admin can change these.")
    expect(crisis.locator("form")).to_have_count(0)


# ---------------------------------------------------------------- screenshots and axe


def through_the_safety_screens(page: Page, world, visit) -> None:
    """Admin X's walk through every screen this work changed, calling visit(name) on each."""
    set_crisis(world, READY_CRISIS)
    flag_bob(world, item_9=2, days_open=3)
    signal_for_alice(world)
    madrs_flag_for_alice(world)
    done = flag_bob(world, item_9=1, days_open=1)
    world.as_clinician_x().post(f"/api/v1/flags/{done['id']}/resolve", json={"note": "Called."})

    sign_in(page, "admin.x@example.org")
    expect(page.locator(".overdue-flag")).to_have_count(1)
    visit("panel")

    open_patient(page, world.patient_b.id, "Bob B")
    expect(banner(page)).to_be_visible()
    visit("banner")

    open_patient(page, world.patient_a.id, "Alice A")
    expect(banner(page).get_by_role("article")).to_have_count(2)
    region(page, "Enter a MADRS rating").get_by_role("button", name="Save MADRS").click()
    expect(region(page, "Enter a MADRS rating").get_by_role("alert")).to_be_visible()
    visit("banner-two-flags-madrs-incomplete")

    page.goto("/#/flags")
    expect(page.get_by_role("article")).to_have_count(3)
    visit("inbox-open")

    page.goto("/#/flags?status=resolved")
    expect(page.get_by_role("article")).to_have_count(1)
    visit("inbox-resolved")

    page.goto("/#/admin")
    crisis = region(page, "Crisis resources")
    expect(crisis.get_by_label("Clinic phone number")).to_have_value(READY_CRISIS["clinic_phone"])
    visit("admin-crisis")

    crisis.get_by_label("Crisis line phone number").fill("help")
    crisis.get_by_role("button", name="Save crisis resources").click()
    expect(crisis.locator(".field-error")).to_have_count(1)
    visit("admin-crisis-error")

    set_crisis(world, UNSET_CRISIS)
    page.reload()
    expect(region(page, "Crisis resources")).to_contain_text("not set yet")
    visit("admin-crisis-unset")

    page.goto("/#/panel")
    page.get_by_role("button", name="Add a patient").click()
    page.get_by_label("Name", exact=True).fill("Dana D")
    page.get_by_role("button", name="Add patient", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("crisis resources")
    visit("add-patient-refused")


SCREENS = [
    "panel",
    "banner",
    "banner-two-flags-madrs-incomplete",
    "inbox-open",
    "inbox-resolved",
    "admin-crisis",
    "admin-crisis-error",
    "admin-crisis-unset",
    "add-patient-refused",
]


def test_the_safety_screens_are_axe_clean_and_saved_as_screenshots(browse, world):
    """One walk: each screen is checked and saved at desktop and phone size, light and dark
    (the page resized and its colour scheme switched in place, not the walk repeated)."""
    page = browse(DESKTOP)
    walk = ScreenWalk(
        page,
        sizes_and_schemes(DESKTOP, sizes=("desktop", "phone")),
        lambda variant, number, screen: (
            f"safety-clinician-{variant[0]}-{variant[1]}-{number:02d}-{screen}"
        ),
        back=(DESKTOP, "light"),
    )

    through_the_safety_screens(page, world, walk.visit)

    for shots in walk.saved.values():
        assert [path.stem.split("-", 5)[-1] for path in shots] == SCREENS
    walk.assert_axe_clean()
