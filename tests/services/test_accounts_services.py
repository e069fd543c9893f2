"""Accounts, tokens, clinicians, clinic settings, the audit log and readiness, called as
services inside a request context: what they return, what they refuse, what they record."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from server import create_app
from server.data.extensions import db
from server.data.models import ApiToken, AuditEvent, User
from server.domain.errors import Conflict, Invalid, NotSignedIn, TooManyAttempts, Unavailable
from server.services import accounts, audit, clinic, clinicians, enrollment, health, tokens
from tests.conftest import PASSWORD, TEST_CONFIG, make_clinic, make_clinician, make_patient

ADDRESS = "192.0.2.10"


@pytest.fixture
def request_context(app):
    """A request from ADDRESS with nobody signed in, as a view's service call would see it."""
    with app.test_request_context(environ_base={"REMOTE_ADDR": ADDRESS}):
        yield
        db.session.remove()


@pytest.fixture
def clinic_x(request_context):
    return make_clinic("Clinic X")


@pytest.fixture
def doctor(clinic_x) -> User:
    return make_clinician(clinic_x, "doc@example.org")


@pytest.fixture
def admin(clinic_x) -> User:
    return make_clinician(clinic_x, "admin@example.org", admin=True)


def _actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.at)))


def _events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


# ---------------------------------------------------------------- signing in


def test_sign_in_returns_the_user_and_audits_it(doctor):
    user = accounts.sign_in(" DOC@Example.org ", PASSWORD, ADDRESS)

    assert user.id == doctor.id
    [event] = _events("auth.login")
    assert (event.actor_id, event.clinic_id, event.ip) == (doctor.id, doctor.clinic_id, ADDRESS)


@pytest.mark.parametrize(
    ("email", "password"),
    [("doc@example.org", "not the password"), ("nobody@example.org", PASSWORD)],
)
def test_a_wrong_email_or_password_is_refused_alike_and_audited(doctor, email, password):
    with pytest.raises(NotSignedIn) as refused:
        accounts.sign_in(email, password, ADDRESS)

    assert refused.value.message == "The email or password is wrong."
    [event] = _events("auth.login_failed")
    assert event.actor_id is None
    assert event.detail == {"email": email}
    assert event.clinic_id == (doctor.clinic_id if email == doctor.email else None)


def test_a_deactivated_user_cannot_sign_in_even_with_the_right_password(doctor):
    doctor.active = False
    db.session.commit()

    with pytest.raises(NotSignedIn):
        accounts.sign_in(doctor.email, PASSWORD, ADDRESS)


def test_ten_failures_for_an_account_refuse_the_next_attempt_with_a_wait(doctor):
    for _ in range(10):
        with pytest.raises(NotSignedIn):
            accounts.sign_in(doctor.email, "not the password", ADDRESS)

    with pytest.raises(TooManyAttempts) as refused:
        accounts.sign_in(doctor.email, PASSWORD, ADDRESS)

    assert 0 < refused.value.retry_after <= 15 * 60
    assert refused.value.headers == {"Retry-After": str(refused.value.retry_after)}
    details = [event.detail for event in _events("auth.login_failed")]
    assert details.count({"email": doctor.email}) == 10
    assert details.count({"email": doctor.email, "reason": "rate_limited"}) == 1


def test_the_account_limit_does_not_reach_another_account(doctor, admin):
    for _ in range(10):
        with pytest.raises(NotSignedIn):
            accounts.sign_in(doctor.email, "not the password", ADDRESS)

    assert accounts.sign_in(admin.email, PASSWORD, ADDRESS).id == admin.id


def test_sign_out_is_audited_for_the_user(doctor):
    accounts.sign_out(doctor)

    [event] = _events("auth.logout")
    assert event.actor_id == doctor.id


# ---------------------------------------------------------------- enrollment


@pytest.fixture
def code(clinic_x, doctor) -> str:
    patient = make_patient(clinic_x, "Pat New", enrolled=False)
    issued = enrollment.issue_code(patient, doctor)
    db.session.commit()
    return issued.code


