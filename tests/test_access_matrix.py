"""Who may reach which patient-scoped endpoint, written out as a table.

Rows are actors, columns are endpoints. `OK` means the request reaches the patient and gets
the endpoint's own answer; a number is the status a refused request must get. The table is
data: it is never derived from the server's access code.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from server.data.models import AuthSession, EnrollmentCode, Entry, Patient
from tests.conftest import (
    PASSWORD,
    Actor,
    Browser,
    Snapshot,
    TokenClient,
    assert_bare_refusal,
    database,
    empty_tables,
    entry_body,
    expired_token,
    make_patient,
    make_world,
    new_token,
    restore_snapshot,
    revoked_token,
    take_snapshot,
)

OK = "ok"
DENIED = {401, 403, 404}
SECRET_NOTE = "matrix secret note"
NAMES = ("Alice A", "Bob B")


# ---------------------------------------------------------------- the endpoints (columns)


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # relative to /api/v1, with {pid} and {eid}
    ok_status: int
    body: object = None  # a dict, or a callable for a fresh body per request

    def url(self, pid: str, eid: str) -> str:
        return "/api/v1" + self.path.format(pid=pid, eid=eid)

    def json(self):
        return self.body() if callable(self.body) else self.body


ENDPOINTS = {
    "read": Endpoint("GET", "/patients/{pid}", 200),
    "edit": Endpoint("PATCH", "/patients/{pid}", 200, {"external_id": "EXT-42"}),
    # Patient A has enrolled already, so a clinician who reaches A gets a reset code.
    "reissue": Endpoint("POST", "/patients/{pid}/enrollment", 201),
    "schedule": Endpoint("GET", "/patients/{pid}/schedule", 200),
    "reschedule": Endpoint(
        "PUT",
        "/patients/{pid}/schedule",
        200,
        {"instruments": [{"instrument": "gad7", "every_days": 7}], "pre_session": False},
    ),
    "list": Endpoint("GET", "/patients/{pid}/entries", 200),
    "submit": Endpoint("POST", "/patients/{pid}/entries", 201, entry_body),
    "entry": Endpoint("GET", "/patients/{pid}/entries/{eid}", 200),
    "void": Endpoint("POST", "/patients/{pid}/entries/{eid}/void", 200, {"reason": "matrix"}),
    "deactivate": Endpoint("POST", "/patients/{pid}/deactivate", 200),
    "activate": Endpoint("POST", "/patients/{pid}/activate", 200),
}
COLUMNS = list(ENDPOINTS)


# ---------------------------------------------------------------- the actors (rows)


@dataclass
class Scene:
    """The world, one entry each for A and B, and the clinician X tokens the rows need."""

    world: object
    entry_a: str
    entry_b: str

    def target(self, whom: str) -> tuple[str, str]:
        """The (pid, eid) an actor aims at: A's, B's, or ids that exist nowhere."""
        if whom == "a":
            return self.world.patient_a.id, self.entry_a
        if whom == "b":
            return self.world.patient_b.id, self.entry_b
        return str(uuid.uuid4()), str(uuid.uuid4())


ACTORS = {
    "anonymous": Actor("a", lambda w: Browser(w.app)),
    "patient A on own data": Actor("a", lambda w: w.as_patient_a()),
    "patient A on patient B": Actor("b", lambda w: w.as_patient_a()),
    "patient B on patient A": Actor("a", lambda w: w.as_patient_b()),
    "patient A on an unknown id": Actor("unknown", lambda w: w.as_patient_a()),
    "clinician X": Actor("a", lambda w: w.as_clinician_x()),
    "clinician X on an unknown id": Actor("unknown", lambda w: w.as_clinician_x()),
    "clinician Y": Actor("a", lambda w: w.as_clinician_y()),
    "clinician X revoked token": Actor("a", revoked_token),
    "clinician X expired token": Actor("a", expired_token),
    "clinician X cookie without CSRF": Actor("a", lambda w: w.browser(w.clinician_x, csrf=False)),
    "clinician X bearer token": Actor(
        "a", lambda w: TokenClient(w.app, new_token(w, w.clinician_x)["token"])
    ),
}

# A patient is refused clinician-only endpoints (edit, reissue, reschedule) with 403 whatever
# the id: the refusal depends on the role alone, so it reveals nothing about the id.
# fmt: off
MATRIX = {
    #                                   read edit reis schd resc list subm entr void deac act
    "anonymous":                        [401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401],
    "patient A on own data":            [OK,  403, 403, OK,  403, OK,  OK,  OK,  OK,  403, 403],
    "patient A on patient B":           [404, 403, 403, 404, 403, 404, 404, 404, 404, 403, 403],
    "patient B on patient A":           [404, 403, 403, 404, 403, 404, 404, 404, 404, 403, 403],
    "patient A on an unknown id":       [404, 403, 403, 404, 403, 404, 404, 404, 404, 403, 403],
    "clinician X":                      [OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK],
    "clinician X on an unknown id":     [404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404],
    "clinician Y":                      [404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404],
    "clinician X revoked token":        [401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401],
    "clinician X expired token":        [401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401],
    "clinician X cookie without CSRF":  [OK,  403, 403, OK,  403, OK,  403, OK,  403, 403, 403],
    "clinician X bearer token":         [OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK],
}
# fmt: on

CASES = [
    pytest.param(actor, column, MATRIX[actor][index], id=f"{actor} - {column}")
    for actor in ACTORS
    for index, column in enumerate(COLUMNS)
]


# ---------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def saved_scene(app) -> tuple[Scene, Snapshot]:
    """The scene, built through the API once per module, and a snapshot of its rows."""
    world = make_world(app)
    patient_a, patient_b = world.as_patient_a(), world.as_patient_b()
    entry_a = patient_a.post("/api/v1/patients/me/entries", json=entry_body(note=SECRET_NOTE)).json[
        "id"
    ]
    entry_b = patient_b.post("/api/v1/patients/me/entries", json=entry_body()).json["id"]
    scene = Scene(world=world, entry_a=entry_a, entry_b=entry_b)
    snapshot = take_snapshot(app)
    empty_tables(app)
    return scene, snapshot


@pytest.fixture
def scene(app, saved_scene) -> Scene:
    """Every test starts from the same scene: the snapshot's rows, restored one for one."""
    scene, snapshot = saved_scene
    restore_snapshot(app, snapshot)
    return scene


