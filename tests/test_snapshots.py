"""The panel's outcome snapshot is kept in step by the session hook, on every write path.

Each write below goes through HTTP and changes some patient's outcome; afterwards every panel
row must say what that patient's summary says, and every stored snapshot must equal a fresh
recompute. The list of writes is checked against the app's routes, so a new write endpoint
fails here until it is driven below or said to leave outcomes alone.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select, update

from server.data import snapshots
from server.data.extensions import db
from server.data.models import BaselineChoice, Entry, OutcomeSnapshot, Patient, TreatmentSession
from server.domain.instruments import INSTRUMENTS, score
from server.services.synthetic import build_clinic
from tests.conftest import Browser, World, database

PATIENTS = "/api/v1/patients"
ENTRIES = "/api/v1/patients/<string:pid>/entries"
VOID = "/api/v1/patients/<string:pid>/entries/<string:eid>/void"
SESSIONS = "/api/v1/patients/<string:pid>/sessions"
SESSION = "/api/v1/patients/<string:pid>/sessions/<string:sid>"
BASELINE = "/api/v1/patients/<string:pid>/baseline/<string:instrument_id>"
HEADLINE = (
    "baseline",
    "baseline_rule",
    "latest",
    "change",
    "percent_change",
    "response",
    "remission",
    "reliable_change",
)


def days_ago(days: float) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).replace(microsecond=0).isoformat()


def answers_for(instrument: str, total: int) -> list[int]:
    """Answers adding up to `total`, safety item (the last, where there is one) at 0."""
    definition = INSTRUMENTS[instrument]
    highest = max(definition.option_values)
    answers = [0] * len(definition.items)
    free = len(answers) - (1 if definition.safety_items else 0)
    for position in range(free):
        answers[position] = min(highest, total - sum(answers))
    assert score(definition, answers).total == total
    return answers


def submit(client, pid: str, instrument: str, total: int, taken_at: str) -> dict:
    body = {
        "id": str(uuid.uuid4()),
        "instrument": instrument,
        "answers": answers_for(instrument, total),
        "taken_at": taken_at,
        "context": "routine",
    }
    response = client.post(f"{PATIENTS}/{pid}/entries", json=body)
    assert response.status_code == 201, response.json
    return response.json


def expect(response, status: int = 200) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    return response.get_json(silent=True)


@dataclass
class Scene:
    """Alice's history (and Bob's), with the ids the writes refer to."""

    world: World
    clinician: Browser
    admin: Browser
    alice: Browser
    pid: str
    phq9: list[dict]  # 20 and 14 by the clinician, then 9 by Alice
    madrs: list[dict]  # 30, then 11: remission under the cut-off of 12, not under 10
    session: dict  # 11 days ago: the PHQ-9 baseline is the 14 the day before (rule 3)


@pytest.fixture
def scene(world) -> Scene:
    clinician, alice = world.as_clinician_x(), world.as_patient_a()
    pid = world.patient_a.id
    phq9 = [
        submit(clinician, pid, "phq9", 20, days_ago(20)),
        submit(clinician, pid, "phq9", 14, days_ago(12)),
        submit(alice, "me", "phq9", 9, days_ago(3)),
    ]
    madrs = [
        submit(clinician, pid, "madrs", 30, days_ago(20)),
        submit(clinician, pid, "madrs", 11, days_ago(2)),
    ]
    submit(world.as_patient_b(), "me", "gad7", 12, days_ago(5))
    session = expect(
        clinician.post(
            f"{PATIENTS}/{pid}/sessions",
            json={"started_at": days_ago(11), "treatment": "ketamine_iv"},
        ),
        201,
    )
    return Scene(world, clinician, world.as_admin_x(), alice, pid, phq9, madrs, session)


# ---------------------------------------------------------------- the writes


@dataclass(frozen=True)
class Write:
    method: str
    route: str
    act: Callable[[Scene], object]
    prepare: Callable[[Scene], object] = lambda scene: None


def _import_a_copy_of_the_clinic(scene: Scene) -> None:
    """The clinic's export under fresh ids: two new patients, with every entry."""
    text = scene.admin.get("/api/v1/export").get_data(as_text=True)
    for block in json.loads(text)["patients"]:
        old_ids = [block["patient"]["id"]]
        old_ids += [row["id"] for kind in ("sessions", "entries", "flags") for row in block[kind]]
        # People too: an import may name nobody who has an account here but the admin.
        old_ids += [e["entered_by"]["id"] for e in block["entries"]]
        old_ids += [f["resolved_by_id"] for f in block["flags"] if f["resolved_by_id"]]
        for old in dict.fromkeys(old_ids):
            text = text.replace(old, str(uuid.uuid4()))
    counts = expect(scene.admin.post("/api/v1/import", json=json.loads(text)))
    assert counts["patients"] == 2


