"""Around a session, in a real Chromium: the patient's quick rating before and after it and
their after-session report (offline too), and what the clinician then sees.

The patient's screens are at phone size; the clinician's at desktop size. The server's side is
checked through the API.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import axe_violations, describe_violations, screenshot
from tests.conftest import PASSWORD

ALICE = "alice@example.org"
DESKTOP = {"width": 1280, "height": 900}
MIN_TARGET = 44
# The report's answers, one screen each, in the server's order of side effects.
REPORT = [
    ("felt sick (nausea)", "Mild"),
    ("dizzy or unsteady", "None"),
    ("detached, unreal", "Severe"),
    ("headache", "Moderate"),
    ("drowsy or unusually sleepy", "Mild"),
]


def at(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


def sign_in(page: Page, email: str, heading: str) -> None:
    page.goto("/#/signin")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)


def add_session(world, started_at: datetime) -> dict:
    response = world.as_clinician_x().post(
        f"/api/v1/patients/{world.patient_a.id}/sessions",
        json={"started_at": at(started_at), "treatment": "ketamine_iv", "dose_mg": 35},
    )
    assert response.status_code == 201, response.json
    return response.json


def move_session(world, session: dict, started_at: datetime) -> None:
    response = world.as_clinician_x().patch(
        f"/api/v1/patients/{world.patient_a.id}/sessions/{session['id']}",
        json={"started_at": at(started_at)},
    )
    assert response.status_code == 200, response.json


def quick_ratings(world) -> list[dict]:
    response = world.as_clinician_x().get(
        f"/api/v1/patients/{world.patient_a.id}/entries?instrument=mood_now"
    )
    return response.json["items"]


def session_of(world, session: dict) -> dict:
    response = world.as_clinician_x().get(
        f"/api/v1/patients/{world.patient_a.id}/sessions/{session['id']}"
    )
    return response.json


def rate(page: Page, value: int) -> None:
    """Tap the number on the quick rating's screen, then Save."""
    page.locator("label.rating-option").filter(has_text=str(value)).first.click()
    expect(page.get_by_role("radio", name=str(value), exact=False).nth(0)).to_be_visible()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()


def small_targets(page: Page, selector: str) -> list[tuple[str, float, float]]:
    boxes = page.locator(selector)
    small = []
    for index in range(boxes.count()):
        box = boxes.nth(index).bounding_box()
        if box["width"] < MIN_TARGET or box["height"] < MIN_TARGET:
            small.append((boxes.nth(index).inner_text(), box["width"], box["height"]))
    return small


def no_horizontal_scroll(page: Page) -> None:
    width, visible = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert width <= visible, f"the page scrolls sideways: {width} > {visible}"