def send(client, endpoint: Endpoint, pid: str, eid: str):
    url = endpoint.url(pid, eid)
    body = endpoint.json()
    if body is None:
        return client.request(endpoint.method, url)
    return client.request(endpoint.method, url, json=body)


def clinical_state(app) -> dict:
    """Everything a refused request must leave as it was."""
    with database(app) as session:
        return {
            "patients": [
                (p.id, p.display_name, p.external_id, p.timezone, p.schedule)
                for p in session.scalars(select(Patient).order_by(Patient.id))
            ],
            "entries": [
                (e.id, e.patient_id, e.answers, e.note, e.voided, e.void_reason)
                for e in session.scalars(select(Entry).order_by(Entry.id))
            ],
            "codes": [
                (c.id, c.voided_at, c.used_at)
                for c in session.scalars(select(EnrollmentCode).order_by(EnrollmentCode.id))
            ],
        }


def assert_reveals_nothing(response, status: int) -> None:
    assert_bare_refusal(response, status, (*NAMES, SECRET_NOTE, "answers", "display_name"))


# ---------------------------------------------------------------- the matrix


def test_the_matrix_covers_every_actor_and_every_endpoint():
    assert set(MATRIX) == set(ACTORS)
    assert all(len(row) == len(COLUMNS) for row in MATRIX.values())


