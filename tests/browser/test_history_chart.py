"""The score chart as a patient reads it: named bands, lower is better, one dot per check-in,
a tap (or an arrow key) reads a dot, and changes worded one way on every screen."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import OUTPUT, PHONE, axe_violations, describe_violations, screenshot
from tests.conftest import PASSWORD, entry_body

ZONE = "Europe/Berlin"
DESKTOP = {"width": 1280, "height": 800}
BANDS = ["Minimal", "Mild", "Moderate", "Moderately severe", "Severe"]
HIT = 22  # px from a dot's centre where a tap still reads it: a 44 px target


def phq9(total: int) -> list[int]:
    answers, remaining = [0] * 9, total
    for position in range(8):
        answers[position] = min(3, remaining)
        remaining -= answers[position]
    return answers


def submit(client, total: int, taken_at: datetime, context: str = "routine") -> None:
    body = entry_body("phq9", phq9(total), taken_at=taken_at.isoformat(), context=context)
    response = client.post("/api/v1/patients/me/entries", json=body)
    assert response.status_code == 201, response.json


def eight_weeks_of_check_ins(world) -> datetime:
    """Alice: 20 at baseline, weekly check-ins down to 13, two sessions, and yesterday a 12 in
    the morning and a 21 in the evening (the same local day). Returns yesterday's noon."""
    alice = world.as_patient_a()
    yesterday = datetime.now(UTC) - timedelta(days=1)
    noon = yesterday.replace(hour=11, minute=0, second=0, microsecond=0)
    for weeks, total in enumerate([20, 19, 18, 17, 16, 15, 14, 13]):
        context = "baseline" if weeks == 0 else "routine"
        submit(alice, total, noon - timedelta(weeks=8 - weeks), context)
    submit(alice, 12, noon - timedelta(hours=3))
    submit(alice, 21, noon + timedelta(hours=7))
    clinician = world.as_clinician_x()
    for weeks in (6, 3):
        started = noon - timedelta(weeks=weeks, hours=-1)
        body = {"started_at": started.isoformat(), "treatment": "ketamine_iv", "dose_mg": 35}
        response = clinician.post(f"/api/v1/patients/{world.patient_a.id}/sessions", json=body)
        assert response.status_code == 201, response.json
    return noon


def sign_in_to_history(page: Page) -> None:
    page.goto("/#/signin")
    page.get_by_label("Email").fill("alice@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Alice A")
    page.goto("/#/history")
    expect(page.locator("svg.chart .dot")).to_have_count(10)


def check_screen(page: Page, name: str) -> None:
    """Save the screen in light and dark, each checked by axe."""
    found = {}
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        screenshot(page, f"{name}-{scheme}")
        # The chart alone as well, at full size, to read its small print.
        page.locator("figure.chart-box").first.screenshot(
            path=str(OUTPUT / "screenshots" / f"{name}-{scheme}-chart.png")
        )
        if violations := axe_violations(page):
            found[scheme] = describe_violations(violations)
    assert not found, found


