"""Clinic settings: the crisis resources a patient dials, the hours before a flag is overdue,
and who may read and change them."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from server.data.models import AuditEvent, Clinic
from tests.conftest import (
    READY_CRISIS,
    Browser,
    database,
    make_clinic,
    make_clinician,
    make_patient,
)

CLINIC = "/api/v1/clinic"
ME = "/api/v1/auth/me"

FULL_CRISIS = {
    "emergency_number": "911",
    "crisis_line": {"name": "988 Suicide & Crisis Lifeline", "phone": "988", "sms": "988"},
    "clinic_phone": "+1 555 0100",
    "clinic_hours": "Mon–Fri 9–17",
    "message": "Your care team reads check-ins on working days.",
}
UNSET = {
    "emergency_number": None,
    "crisis_line": None,
    "clinic_phone": None,
    "clinic_hours": None,
    "message": None,
}


def crisis_of_me(browser) -> dict:
    response = browser.get(ME)
    assert response.status_code == 200, response.json
    return response.json["user"]["clinic"]["crisis"]


def patch_crisis(world, crisis):
    return world.as_admin_x().patch(CLINIC, json={"crisis": crisis})


def audit_events(app, action: str) -> list[AuditEvent]:
    with database(app) as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


# ---------------------------------------------------------------- reading


def test_a_clinician_reads_every_setting_of_their_clinic(app, world):
    response = world.as_clinician_x().get(CLINIC)

    assert response.status_code == 200
    assert response.json == {
        "id": world.clinic_x.id,
        "name": "Clinic X",
        "timezone": "Europe/Berlin",
        "madrs_remission_max": 12,
        "flag_overdue_hours": 24,
        "crisis": READY_CRISIS,
        "crisis_ready": True,
        "require_passkey_for_clinicians": False,
        "blood_pressure_thresholds": {
            "before_dosing": {"systolic": 140, "diastolic": 90},
            "any_time": {"systolic": 180, "diastolic": 110},
        },
    }


def test_a_patient_reads_only_the_clinics_name_and_crisis_resources(app, world):
    response = world.as_patient_a().get(CLINIC)

    assert response.status_code == 200
    assert response.json == {"id": world.clinic_x.id, "name": "Clinic X", "crisis": READY_CRISIS}


def test_nobody_signed_out_reads_the_clinic(app, world):
    assert Browser(app).get(CLINIC).status_code == 401


def test_an_unset_clinic_shows_every_crisis_key_as_null_and_is_not_ready(app):
    with database(app):
        clinic = make_clinic("Clinic New", crisis_ready=False)
        admin = make_clinician(clinic, "new.admin@example.org", admin=True)
    browser = Browser(app)
    assert browser.login(admin.email).status_code == 200

    response = browser.get(CLINIC)

    assert response.json["crisis"] == UNSET
    assert response.json["crisis_ready"] is False
    assert crisis_of_me(browser) == UNSET


def test_the_old_free_text_fields_are_gone(app, world):
    for body in (world.as_clinician_x().get(CLINIC).json, world.as_patient_a().get(ME).json):
        assert "crisis_text" not in str(body)
        assert "crisis_resources" not in str(body)
    response = world.as_admin_x().patch(CLINIC, json={"crisis_text": "Call us."})
    assert response.status_code == 422
    assert "crisis_text" in response.json["errors"]["json"]


# ---------------------------------------------------------------- changing


def test_the_admins_crisis_resources_reach_every_patients_signed_in_user(app, world):
    patient = world.as_patient_a()  # signed in before the change

    response = patch_crisis(world, FULL_CRISIS)

    assert response.status_code == 200
    assert response.json["crisis"] == FULL_CRISIS
    assert response.json["crisis_ready"] is True
    assert crisis_of_me(patient) == FULL_CRISIS
    assert crisis_of_me(world.as_patient_b()) == FULL_CRISIS
    assert world.as_patient_a().get(CLINIC).json["crisis"] == FULL_CRISIS


def test_a_patch_replaces_the_crisis_resources_whole(app, world):
    assert patch_crisis(world, FULL_CRISIS).status_code == 200

    response = patch_crisis(
        world, {"crisis_line": {"name": "Samaritans", "phone": "116 123"}, "clinic_phone": "0100"}
    )

    assert response.status_code == 200
    assert response.json["crisis"] == {
        **UNSET,
        "crisis_line": {"name": "Samaritans", "phone": "116 123", "sms": None},
        "clinic_phone": "0100",
    }


@pytest.mark.parametrize(
    "crisis",
    [
        {"crisis_line": {"name": "Line", "phone": "988"}},  # no clinic phone
        {"clinic_phone": "0100"},  # no crisis line
        {"emergency_number": "112", "clinic_hours": "Always", "message": "Hello"},
        {},
    ],
)
def test_without_a_crisis_line_and_a_clinic_phone_the_clinic_is_not_ready(app, world, crisis):
    response = patch_crisis(world, crisis)

    assert response.status_code == 200
    assert response.json["crisis_ready"] is False


def test_surrounding_spaces_are_trimmed(app, world):
    response = patch_crisis(
        world,
        {"crisis_line": {"name": " Line ", "phone": " 988 "}, "clinic_phone": "  (030) 123-45 "},
    )

    assert response.status_code == 200
    assert response.json["crisis"]["crisis_line"] == {"name": "Line", "phone": "988", "sms": None}
    assert response.json["crisis"]["clinic_phone"] == "(030) 123-45"


@pytest.mark.parametrize("number", ["988", "112", "+1 555 0100", "(030) 123-456", "9" * 32])
def test_a_phone_number_may_be_digits_spaces_and_plus_dash_brackets(app, world, number):
    response = patch_crisis(
        world,
        {"emergency_number": number, "crisis_line": {"name": "L", "phone": number, "sms": number}},
    )

    assert response.status_code == 200, response.json


@pytest.mark.parametrize(
    "number",
    ["9", "", "   ", "9" * 33, "call 988", "988#", "+ (5)", "--", "tel:988", "٩٨٨", 988],
)
@pytest.mark.parametrize(
    ("where", "errors_at"),
    [
        (lambda n: {"emergency_number": n}, lambda e: e["emergency_number"]),
        (lambda n: {"clinic_phone": n}, lambda e: e["clinic_phone"]),
        (lambda n: {"crisis_line": {"name": "L", "phone": n}}, lambda e: e["crisis_line"]["phone"]),
        (
            lambda n: {"crisis_line": {"name": "L", "phone": "988", "sms": n}},
            lambda e: e["crisis_line"]["sms"],
        ),
    ],
)
def test_a_bad_phone_number_is_a_422_naming_the_nested_field(app, world, number, where, errors_at):
    body = where(number)
    before = world.as_clinician_x().get(CLINIC).json

    response = patch_crisis(world, body)

    assert response.status_code == 422, response.json
    assert errors_at(response.json["errors"]["json"]["crisis"])
    assert world.as_clinician_x().get(CLINIC).json == before


@pytest.mark.parametrize(
    ("crisis", "field"),
    [
        ({"crisis_line": {"phone": "988"}}, ("crisis_line", "name")),
        ({"crisis_line": {"name": "Line"}}, ("crisis_line", "phone")),
        ({"crisis_line": {"name": "Line", "phone": None}}, ("crisis_line", "phone")),
        ({"crisis_line": {"name": "", "phone": "988"}}, ("crisis_line", "name")),
        ({"crisis_line": {"name": "x" * 101, "phone": "988"}}, ("crisis_line", "name")),
        ({"crisis_line": {"name": "L", "phone": "988", "web": "x"}}, ("crisis_line", "web")),
        ({"crisis_line": "988"}, ("crisis_line", "_schema")),
        ({"clinic_hours": ""}, ("clinic_hours",)),
        ({"clinic_hours": "x" * 201}, ("clinic_hours",)),
        ({"message": "x" * 2001}, ("message",)),
        ({"message": " "}, ("message",)),
        ({"website": "https://example.org"}, ("website",)),
    ],
)
def test_a_bad_crisis_field_is_a_422_naming_it(app, world, crisis, field):
    response = patch_crisis(world, crisis)

    assert response.status_code == 422, response.json
    errors = response.json["errors"]["json"]["crisis"]
    for name in field:
        errors = errors[name]
    assert errors


def test_crisis_may_not_be_null_or_a_string(app, world):
    for value in (None, "Call 988"):
        response = patch_crisis(world, value)
        assert response.status_code == 422
        assert "crisis" in response.json["errors"]["json"]


@pytest.mark.parametrize("length", [100, 2000])
def test_the_longest_name_and_message_are_kept(app, world, length):
    crisis = {
        "crisis_line": {"name": "n" * min(length, 100), "phone": "988"},
        "message": "m" * length,
    }

    response = patch_crisis(world, crisis)

    assert response.status_code == 200
    assert response.json["crisis"]["message"] == "m" * length


@pytest.mark.parametrize(("hours", "expected"), [(1, 200), (168, 200), (0, 422), (169, 422)])
def test_the_hours_before_a_flag_is_overdue_are_1_to_168(app, world, hours, expected):
    response = world.as_admin_x().patch(CLINIC, json={"flag_overdue_hours": hours})

    assert response.status_code == expected
    shown = world.as_clinician_x().get(CLINIC).json["flag_overdue_hours"]
    assert shown == (hours if expected == 200 else 24)


@pytest.mark.parametrize("hours", [True, 24.0, "24", None])
def test_the_overdue_hours_are_a_whole_number(app, world, hours):
    response = world.as_admin_x().patch(CLINIC, json={"flag_overdue_hours": hours})

    assert response.status_code == 422
    assert "flag_overdue_hours" in response.json["errors"]["json"]


def test_the_admin_renames_the_clinic_but_not_to_another_clinics_name(app, world):
    admin = world.as_admin_x()

    renamed = admin.patch(CLINIC, json={"name": " Clinic X North "})
    taken = admin.patch(CLINIC, json={"name": "Clinic Y"})

    assert renamed.status_code == 200
    assert renamed.json["name"] == "Clinic X North"
    assert taken.status_code == 422
    assert "name" in taken.json["errors"]["json"]
    assert admin.get(CLINIC).json["name"] == "Clinic X North"


@pytest.mark.parametrize(
    "who", ["as_clinician_x", "as_patient_a", "as_clinician_y"], ids=lambda w: w[3:]
)
def test_only_the_clinics_admin_changes_its_crisis_resources(app, world, who):
    before = crisis_of_me(world.as_patient_a())

    response = getattr(world, who)().patch(CLINIC, json={"crisis": FULL_CRISIS})

    assert response.status_code == 403
    assert crisis_of_me(world.as_patient_a()) == before


def test_clinic_xs_crisis_resources_do_not_reach_clinic_ys_patients(app, world):
    with database(app):
        make_patient(world.clinic_y, "Yusuf Y", email="yusuf@example.org")
    patient_of_y = Browser(app)
    assert patient_of_y.login("yusuf@example.org").status_code == 200

    assert patch_crisis(world, FULL_CRISIS).status_code == 200

    assert crisis_of_me(patient_of_y) == READY_CRISIS
    assert world.as_clinician_y().get(CLINIC).json["crisis"] == READY_CRISIS


def test_a_settings_change_is_audited_with_what_changed(app, world):
    assert patch_crisis(world, FULL_CRISIS).status_code == 200
    assert world.as_admin_x().patch(CLINIC, json={"flag_overdue_hours": 12}).status_code == 200

    events = audit_events(app, "clinic.update")

    assert sorted((event.detail for event in events), key=str) == [
        {"crisis": FULL_CRISIS},
        {"flag_overdue_hours": 12},
    ]
    assert {(event.actor_id, event.clinic_id) for event in events} == {
        (world.admin_x.id, world.clinic_x.id)
    }


def test_a_refused_change_is_not_audited(app, world):
    assert patch_crisis(world, {"clinic_phone": "x"}).status_code == 422

    assert audit_events(app, "clinic.update") == []


def test_the_stored_columns_hold_the_crisis_resources(app, world):
    assert patch_crisis(world, FULL_CRISIS).status_code == 200

    with database(app) as session:
        clinic = session.get(Clinic, world.clinic_x.id)
        assert (clinic.crisis_line_phone, clinic.crisis_line_sms, clinic.crisis_clinic_phone) == (
            "988",
            "988",
            "+1 555 0100",
        )
