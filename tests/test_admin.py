"""Clinic administration: the audit log and the clinic's clinicians (settings and crisis
resources: test_crisis_resources.py)."""

import re
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from server.data.models import AuditEvent, User
from tests.conftest import PASSWORD, Browser, TokenClient, database

AUDIT = "/api/v1/audit"
CLINICIANS = "/api/v1/clinicians"
ME = "/api/v1/auth/me"
NEW_PASSWORD = "a first password to pass on"
UTC_SECONDS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")

# Who asks, for the access tests: each builds a signed-in (or anonymous) client.
ANONYMOUS = {"anonymous": lambda world: Browser(world.app)}
PATIENT = {"a patient": lambda world: world.as_patient_a()}
NON_ADMIN = {"a non-admin clinician": lambda world: world.as_clinician_x()}
CLINICIAN_Y = {"a clinician of clinic Y": lambda world: world.as_clinician_y()}


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _add_audit_record(app, clinic_id: str, at: datetime, action: str = "test.event") -> str:
    """An audit record written straight to the database at a chosen time; its id."""
    with database(app) as session:
        event = AuditEvent(clinic_id=clinic_id, at=at, action=action, detail={})
        session.add(event)
        session.commit()
        return event.id


def _audit_ids_of_clinic(app, clinic_id: str) -> set[str]:
    with database(app) as session:
        return set(session.scalars(select(AuditEvent.id).where(AuditEvent.clinic_id == clinic_id)))


def _audit_snapshot(app) -> list[tuple]:
    with database(app) as session:
        return [tuple(row) for row in session.execute(select(AuditEvent.__table__)).all()]


def _user_count(app) -> int:
    with database(app) as session:
        return session.scalar(select(func.count()).select_from(User))


def _read_log(client, **query) -> list[dict]:
    response = client.get(AUDIT, query_string={"limit": 1000, **query})
    assert response.status_code == 200, response.json
    assert response.json["next_cursor"] is None
    return response.json["items"]


def _new_clinician(**overrides) -> dict:
    body = {
        "email": f"new-{uuid.uuid4().hex[:8]}@example.org",
        "display_name": "Dr New",
        "password": NEW_PASSWORD,
    }
    body.update(overrides)
    return body


def _add_clinician(world, **overrides) -> dict:
    response = world.as_admin_x().post(CLINICIANS, json=_new_clinician(**overrides))
    assert response.status_code == 201, response.json
    return response.json


def _deactivate(world, clinician_id: str):
    return world.as_admin_x().post(f"{CLINICIANS}/{clinician_id}/deactivate")


def _activate(world, clinician_id: str):
    return world.as_admin_x().post(f"{CLINICIANS}/{clinician_id}/activate")


# ---------------------------------------------------------------- the audit log


def test_the_audit_log_answers_the_list_envelope_with_records_in_the_contracts_shape(app, world):
    response = world.as_admin_x().get(AUDIT)

    assert response.status_code == 200
    assert set(response.json) == {"items", "next_cursor"}
    [sign_in] = [item for item in response.json["items"] if item["action"] == "auth.login"]
    assert set(sign_in) == {
        "id",
        "at",
        "actor",
        "action",
        "patient_id",
        "patient_name",
        "ip",
        "detail",
    }
    assert sign_in["actor"] == {
        "id": world.admin_x.id,
        "role": "clinician",
        "display_name": world.admin_x.display_name,
    }
    assert UTC_SECONDS.match(sign_in["at"])
    assert sign_in["patient_id"] is None
    assert sign_in["ip"] == "127.0.0.1"
    assert isinstance(sign_in["detail"], dict)


def test_a_failed_sign_in_to_a_clinic_account_shows_in_the_log_without_an_actor(app, world):
    failed = Browser(app).login("doc.x@example.org", "not " + PASSWORD)
    assert failed.status_code == 401

    [record] = _read_log(world.as_admin_x(), action="auth.login_failed")

    assert record["actor"] is None
    assert record["detail"]["email"] == "doc.x@example.org"


