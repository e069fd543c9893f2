"""Flags nobody can miss: how long a flag has been open, when it becomes overdue by the clinic's
own limit, how long it took to resolve, a patient's flags on their own, and no patient added
before the clinic's crisis resources are set."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from server.data.models import Clinic, Flag
from tests.conftest import database, make_clinic, make_clinician
from tests.test_safety_signals import inbox, send, signal_body

PANEL = "/api/v1/patients"


def open_flag(world, patient_browser, hours_ago: float) -> str:
    """A signal's flag for the patient, opened `hours_ago` hours before now."""
    flag = send(patient_browser, signal_body())
    with database(world.app) as session:
        session.get(Flag, flag["id"]).opened_at = datetime.now(UTC) - timedelta(hours=hours_ago)
        session.commit()
    return flag["id"]


def set_overdue_hours(world, hours: int) -> None:
    response = world.as_admin_x().patch("/api/v1/clinic", json={"flag_overdue_hours": hours})
    assert response.status_code == 200, response.json


def panel_row(world, pid: str) -> dict:
    response = world.as_clinician_x().get(f"{PANEL}?limit=100")
    assert response.status_code == 200, response.json
    [row] = [row for row in response.json["items"] if row["patient"]["id"] == pid]
    return row


# ---------------------------------------------------------------- age and overdue


def test_an_open_flag_says_how_many_hours_it_has_been_open(world):
    fid = open_flag(world, world.as_patient_a(), hours_ago=5.5)

    flag = world.as_clinician_x().get(f"/api/v1/flags/{fid}").json

    assert flag["age_hours"] == pytest.approx(5.5, abs=0.1)
    assert flag["hours_to_resolve"] is None


@pytest.mark.parametrize(("hours_ago", "overdue"), [(23.5, False), (24.5, True), (24 * 90, True)])
def test_an_open_flag_is_overdue_after_the_default_24_hours(world, hours_ago, overdue):
    fid = open_flag(world, world.as_patient_a(), hours_ago=hours_ago)

    [listed] = inbox(world.as_clinician_x(), "status=open")

    assert listed["id"] == fid
    assert listed["overdue"] is overdue


def test_the_clinics_own_limit_decides_when_a_flag_is_overdue(world):
    fid = open_flag(world, world.as_patient_a(), hours_ago=3)
    assert world.as_clinician_x().get(f"/api/v1/flags/{fid}").json["overdue"] is False

    set_overdue_hours(world, 2)

    assert world.as_clinician_x().get(f"/api/v1/flags/{fid}").json["overdue"] is True


def test_a_resolved_flag_says_how_long_it_took_and_is_never_overdue(world):
    fid = open_flag(world, world.as_patient_a(), hours_ago=30)

    response = world.as_clinician_x().post(
        f"/api/v1/flags/{fid}/resolve", json={"note": "Called the patient; safe, plan agreed."}
    )

    assert response.status_code == 200, response.json
    resolved = response.json
    assert resolved["hours_to_resolve"] == pytest.approx(30, abs=0.1)
    assert resolved["age_hours"] is None
    assert resolved["overdue"] is False


def test_the_inbox_lists_the_oldest_flag_first(world):
    newer = open_flag(world, world.as_patient_a(), hours_ago=1)
    older = open_flag(world, world.as_patient_b(), hours_ago=50)

    assert [flag["id"] for flag in inbox(world.as_clinician_x(), "status=open")] == [older, newer]


# ---------------------------------------------------------------- the panel


def test_the_panel_row_carries_the_oldest_open_flag_and_whether_it_is_overdue(world):
    open_flag(world, world.as_patient_a(), hours_ago=2)
    oldest = open_flag(world, world.as_patient_a(), hours_ago=40)
    with database(world.app) as session:
        opened_at = session.get(Flag, oldest).opened_at

    row = panel_row(world, world.patient_a.id)

    assert row["open_flag_count"] == 2
    assert row["oldest_open_flag_at"] == opened_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert row["open_flag_overdue"] is True


