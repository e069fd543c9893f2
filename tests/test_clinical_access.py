"""Who may reach the clinical endpoints (sessions, outcomes, panel, flags, clinic), as a table.

Rows are actors, columns are endpoints. `OK` means the request gets the endpoint's own answer;
a number is the status a refused request must get. The table is data: it is never derived
from the server's access code.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from server.data.models import (
    BaselineChoice,
    Clinic,
    Entry,
    Flag,
    Patient,
    TreatmentSession,
)
from tests.conftest import (
    Actor,
    Browser,
    Snapshot,
    TokenClient,
    assert_bare_refusal,
    database,
    empty_tables,
    entry_body,
    expired_token,
    make_world,
    new_token,
    restore_snapshot,
    revoked_token,
    take_snapshot,
)

OK = "ok"
ENTRY_NOTE = "clinical matrix entry note"
SESSION_NOTE = "clinical matrix session note"
SECRETS = ("Alice A", "Bob B", ENTRY_NOTE, SESSION_NOTE, "answers", "display_name", "Clinic X")
# PHQ-9 with item 9 at 1: it opens a self-harm flag.
FLAGGING_ANSWERS = [2, 2, 1, 1, 2, 1, 1, 1, 1]


# ---------------------------------------------------------------- the scene


@dataclass(frozen=True)
class Target:
    """The ids a request is aimed at: one patient's, or ids that exist nowhere."""

    pid: str
    sid: str  # a treatment session
    eid: str  # an entry that is not the patient's explicit baseline yet
    fid: str  # an open safety flag


@dataclass
class Scene:
    world: object
    a: Target
    b: Target

    def target(self, whom: str) -> Target:
        if whom == "a":
            return self.a
        if whom == "b":
            return self.b
        return Target(*(str(uuid.uuid4()) for _ in range(4)))


def _clinical_history(world, patient, patient_client, clinician) -> Target:
    """A flagged entry, a routine entry set as explicit baseline, and a session."""
    flagged = patient_client.post(
        "/api/v1/patients/me/entries",
        json=entry_body(
            answers=FLAGGING_ANSWERS,
            note=ENTRY_NOTE,
            taken_at=(datetime.now(UTC) - timedelta(days=3)).isoformat(),
        ),
    )
    assert flagged.status_code == 201, flagged.json
    routine = patient_client.post("/api/v1/patients/me/entries", json=entry_body())
    assert routine.status_code == 201, routine.json
    pid = patient.id
    chosen = clinician.put(
        f"/api/v1/patients/{pid}/baseline/phq9", json={"entry_id": routine.json["id"]}
    )
    assert chosen.status_code == 200, chosen.json
    session = clinician.post(
        f"/api/v1/patients/{pid}/sessions",
        json={
            "started_at": (datetime.now(UTC) - timedelta(days=2)).isoformat(),
            "treatment": "esketamine_nasal",
            "dose_mg": 56,
            "notes": SESSION_NOTE,
        },
    )
    assert session.status_code == 201, session.json
    with database(world.app) as db_session:
        fid = db_session.scalar(
            select(Flag.id).where(Flag.entry_id == flagged.json["id"], Flag.status == "open")
        )
    assert fid is not None
    return Target(pid=pid, sid=session.json["id"], eid=flagged.json["id"], fid=fid)


@pytest.fixture(scope="module")
def saved_scene(app) -> tuple[Scene, Snapshot]:
    """The scene, built through the API once per module, and a snapshot of its rows."""
    world = make_world(app)
    clinician = world.as_clinician_x()
    a = _clinical_history(world, world.patient_a, world.as_patient_a(), clinician)
    b = _clinical_history(world, world.patient_b, world.as_patient_b(), clinician)
    scene = Scene(world=world, a=a, b=b)
    snapshot = take_snapshot(app)
    empty_tables(app)
    return scene, snapshot


@pytest.fixture
def scene(app, saved_scene) -> Scene:
    """Every test starts from the same scene: the snapshot's rows, restored one for one."""
    scene, snapshot = saved_scene
    restore_snapshot(app, snapshot)
    return scene


# ---------------------------------------------------------------- the endpoints (columns)


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # relative to /api/v1, with {pid}, {sid} and {fid}
    ok_status: int
    body: object = None  # a dict, or a callable of the Target

    def url(self, target: Target) -> str:
        return "/api/v1" + self.path.format(pid=target.pid, sid=target.sid, fid=target.fid)

    def json(self, target: Target):
        return self.body(target) if callable(self.body) else self.body


def new_session(target: Target) -> dict:
    return {"started_at": datetime.now(UTC).isoformat(), "treatment": "ketamine_iv"}