def test_a_clinicians_read_of_a_patient_shows_in_the_log_with_that_patient(app, world):
    pid = world.patient_a.id
    assert world.as_clinician_x().get(f"/api/v1/patients/{pid}").status_code == 200

    records = _read_log(world.as_admin_x(), patient_id=pid)

    assert records
    assert {record["actor"]["id"] for record in records} == {world.clinician_x.id}
    assert {record["patient_name"] for record in records} == {"Alice A"}
    assert {record["actor"]["display_name"] for record in records} == {
        world.clinician_x.display_name
    }


def test_the_audit_log_names_a_patient_who_acted_and_nobody_for_a_record_without_one(app, world):
    assert world.as_patient_a().get("/api/v1/patients/me/entries").status_code == 200
    _add_audit_record(app, world.clinic_x.id, _now())  # no actor, no patient

    records = _read_log(world.as_admin_x())

    logins = [r for r in records if r["action"] == "auth.login"]
    [login] = [r for r in logins if r["actor"]["role"] == "patient"]
    assert login["actor"]["display_name"] == "Alice A"
    [bare] = [r for r in records if r["action"] == "test.event"]
    assert (bare["actor"], bare["patient_name"]) == (None, None)


def test_the_audit_log_is_newest_first(app, world):
    now = _now()
    oldest = _add_audit_record(app, world.clinic_x.id, now - timedelta(hours=3))
    middle = _add_audit_record(app, world.clinic_x.id, now - timedelta(hours=2))
    newest = _add_audit_record(app, world.clinic_x.id, now - timedelta(hours=1))

    records = _read_log(world.as_admin_x())

    times = [record["at"] for record in records]
    assert times == sorted(times, reverse=True)
    assert records[0]["action"] == "auth.login"  # the admin's own sign-in, just now
    inserted = [record["id"] for record in records if record["id"] in {oldest, middle, newest}]
    assert inserted == [newest, middle, oldest]


def test_an_admin_sees_exactly_their_own_clinics_records_and_none_of_clinic_y(app, world):
    clinic_y = world.as_clinician_y()
    created = clinic_y.post("/api/v1/patients", json={"display_name": "Yara Y"})
    assert created.status_code == 201
    assert clinic_y.get(f"/api/v1/patients/{created.json['patient']['id']}").status_code == 200
    assert Browser(app).login("doc.y@example.org", "not " + PASSWORD).status_code == 401
    admin = world.as_admin_x()
    records_of_y = _audit_ids_of_clinic(app, world.clinic_y.id)
    assert len(records_of_y) >= 3

    records = _read_log(admin)

    seen = {record["id"] for record in records}
    assert seen.isdisjoint(records_of_y)
    assert seen == _audit_ids_of_clinic(app, world.clinic_x.id)
    assert world.clinician_y.id not in {(record["actor"] or {}).get("id") for record in records}
    assert "doc.y@example.org" not in admin.get(AUDIT, query_string={"limit": 1000}).text


def test_filtering_by_a_patient_of_clinic_y_shows_nothing(app, world):
    clinic_y = world.as_clinician_y()
    created = clinic_y.post("/api/v1/patients", json={"display_name": "Yara Y"})
    pid_of_y = created.json["patient"]["id"]
    assert clinic_y.get(f"/api/v1/patients/{pid_of_y}").status_code == 200

    assert _read_log(world.as_admin_x(), patient_id=pid_of_y) == []


def test_the_patient_id_filter_keeps_only_that_patients_records(app, world):
    clinician = world.as_clinician_x()
    for patient in (world.patient_a, world.patient_b):
        assert clinician.get(f"/api/v1/patients/{patient.id}").status_code == 200
        assert clinician.get(f"/api/v1/patients/{patient.id}/entries").status_code == 200
    with database(app) as session:
        of_a = set(
            session.scalars(
                select(AuditEvent.id).where(AuditEvent.patient_id == world.patient_a.id)
            )
        )

    records = _read_log(world.as_admin_x(), patient_id=world.patient_a.id)

    assert len(records) >= 2
    assert {record["patient_id"] for record in records} == {world.patient_a.id}
    assert {record["id"] for record in records} == of_a