@pytest.fixture
def phone(chromium, live_server):
    """A touch phone (390×844) in Berlin: taps, a coarse pointer, no keyboard in sight."""
    context = chromium.new_context(
        viewport=PHONE,
        base_url=live_server,
        timezone_id=ZONE,
        has_touch=True,
        is_mobile=True,
        service_workers="block",
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, errors


@pytest.fixture
def desktop(chromium, live_server):
    context = chromium.new_context(
        viewport=DESKTOP, base_url=live_server, timezone_id=ZONE, service_workers="block"
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, errors


def centre(page: Page, dot) -> tuple[float, float]:
    box = dot.bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def test_on_a_phone_the_chart_names_its_bands_shows_each_check_in_and_reads_a_tapped_dot(
    phone, world
):
    eight_weeks_of_check_ins(world)
    sign_in_to_history(phone)
    figure = phone.locator("figure.chart-box")

    # The bands are named (the instrument's own, from the API), and lower is better in words.
    expect(figure.locator(".band-name")).to_have_text(BANDS)
    expect(figure.locator(".chart-note")).to_contain_text("Lower is better")
    # Dated ticks along the way, not only the first and last day.
    assert figure.locator("svg.chart line.grid").count() >= 4
    # Yesterday's 12 and 21 are two dots with their own values, never their mean of 16.5.
    dots = figure.locator("svg.chart .dot")
    titles = dots.locator("title")
    expect(titles.filter(has_text=re.compile(r": 21, severe symptoms$"))).to_have_count(1)
    expect(titles.filter(has_text=re.compile(r": 12, moderate symptoms$"))).to_have_count(1)
    expect(titles.filter(has_text="16.5")).to_have_count(0)
    # The legend keys every mark in words; the lines are explained, not "Remission line: 4".
    legend = figure.locator(".chart-legend li")
    expect(legend).to_have_text(
        [
            re.compile("Each dot is one check-in"),
            "Where you started: 20",
            re.compile(r"^10 or lower: your score has halved"),
            re.compile(r"^4 or lower: few or no symptoms left"),
            "Treatment session",
        ]
    )
    assert figure.locator(".chart-legend svg.key").count() == 5
    # Sessions and reference lines differ in colour and in dash.
    styles = phone.evaluate(
        """() => ['.chart .mark line', '.chart .ref-response', '.chart .ref-remission'].map((s) => {
            const style = getComputedStyle(document.querySelector(s));
            return [style.stroke, style.strokeDasharray];
        })"""
    )
    assert len({stroke for stroke, _ in styles}) == 3, styles
    assert len({dash for _, dash in styles}) == 3, styles

    # On a phone the hint says tap, and a tap beside the dot (a 44 px target) reads it.
    caption = figure.locator(".chart-caption")
    expect(caption).to_have_text("Tap a dot or session mark to read it.")
    crisis = dots.filter(has=phone.locator("title", has_text=re.compile(r": 21, ")))
    x, y = centre(phone, crisis)
    phone.touchscreen.tap(x, y - HIT)
    expect(caption).to_have_text(
        re.compile(r"^21 out of 27, severe symptoms\. \w+, .*\d{4}, \d\d:\d\d.*\. Routine\.$")
    )
    expect(crisis).to_have_class(re.compile("current"))
    morning = dots.filter(has=phone.locator("title", has_text=re.compile(r": 12, ")))
    x, y = centre(phone, morning)
    phone.touchscreen.tap(x + HIT * 0.7, y + HIT * 0.7)
    expect(caption).to_contain_text("12 out of 27, moderate symptoms")
    check_screen(phone, "history-chart-phone")

    # A session mark reads out too.
    mark = figure.locator("svg.chart .mark path").first
    x, y = centre(phone, mark)
    phone.touchscreen.tap(x, y)
    expect(caption).to_have_text(re.compile(r"^Treatment session: Ketamine .*35 mg"))


def test_on_a_desktop_the_arrow_keys_read_every_dot_and_the_days_line_follows_the_means(
    desktop, world
):
    eight_weeks_of_check_ins(world)
    sign_in_to_history(desktop)
    chart = desktop.locator("svg.chart")
    caption = desktop.locator(".chart-caption")
    expect(caption).to_contain_text("use the arrow keys")

    chart.focus()
    desktop.keyboard.press("End")
    expect(caption).to_contain_text("21 out of 27, severe symptoms")
    desktop.keyboard.press("ArrowLeft")
    expect(caption).to_contain_text("12 out of 27, moderate symptoms")
    # The line passes through the day's mean, 16.5, between the two dots.
    line_end = desktop.evaluate(
        """() => {
            const line = document.querySelector('svg.chart .trend').points;
            return line.getItem(line.numberOfItems - 1).y;
        }"""
    )
    last_two = "ds => ds.slice(-2).map(d => Number(d.getAttribute('cy')))"
    ys = sorted(chart.locator(".dot").evaluate_all(last_two))
    assert ys[0] < line_end < ys[1]
    check_screen(desktop, "history-chart-desktop")

    desktop.get_by_role("link", name="Weeks").click()
    expect(desktop.locator(".chart-legend li").first).to_contain_text("weekly averages")
    expect(desktop.locator("svg.chart .dot")).to_have_count(10)


def test_a_clinician_reads_a_worse_change_with_an_arrow_and_what_response_means(desktop, world):
    alice = world.as_patient_a()
    now = datetime.now(UTC).replace(microsecond=0)
    submit(alice, 10, now - timedelta(days=20), "baseline")
    # Two check-ins on one day: the clinician's chart, too, shows each as its own dot.
    submit(alice, 21, now - timedelta(days=1, hours=2))
    submit(alice, 11, now - timedelta(days=1))
    desktop.goto("/#/signin")
    desktop.get_by_label("Email").fill("doc.x@example.org")
    desktop.get_by_label("Password").fill(PASSWORD)
    desktop.get_by_role("button", name="Sign in").click()
    expect(desktop.get_by_role("heading", level=1)).to_have_text("Patients")
    desktop.goto(f"/#/patient?id={world.patient_a.id}")
    expect(desktop.get_by_role("heading", level=1)).to_have_text("Alice A")

    figures = desktop.locator("dl.figures").first
    expect(figures).to_contain_text("↑ 1 point, 10 % worse")
    meanings = desktop.locator(".outcome .meanings").first
    expect(meanings).to_contain_text("Response: the score has fallen by at least half")
    expect(meanings).to_contain_text("Remission: a score of 4 or lower")
    expect(meanings).to_contain_text("Reliable change: a change of 6 points or more")
    expect(desktop.locator(".outcome .chart-note").first).to_contain_text("Lower is better")
    dots = desktop.locator(".outcome").first.locator("svg.chart circle.dot")
    expect(dots).to_have_count(3)
    titles = dots.locator("title").all_text_contents()
    assert sorted(int(re.search(r": (\d+), ", t).group(1)) for t in titles) == [10, 11, 21], titles