def test_a_bad_code_is_invalid_and_names_the_code_field(request_context):
    with pytest.raises(Invalid) as refused:
        enrollment.enroll("NOPE-NOPE-NOPE", "new@example.org", PASSWORD, address=ADDRESS)

    assert list(refused.value.fields) == ["code"]


def test_twenty_bad_codes_from_one_address_refuse_the_next_attempt(code):
    for _ in range(20):
        with pytest.raises(Invalid):
            enrollment.enroll("NOPE-NOPE-NOPE", "new@example.org", PASSWORD, address=ADDRESS)

    with pytest.raises(TooManyAttempts):
        enrollment.enroll(code, "new@example.org", PASSWORD, address=ADDRESS)
    user = enrollment.enroll(code, "new@example.org", PASSWORD, address="192.0.2.99")
    assert user.role == "patient"


def test_an_email_in_use_is_invalid_and_counts_toward_the_code_limit(code, doctor):
    for _ in range(20):
        with pytest.raises(Invalid) as refused:
            enrollment.enroll(code, doctor.email, PASSWORD, address=ADDRESS)
        assert list(refused.value.fields) == ["email"]

    with pytest.raises(TooManyAttempts):
        enrollment.enroll(code, "new@example.org", PASSWORD, "Pat", address=ADDRESS)

    assert _actions()[-1] == "patient.enroll_email_in_use"


# ---------------------------------------------------------------- tokens


def test_a_new_token_shows_its_secret_once_and_stores_only_its_hash(doctor):
    new = tokens.create(doctor, "script", 30)

    stored = db.session.get(ApiToken, new.id)
    assert new.token.startswith(accounts.TOKEN_PREFIX)
    assert stored.token_hash == accounts.sha256(new.token)
    assert new.token not in stored.token_hash
    assert stored.expires_at - datetime.now(UTC) > timedelta(days=29)
    [event] = _events("token.create")
    assert (event.actor_id, event.detail) == (
        doctor.id,
        {"token_id": new.id, "name": "script", "scope": "write"},
    )


def test_tokens_are_listed_newest_first_and_only_the_users_own(doctor, admin):
    first = tokens.create(doctor, "first", 1)
    second = tokens.create(doctor, "second", 1)
    tokens.create(admin, "not mine", 1)
    db.session.get(ApiToken, first.id).created_at -= timedelta(minutes=1)
    db.session.commit()

    listed = tokens.of_user(doctor, limit=100, cursor=None)

    assert [token.id for token in listed["items"]] == [second.id, first.id]
    assert listed["next_cursor"] is None


def test_revoking_a_token_twice_records_one_revocation(doctor):
    new = tokens.create(doctor, "script", 30)
    token = db.session.get(ApiToken, new.id)

    tokens.revoke(token)
    revoked_at = token.revoked_at
    tokens.revoke(token)

    assert token.revoked_at == revoked_at is not None
    assert len(_events("token.revoke")) == 1


# ---------------------------------------------------------------- clinicians


def test_an_admin_adds_a_clinician_to_their_own_clinic(admin):
    added = clinicians.add(admin, " New.Doc@Example.org", "Dr New", PASSWORD, is_admin=False)

    assert (added.email, added.clinic_id, added.role) == (
        "new.doc@example.org",
        admin.clinic_id,
        "clinician",
    )
    assert accounts.verify_password(added, PASSWORD)
    [event] = _events("clinician.create")
    assert event.detail == {"clinician_id": added.id, "email": "new.doc@example.org"}


def test_an_email_in_use_is_invalid_whatever_its_case(admin, doctor):
    with pytest.raises(Invalid) as refused:
        clinicians.add(admin, "DOC@example.org", "Dr Again", PASSWORD, is_admin=False)

    assert refused.value.fields == {"email": ["This email is already in use."]}
    assert _events("clinician.create") == []


def test_an_admin_cannot_deactivate_themself(admin):
    with pytest.raises(Conflict) as refused:
        clinicians.deactivate(admin, admin)

    assert refused.value.message == "You cannot deactivate yourself."
    assert admin.active is True