def test_a_patient_rates_before_and_after_a_session_and_reports_how_it_went(
    world, page, context, chromium, live_server
):
    # A session in an hour: Home offers the quick rating before it.
    session = add_session(world, datetime.now(UTC) + timedelta(hours=1))
    sign_in(page, ALICE, "Hello, Alice A")
    offer = page.locator("section", has=page.get_by_role("heading", name="Quick rating"))
    expect(offer).to_contain_text("Your session starts at")
    screenshot(page, "session-feedback-home-offers-the-rating-before")
    offer.get_by_role("link", name="Rate before my session").click()

    expect(page.get_by_role("heading", name="Quick rating")).to_be_visible()
    expect(page.get_by_text("Right now, how low or depressed do you feel?")).to_be_visible()
    expect(page.get_by_text("0 = Not at all")).to_be_visible()
    expect(page.get_by_text("10 = As low as I can imagine")).to_be_visible()
    assert page.locator("label.rating-option").count() == 11
    assert small_targets(page, "label.rating-option") == []
    no_horizontal_scroll(page)
    assert "score" not in page.locator("main").inner_text().lower()
    violations = axe_violations(page)
    assert violations == [], describe_violations(violations)
    page.get_by_role("button", name="Save").click()  # nothing chosen yet
    expect(page.get_by_role("alert")).to_have_text("Please choose a number from 0 to 10.")
    page.locator("label.rating-option").filter(has_text="7").click()
    screenshot(page, "session-feedback-quick-rating-before")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("Sent to your care team.")
    expect(page.locator("main")).to_contain_text("before a session: 7 out of 10")
    [pre] = quick_ratings(world)
    assert (pre["answers"], pre["context"]) == ([7], "pre_session")
    assert pre["session_id"] == session["id"]

    # The session takes place: it started a second after that rating (the clinic records it).
    started = datetime.fromisoformat(pre["taken_at"].replace("Z", "+00:00")) + timedelta(seconds=1)
    while datetime.now(UTC) <= started + timedelta(seconds=1):
        time.sleep(0.2)  # the post rating must come after the session's start, to the second
    move_session(world, session, started)

    page.goto("/#/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Alice A")
    expect(page.get_by_role("heading", name="How was your session?")).to_be_visible()
    rating_card = page.locator("section", has=page.get_by_role("heading", name="Quick rating"))
    rating_card.get_by_role("link", name="After my session").click()
    expect(page.get_by_text("After your session")).to_be_visible()
    page.locator("label.rating-option").filter(has_text="3").click()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Sent to your care team.")
    ratings = {e["context"]: e for e in quick_ratings(world)}
    assert ratings["post_session"]["answers"] == [3]
    assert ratings["post_session"]["session_id"] == session["id"]

    # Her history shows the pair, before → after.
    page.goto("/#/history?instrument=mood_now")
    expect(page.locator("svg.pairs .pair")).to_have_count(1)
    page.locator("svg.pairs").focus()
    expect(page.locator(".chart-caption")).to_contain_text("before 7, after 3")
    screenshot(page, "session-feedback-history-pairs")

    # The after-session report, finished offline: it waits on the phone, then is sent.
    page.goto("/#/")
    page.get_by_role("link", name="Tell us how it went").click()
    expect(page.get_by_role("heading", name="How was your session?")).to_be_visible()
    for number, (question, level) in enumerate(REPORT, start=1):
        expect(page.get_by_text(f"Question {number} of 5")).to_be_visible()
        expect(page.locator("legend")).to_contain_text(question)
        if number == 1:
            assert small_targets(page, "label.option") == []
            screenshot(page, "session-feedback-report-first-question")
        page.locator("label.option").filter(has_text=level).click()
        page.get_by_role("button", name="Next").click()
    note_heading = page.get_by_role("heading", name="Anything else to tell your care team?")
    expect(note_heading).to_be_visible()
    page.get_by_label("A note (optional)").fill("Felt floaty for an hour, then fine.")
    screenshot(page, "session-feedback-report-note")
    context.set_offline(True)
    page.get_by_role("button", name="Finish").click()
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text(
        "Saved on this phone. It will be sent when you are online."
    )
    expect(page.get_by_text("You said dissociation was severe.")).to_be_visible()
    screenshot(page, "session-feedback-report-saved-offline")
    assert session_of(world, session)["reports"] == []

    context.set_offline(False)

    page.goto("/#/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Alice A")
    expect(page.get_by_role("heading", name="Quick rating")).to_be_visible()
    expect(page.get_by_role("heading", name="Waiting to be sent")).to_have_count(0)
    expect(page.get_by_role("heading", name="How was your session?")).to_have_count(0)
    [report] = session_of(world, session)["reports"]
    assert report["side_effects"] == {
        "nausea": 1,
        "dizziness": 0,
        "dissociation": 3,
        "headache": 2,
        "drowsiness": 1,
    }
    assert report["note"] == "Felt floaty for an hour, then fine."
    screenshot(page, "session-feedback-home-after")

    # The clinician sees the pair and the report on the patient's page.
    desk_context = chromium.new_context(viewport=DESKTOP, base_url=live_server)
    desk = desk_context.new_page()
    errors: list[str] = []
    desk.on("pageerror", lambda error: errors.append(str(error)))
    try:
        sign_in(desk, "doc.x@example.org", "Patients")
        desk.goto(f"/#/patient?id={world.patient_a.id}")
        expect(desk.get_by_role("heading", name="Alice A", level=1)).to_be_visible()
        quick = desk.locator("section", has=desk.get_by_role("heading", name="Quick mood rating"))
        expect(quick).to_contain_text("A quick rating, not a scale")
        expect(quick.locator("svg.pairs .pair")).to_have_count(1)
        assert quick.locator(".band").count() == 0
        sessions = desk.locator(
            "section", has=desk.get_by_role("heading", name="Treatment sessions")
        )
        expect(sessions).to_contain_text("Quick mood rating: pre 7, post 3, ↓ 4 points better")
        expect(sessions).to_contain_text("dissociation severe")
        effects = desk.locator(
            "section", has=desk.get_by_role("heading", name="Side effects reported after sessions")
        )
        dissociation = effects.get_by_role("row", name="Dissociation")
        expect(dissociation).to_contain_text("3 severe")
        expect(effects).to_contain_text("Felt floaty for an hour, then fine.")
        effects.scroll_into_view_if_needed()
        screenshot(desk, "session-feedback-clinician-patient-page")
        desk.goto("/#/panel")  # the panel offers scales only
        expect(desk.get_by_role("heading", name="Patients")).to_be_visible()
        options = desk.locator("select[name=instrument] option").all_inner_texts()
        assert "Quick mood rating" not in options
        assert "PHQ-9" in options
    finally:
        desk_context.close()
    assert not errors, f"JavaScript errors on the clinician's page: {errors}"


