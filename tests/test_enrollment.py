"""Adding patients and enrolling them with single-use, expiring codes."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from server.data.models import EnrollmentCode
from tests.conftest import READY_CRISIS, Browser, database

PATIENTS = "/api/v1/patients"
ENROLL = "/api/v1/auth/enroll"
NEW_PASSWORD = "a brand new password"


def _parse(timestamp: str) -> datetime:
    assert timestamp.endswith("Z"), timestamp
    return datetime.fromisoformat(timestamp)


def _add_patient(browser: Browser, **fields) -> dict:
    response = browser.post(PATIENTS, json={"display_name": "New Patient", **fields})
    assert response.status_code == 201, response.json
    return response.json


def _enroll(app, code: str, email: str = "new@example.org", password: str = NEW_PASSWORD):
    browser = Browser(app)
    response = browser.post(ENROLL, json={"code": code, "email": email, "password": password})
    return browser, response


def _assert_names_field(response, field: str) -> None:
    assert response.status_code == 422, response.json
    assert field in response.json["errors"]["json"], response.json


# ---------------------------------------------------------------- adding a patient


def test_a_clinician_adds_a_patient_and_gets_an_enrollment_code(app, world):
    before = datetime.now(UTC).replace(microsecond=0)

    response = world.as_clinician_x().post(
        PATIENTS,
        json={"display_name": "Carol C", "external_id": "MRN-1", "timezone": "America/Chicago"},
    )

    assert response.status_code == 201
    patient = response.json["patient"]
    assert set(patient) == {
        "id",
        "display_name",
        "external_id",
        "timezone",
        "enrolled",
        "active",
        "created_at",
    }
    assert (patient["display_name"], patient["external_id"], patient["timezone"]) == (
        "Carol C",
        "MRN-1",
        "America/Chicago",
    )
    assert patient["enrolled"] is False
    assert before <= _parse(patient["created_at"]) <= datetime.now(UTC)
    enrollment = response.json["enrollment"]
    assert enrollment["code"]
    # In the fragment, which browsers never send: the code stays out of access logs.
    assert enrollment["url"].endswith(f"/#code={enrollment['code']}")
    assert "?" not in enrollment["url"]
    assert enrollment["purpose"] == "enroll"
    expected_expiry = before + timedelta(hours=72)
    assert abs(_parse(enrollment["expires_at"]) - expected_expiry) < timedelta(minutes=1)


def test_a_new_patients_time_zone_defaults_to_the_clinics(app, world):
    created = _add_patient(world.as_clinician_x())

    assert created["patient"]["timezone"] == "Europe/Berlin"
    assert created["patient"]["external_id"] is None


@pytest.mark.parametrize("timezone", ["Mars/Olympus_Mons", "", "+01:00", 5])
def test_an_invalid_time_zone_is_refused(app, world, timezone):
    response = world.as_clinician_x().post(
        PATIENTS, json={"display_name": "Tz Patient", "timezone": timezone}
    )

    _assert_names_field(response, "timezone")


def test_a_duplicate_external_id_in_the_same_clinic_is_refused(app, world):
    clinician = world.as_clinician_x()
    _add_patient(clinician, external_id="MRN-7")

    response = clinician.post(PATIENTS, json={"display_name": "Second", "external_id": "MRN-7"})

    _assert_names_field(response, "external_id")


def test_the_same_external_id_in_another_clinic_is_allowed(app, world):
    _add_patient(world.as_clinician_x(), external_id="MRN-7")

    response = world.as_clinician_y().post(
        PATIENTS, json={"display_name": "Elsewhere", "external_id": "MRN-7"}
    )

    assert response.status_code == 201
    assert response.json["patient"]["external_id"] == "MRN-7"


def test_a_patient_cannot_add_patients(app, world):
    response = world.as_patient_a().post(PATIENTS, json={"display_name": "Sneaky"})

    assert response.status_code == 403


# ---------------------------------------------------------------- enrolling


def test_enrolling_creates_a_signed_in_patient_account(app, world):
    created = _add_patient(world.as_clinician_x())
    pid = created["patient"]["id"]

    browser, response = _enroll(app, created["enrollment"]["code"])

    assert response.status_code == 201
    user = response.json["user"]
    assert (user["role"], user["patient_id"], user["email"], user["is_admin"]) == (
        "patient",
        pid,
        "new@example.org",
        False,
    )
    assert user["clinic"]["id"] == world.clinic_x.id
    assert user["clinic"]["name"] == "Clinic X"
    assert user["clinic"]["crisis"] == READY_CRISIS  # the numbers to dial, offline too
    assert response.json["csrf_token"]
    assert browser.get("/api/v1/auth/me").json["user"]["id"] == user["id"]
    own = browser.get(f"{PATIENTS}/me")
    assert own.status_code == 200
    assert own.json["patient"]["id"] == pid


def test_an_enrolled_patient_can_later_sign_in_with_their_password(app, world):
    created = _add_patient(world.as_clinician_x())
    _enroll(app, created["enrollment"]["code"])

    response = Browser(app).login("new@example.org", NEW_PASSWORD)

    assert response.status_code == 200
    assert response.json["user"]["patient_id"] == created["patient"]["id"]


def test_the_patient_shows_as_enrolled_afterwards(app, world):
    clinician = world.as_clinician_x()
    created = _add_patient(clinician)
    pid = created["patient"]["id"]
    assert clinician.get(f"{PATIENTS}/{pid}").json["patient"]["enrolled"] is False

    _enroll(app, created["enrollment"]["code"])

    assert clinician.get(f"{PATIENTS}/{pid}").json["patient"]["enrolled"] is True


def test_a_code_can_be_used_only_once(app, world):
    code = _add_patient(world.as_clinician_x())["enrollment"]["code"]
    assert _enroll(app, code)[1].status_code == 201

    _, second = _enroll(app, code, email="other@example.org")

    _assert_names_field(second, "code")


def test_an_expired_code_is_refused(app, world):
    created = _add_patient(world.as_clinician_x())
    with database(app) as session:
        session.execute(
            update(EnrollmentCode)
            .where(EnrollmentCode.patient_id == created["patient"]["id"])
            .values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
        )
        session.commit()

    _, response = _enroll(app, created["enrollment"]["code"])

    _assert_names_field(response, "code")


def test_an_unknown_code_is_refused(app, world):
    _, response = _enroll(app, "ABCD-EFGH-JKMN")

    _assert_names_field(response, "code")


def test_a_reissued_code_voids_the_old_one(app, world):
    clinician = world.as_clinician_x()
    created = _add_patient(clinician)
    pid = created["patient"]["id"]

    reissued = clinician.post(f"{PATIENTS}/{pid}/enrollment")

    assert reissued.status_code == 201
    assert set(reissued.json) == {"code", "url", "expires_at", "qr_svg", "purpose"}
    assert reissued.json["purpose"] == "enroll"
    assert reissued.json["qr_svg"].startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    assert reissued.json["code"] != created["enrollment"]["code"]
    _, old = _enroll(app, created["enrollment"]["code"])
    _assert_names_field(old, "code")
    _, new = _enroll(app, reissued.json["code"])
    assert new.status_code == 201
    assert new.json["user"]["patient_id"] == pid


def test_an_enrolled_patient_gets_a_reset_code_instead_of_an_enrollment_code(app, world):
    response = world.as_clinician_x().post(f"{PATIENTS}/{world.patient_a.id}/enrollment")

    assert response.status_code == 201
    assert response.json["purpose"] == "reset"
    assert response.json["url"].endswith(f"/#reset={response.json['code']}")
    _, enrolled = _enroll(app, response.json["code"])  # not a code to enroll with
    _assert_names_field(enrolled, "code")


def test_after_enrolling_through_the_api_a_new_code_is_a_reset_code(app, world):
    clinician = world.as_clinician_x()
    created = _add_patient(clinician)
    _enroll(app, created["enrollment"]["code"])

    response = clinician.post(f"{PATIENTS}/{created['patient']['id']}/enrollment")

    assert response.status_code == 201
    assert response.json["purpose"] == "reset"


def test_a_clinician_of_another_clinic_cannot_reissue_a_code(app, world):
    created = _add_patient(world.as_clinician_x())

    response = world.as_clinician_y().post(f"{PATIENTS}/{created['patient']['id']}/enrollment")

    assert response.status_code == 404
    assert _enroll(app, created["enrollment"]["code"])[1].status_code == 201


def test_a_short_password_is_refused_and_the_code_still_works(app, world):
    code = _add_patient(world.as_clinician_x())["enrollment"]["code"]

    _, short = _enroll(app, code, password="nine char")

    _assert_names_field(short, "password")
    _, retry = _enroll(app, code, password="ten chars!")
    assert retry.status_code == 201


@pytest.mark.parametrize("email", ["alice@example.org", "ALICE@Example.org"])
def test_an_email_in_use_is_refused_and_the_code_is_not_used_up(app, world, email):
    code = _add_patient(world.as_clinician_x())["enrollment"]["code"]

    _, taken = _enroll(app, code, email=email)

    _assert_names_field(taken, "email")
    _, retry = _enroll(app, code, email="fresh@example.org")
    assert retry.status_code == 201


def test_the_code_is_accepted_lowercase_and_without_dashes(app, world):
    code = _add_patient(world.as_clinician_x())["enrollment"]["code"]

    _, response = _enroll(app, code.replace("-", "").lower())

    assert response.status_code == 201


def test_the_twenty_first_bad_code_from_one_address_is_refused_with_retry_after(app, world):
    browser = Browser(app)
    for index in range(20):
        response = browser.post(
            ENROLL,
            json={"code": f"BAD-{index:04d}", "email": "x@example.org", "password": NEW_PASSWORD},
        )
        assert response.status_code == 422, index

    response = browser.post(
        ENROLL, json={"code": "BAD-9999", "email": "x@example.org", "password": NEW_PASSWORD}
    )

    assert response.status_code == 429
    assert response.json["code"] == 429
    retry_after = response.headers.get("Retry-After")
    assert retry_after is not None and retry_after.isdigit(), retry_after
    assert 0 < int(retry_after) <= 15 * 60


def test_refusals_that_are_not_bad_codes_do_not_count_toward_the_code_limit(app, world):
    code = _add_patient(world.as_clinician_x())["enrollment"]["code"]
    for _ in range(21):
        _, response = _enroll(app, code, password="too short")
        assert response.status_code == 422

    _, response = _enroll(app, code)

    assert response.status_code == 201


@pytest.mark.parametrize("email", ["alice@example.org", "doc.y@example.org"])
def test_an_email_in_use_here_or_elsewhere_gets_the_same_answer(app, world, email):
    code = _add_patient(world.as_clinician_x())["enrollment"]["code"]

    _, response = _enroll(app, code, email=email)

    assert response.status_code == 422
    assert response.json["errors"] == {"json": {"email": ["This email is already in use."]}}
    assert "Clinic" not in response.get_data(as_text=True)


def test_one_valid_code_cannot_test_email_addresses_without_limit(app, world):
    code = _add_patient(world.as_clinician_x())["enrollment"]["code"]
    for index in range(20):
        _, response = _enroll(
            app, code, email=["alice@example.org", "doc.y@example.org"][index % 2]
        )
        assert response.status_code == 422, index

    _, response = _enroll(app, code, email="bob@example.org")

    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0


def test_an_email_in_use_attempt_is_audited_for_the_codes_clinic(app, world):
    added = _add_patient(world.as_clinician_x())
    code = added["enrollment"]["code"]

    _enroll(app, code, email="doc.y@example.org")

    records = (
        world.as_admin_x()
        .get("/api/v1/audit", query_string={"action": "patient.enroll_email_in_use"})
        .json["items"]
    )
    assert len(records) == 1
    assert records[0]["patient_id"] == added["patient"]["id"]
    assert records[0]["actor"] is None
    assert "doc.y@example.org" not in str(records[0])