def new_signal(target: Target) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "checkin_id": str(uuid.uuid4()),
        "instrument": "phq9",
        "item": "phq9_9",
        "answer": 1,
        "answered_at": datetime.now(UTC).isoformat(),
    }


ENDPOINTS = {
    "sessions": Endpoint("GET", "/patients/{pid}/sessions", 200),
    "add session": Endpoint("POST", "/patients/{pid}/sessions", 201, new_session),
    "session": Endpoint("GET", "/patients/{pid}/sessions/{sid}", 200),
    "edit session": Endpoint("PATCH", "/patients/{pid}/sessions/{sid}", 200, {"dose_mg": 35}),
    "summary": Endpoint("GET", "/patients/{pid}/summary", 200),
    "set baseline": Endpoint(
        "PUT", "/patients/{pid}/baseline/phq9", 200, lambda target: {"entry_id": target.eid}
    ),
    "clear baseline": Endpoint("DELETE", "/patients/{pid}/baseline/phq9", 204),
    "panel": Endpoint("GET", "/patients", 200),
    "flags": Endpoint("GET", "/flags", 200),
    "resolve": Endpoint("POST", "/flags/{fid}/resolve", 200, {"note": "called the patient"}),
    "clinic": Endpoint("GET", "/clinic", 200),
    "edit clinic": Endpoint("PATCH", "/clinic", 200, {"madrs_remission_max": 10}),
    "flag": Endpoint("GET", "/flags/{fid}", 200),
    "signal": Endpoint("POST", "/patients/{pid}/safety-signals", 201, new_signal),
}
COLUMNS = list(ENDPOINTS)
# The columns whose path names a patient or a flag of clinic X.
AIMED = [name for name, endpoint in ENDPOINTS.items() if "{" in endpoint.path]


# ---------------------------------------------------------------- the actors (rows)


ACTORS = {
    "anonymous": Actor("a", lambda w: Browser(w.app)),
    "patient A on own data": Actor("a", lambda w: w.as_patient_a()),
    "patient A on patient B": Actor("b", lambda w: w.as_patient_a()),
    "patient B on patient A": Actor("a", lambda w: w.as_patient_b()),
    "patient A on unknown ids": Actor("unknown", lambda w: w.as_patient_a()),
    "clinician X": Actor("a", lambda w: w.as_clinician_x()),
    "clinic admin X": Actor("a", lambda w: w.as_admin_x()),
    "clinician X on unknown ids": Actor("unknown", lambda w: w.as_clinician_x()),
    "clinician Y": Actor("a", lambda w: w.as_clinician_y()),
    "clinician Y on unknown ids": Actor("unknown", lambda w: w.as_clinician_y()),
    "clinician X revoked token": Actor("a", revoked_token),
    "clinician X expired token": Actor("a", expired_token),
    "clinician X cookie without CSRF": Actor("a", lambda w: w.browser(w.clinician_x, csrf=False)),
    "clinic admin X cookie without CSRF": Actor("a", lambda w: w.browser(w.admin_x, csrf=False)),
    "clinician X bearer token": Actor(
        "a", lambda w: TokenClient(w.app, new_token(w, w.clinician_x)["token"])
    ),
    "clinic admin X bearer token": Actor(
        "a", lambda w: TokenClient(w.app, new_token(w, w.admin_x)["token"])
    ),
}

# A patient is refused the clinician-only endpoints with 403 whatever the id: the refusal
# depends on the role alone, so it reveals nothing about the id. Clinician Y reaches its own
# (empty) panel, flags and clinic; X's patients, sessions and flags are unknown to it. Every
# signed-in user reads their clinic (a patient: its name and crisis resources); only the
# patient sends a safety signal, and a clinician is refused it whatever the id.
# fmt: off
# ses: sessions, add: add session, one: session, edt: edit session, sum: summary, set/clr: set and
# clear baseline, pnl: panel, flg: flags, res: resolve, cli: clinic, ecl: edit clinic, one flag,
# sig: safety signal
MATRIX = {
    #                                     ses add one edt sum set clr pnl flg res cli ecl flg sig
    "anonymous":                         [401,401,401,401,401,401,401,401,401,401,401,401,401,401],
    "patient A on own data":             [OK, 403,OK, 403,OK, 403,403,403,403,403,OK, 403,403,OK ],
    "patient A on patient B":            [404,403,404,403,404,403,403,403,403,403,OK, 403,403,404],
    "patient B on patient A":            [404,403,404,403,404,403,403,403,403,403,OK, 403,403,404],
    "patient A on unknown ids":          [404,403,404,403,404,403,403,403,403,403,OK, 403,403,404],
    "clinician X":                       [OK, OK, OK, OK, OK, OK, OK, OK, OK, OK, OK, 403,OK, 403],
    "clinic admin X":                    [OK, OK, OK, OK, OK, OK, OK, OK, OK, OK, OK, OK, OK, 403],
    "clinician X on unknown ids":        [404,404,404,404,404,404,404,OK, OK, 404,OK, 403,404,403],
    "clinician Y":                       [404,404,404,404,404,404,404,OK, OK, 404,OK, 403,404,403],
    "clinician Y on unknown ids":        [404,404,404,404,404,404,404,OK, OK, 404,OK, 403,404,403],
    "clinician X revoked token":         [401,401,401,401,401,401,401,401,401,401,401,401,401,401],
    "clinician X expired token":         [401,401,401,401,401,401,401,401,401,401,401,401,401,401],
    "clinician X cookie without CSRF":   [OK, 403,OK, 403,OK, 403,403,OK, OK, 403,OK, 403,OK, 403],
    "clinic admin X cookie without CSRF": [OK, 403,OK, 403,OK, 403,403,OK, OK, 403,OK, 403,OK, 403],
    "clinician X bearer token":          [OK, OK, OK, OK, OK, OK, OK, OK, OK, OK, OK, 403,OK, 403],
    # A token never administers (API.md, Authentication): editing the clinic needs a session.
    "clinic admin X bearer token":       [OK, OK, OK, OK, OK, OK, OK, OK, OK, OK, OK, 403,OK, 403],
}
# fmt: on