def _set_baseline(scene: Scene) -> None:
    body = {"entry_id": scene.phq9[0]["id"]}
    expect(scene.clinician.put(f"{PATIENTS}/{scene.pid}/baseline/phq9", json=body))


WRITES = {
    "a patient submits an entry": Write(
        "POST", ENTRIES, lambda s: submit(s.alice, "me", "phq9", 4, days_ago(0.1))
    ),
    "a clinician submits an entry": Write(
        "POST", ENTRIES, lambda s: submit(s.clinician, s.pid, "madrs", 20, days_ago(0.1))
    ),
    "a patient voids their entry": Write(
        "POST",
        VOID,
        lambda s: expect(
            s.alice.post(f"{PATIENTS}/me/entries/{s.phq9[2]['id']}/void", json={"reason": "x"})
        ),
    ),
    "a clinician voids the baseline entry": Write(
        "POST",
        VOID,
        lambda s: expect(
            s.clinician.post(
                f"{PATIENTS}/{s.pid}/entries/{s.phq9[1]['id']}/void", json={"reason": "x"}
            )
        ),
    ),
    "a clinician records an earlier session": Write(
        "POST",
        SESSIONS,
        lambda s: expect(
            s.clinician.post(
                f"{PATIENTS}/{s.pid}/sessions",
                json={"started_at": days_ago(19), "treatment": "ketamine_iv"},
            ),
            201,
        ),
    ),
    "a clinician moves the session": Write(
        "PATCH",
        SESSION,
        lambda s: expect(
            s.clinician.patch(
                f"{PATIENTS}/{s.pid}/sessions/{s.session['id']}", json={"started_at": days_ago(19)}
            )
        ),
    ),
    "a clinician sets the baseline": Write("PUT", BASELINE, _set_baseline),
    "a clinician clears the baseline": Write(
        "DELETE",
        BASELINE,
        lambda s: expect(s.clinician.delete(f"{PATIENTS}/{s.pid}/baseline/phq9"), 204),
        prepare=_set_baseline,
    ),
    "an admin imports a document": Write("POST", "/api/v1/import", _import_a_copy_of_the_clinic),
    "an admin changes the MADRS cut-off": Write(
        "PATCH",
        "/api/v1/clinic",
        lambda s: expect(s.admin.patch("/api/v1/clinic", json={"madrs_remission_max": 10})),
    ),
}

# Writes that cannot change a snapshot, and why.
LEAVES_OUTCOMES_ALONE = {
    ("POST", "/api/v1/auth/enroll"): "an account, no clinical data",
    ("POST", "/api/v1/auth/login"): "a sign-in",
    ("POST", "/api/v1/auth/logout"): "a sign-out",
    ("DELETE", "/api/v1/auth/sessions"): "sign-in sessions",
    ("DELETE", "/api/v1/auth/sessions/<string:session_id>"): "a sign-in session",
    ("POST", "/api/v1/auth/password"): "a password",
    ("POST", "/api/v1/auth/reset"): "a password",
    ("POST", "/api/v1/clinicians/<string:clinician_id>/reset"): "a reset code",
    ("POST", "/api/v1/auth/tokens"): "a token",
    ("DELETE", "/api/v1/auth/tokens/<string:token_id>"): "a token",
    ("POST", "/api/v1/auth/passkeys/registration/options"): "a passkey challenge",
    ("POST", "/api/v1/auth/passkeys"): "a passkey",
    ("DELETE", "/api/v1/auth/passkeys/<string:passkey_id>"): "a passkey",
    ("POST", "/api/v1/auth/passkey-login/options"): "a passkey challenge",
    ("POST", "/api/v1/auth/passkey-login"): "a sign-in",
    ("DELETE", "/api/v1/clinicians/<string:clinician_id>/passkeys"): "passkeys",
    ("POST", "/api/v1/clinicians"): "an account",
    ("POST", "/api/v1/clinicians/<string:clinician_id>/activate"): "an account",
    ("POST", "/api/v1/clinicians/<string:clinician_id>/deactivate"): "an account",
    ("POST", "/api/v1/flags/<string:fid>/resolve"): "the panel counts open flags live",
    ("POST", "/api/v1/patients"): "a new patient has no entries",
    ("PATCH", "/api/v1/patients/<string:pid>"): "name, external id, time zone: read live",
    ("POST", "/api/v1/patients/<string:pid>/enrollment"): "an enrollment code",
    ("POST", "/api/v1/patients/<string:pid>/deactivate"): "an account",
    ("POST", "/api/v1/patients/<string:pid>/activate"): "an account",
    ("POST", "/api/v1/patients/<string:pid>/safety-signals"): "the panel counts open flags live",
    ("PUT", "/api/v1/patients/<string:pid>/schedule"): "what is due is computed live",
    ("POST", "/api/v1/patients/<string:pid>/sessions/<string:sid>/report"): (
        "side effects: no outcome reads them"
    ),
    ("PUT", "/api/v1/patients/<string:pid>/sessions/<string:sid>/monitoring"): (
        "vital signs: no outcome reads them"
    ),
    ("POST", "/api/v1/patients/<string:pid>/push-subscriptions"): "a browser for reminders",
    ("DELETE", "/api/v1/patients/<string:pid>/push-subscriptions"): "a browser for reminders",
    ("PUT", "/api/v1/patients/<string:pid>/reminders"): "reminder settings",
}


