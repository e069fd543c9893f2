"""Reminders in the real PWA: offered after the first check-in (never on first load), turned
on with the server's VAPID key, a reminder sent by the server and decrypted by the stand-in
push service is delivered to the service worker (DevTools ServiceWorker.deliverPushMessage),
shown as a notification, and opens its check-in; the settings screen from Account.

Headless Chromium has no push service of its own (PushManager.subscribe needs Google's), so
the page's PushManager hands out a subscription of the stand-in push service instead: the
keys the server encrypts for are the stand-in's, which decrypts what the server sends. Every
other step is the browser's own: the permission, the service worker, its push and
notification handling, the navigation.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from server.data.extensions import db
from server.services import reminders
from tests.browser.conftest import PHONE, ScreenWalk, screenshot, sizes_and_schemes
from tests.conftest import PASSWORD
from tests.push_service import PushService

ALICE = "alice@example.org"
DESKTOP = {"width": 1280, "height": 900}
IPHONE_SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)

# The page's PushManager gives out the stand-in's subscription (see the module docstring),
# and keeps what the page asked for.
FAKE_PUSH_MANAGER = """
(subscription) => {
  let current = null;
  PushManager.prototype.subscribe = async function (options) {
    const key = new Uint8Array(options.applicationServerKey);
    window.__subscribedWith = btoa(String.fromCharCode(...key))
      .replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
    current = {
      endpoint: subscription.endpoint,
      expirationTime: null,
      options: { userVisibleOnly: options.userVisibleOnly, applicationServerKey: key.buffer },
      toJSON: () => subscription,
      unsubscribe: async () => { current = null; return true; },
    };
    return current;
  };
  PushManager.prototype.getSubscription = async function () { return current; };
}
"""


@pytest.fixture
def service(app, monkeypatch):
    push_service = PushService()
    monkeypatch.setitem(app.config, "TIDEMARK_PUSH_HOSTS", "127.0.0.1")
    yield push_service
    push_service.stop()


def with_stand_in_push(context, subscriber) -> None:
    script = FAKE_PUSH_MANAGER.strip()
    context.add_init_script(f"({script})({json.dumps(subscriber.subscription())});")


def sign_in(page: Page, email: str = ALICE, name: str = "Alice A") -> None:
    page.goto("/#/signin")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Hello, {name}")


def check_in(page: Page) -> None:
    """A PHQ-9 from Home, by tapping."""
    page.goto("/#/")
    page.get_by_role("link", name="Mood check-in (PHQ-9)").click()
    for number in range(1, 10):
        expect(page.get_by_text(f"Question {number} of 9")).to_be_visible()
        option = "Not at all" if number == 9 else "Several days"
        page.get_by_text(option, exact=True).click()
    page.get_by_text("Somewhat difficult", exact=True).click()
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    expect(page.get_by_text("Sent to your care team.")).to_be_visible()


def offer(page: Page):
    return page.locator("section.reminder-offer")


def showing(page: Page) -> list[dict]:
    """The notifications the app's service worker is showing."""
    return page.evaluate(
        "navigator.serviceWorker.ready.then(r => r.getNotifications())"
        ".then(list => list.map(n => ({title: n.title, body: n.body, url: n.data.url})))"
    )


def registration_id(cdp) -> str:
    """The service worker registration's id, from DevTools' ServiceWorker domain."""
    found: list[dict] = []
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda event: found.extend(event["registrations"]),
    )
    cdp.send("ServiceWorker.enable")
    deadline = datetime.now(UTC) + timedelta(seconds=10)
    while not [r for r in found if not r.get("isDeleted")] and datetime.now(UTC) < deadline:
        cdp.send("Runtime.evaluate", {"expression": "1"})  # lets the events arrive
    [registration] = [r for r in found if not r.get("isDeleted")]
    return registration["registrationId"]


def test_no_reminder_question_on_first_load_then_one_after_the_first_check_in(
    page, context, world, live_server, service
):
    with_stand_in_push(context, service.subscriber())
    sign_in(page)
    expect(page.get_by_text("reminder", exact=False)).to_have_count(0)

    check_in(page)

    expect(offer(page)).to_be_visible()
    expect(offer(page)).to_contain_text("It never shows your answers or scores.")
    assert page.evaluate("Notification.permission") == "default"  # nothing asked yet
    screenshot(page, "reminders-offer-after-check-in")
    page.get_by_role("button", name="Not now").click()
    expect(offer(page)).to_contain_text("You can turn them on any time in Account")
    check_in(page)
    expect(offer(page)).to_have_count(0)  # "Not now" is not asked again at once