CASES = [
    pytest.param(actor, column, MATRIX[actor][index], id=f"{actor} - {column}")
    for actor in ACTORS
    for index, column in enumerate(COLUMNS)
]


# ---------------------------------------------------------------- helpers


def send(client, endpoint: Endpoint, target: Target):
    body = endpoint.json(target)
    if body is None:
        return client.request(endpoint.method, endpoint.url(target))
    return client.request(endpoint.method, endpoint.url(target), json=body)


def clinical_state(app) -> dict:
    """Everything a refused request must leave as it was."""
    with database(app) as session:
        return {
            "patients": [
                (p.id, p.display_name, p.external_id, p.timezone, p.schedule)
                for p in session.scalars(select(Patient).order_by(Patient.id))
            ],
            "entries": [
                (e.id, e.answers, e.note, e.session_id, e.voided)
                for e in session.scalars(select(Entry).order_by(Entry.id))
            ],
            "sessions": [
                (s.id, s.patient_id, s.started_at, s.treatment, s.dose_mg, s.notes, s.updated_at)
                for s in session.scalars(select(TreatmentSession).order_by(TreatmentSession.id))
            ],
            "baselines": [
                (c.patient_id, c.instrument, c.entry_id, c.set_by_id, c.set_at)
                for c in session.scalars(
                    select(BaselineChoice).order_by(
                        BaselineChoice.patient_id, BaselineChoice.instrument
                    )
                )
            ],
            "flags": [
                (f.id, f.status, f.resolved_by_id, f.resolved_at, f.note)
                for f in session.scalars(select(Flag).order_by(Flag.id))
            ],
            "clinics": [
                (c.id, c.name, c.timezone, c.madrs_remission_max)
                for c in session.scalars(select(Clinic).order_by(Clinic.id))
            ],
        }


def assert_reveals_nothing(response, status: int) -> None:
    assert_bare_refusal(response, status, SECRETS)


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
    target = scene.target(ACTORS[actor].target)
    before = clinical_state(app)

    response = send(client, endpoint, target)

    if expected == OK:
        assert response.status_code == endpoint.ok_status, response.json
        if endpoint.method == "GET":
            assert clinical_state(app) == before
    else:
        assert_reveals_nothing(response, expected)
        assert clinical_state(app) == before


# ---------------------------------------------------------------- what an allowed answer holds


@pytest.mark.parametrize(
    "actor", ["patient A on own data", "clinician X", "clinician X bearer token"]
)
def test_an_allowed_read_answers_with_that_patients_own_sessions_and_summary(scene, actor):
    client = ACTORS[actor].connect(scene.world)
    pid = scene.a.pid

    sessions = client.get(f"/api/v1/patients/{pid}/sessions").json
    session = client.get(f"/api/v1/patients/{pid}/sessions/{scene.a.sid}").json
    summary = client.get(f"/api/v1/patients/{pid}/summary").json

    assert [item["id"] for item in sessions["items"]] == [scene.a.sid]
    assert session["patient_id"] == pid
    assert session["notes"] == SESSION_NOTE
    assert summary["instrument"] == "phq9"
    assert [flag["id"] for flag in summary["open_flags"]] == [scene.a.fid]