def test_without_a_session_coming_the_patient_may_still_choose_before_or_after(world, page):
    sign_in(page, ALICE, "Hello, Alice A")
    card = page.locator("section", has=page.get_by_role("heading", name="Quick rating"))
    expect(card.get_by_role("link", name="Before my session")).to_be_visible()
    expect(page.get_by_role("heading", name="How was your session?")).to_have_count(0)

    page.goto("/#/rating")
    expect(page.get_by_role("group", name="When is this?")).to_be_visible()
    page.locator("label.rating-option").filter(has_text="5").click()
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("alert")).to_have_text(
        "Please choose whether this is before or after your session."
    )
    assert quick_ratings(world) == []
    page.get_by_text("Before my session", exact=True).click()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Sent to your care team.")
    [entry] = quick_ratings(world)
    assert (entry["answers"], entry["context"], entry["session_id"]) == ([5], "pre_session", None)


@pytest.mark.parametrize("hours_since", [1, 30])
def test_home_asks_how_the_session_went_only_once_reported(world, page, hours_since):
    session = add_session(world, datetime.now(UTC) - timedelta(hours=hours_since))
    sign_in(page, ALICE, "Hello, Alice A")
    expect(page.get_by_role("heading", name="How was your session?")).to_be_visible()
    page.get_by_role("link", name="Tell us how it went").click()
    for _question, level in REPORT:
        page.locator("label.option").filter(has_text=level).click()
        page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="Finish").click()
    expect(page.get_by_role("status")).to_have_text("Sent to your care team.")

    page.locator("#main").get_by_role("link", name="Home").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Alice A")
    expect(page.get_by_role("heading", name="How was your session?")).to_have_count(0)
    [report] = session_of(world, session)["reports"]
    assert report["note"] is None


def test_a_link_to_the_rating_as_a_questionnaire_opens_the_quick_rating(world, page):
    sign_in(page, ALICE, "Hello, Alice A")

    page.goto("/#/checkin?instrument=mood_now&context=post_session")

    expect(page.get_by_role("heading", name="Quick rating")).to_be_visible()
    expect(page.get_by_text("After your session")).to_be_visible()
    expect(page.locator("label.rating-option")).to_have_count(11)