def test_the_action_filter_keeps_only_that_action(app, world):
    clinician = world.as_clinician_x()
    assert clinician.get(f"/api/v1/patients/{world.patient_a.id}").status_code == 200
    admin = world.as_admin_x()

    records = _read_log(admin, action="auth.login")

    assert {record["action"] for record in records} == {"auth.login"}
    assert sorted(record["actor"]["id"] for record in records) == sorted(
        [world.clinician_x.id, world.admin_x.id]
    )
    assert len(_read_log(admin)) > len(records)


def test_since_excludes_records_before_it_whatever_its_offset(app, world):
    now = _now()
    old = _add_audit_record(app, world.clinic_x.id, now - timedelta(days=2))
    recent = _add_audit_record(app, world.clinic_x.id, now - timedelta(hours=1))
    admin = world.as_admin_x()
    assert {old, recent} <= {record["id"] for record in _read_log(admin)}
    a_day_ago_in_karachi = (now - timedelta(days=1)).astimezone(timezone(timedelta(hours=5)))

    records = _read_log(admin, since=a_day_ago_in_karachi.isoformat())

    seen = {record["id"] for record in records}
    assert recent in seen
    assert old not in seen
    assert all(
        record["at"] >= (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        for record in records
    )


def test_since_keeps_a_record_at_exactly_that_time_and_drops_it_a_second_later(app, world):
    at = _now() - timedelta(hours=1)
    record_id = _add_audit_record(app, world.clinic_x.id, at)
    admin = world.as_admin_x()
    in_denver = timezone(timedelta(hours=-7))

    at_that_time = _read_log(admin, since=at.astimezone(in_denver).isoformat())
    a_second_later = _read_log(
        admin, since=(at + timedelta(seconds=1)).astimezone(in_denver).isoformat()
    )

    assert record_id in {record["id"] for record in at_that_time}
    assert record_id not in {record["id"] for record in a_second_later}


@pytest.mark.parametrize("since", ["2026-01-01T00:00:00", "2026-01-01", "yesterday"])
def test_a_since_without_an_offset_is_a_422_naming_since(app, world, since):
    response = world.as_admin_x().get(AUDIT, query_string={"since": since})

    assert response.status_code == 422
    assert "since" in response.json["errors"]["query"]


def test_paging_with_limit_2_walks_every_record_exactly_once_in_order(app, world):
    now = _now()
    for hours in (5, 4):
        _add_audit_record(app, world.clinic_x.id, now - timedelta(hours=hours))
    for _ in range(5):  # ties on the time: the order must still be total
        _add_audit_record(app, world.clinic_x.id, now - timedelta(hours=3))
    admin = world.as_admin_x()
    everything = [record["id"] for record in _read_log(admin)]
    assert len(everything) >= 8

    walked, pages, cursor = [], 0, None
    while True:
        query = {"limit": 2} if cursor is None else {"limit": 2, "cursor": cursor}
        response = admin.get(AUDIT, query_string=query)
        assert response.status_code == 200, response.json
        assert len(response.json["items"]) <= 2
        walked += [record["id"] for record in response.json["items"]]
        pages += 1
        cursor = response.json["next_cursor"]
        if cursor is None:
            break
        assert pages < 20, "the cursor never ran out"

    assert walked == everything
    assert len(set(walked)) == len(walked)
    assert pages == (len(everything) + 1) // 2


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        (*ANONYMOUS, 401),
        (*PATIENT, 403),
        (*NON_ADMIN, 403),
        (*CLINICIAN_Y, 403),
    ],
)
def test_only_a_clinic_admin_may_read_the_audit_log(app, world, actor, expected):
    client = {**ANONYMOUS, **PATIENT, **NON_ADMIN, **CLINICIAN_Y}[actor](world)

    response = client.get(AUDIT)

    assert response.status_code == expected
    assert "items" not in response.json
    assert response.json["code"] == expected