@pytest.mark.parametrize("actor", ["clinician Y", "clinician Y on unknown ids"])
def test_a_clinician_of_another_clinic_gets_its_own_empty_panel_and_flags(scene, actor):
    client = ACTORS[actor].connect(scene.world)

    panel = client.get("/api/v1/patients")
    flags = client.get("/api/v1/flags")
    clinic = client.get("/api/v1/clinic")

    assert panel.json == {"items": [], "next_cursor": None}
    assert flags.json == {"items": [], "next_cursor": None}
    assert clinic.json["name"] == "Clinic Y"
    for response in (panel, flags, clinic):
        text = response.get_data(as_text=True)
        assert not any(secret in text for secret in SECRETS)


def test_a_bearer_token_of_clinic_y_gets_its_own_empty_panel_and_flags(scene):
    client = TokenClient(scene.world.app, new_token(scene.world, scene.world.clinician_y)["token"])

    assert client.get("/api/v1/patients").json["items"] == []
    assert client.get("/api/v1/flags").json["items"] == []


def test_clinician_x_sees_both_patients_and_both_flags(scene):
    client = scene.world.as_clinician_x()

    panel = client.get("/api/v1/patients").json["items"]
    flags = client.get("/api/v1/flags").json["items"]

    assert {row["patient"]["id"] for row in panel} == {scene.a.pid, scene.b.pid}
    assert {flag["id"] for flag in flags} == {scene.a.fid, scene.b.fid}


def test_a_non_admin_clinician_cannot_change_the_clinics_madrs_cut_off(app, scene):
    response = scene.world.as_clinician_x().patch(
        "/api/v1/clinic", json={"madrs_remission_max": 10}
    )

    assert_reveals_nothing(response, 403)
    with database(app) as session:
        assert session.get(Clinic, scene.world.clinic_x.id).madrs_remission_max == 12


# ---------------------------------------------------------------- nothing leaks

LEAK_PAIRS = {
    # actor whose target exists but is not theirs  →  the same actor aiming at nothing
    "patient A on patient B": "patient A on unknown ids",
    "clinician Y": "clinician Y on unknown ids",
}


@pytest.mark.parametrize("column", AIMED)
@pytest.mark.parametrize("actor", LEAK_PAIRS)
def test_someone_elses_ids_answer_exactly_like_unknown_ids(scene, actor, column):
    endpoint = ENDPOINTS[column]
    client = ACTORS[actor].connect(scene.world)

    real = send(client, endpoint, scene.target(ACTORS[actor].target))
    unknown = send(client, endpoint, scene.target(ACTORS[LEAK_PAIRS[actor]].target))

    assert (real.status_code, real.json) == (unknown.status_code, unknown.json)


@pytest.mark.parametrize(("method", "body"), [("GET", None), ("PATCH", {"dose_mg": 1})])
def test_one_patients_session_under_another_patients_id_is_not_found(app, scene, method, body):
    client = scene.world.as_clinician_x()
    before = clinical_state(app)

    theirs = client.request(
        method, f"/api/v1/patients/{scene.b.pid}/sessions/{scene.a.sid}", json=body
    )
    unknown = client.request(
        method, f"/api/v1/patients/{scene.b.pid}/sessions/{uuid.uuid4()}", json=body
    )

    assert_reveals_nothing(theirs, 404)
    assert theirs.json == unknown.json
    assert clinical_state(app) == before


def test_one_patients_entry_cannot_become_another_patients_baseline(app, scene):
    client = scene.world.as_clinician_x()
    before = clinical_state(app)

    response = client.put(
        f"/api/v1/patients/{scene.b.pid}/baseline/phq9", json={"entry_id": scene.a.eid}
    )

    assert response.status_code == 422
    assert ENTRY_NOTE not in response.get_data(as_text=True)
    assert clinical_state(app) == before


def test_a_patient_cannot_read_another_patients_session_under_their_own_id(scene):
    response = scene.world.as_patient_a().get(f"/api/v1/patients/me/sessions/{scene.b.sid}")

    assert_reveals_nothing(response, 404)


# ---------------------------------------------------------------- `me`


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        ("sessions", 200),
        ("session", 200),
        ("summary", 200),
        ("add session", 403),
        ("edit session", 403),
        ("set baseline", 403),
        ("clear baseline", 403),
    ],
)
def test_me_means_the_signed_in_patient(scene, column, expected):
    own = scene.a
    target = Target(pid="me", sid=own.sid, eid=own.eid, fid=own.fid)

    response = send(scene.world.as_patient_a(), ENDPOINTS[column], target)

    assert response.status_code == expected, response.json


@pytest.mark.parametrize("column", ["sessions", "session", "summary", "edit session"])
def test_me_is_not_found_for_a_clinician(scene, column):
    own = scene.a
    target = Target(pid="me", sid=own.sid, eid=own.eid, fid=own.fid)

    response = send(scene.world.as_clinician_x(), ENDPOINTS[column], target)

    assert_reveals_nothing(response, 404)
