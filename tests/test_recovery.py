"""Recovery without email: a clinician issues a reset code for an enrolled patient, an admin
for a clinician; the code sets a new password once, signs in and ends every other session."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from server.data.models import AuditEvent, EnrollmentCode
from tests.conftest import Browser, TokenClient, database

pytestmark = pytest.mark.usefixtures("each_session_store")

PATIENTS = "/api/v1/patients"
CLINICIANS = "/api/v1/clinicians"
RESET = "/api/v1/auth/reset"
ME = "/api/v1/auth/me"
NEW_PASSWORD = "a password I will keep"


def patient_reset_code(world) -> dict:
    response = world.as_clinician_x().post(f"{PATIENTS}/{world.patient_a.id}/enrollment")
    assert response.status_code == 201, response.json
    return response.json


def clinician_reset_code(world) -> dict:
    response = world.as_admin_x().post(f"{CLINICIANS}/{world.clinician_x.id}/reset")
    assert response.status_code == 201, response.json
    return response.json


def reset(app, code: str, password: str = NEW_PASSWORD):
    browser = Browser(app)
    response = browser.post(RESET, json={"code": code, "new_password": password})
    if response.status_code == 200:
        browser.csrf_token = response.json["csrf_token"]
    return browser, response


def actions(app) -> list[str]:
    with database(app) as session:
        return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.at)))


# ---------------------------------------------------------------- patients


def test_a_patient_with_a_reset_code_sets_a_new_password_and_is_signed_in(app, world):
    issued = patient_reset_code(world)
    assert set(issued) == {"code", "url", "expires_at", "purpose", "qr_svg"}
    assert issued["purpose"] == "reset"

    browser, response = reset(app, issued["code"])

    assert response.status_code == 200, response.json
    assert set(response.json) == {"user", "csrf_token"}
    assert response.json["user"]["patient_id"] == world.patient_a.id
    assert browser.get("/api/v1/patients/me/entries").status_code == 200
    assert Browser(app).login("alice@example.org").status_code == 401
    assert Browser(app).login("alice@example.org", NEW_PASSWORD).status_code == 200


def test_a_reset_ends_every_other_session_of_the_patient(app, world):
    old_phone = world.as_patient_a()
    other_patient = world.as_patient_b()

    reset(app, patient_reset_code(world)["code"])

    assert old_phone.get(ME).status_code == 401
    assert other_patient.get(ME).status_code == 200


def test_a_reset_code_works_once(app, world):
    code = patient_reset_code(world)["code"]
    reset(app, code)

    _, replay = reset(app, code, "yet another password")

    assert replay.status_code == 422
    assert "code" in replay.json["errors"]["json"]
    assert Browser(app).login("alice@example.org", NEW_PASSWORD).status_code == 200


def test_a_reset_code_expires_like_an_enrollment_code(app, world):
    issued = patient_reset_code(world)
    expires_at = datetime.fromisoformat(issued["expires_at"])
    assert abs(expires_at - (datetime.now(UTC) + timedelta(hours=72))) < timedelta(minutes=1)
    with database(app) as session:
        session.execute(
            update(EnrollmentCode).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        session.commit()

    _, response = reset(app, issued["code"])

    assert response.status_code == 422
    assert Browser(app).login("alice@example.org").status_code == 200


def test_a_new_reset_code_voids_the_previous_one(app, world):
    first = patient_reset_code(world)["code"]
    second = patient_reset_code(world)["code"]

    assert reset(app, first)[1].status_code == 422
    assert reset(app, second)[1].status_code == 200


def test_an_enrollment_code_is_not_a_reset_code(app, world):
    created = world.as_clinician_x().post(PATIENTS, json={"display_name": "New Patient"})

    _, response = reset(app, created.json["enrollment"]["code"])

    assert response.status_code == 422


def test_the_link_carries_the_code_in_its_fragment_never_its_query(app, world):
    issued = patient_reset_code(world)

    assert issued["url"].endswith(f"/#reset={issued['code']}")
    assert "?" not in issued["url"]


def test_a_short_new_password_is_refused_and_the_code_still_works(app, world):
    code = patient_reset_code(world)["code"]

    _, short = reset(app, code, "too short")

    assert short.status_code == 422
    assert "new_password" in short.json["errors"]["json"]
    assert reset(app, code)[1].status_code == 200


def test_bad_reset_codes_are_limited_per_client_address(app, world):
    for _ in range(20):
        assert reset(app, "ABCD-EFGH-JKMN")[1].status_code == 422

    _, refused = reset(app, patient_reset_code(world)["code"])

    assert refused.status_code == 429
    assert refused.headers["Retry-After"].isdigit()


def test_issuing_and_using_a_reset_code_is_audited(app, world):
    code = patient_reset_code(world)["code"]
    reset(app, "ABCD-EFGH-JKMN")
    reset(app, code)

    with database(app) as session:
        used = session.scalar(select(AuditEvent).where(AuditEvent.action == "auth.reset"))
        issued = session.scalar(
            select(AuditEvent).where(AuditEvent.action == "patient.reset_issued")
        )
    assert issued.actor_id == world.clinician_x.id
    assert issued.patient_id == world.patient_a.id
    assert used.patient_id == world.patient_a.id
    assert used.detail["issued_by"] == world.clinician_x.id
    assert "auth.reset_failed" in actions(app)


def test_a_clinician_of_another_clinic_cannot_issue_a_reset_code(app, world):
    response = world.as_clinician_y().post(f"{PATIENTS}/{world.patient_a.id}/enrollment")

    assert response.status_code == 404


# ---------------------------------------------------------------- clinicians


def test_an_admin_issues_a_reset_code_with_which_a_clinician_signs_in(app, world):
    old_session = world.as_clinician_x()
    issued = clinician_reset_code(world)
    assert issued["purpose"] == "reset"
    assert issued["url"].endswith(f"/#reset={issued['code']}")

    browser, response = reset(app, issued["code"])

    assert response.status_code == 200
    assert response.json["user"]["id"] == world.clinician_x.id
    assert browser.get("/api/v1/patients").status_code == 200
    assert old_session.get(ME).status_code == 401
    assert Browser(app).login("doc.x@example.org", NEW_PASSWORD).status_code == 200
    assert "clinician.reset_issued" in actions(app)


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("anonymous", 401),
        ("patient", 403),
        ("non-admin clinician", 403),
        ("admin of another clinic", 404),
        ("admin's bearer token", 403),
    ],
)
def test_only_an_admin_of_the_clinic_signed_in_may_issue_a_clinicians_reset_code(
    app, world, who, expected
):
    from tests.conftest import make_clinician

    if who == "admin of another clinic":
        with database(app):
            other_admin = make_clinician(world.clinic_y, "admin.y@example.org", admin=True)
    client = {
        "anonymous": lambda: Browser(app),
        "patient": world.as_patient_a,
        "non-admin clinician": world.as_clinician_x,
        "admin of another clinic": lambda: world.browser(other_admin),
        "admin's bearer token": lambda: TokenClient(app, world.token_for(world.admin_x)),
    }[who]()

    response = client.post(f"{CLINICIANS}/{world.clinician_x.id}/reset")

    assert response.status_code == expected, response.json
    with database(app) as session:
        assert session.scalars(select(EnrollmentCode)).all() == []


def test_a_deactivated_clinician_gets_no_reset_code(app, world):
    admin = world.as_admin_x()
    admin.post(f"{CLINICIANS}/{world.clinician_x.id}/deactivate")

    response = admin.post(f"{CLINICIANS}/{world.clinician_x.id}/reset")

    assert response.status_code == 409


def test_a_reset_code_issued_before_deactivation_no_longer_works(app, world):
    code = clinician_reset_code(world)["code"]
    world.as_admin_x().post(f"{CLINICIANS}/{world.clinician_x.id}/deactivate")

    _, response = reset(app, code)

    assert response.status_code == 422
    assert Browser(app).login("doc.x@example.org", NEW_PASSWORD).status_code == 401