def test_a_non_admins_bearer_token_may_not_read_the_audit_log(app, world):
    client = TokenClient(app, world.token_for(world.clinician_x))

    assert client.get(AUDIT).status_code == 403


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_the_audit_log_cannot_be_changed_or_deleted(app, world, method):
    admin = world.as_admin_x()
    before = _audit_snapshot(app)

    response = admin.request(method, AUDIT, json={"items": []})

    assert response.status_code == 405
    assert response.json["code"] == 405
    allowed = {name.strip() for name in response.headers["Allow"].split(",")}
    assert "GET" in allowed
    assert method not in allowed
    assert _audit_snapshot(app) == before


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
def test_there_is_no_address_for_a_single_audit_record(app, world, method):
    admin = world.as_admin_x()
    [record] = _read_log(admin, action="auth.login")
    before = _audit_snapshot(app)

    response = admin.request(method, f"{AUDIT}/{record['id']}", json={"action": "nothing"})

    assert response.status_code == 404
    assert response.json["code"] == 404
    assert _audit_snapshot(app) == before


# ---------------------------------------------------------------- the clinic's clinicians


@pytest.mark.parametrize("as_admin", [False, True])
def test_a_clinician_lists_their_clinics_clinicians_and_nobody_else(app, world, as_admin):
    client = world.as_admin_x() if as_admin else world.as_clinician_x()

    response = client.get(CLINICIANS)

    assert response.status_code == 200
    assert response.json["next_cursor"] is None
    items = response.json["items"]
    assert {item["email"] for item in items} == {"doc.x@example.org", "admin.x@example.org"}
    assert {item["id"] for item in items} == {world.clinician_x.id, world.admin_x.id}
    assert set(items[0]) == {"id", "email", "display_name", "is_admin", "active", "created_at"}
    assert {item["email"]: item["is_admin"] for item in items} == {
        "doc.x@example.org": False,
        "admin.x@example.org": True,
    }


def test_a_clinician_of_clinic_y_lists_only_clinic_ys_clinicians(app, world):
    response = world.as_clinician_y().get(CLINICIANS)

    assert [item["id"] for item in response.json["items"]] == [world.clinician_y.id]


@pytest.mark.parametrize(("actor", "expected"), [(*ANONYMOUS, 401), (*PATIENT, 403)])
def test_only_a_clinician_may_list_the_clinicians(app, world, actor, expected):
    client = {**ANONYMOUS, **PATIENT}[actor](world)

    response = client.get(CLINICIANS)

    assert response.status_code == expected
    assert "items" not in response.json


def test_an_admin_adds_a_clinician_who_can_then_sign_in_with_that_password(app, world):
    body = _new_clinician(email="new.doc@example.org", display_name="Dr Nora New")

    response = world.as_admin_x().post(CLINICIANS, json=body)

    assert response.status_code == 201
    assert response.json["email"] == "new.doc@example.org"
    assert response.json["display_name"] == "Dr Nora New"
    assert response.json["is_admin"] is False
    assert response.json["active"] is True
    assert UTC_SECONDS.match(response.json["created_at"])
    assert "password" not in response.json
    signed_in = Browser(app).login("new.doc@example.org", NEW_PASSWORD)
    assert signed_in.status_code == 200
    user = signed_in.json["user"]
    assert (user["id"], user["role"], user["is_admin"]) == (response.json["id"], "clinician", False)
    assert user["clinic"]["id"] == world.clinic_x.id


def test_a_new_clinician_appears_in_the_clinics_list(app, world):
    created = _add_clinician(world)

    listed = world.as_clinician_x().get(CLINICIANS).json["items"]

    assert created["id"] in {item["id"] for item in listed}