def test_a_reminder_goes_from_the_server_through_the_push_service_to_a_notification_that_opens_the_check_in(  # noqa: E501
    app, page, context, world, live_server, service
):
    phone = service.subscriber()
    with_stand_in_push(context, phone)
    sign_in(page)
    check_in(page)
    expect(offer(page)).to_be_visible()
    # The patient taps Allow in the browser's prompt.
    context.grant_permissions(["notifications"], origin=live_server)
    page.get_by_role("button", name="Turn on reminders").click()
    expect(offer(page)).to_contain_text("Reminders are on.")
    key = page.evaluate("fetch('/api/v1/push/key').then(r => r.json()).then(k => k.public_key)")
    assert page.evaluate("window.__subscribedWith") == key  # subscribed with the server's key

    # Two weeks later, at 18:00 in Berlin, the server sends the reminder the schedule calls for.
    due = datetime.now(UTC) + timedelta(days=15)
    with app.app_context():
        result = reminders.send_due(due.replace(hour=17, minute=0, second=0, microsecond=0))
        db.session.remove()
    assert result.sent == 1
    [received] = service.to(phone)
    assert received.problems == []
    assert received.payload["url"] == "/#/checkin?instrument=phq9&context=routine"

    # The push service delivers it to the phone: DevTools hands it to the service worker.
    page.goto("/#/")
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    cdp = context.new_cdp_session(page)
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {
            "origin": live_server,
            "registrationId": registration_id(cdp),
            "data": json.dumps(received.payload),
        },
    )
    shown = showing(page)
    deadline = datetime.now(UTC) + timedelta(seconds=10)
    while not shown and datetime.now(UTC) < deadline:
        page.wait_for_timeout(100)  # polling a state (the notification shown), not a guess
        shown = showing(page)
    assert shown == [
        {
            "title": "Time for a check-in",
            "body": "Your PHQ-9 check-in is due. It takes about two minutes.",
            "url": "/#/checkin?instrument=phq9&context=routine",
        }
    ]

    # A tap: headless Chromium has no notification to click, so the worker runs what its
    # notificationclick handler runs, with the notification it is showing.
    [worker] = context.service_workers
    worker.evaluate(
        "self.registration.getNotifications()"
        ".then(([notification]) => self.openFromNotification(notification))"
        ".then(() => true)"
    )

    expect(page).to_have_url(re.compile(r"#/checkin\?instrument=phq9&context=routine$"))
    expect(page.get_by_text("Question 1 of 9")).to_be_visible()
    expect(page.locator(".when")).to_contain_text("A regular check-in.")


def test_on_an_iphone_outside_the_home_screen_the_app_explains_how_to_add_it(
    chromium, live_server, world
):
    context = chromium.new_context(
        viewport=PHONE, base_url=live_server, service_workers="allow", user_agent=IPHONE_SAFARI
    )
    try:
        page = context.new_page()
        sign_in(page)
        check_in(page)

        expect(offer(page)).to_contain_text("Add to Home Screen")
        expect(offer(page).get_by_role("button", name="Turn on reminders")).to_have_count(0)
        screenshot(page, "reminders-offer-iphone")
        page.goto("/#/reminders")
        expect(page.get_by_role("heading", name="On this device")).to_be_visible()
        expect(page.locator("main")).to_contain_text("Add to Home Screen")
    finally:
        context.close()