@pytest.mark.parametrize(("actor", "column", "expected"), CASES)
def test_each_actor_gets_the_answer_the_table_gives_for_each_endpoint(
    app, scene, actor, column, expected
):
    endpoint = ENDPOINTS[column]
    client = ACTORS[actor].connect(scene.world)
    pid, eid = scene.target(ACTORS[actor].target)
    before = clinical_state(app)

    response = send(client, endpoint, pid, eid)

    if expected == OK:
        assert response.status_code == endpoint.ok_status, response.json
    else:
        assert response.status_code == expected, response.json
        assert_reveals_nothing(response, expected)
        assert clinical_state(app) == before


# ---------------------------------------------------------------- what an allowed answer holds


@pytest.mark.parametrize(
    "actor", ["patient A on own data", "clinician X", "clinician X bearer token"]
)
def test_an_allowed_read_answers_with_that_patients_own_data(scene, actor):
    client = ACTORS[actor].connect(scene.world)
    pid = scene.world.patient_a.id

    patient = client.get(f"/api/v1/patients/{pid}")
    entries = client.get(f"/api/v1/patients/{pid}/entries")

    assert patient.json["patient"]["display_name"] == "Alice A"
    assert [item["id"] for item in entries.json["items"]] == [scene.entry_a]


# ---------------------------------------------------------------- nothing leaks


LEAK_PAIRS = {
    # actor whose target exists but is not theirs  →  the same actor aiming at nothing
    "patient A on patient B": "patient A on an unknown id",
    "clinician Y": "clinician X on an unknown id",
}


@pytest.mark.parametrize("column", COLUMNS)
@pytest.mark.parametrize("actor", LEAK_PAIRS)
def test_someone_elses_patient_answers_exactly_like_an_unknown_id(scene, actor, column):
    endpoint = ENDPOINTS[column]
    client = ACTORS[actor].connect(scene.world)
    pid, eid = scene.target(ACTORS[actor].target)
    unknown_pid, unknown_eid = scene.target("unknown")

    real = send(client, endpoint, pid, eid)
    unknown = send(client, endpoint, unknown_pid, unknown_eid)

    assert (real.status_code, real.json) == (unknown.status_code, unknown.json)


def test_another_patients_entry_id_under_my_own_id_answers_like_an_unknown_entry(scene):
    patient_a = scene.world.as_patient_a()

    theirs = patient_a.get(f"/api/v1/patients/me/entries/{scene.entry_b}")
    unknown = patient_a.get(f"/api/v1/patients/me/entries/{uuid.uuid4()}")

    assert theirs.status_code == 404
    assert theirs.json == unknown.json
    assert_reveals_nothing(theirs, 404)


# ---------------------------------------------------------------- `me`

PATIENT_ME = {
    # column: what patient A gets with `me` in place of their id
    "read": OK,
    "edit": 403,
    "reissue": 403,
    "schedule": OK,
    "reschedule": 403,
    "list": OK,
    "submit": OK,
    "entry": OK,
    "void": OK,
    "deactivate": 403,
    "activate": 403,
}


@pytest.mark.parametrize(("column", "expected"), PATIENT_ME.items())
def test_me_means_the_signed_in_patient(scene, column, expected):
    endpoint = ENDPOINTS[column]

    response = send(scene.world.as_patient_a(), endpoint, "me", scene.entry_a)

    assert response.status_code == (endpoint.ok_status if expected == OK else expected)


def test_me_reads_the_same_patient_as_the_patients_own_id(scene):
    patient_a = scene.world.as_patient_a()

    via_me = patient_a.get("/api/v1/patients/me")
    via_id = patient_a.get(f"/api/v1/patients/{scene.world.patient_a.id}")

    assert via_me.json["patient"]["id"] == scene.world.patient_a.id
    assert via_me.json == via_id.json