def test_a_new_clinician_cannot_sign_in_with_another_password(app, world):
    created = _add_clinician(world)

    assert Browser(app).login(created["email"], PASSWORD).status_code == 401


def test_a_clinician_added_as_admin_may_read_the_audit_log(app, world):
    created = _add_clinician(world, is_admin=True)
    browser = Browser(app)
    assert browser.login(created["email"], NEW_PASSWORD).status_code == 200

    assert created["is_admin"] is True
    assert browser.get(AUDIT).status_code == 200


def test_a_clinician_added_without_is_admin_may_not_read_the_audit_log(app, world):
    created = _add_clinician(world)
    browser = Browser(app)
    assert browser.login(created["email"], NEW_PASSWORD).status_code == 200

    assert browser.get(AUDIT).status_code == 403


@pytest.mark.parametrize(
    "email",
    [
        "doc.x@example.org",
        "DOC.X@Example.org",
        "doc.y@example.org",  # a clinician of another clinic
        "alice@example.org",  # a patient
    ],
)
def test_an_email_already_in_use_is_a_422_naming_email(app, world, email):
    users_before = _user_count(app)

    response = world.as_admin_x().post(CLINICIANS, json=_new_clinician(email=email))

    assert response.status_code == 422
    assert "email" in response.json["errors"]["json"]
    assert _user_count(app) == users_before
    assert _read_log(world.as_admin_x(), action="clinician.create") == []


@pytest.mark.parametrize(
    ("password", "expected"), [("", 422), ("x" * 9, 422), ("nine char", 422), ("x" * 10, 201)]
)
def test_a_new_clinicians_password_must_have_at_least_10_characters(app, world, password, expected):
    body = _new_clinician(password=password)

    response = world.as_admin_x().post(CLINICIANS, json=body)

    assert response.status_code == expected
    if expected == 422:
        assert "password" in response.json["errors"]["json"]
        assert Browser(app).login(body["email"], password or "-").status_code == 401


@pytest.mark.parametrize(
    ("actor", "expected"), [(*ANONYMOUS, 401), (*PATIENT, 403), (*NON_ADMIN, 403)]
)
def test_only_an_admin_may_add_a_clinician(app, world, actor, expected):
    client = {**ANONYMOUS, **PATIENT, **NON_ADMIN}[actor](world)
    users_before = _user_count(app)
    body = _new_clinician()

    response = client.post(CLINICIANS, json=body)

    assert response.status_code == expected
    assert _user_count(app) == users_before
    assert Browser(app).login(body["email"], NEW_PASSWORD).status_code == 401


def test_deactivating_a_clinician_answers_them_inactive(app, world):
    response = _deactivate(world, world.clinician_x.id)

    assert response.status_code == 200
    assert response.json["id"] == world.clinician_x.id
    assert response.json["active"] is False
    listed = world.as_admin_x().get(CLINICIANS).json["items"]
    assert {item["id"]: item["active"] for item in listed}[world.clinician_x.id] is False


def test_a_deactivated_clinician_cannot_sign_in(app, world):
    assert _deactivate(world, world.clinician_x.id).status_code == 200

    response = Browser(app).login("doc.x@example.org")

    assert response.status_code == 401
    assert "csrf_token" not in response.json


def test_a_deactivated_clinicians_session_stops_working(app, world):
    browser = world.as_clinician_x()
    assert browser.get(ME).status_code == 200

    assert _deactivate(world, world.clinician_x.id).status_code == 200

    assert browser.get(ME).status_code == 401
    assert browser.get(f"/api/v1/patients/{world.patient_a.id}").status_code == 401


def test_a_deactivated_clinicians_bearer_token_stops_working(app, world):
    client = TokenClient(app, world.token_for(world.clinician_x))
    assert client.get(CLINICIANS).status_code == 200

    assert _deactivate(world, world.clinician_x.id).status_code == 200

    assert client.get(CLINICIANS).status_code == 401
    assert client.get(f"/api/v1/patients/{world.patient_a.id}").status_code == 401