def test_every_write_endpoint_is_driven_here_or_said_to_leave_outcomes_alone(app):
    writes = {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"GET", "HEAD", "OPTIONS"}
    }
    driven = {(write.method, write.route) for write in WRITES.values()}
    assert driven.isdisjoint(LEAVES_OUTCOMES_ALONE)
    assert writes == driven | set(LEAVES_OUTCOMES_ALONE)


# ---------------------------------------------------------------- the checks


def headline(summary_or_row: dict) -> dict:
    """The fields the panel and the summary share; baseline and latest as the panel has them."""
    found = {name: summary_or_row[name] for name in HEADLINE}
    for name in ("baseline", "latest"):
        if found[name] is not None:
            found[name] = {key: found[name][key] for key in ("total", "severity", "taken_at")}
    return found


def summaries(clinician: Browser) -> dict:
    """Every patient's headline per instrument, from their summaries."""
    pids = [
        row["patient"]["id"] for row in expect(clinician.get(f"{PATIENTS}?limit=1000"))["items"]
    ]
    return {
        (pid, instrument): headline(
            expect(clinician.get(f"{PATIENTS}/{pid}/summary?instrument={instrument}"))
        )
        for pid in pids
        for instrument in INSTRUMENTS
    }


def panel(clinician: Browser) -> dict:
    """Every patient's headline per instrument, from the panel."""
    return {
        (row["patient"]["id"], instrument): headline(row)
        for instrument in INSTRUMENTS
        for row in expect(clinician.get(f"{PATIENTS}?instrument={instrument}&limit=1000"))["items"]
    }


def stored_and_fresh(app) -> tuple[dict, dict]:
    """Every snapshot row as stored, and as a recompute from scratch gives it (rolled back)."""

    def rows(session) -> dict:
        return {
            (row.patient_id, row.instrument): dict(row._mapping)
            for row in session.execute(select(*OutcomeSnapshot.__table__.columns))
        }

    with database(app) as session:
        stored = rows(session)
        for patient_id in session.scalars(select(Patient.id)).all():
            snapshots.refresh_snapshots(patient_id, session)
        session.flush()
        fresh = rows(session)
        session.rollback()
    return stored, fresh


def assert_in_step(app, clinician: Browser) -> dict:
    expected = summaries(clinician)
    assert panel(clinician) == expected
    stored, fresh = stored_and_fresh(app)
    assert stored == fresh
    return expected


@pytest.mark.parametrize("name", WRITES)
def test_after_each_write_the_panel_says_what_the_summary_says(app, scene, name):
    write = WRITES[name]
    write.prepare(scene)
    before = assert_in_step(app, scene.clinician)

    write.act(scene)

    after = assert_in_step(app, scene.clinician)
    assert after != before, "this write should change an outcome, or it proves nothing"


# ---------------------------------------------------------------- the hook itself


@pytest.fixture
def recomputes(monkeypatch) -> list[str]:
    """The patient ids the hook recomputes, in order."""
    calls: list[str] = []
    original = snapshots.refresh_snapshots

    def counting(patient_id, session=None):
        calls.append(patient_id)
        original(patient_id, session)

    monkeypatch.setattr(snapshots, "refresh_snapshots", counting)
    return calls