def test_the_settings_screen_is_reached_from_account_and_saves(page, context, world, service):
    with_stand_in_push(context, service.subscriber())
    sign_in(page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Account").click()
    page.get_by_role("link", name="Reminder settings").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reminders")
    expect(page.get_by_text("Reminders do not come to this device yet.")).to_be_visible()

    page.get_by_label("Remind me of a check-in at").fill("07:30")
    page.get_by_label("From").fill("22:30")
    page.get_by_label("Until").fill("06:45")
    page.get_by_label("Before a planned session").select_option(label="The day before (24 hours)")
    page.get_by_text("The morning after a session", exact=False).click()
    page.get_by_role("button", name="Save reminder settings").click()
    expect(page.get_by_text("Saved. Reminders follow these settings from now on.")).to_be_visible()

    saved = world.as_patient_a().get("/api/v1/patients/me/reminders").json
    assert saved == {
        "enabled": True,
        "time_of_day": "07:30",
        "quiet_start": "22:30",
        "quiet_end": "06:45",
        "pre_session_hours": 24,
        "post_session_next_day": False,
        "devices": 0,
    }
    page.get_by_text("No reminders at night").click()
    expect(page.get_by_label("From")).to_be_hidden()
    # The first save's "Saved." is still on screen: wait for this save's own answer.
    with page.expect_response(
        lambda r: r.url.endswith("/reminders") and r.request.method == "PUT"
    ) as answered:
        page.get_by_role("button", name="Save reminder settings").click()
    assert answered.value.status == 200
    expect(page.get_by_text("Saved. Reminders follow these settings from now on.")).to_be_visible()
    after = world.as_patient_a().get("/api/v1/patients/me/reminders").json
    assert (after["quiet_start"], after["quiet_end"]) == (None, None)


def test_reminders_are_turned_on_and_off_on_the_settings_screen(
    page, context, world, live_server, service
):
    with_stand_in_push(context, service.subscriber())
    context.grant_permissions(["notifications"], origin=live_server)
    sign_in(page)
    page.goto("/#/reminders")

    page.get_by_role("button", name="Send reminders to this device").click()
    expect(page.get_by_text("Reminders come to this device.")).to_be_visible()
    assert world.as_patient_a().get("/api/v1/patients/me/reminders").json["devices"] == 1
    page.get_by_role("button", name="Stop reminders on this device").click()
    expect(page.get_by_text("Reminders do not come to this device yet.")).to_be_visible()
    assert world.as_patient_a().get("/api/v1/patients/me/reminders").json["devices"] == 0


def test_signing_out_stops_this_patients_reminders_to_the_browser(
    page, context, world, live_server, service
):
    with_stand_in_push(context, service.subscriber())
    context.grant_permissions(["notifications"], origin=live_server)
    sign_in(page)
    page.goto("/#/reminders")
    page.get_by_role("button", name="Send reminders to this device").click()
    expect(page.get_by_text("Reminders come to this device.")).to_be_visible()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="My data").click()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")

    assert world.as_patient_a().get("/api/v1/patients/me/reminders").json["devices"] == 0


def test_on_a_shared_phone_the_next_patient_is_asked_for_themself(
    page, context, world, live_server, service
):
    with_stand_in_push(context, service.subscriber())
    context.grant_permissions(["notifications"], origin=live_server)
    sign_in(page)
    page.goto("/#/reminders")
    page.get_by_role("button", name="Send reminders to this device").click()
    expect(page.get_by_text("Reminders come to this device.")).to_be_visible()
    page.goto("/#/data")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")

    sign_in(page, "bob@example.org", "Bob B")
    check_in(page)

    expect(offer(page)).to_be_visible()  # Alice's yes is not Bob's
    assert world.as_patient_b().get("/api/v1/patients/me/reminders").json["devices"] == 0
    page.get_by_role("button", name="Turn on reminders").click()
    expect(offer(page)).to_contain_text("Reminders are on.")
    assert world.as_patient_b().get("/api/v1/patients/me/reminders").json["devices"] == 1
    assert world.as_patient_a().get("/api/v1/patients/me/reminders").json["devices"] == 0


REMINDER_SCREENS = ["offer", "account", "settings"]


def test_the_reminder_screens_are_axe_clean_and_saved_as_screenshots(
    chromium, live_server, world, service
):
    """One walk at phone size: each screen is saved at phone and desktop size, light and dark
    (the page resized and its colour scheme switched in place, not the walk repeated), and
    the offer and the settings are checked by axe in each."""
    context = chromium.new_context(viewport=PHONE, base_url=live_server, service_workers="allow")
    try:
        with_stand_in_push(context, service.subscriber())
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        walk = ScreenWalk(
            page,
            sizes_and_schemes(DESKTOP),
            lambda variant, _number, screen: f"reminders-{variant[0]}-{variant[1]}-{screen}",
            back=(PHONE, "light"),
        )
        visit = walk.visit

        sign_in(page)
        check_in(page)
        expect(offer(page)).to_be_visible()
        visit("offer")

        page.goto("/#/account")
        expect(page.get_by_role("link", name="Reminder settings")).to_be_visible()
        visit("account", axe=False)
        page.get_by_role("link", name="Reminder settings").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Reminders")
        expect(page.get_by_text("Reminders do not come to this device yet.")).to_be_visible()
        visit("settings")
        assert not errors, errors
    finally:
        context.close()

    for (size, scheme), shots in walk.saved.items():
        prefix = f"reminders-{size}-{scheme}-"
        assert [path.stem.removeprefix(prefix) for path in shots] == REMINDER_SCREENS
    walk.assert_axe_clean()