@pytest.mark.parametrize("column", COLUMNS)
@pytest.mark.parametrize("actor", ["clinician X", "clinician X bearer token"])
def test_me_is_not_found_for_a_clinician(scene, actor, column):
    client = ACTORS[actor].connect(scene.world)

    response = send(client, ENDPOINTS[column], "me", scene.entry_a)

    assert_reveals_nothing(response, 404)


# ---------------------------------------------------------------- adding a patient

NEW_PATIENT = {"display_name": "Carol C"}


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        ("anonymous", 401),
        ("patient A on own data", 403),
        ("clinician X revoked token", 401),
        ("clinician X expired token", 401),
        ("clinician X cookie without CSRF", 403),
        ("clinician X", 201),
        ("clinician X bearer token", 201),
        ("clinician Y", 201),
    ],
)
def test_only_a_clinician_may_add_a_patient(app, world, actor, expected):
    client = ACTORS[actor].connect(world)

    response = client.post("/api/v1/patients", json=NEW_PATIENT)

    assert response.status_code == expected, response.json
    with database(app) as session:
        added = session.scalars(select(Patient).where(Patient.display_name == "Carol C")).all()
    assert len(added) == (1 if expected == 201 else 0)


def test_a_patient_added_by_clinician_y_belongs_to_clinic_y_only(world):
    created = world.as_clinician_y().post("/api/v1/patients", json=NEW_PATIENT)
    pid = created.json["patient"]["id"]

    seen_by_x = world.as_clinician_x().get(f"/api/v1/patients/{pid}")

    assert world.as_clinician_y().get(f"/api/v1/patients/{pid}").status_code == 200
    assert_reveals_nothing(seen_by_x, 404)


# ---------------------------------------------------------------- enrollment codes


@pytest.fixture
def unenrolled(app, world):
    with database(app):
        return make_patient(world.clinic_x, "Dana D", enrolled=False).id


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        ("clinician X", 201),
        ("clinician X bearer token", 201),
        ("clinician X cookie without CSRF", 403),
        ("clinician Y", 404),
        ("patient A on own data", 403),
        ("anonymous", 401),
    ],
)
def test_only_a_clinician_of_the_clinic_may_reissue_an_enrollment_code(
    world, unenrolled, actor, expected
):
    client = ACTORS[actor].connect(world)

    response = client.post(f"/api/v1/patients/{unenrolled}/enrollment")

    assert response.status_code == expected, response.json
    if expected != 201:
        assert_reveals_nothing(response, expected)
        assert "Dana D" not in response.get_data(as_text=True)


# ---------------------------------------------------------------- entries across clinics


@pytest.fixture
def patient_of_y(app, scene):
    with database(app):
        return make_patient(scene.world.clinic_y, "Yuri Y", enrolled=False).id


def test_a_clinician_of_y_cannot_read_an_x_entry_by_its_valid_id(scene):
    clinician_y = scene.world.as_clinician_y()

    response = clinician_y.get(
        f"/api/v1/patients/{scene.world.patient_a.id}/entries/{scene.entry_a}"
    )

    assert_reveals_nothing(response, 404)


def test_a_clinician_of_y_cannot_read_an_x_entry_under_their_own_patient(scene, patient_of_y):
    clinician_y = scene.world.as_clinician_y()

    response = clinician_y.get(f"/api/v1/patients/{patient_of_y}/entries/{scene.entry_a}")

    assert_reveals_nothing(response, 404)


def test_a_clinician_of_y_cannot_void_an_x_entry_under_their_own_patient(app, scene, patient_of_y):
    clinician_y = scene.world.as_clinician_y()

    response = clinician_y.post(
        f"/api/v1/patients/{patient_of_y}/entries/{scene.entry_a}/void", json={"reason": "x"}
    )

    assert_reveals_nothing(response, 404)
    with database(app) as session:
        assert session.get(Entry, scene.entry_a).voided is False