def test_activating_a_deactivated_clinician_lets_them_sign_in_again(app, world):
    assert _deactivate(world, world.clinician_x.id).status_code == 200

    response = _activate(world, world.clinician_x.id)

    assert response.status_code == 200
    assert response.json["active"] is True
    assert Browser(app).login("doc.x@example.org").status_code == 200


def test_an_admin_cannot_deactivate_themself(app, world):
    admin = world.as_admin_x()

    response = admin.post(f"{CLINICIANS}/{world.admin_x.id}/deactivate")

    assert response.status_code == 409
    assert admin.get(ME).status_code == 200
    assert Browser(app).login("admin.x@example.org").status_code == 200


@pytest.mark.parametrize("action", ["deactivate", "activate"])
@pytest.mark.parametrize("target", ["clinician of clinic Y", "patient's user", "unknown id"])
def test_a_clinician_outside_the_clinic_is_not_found(app, world, action, target):
    target_id = {
        "clinician of clinic Y": world.clinician_y.id,
        "patient's user": world.account_of(world.patient_a).id,
        "unknown id": str(uuid.uuid4()),
    }[target]

    response = world.as_admin_x().post(f"{CLINICIANS}/{target_id}/{action}")

    assert response.status_code == 404
    assert "active" not in response.json
    assert Browser(app).login("doc.y@example.org").status_code == 200
    assert Browser(app).login("alice@example.org").status_code == 200


def test_another_clinics_clinician_and_an_unknown_id_answer_alike(app, world):
    admin = world.as_admin_x()

    other = admin.post(f"{CLINICIANS}/{world.clinician_y.id}/deactivate")
    unknown = admin.post(f"{CLINICIANS}/{uuid.uuid4()}/deactivate")

    assert other.status_code == unknown.status_code == 404
    assert other.json == unknown.json


@pytest.mark.parametrize("action", ["deactivate", "activate"])
@pytest.mark.parametrize(
    ("actor", "expected"), [(*ANONYMOUS, 401), (*PATIENT, 403), (*NON_ADMIN, 403)]
)
def test_only_an_admin_may_deactivate_or_activate_a_clinician(app, world, action, actor, expected):
    target = _add_clinician(world)
    if action == "activate":
        assert _deactivate(world, target["id"]).status_code == 200
    client = {**ANONYMOUS, **PATIENT, **NON_ADMIN}[actor](world)

    response = client.post(f"{CLINICIANS}/{target['id']}/{action}")

    assert response.status_code == expected
    signed_in = Browser(app).login(target["email"], NEW_PASSWORD)
    assert signed_in.status_code == (200 if action == "deactivate" else 401)


@pytest.mark.parametrize(
    "action", ["clinician.create", "clinician.deactivate", "clinician.activate"]
)
def test_each_change_to_a_clinician_writes_one_audit_record(app, world, action):
    created = _add_clinician(world)
    assert _deactivate(world, created["id"]).status_code == 200
    assert _activate(world, created["id"]).status_code == 200

    [record] = _read_log(world.as_admin_x(), action=action)

    assert (record["actor"]["id"], record["actor"]["role"]) == (world.admin_x.id, "clinician")
    assert record["detail"]["clinician_id"] == created["id"]
    assert record["ip"] == "127.0.0.1"


def test_a_refused_deactivation_writes_no_audit_record(app, world):
    admin = world.as_admin_x()
    assert admin.post(f"{CLINICIANS}/{world.admin_x.id}/deactivate").status_code == 409
    assert admin.post(f"{CLINICIANS}/{world.clinician_y.id}/deactivate").status_code == 404
    assert (
        world.as_clinician_x().post(f"{CLINICIANS}/{world.admin_x.id}/deactivate").status_code
        == 403
    )

    assert _read_log(admin, action="clinician.deactivate") == []
