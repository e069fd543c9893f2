"""One phone, more than one person, a flaky network: nobody's answers go astray."""

from __future__ import annotations

import json

from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD

ALICE = "alice@example.org"
BOB = "bob@example.org"
CRISIS = "Please reach out now"


def sign_in(page: Page, email: str, name: str) -> None:
    page.goto("/#/signin")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Hello, {name}")


def start_phq9(page: Page) -> None:
    page.get_by_role("link", name="Mood check-in (PHQ-9)").click()


def answer(page: Page, number: int, option: str) -> None:
    expect(page.get_by_text(f"Question {number} of 9")).to_be_visible()
    page.get_by_text(option, exact=True).click()


def entries_of(world, patient) -> list[dict]:
    answer_ = world.as_clinician_x().get(f"/api/v1/patients/{patient.id}/entries")
    return answer_.json["items"]


def sign_out(page: Page) -> None:
    page.get_by_role("link", name="My data").click()
    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_a_half_done_check_in_is_never_continued_by_the_next_person(world, page):
    sign_in(page, ALICE, "Alice A")
    start_phq9(page)
    for number in (1, 2, 3):
        answer(page, number, "Nearly every day")
    page.goto("/#/data")
    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()

    sign_in(page, BOB, "Bob B")
    start_phq9(page)
    expect(page.get_by_text("Question 1 of 9")).to_be_visible()
    expect(page.get_by_role("radio", name="Nearly every day")).not_to_be_checked()


def test_a_double_tap_on_the_last_answer_stores_one_entry(world, page):
    """All 0: no difficulty question, so the last answer finishes the check-in."""
    sign_in(page, ALICE, "Alice A")
    start_phq9(page)
    for number in range(1, 9):
        answer(page, number, "Not at all")
    expect(page.get_by_text("Question 9 of 9")).to_be_visible()
    page.get_by_text("Not at all", exact=True).dblclick()
    expect(page.get_by_text("Sent to your care team.")).to_be_visible()
    assert len(entries_of(world, world.patient_a)) == 1


def test_the_next_person_never_sees_or_sends_a_queued_check_in_of_someone_else(
    world, page, context
):
    sign_in(page, ALICE, "Alice A")
    context.set_offline(True)
    start_phq9(page)
    for number in range(1, 10):
        answer(page, number, "Several days" if number < 9 else "Not at all")
    page.get_by_role("button", name="Finish").click()
    expect(page.get_by_text("Saved on this phone")).to_be_visible()
    # Alice's session ends without a sign-out, before the phone is back online (so that no
    # send of hers can renew the session cookie in between).
    context.clear_cookies()
    context.set_offline(False)
    # The send is refused (401): the app asks to sign in again and keeps the check-in.
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_text("Your session has ended")).to_be_visible()
    assert entries_of(world, world.patient_a) == []

    sign_in(page, BOB, "Bob B")
    expect(page.get_by_role("heading", name="Waiting to be sent")).to_have_count(0)
    assert entries_of(world, world.patient_b) == []
    sign_out(page)

    sign_in(page, ALICE, "Alice A")  # Alice's answers were kept for her, and now go
    expect(page.get_by_role("heading", name="Waiting to be sent")).to_have_count(0)
    expect(page.locator("#live")).to_contain_text("sent")
    assert len(entries_of(world, world.patient_a)) == 1


def test_a_slow_screen_never_replaces_the_crisis_screen(world, page):
    sign_in(page, ALICE, "Alice A")
    held = []
    page.route("**/summary?instrument=phq9", lambda route: held.append(route))
    page.get_by_role("link", name="Home", exact=True).first.click()
    page.goto("/#/checkin?instrument=phq9")
    for number in range(1, 10):
        answer(page, number, "Several days")
    expect(page.get_by_role("heading", name=CRISIS)).to_be_visible()
    page.unroute("**/summary?instrument=phq9")
    for route in held:
        route.continue_()
    page.wait_for_load_state("networkidle")
    expect(page.get_by_role("heading", name=CRISIS)).to_be_visible()


def test_coming_back_online_keeps_the_thank_you_screen(world, page, context):
    sign_in(page, ALICE, "Alice A")
    context.set_offline(True)
    start_phq9(page)
    for number in range(1, 10):
        answer(page, number, "Several days" if number < 9 else "Not at all")
    page.get_by_role("button", name="Finish").click()
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    context.set_offline(False)
    expect(page.locator("#live")).to_contain_text("sent")
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    assert len(entries_of(world, world.patient_a)) == 1


def test_a_server_error_at_start_shows_the_saved_home_not_an_endless_loading(world, page):
    sign_in(page, ALICE, "Alice A")
    page.route(
        "**/api/v1/auth/me",
        lambda route: route.fulfill(status=502, body="<html>Bad gateway</html>"),
    )
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Alice A")


def test_a_rate_limited_send_stays_queued(world, page):
    sign_in(page, ALICE, "Alice A")
    page.route(
        "**/api/v1/patients/*/entries",
        lambda route: (
            route.fulfill(
                status=429,
                headers={"Retry-After": "5"},
                content_type="application/json",
                body=json.dumps({"code": 429, "status": "Too Many Requests"}),
            )
            if route.request.method == "POST"
            else route.continue_()
        ),
    )
    start_phq9(page)
    for number in range(1, 10):
        answer(page, number, "Several days" if number < 9 else "Not at all")
    page.get_by_role("button", name="Finish").click()
    expect(
        page.get_by_text("Saved on this phone. It will be sent when you are online.")
    ).to_be_visible()


def test_signing_out_offline_keeps_you_signed_in_and_says_why(world, page, context):
    sign_in(page, ALICE, "Alice A")
    page.get_by_role("link", name="My data").click()
    context.set_offline(True)
    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("Connect to sign out")
    expect(page.get_by_role("heading", name="My data")).to_be_visible()


def test_the_skip_link_moves_focus_without_leaving_the_question(world, page):
    sign_in(page, ALICE, "Alice A")
    start_phq9(page)
    expect(page.get_by_text("Question 1 of 9")).to_be_visible()
    page.locator(".skip").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("Question 1 of 9")).to_be_visible()