def test_a_clinician_of_y_does_not_see_x_entries_in_their_own_patients_list(scene, patient_of_y):
    listed = scene.world.as_clinician_y().get(f"/api/v1/patients/{patient_of_y}/entries")

    assert listed.status_code == 200
    assert listed.json["items"] == []


def test_a_clinician_cannot_read_one_patients_entry_under_another_patients_id(scene):
    clinician_x = scene.world.as_clinician_x()

    response = clinician_x.get(
        f"/api/v1/patients/{scene.world.patient_b.id}/entries/{scene.entry_a}"
    )

    assert_reveals_nothing(response, 404)


# ---------------------------------------------------------------- passkeys

# One's own passkeys, managed in a signed-in session (a token is refused); signing in with a
# passkey is open to anyone (a made-up credential is a 401); an admin removes a clinician's.
# `reached` means the request got past the access check to the credential's own check (422).
PASSKEY_ENDPOINTS = {
    "options": ("POST", "/auth/passkeys/registration/options", None),
    "register": ("POST", "/auth/passkeys", {"name": "phone", "credential": {"id": "x"}}),
    "list": ("GET", "/auth/passkeys", None),
    "remove A's": ("DELETE", "/auth/passkeys/{passkey_a}", None),
    "login options": ("POST", "/auth/passkey-login/options", None),
    "login": ("POST", "/auth/passkey-login", {"credential": {"id": "x"}}),
    "remove X's": ("DELETE", "/clinicians/{clinician_x}/passkeys", None),
}
PASSKEY_ACTORS = {
    "anonymous": lambda w: Browser(w.app),
    "patient A": lambda w: w.as_patient_a(),
    "patient B": lambda w: w.as_patient_b(),
    "clinician X": lambda w: w.as_clinician_x(),
    "admin X": lambda w: w.as_admin_x(),
    "clinician Y": lambda w: w.as_clinician_y(),
    "clinician X bearer token": lambda w: TokenClient(w.app, new_token(w, w.clinician_x)["token"]),
    "clinician X cookie without CSRF": lambda w: w.browser(w.clinician_x, csrf=False),
}
# fmt: off
PASSKEY_MATRIX = {
    #                                  options register list remove-A login-opt login remove-X
    "anonymous":                       [401,   401,     401, 401,     200,      401,  401],
    "patient A":                       [200,   422,     200, 204,     200,      401,  403],
    "patient B":                       [200,   422,     200, 404,     200,      401,  403],
    "clinician X":                     [200,   422,     200, 404,     200,      401,  403],
    "admin X":                         [200,   422,     200, 404,     200,      401,  204],
    "clinician Y":                     [200,   422,     200, 404,     200,      401,  403],
    "clinician X bearer token":        [403,   403,     403, 403,     200,      401,  403],
    "clinician X cookie without CSRF": [403,   403,     200, 403,     200,      401,  403],
}
# fmt: on
PASSKEY_CASES = [
    pytest.param(actor, column, PASSKEY_MATRIX[actor][index], id=f"{actor} - {column}")
    for actor in PASSKEY_ACTORS
    for index, column in enumerate(PASSKEY_ENDPOINTS)
]


def test_the_passkey_matrix_covers_every_actor_and_every_endpoint():
    assert set(PASSKEY_MATRIX) == set(PASSKEY_ACTORS)
    assert all(len(row) == len(PASSKEY_ENDPOINTS) for row in PASSKEY_MATRIX.values())


@pytest.mark.parametrize(("actor", "column", "expected"), PASSKEY_CASES)
def test_each_actor_gets_the_answer_the_passkey_table_gives(app, world, actor, column, expected):
    from server.data.models import Passkey
    from tests.authenticator import register_passkey

    passkey_a = register_passkey(world.as_patient_a())[0].json["id"]
    register_passkey(world.as_clinician_x())
    client = PASSKEY_ACTORS[actor](world)
    method, path, body = PASSKEY_ENDPOINTS[column]
    url = "/api/v1" + path.format(passkey_a=passkey_a, clinician_x=world.clinician_x.id)

    response = client.request(method, url, **({} if body is None else {"json": body}))

    assert response.status_code == expected, response.json
    with database(app) as session:
        left = session.scalar(select(func.count()).select_from(Passkey))
    assert left == 2 - (column == "remove A's" and expected == 204) - (
        column == "remove X's" and expected == 204
    )
    if expected in DENIED:
        assert_bare_refusal(response, expected, ("Alice A", "credential_id", "public_key"))