def test_a_write_that_flushes_several_times_recomputes_its_patient_once(scene, recomputes):
    # Recording a session flushes three times (the session, the audit, the relinking).
    WRITES["a clinician records an earlier session"].act(scene)
    assert recomputes == [scene.pid]


def test_a_cut_off_change_recomputes_each_patient_with_madrs_entries_once(scene, recomputes):
    WRITES["an admin changes the MADRS cut-off"].act(scene)
    assert recomputes == [scene.pid]


def test_a_refused_write_recomputes_nothing(scene, recomputes):
    void = f"{PATIENTS}/me/entries/{scene.phq9[2]['id']}/void"
    expect(scene.alice.post(void, json={"reason": "mistake"}))
    recomputes.clear()
    expect(scene.alice.post(void, json={"reason": "again"}), 409)
    expect(scene.alice.get("/api/v1/auth/me"))  # a later commit in a new request
    assert recomputes == []


def test_reads_recompute_nothing(scene, recomputes):
    summaries(scene.clinician)
    assert recomputes == []


def _entry_row(patient_id: str, total: int, days: float) -> dict:
    answers = answers_for("phq9", total)
    scored = score(INSTRUMENTS["phq9"], answers)
    return {
        "id": str(uuid.uuid4()),
        "patient_id": patient_id,
        "instrument": "phq9",
        "answers": answers,
        "taken_at": datetime.now(UTC).replace(microsecond=0) - timedelta(days=days),
        "context": "routine",
        "session_explicit": False,
        "total": scored.total,
        "severity": scored.severity,
        "flags": [],
        "imputed_items": [],
        "entered_by_id": patient_id,
        "entered_by_role": "patient",
        "request_hash": "0" * 64,
        "voided": False,
    }


def latest_total(app, patient_id: str) -> float | None:
    with database(app) as session:
        return session.scalar(
            select(OutcomeSnapshot.latest_total).where(
                OutcomeSnapshot.patient_id == patient_id, OutcomeSnapshot.instrument == "phq9"
            )
        )


def test_bulk_statements_through_the_session_keep_snapshots_in_step(app, world):
    pid = world.patient_b.id
    first, second = _entry_row(pid, 18, 10), _entry_row(pid, 7, 2)
    with database(app) as session:
        session.execute(insert(Entry), [first, second])
        session.commit()
    assert latest_total(app, pid) == 7

    with database(app) as session:
        session.execute(update(Entry).where(Entry.id == second["id"]).values(voided=True))
        session.commit()
    assert latest_total(app, pid) == 18

    with database(app) as session:
        session.execute(insert(Entry).values(**_entry_row(pid, 3, 1)))
        session.commit()
    assert latest_total(app, pid) == 3

    with database(app) as session:
        session.execute(delete(Entry).where(Entry.patient_id == pid))
        session.commit()
    assert latest_total(app, pid) is None
    stored, fresh = stored_and_fresh(app)
    assert stored == fresh


def test_a_synthetic_clinic_has_every_snapshot_in_step(app):
    with database(app):
        clinic = build_clinic("Synthetic", patients=3, years=0.2, seed=7)
        assert (
            db.session.scalar(select(db.func.count()).where(OutcomeSnapshot.clinic_id == clinic.id))
            == 6
        )  # PHQ-9 and GAD-7 for each
    stored, fresh = stored_and_fresh(app)
    assert stored == fresh


def test_rows_changed_and_deleted_through_the_unit_of_work_keep_snapshots_in_step(app, world):
    pid = world.patient_b.id
    first, second = _entry_row(pid, 18, 10), _entry_row(pid, 7, 2)
    with database(app) as session:
        session.add_all([Entry(**first), Entry(**second)])
        session.commit()
    assert latest_total(app, pid) == 7

    with database(app) as session:
        session.get(Entry, second["id"]).voided = True
        session.commit()
    assert latest_total(app, pid) == 18

    with database(app) as session:
        survivor = session.get(Entry, first["id"])
        session.expire(survivor)  # a deleted row's patient is read before it is gone
        session.delete(survivor)
        session.delete(session.get(Entry, second["id"]))
        session.commit()
    assert latest_total(app, pid) is None


# ---------------------------------------------------------------- constant work per write