def test_a_panel_row_without_open_flags_has_no_flag_age(world):
    fid = open_flag(world, world.as_patient_a(), hours_ago=40)
    world.as_clinician_x().post(f"/api/v1/flags/{fid}/resolve", json={"note": "Seen in clinic."})

    row = panel_row(world, world.patient_a.id)

    assert (row["open_flag_count"], row["oldest_open_flag_at"], row["open_flag_overdue"]) == (
        0,
        None,
        False,
    )


def test_a_recent_open_flag_is_on_the_panel_but_not_overdue(world):
    open_flag(world, world.as_patient_a(), hours_ago=1)

    row = panel_row(world, world.patient_a.id)

    assert row["open_flag_count"] == 1
    assert row["oldest_open_flag_at"] is not None
    assert row["open_flag_overdue"] is False


def test_the_panel_follows_the_clinics_overdue_limit(world):
    open_flag(world, world.as_patient_a(), hours_ago=5)
    set_overdue_hours(world, 4)

    assert panel_row(world, world.patient_a.id)["open_flag_overdue"] is True


def test_the_panel_puts_the_longest_open_flag_first(world):
    open_flag(world, world.as_patient_a(), hours_ago=2)
    open_flag(world, world.as_patient_b(), hours_ago=60)

    rows = world.as_clinician_x().get(f"{PANEL}?limit=100").json["items"]

    assert [row["patient"]["display_name"] for row in rows] == ["Bob B", "Alice A"]


# ---------------------------------------------------------------- one patient's flags


def test_the_inbox_shows_one_patients_flags_when_asked(world):
    alices = open_flag(world, world.as_patient_a(), hours_ago=3)
    open_flag(world, world.as_patient_b(), hours_ago=2)

    listed = inbox(world.as_clinician_x(), f"patient_id={world.patient_a.id}")

    assert [flag["id"] for flag in listed] == [alices]


def test_another_clinics_patient_id_finds_no_flags(world):
    open_flag(world, world.as_patient_a(), hours_ago=3)

    assert inbox(world.as_clinician_y(), f"patient_id={world.patient_a.id}") == []


def test_an_over_long_patient_id_is_a_422_naming_it(world):
    response = world.as_clinician_x().get(f"/api/v1/flags?patient_id={'x' * 200}")

    assert response.status_code == 422
    assert "patient_id" in response.json["errors"]["query"]


# ------------------------------------------------------- no patients before crisis numbers


@pytest.fixture
def new_clinic(app):
    """A clinic whose admin has not set its crisis resources yet."""
    with database(app):
        clinic = make_clinic("New Clinic", crisis_ready=False)
        admin = make_clinician(clinic, "admin.new@example.org", admin=True)
        return clinic.id, admin


def test_a_patient_cannot_be_added_before_the_crisis_resources_are_set(world, new_clinic):
    clinic_id, admin = new_clinic
    browser = world.browser(admin)

    response = browser.post(PANEL, json={"display_name": "First Patient"})

    assert response.status_code == 409
    assert "crisis resources" in response.json["message"]
    assert browser.get(f"{PANEL}?limit=100").json["items"] == []


def test_once_the_crisis_resources_are_set_the_patient_is_added(world, new_clinic):
    clinic_id, admin = new_clinic
    browser = world.browser(admin)
    response = browser.patch(
        "/api/v1/clinic",
        json={
            "crisis": {
                "emergency_number": "112",
                "crisis_line": {"name": "Telefonseelsorge", "phone": "0800 111 0 111"},
                "clinic_phone": "+49 30 555 0100",
                "clinic_hours": "Mon–Fri 9–17",
            }
        },
    )
    assert response.status_code == 200, response.json
    assert response.json["crisis_ready"] is True

    response = browser.post(PANEL, json={"display_name": "First Patient"})

    assert response.status_code == 201, response.json
    with database(world.app) as session:
        assert session.scalar(select(Clinic.crisis_line_phone).where(Clinic.id == clinic_id)) == (
            "0800 111 0 111"
        )