# ---------------------------------------------------------------- the account's own endpoints

ACCOUNT_ENDPOINTS = {
    "sessions": ("GET", "/api/v1/auth/sessions", None),
    "end others": ("DELETE", "/api/v1/auth/sessions", None),
    "end B's": ("DELETE", "/api/v1/auth/sessions/{b_session}", None),
    "password": (
        "POST",
        "/api/v1/auth/password",
        {"current_password": PASSWORD, "new_password": "a brand new password"},
    ),
    "reset": ("POST", "/api/v1/auth/reset", {"code": "ABCD-EFGH-JKMN", "new_password": "x" * 12}),
    "clinician reset": ("POST", "/api/v1/clinicians/{clinician_x}/reset", None),
}
ACCOUNT_ACTORS = {
    "anonymous": lambda w: Browser(w.app),
    "patient A": lambda w: w.as_patient_a(),
    "clinician X": lambda w: w.as_clinician_x(),
    "admin X": lambda w: w.as_admin_x(),
    "admin X bearer token": lambda w: TokenClient(w.app, new_token(w, w.admin_x)["token"]),
    "clinician X cookie without CSRF": lambda w: w.browser(w.clinician_x, csrf=False),
    "clinician X revoked token": revoked_token,
}
# A token never changes the account (its sessions, its password) nor resets anyone's; a
# reset code is for people locked out, so anyone may try one (this one is wrong: 422).
# fmt: off
ACCOUNT_MATRIX = {
    #                                   sessions others B's  passwd reset clinician reset
    "anonymous":                        [401,    401,   401, 401,   422,  401],
    "patient A":                        [200,    204,   404, 204,   422,  403],
    "clinician X":                      [200,    204,   404, 204,   422,  403],
    "admin X":                          [200,    204,   404, 204,   422,  201],
    "admin X bearer token":             [403,    403,   403, 403,   422,  403],
    "clinician X cookie without CSRF":  [200,    403,   403, 403,   422,  403],
    "clinician X revoked token":        [401,    401,   401, 401,   422,  401],
}
# fmt: on


def test_the_account_matrix_covers_every_actor_and_endpoint():
    assert set(ACCOUNT_MATRIX) == set(ACCOUNT_ACTORS)
    assert all(len(row) == len(ACCOUNT_ENDPOINTS) for row in ACCOUNT_MATRIX.values())


@pytest.mark.parametrize(
    ("actor", "column", "expected"),
    [
        pytest.param(actor, column, ACCOUNT_MATRIX[actor][index], id=f"{actor} - {column}")
        for actor in ACCOUNT_ACTORS
        for index, column in enumerate(ACCOUNT_ENDPOINTS)
    ],
)
def test_each_actor_gets_the_answer_the_account_table_gives(app, world, actor, column, expected):
    world.as_patient_b()
    with database(app) as session:
        b_session = session.scalar(
            select(AuthSession.id).where(
                AuthSession.user_id == world.account_of(world.patient_b).id
            )
        )
    method, path, body = ACCOUNT_ENDPOINTS[column]
    client = ACCOUNT_ACTORS[actor](world)
    url = path.format(b_session=b_session, clinician_x=world.clinician_x.id)

    response = client.request(method, url, **({} if body is None else {"json": body}))

    assert response.status_code == expected, response.get_data(as_text=True)
    if expected >= 400:
        assert_bare_refusal(response, expected, ("Bob B", "bob@example.org"))