def _full_headline(session, patient_id: str, instrument_id: str, remission_max: int) -> tuple:
    """outcomes.headline() over the patient's whole history: what a snapshot must equal."""
    from server.domain import outcomes

    entries = session.execute(
        select(Entry).where(
            Entry.patient_id == patient_id,
            Entry.instrument == instrument_id,
            Entry.voided.is_(False),
        )
    ).scalars()
    sessions = session.scalars(
        select(TreatmentSession).where(TreatmentSession.patient_id == patient_id)
    )
    explicit = session.scalar(
        select(BaselineChoice.entry_id).where(
            BaselineChoice.patient_id == patient_id, BaselineChoice.instrument == instrument_id
        )
    )
    baseline, rule, latest, comparison = outcomes.headline(
        INSTRUMENTS[instrument_id], list(entries), list(sessions), explicit, remission_max
    )
    return (
        baseline.id if baseline else None,
        rule,
        latest.id if latest else None,
        None if comparison.change is None else float(comparison.change),
        None if comparison.percent_change is None else float(comparison.percent_change),
        comparison.response,
        comparison.remission,
        comparison.reliable_change,
    )


HISTORY_ENTRY = st.tuples(
    st.integers(0, 24),  # total (item 9 stays at 0)
    st.integers(0, 30),  # day: few days and hours, so that entries often tie in time
    st.sampled_from([9, 21]),  # hour
    # `baseline` rarely, or rule 2 would hide the others
    st.sampled_from(["routine"] * 3 + ["pre_session", "post_session"] * 2 + ["baseline"]),
    st.booleans(),  # voided
)


@settings(
    max_examples=int(os.environ.get("TIDEMARK_SNAPSHOT_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    history=st.lists(HISTORY_ENTRY, min_size=1, max_size=14),
    sessions=st.lists(
        st.tuples(st.integers(0, 30), st.sampled_from([9, 21]), st.booleans()), max_size=3
    ),
    chosen=st.none() | st.integers(0, 13),
)
def test_a_snapshot_read_from_a_few_entries_equals_headline_over_the_whole_history(
    app, world, history, sessions, chosen
):
    """The snapshot reads only the entries that can be chosen (constant work per write);
    whatever the history, it chooses what headline() chooses reading every entry."""
    pid = world.patient_b.id
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rows = []
    for total, day, hour, context, voided in history:
        row = _entry_row(pid, total, 0)
        row.update(taken_at=start + timedelta(days=day, hours=hour), context=context, voided=voided)
        rows.append(row)
    with database(app) as session:
        for day, hour, cancelled in sessions:
            when = start + timedelta(days=day, hours=hour, minutes=30)
            session.add(
                TreatmentSession(
                    patient_id=pid,
                    started_at=when,
                    treatment="ketamine_iv",
                    created_by_id=world.clinician_x.id,
                    cancelled_at=when if cancelled else None,
                    cancelled_by_id=world.clinician_x.id if cancelled else None,
                )
            )
        session.execute(insert(Entry), rows)
        if chosen is not None and chosen < len(rows):
            session.add(
                BaselineChoice(
                    patient_id=pid,
                    instrument="phq9",
                    entry_id=rows[chosen]["id"],
                    set_by_id=world.clinician_x.id,
                )
            )
        session.commit()
    try:
        with database(app) as session:
            stored = session.execute(
                select(
                    OutcomeSnapshot.baseline_entry_id,
                    OutcomeSnapshot.baseline_rule,
                    OutcomeSnapshot.latest_entry_id,
                    OutcomeSnapshot.change,
                    OutcomeSnapshot.percent_change,
                    OutcomeSnapshot.response,
                    OutcomeSnapshot.remission,
                    OutcomeSnapshot.reliable_change,
                    OutcomeSnapshot.entry_count,
                ).where(OutcomeSnapshot.patient_id == pid, OutcomeSnapshot.instrument == "phq9")
            ).one_or_none()
            counted = [row for row in rows if not row["voided"]]
            if not counted:
                assert stored is None
                return
            assert stored is not None
            assert tuple(stored)[:-1] == _full_headline(
                session, pid, "phq9", INSTRUMENTS["phq9"].outcome.remission_max
            )
            assert stored.entry_count == len(counted)
    finally:
        with database(app) as session:
            session.execute(delete(BaselineChoice).where(BaselineChoice.patient_id == pid))
            session.execute(delete(Entry).where(Entry.patient_id == pid))
            session.execute(delete(TreatmentSession).where(TreatmentSession.patient_id == pid))
            session.commit()