def test_deactivating_and_activating_are_recorded_in_that_order(admin, doctor):
    clinicians.deactivate(admin, doctor)
    assert doctor.active is False
    clinicians.activate(admin, doctor)

    assert doctor.active is True
    assert sorted(_actions()) == ["clinician.activate", "clinician.deactivate"]
    # In that order (two records may share a timestamp: PostgreSQL's clock is per transaction).
    [deactivated] = _events("clinician.deactivate")
    [activated] = _events("clinician.activate")
    assert deactivated.at <= activated.at


def test_the_clinic_lists_its_clinicians_oldest_first_and_not_its_patients(clinic_x, doctor):
    make_patient(clinic_x)
    other = make_clinician(make_clinic("Clinic Y"))
    later = make_clinician(clinic_x)
    later.created_at = doctor.created_at + timedelta(seconds=1)  # times have second precision
    db.session.commit()

    listed = clinicians.of_clinic(clinic_x.id, limit=100, cursor=None)

    assert [user.id for user in listed["items"]] == [doctor.id, later.id]
    assert other.id not in [user.id for user in listed["items"]]


# ---------------------------------------------------------------- clinic settings


def test_the_settings_are_the_users_own_clinic(doctor, clinic_x):
    make_clinic("Clinic Y")

    assert clinic.of(doctor).id == clinic_x.id


def test_changing_the_settings_records_the_change(admin):
    changed = clinic.update(admin, {"timezone": "Europe/Oslo"})

    assert changed.timezone == "Europe/Oslo"
    [event] = _events("clinic.update")
    assert (event.actor_id, event.detail) == (admin.id, {"timezone": "Europe/Oslo"})


def test_a_new_madrs_cut_off_is_stored(admin, clinic_x):
    make_patient(clinic_x)  # the panel is re-scored too: tests/test_panel.py shows it

    clinic.update(admin, {"madrs_remission_max": 10})

    db.session.expire_all()
    assert clinic.of(admin).madrs_remission_max == 10


# ---------------------------------------------------------------- the audit log


def test_the_audit_log_is_the_clinics_own_newest_first_and_filtered(clinic_x, admin, doctor):
    patient = make_patient(clinic_x)
    stranger = make_clinician(make_clinic("Clinic Y"))
    base = datetime(2026, 1, 1, tzinfo=UTC)
    for minutes, action, about, actor in [
        (1, "auth.login", None, doctor),
        (2, "entry.read", patient, doctor),
        (3, "auth.login", None, admin),
        (4, "auth.login", None, stranger),
    ]:
        audit.record(action, actor=actor, patient=about).at = base + timedelta(minutes=minutes)
    db.session.commit()

    def actions(**filters):
        found = audit.clinic_log(admin.clinic_id, 100, None, **filters)["items"]
        return [(event.action, event.actor_id) for event in found]

    assert actions() == [
        ("auth.login", admin.id),
        ("entry.read", doctor.id),
        ("auth.login", doctor.id),
    ]
    assert actions(action="auth.login") == [("auth.login", admin.id), ("auth.login", doctor.id)]
    assert actions(patient_id=patient.id) == [("entry.read", doctor.id)]
    assert actions(since=base + timedelta(minutes=2)) == [
        ("auth.login", admin.id),
        ("entry.read", doctor.id),
    ]
    assert actions(action="", patient_id="") == actions()


def test_the_audit_log_pages_with_a_cursor(admin):
    for _ in range(3):
        audit.record("auth.login", actor=admin)
    db.session.commit()

    first = audit.clinic_log(admin.clinic_id, 2, None)
    rest = audit.clinic_log(admin.clinic_id, 2, first["next_cursor"])

    assert len(first["items"]) == 2 and first["next_cursor"]
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None


# ---------------------------------------------------------------- readiness


def test_the_database_check_passes_when_the_database_answers(request_context):
    health.check_database()


def test_the_database_check_is_unavailable_when_the_database_does_not():
    broken = create_app(
        {**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none"}
    )
    with broken.app_context(), pytest.raises(Unavailable) as refused:
        health.check_database()

    assert refused.value.message == "The database is not answering."
