"""services/outcomes: the summary with its open flags, and the explicit baseline."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from server.data.models import AuditEvent, BaselineChoice, OutcomeSnapshot, Patient
from server.domain.errors import Invalid, NotFound
from server.services import outcomes
from tests.conftest import database, entry_body
from tests.services.helpers import counted_statements, signed_in

ITEM_9 = [0, 0, 0, 0, 0, 0, 0, 0, 1]


def enter(client, pid: str, instrument: str = "phq9", answers=None, **fields) -> dict:
    response = client.post(
        f"/api/v1/patients/{pid}/entries", json=entry_body(instrument, answers=answers, **fields)
    )
    assert response.status_code == 201, response.json
    return response.json


def test_the_summary_carries_the_open_flags_and_reads_their_entries_in_one_query(app, world):
    clinician = world.as_clinician_x()
    pid = world.patient_a.id
    flagged = [enter(clinician, pid, answers=ITEM_9)["id"] for _ in range(2)]
    # Flags from another instrument: their entries are not among the summary's own.
    flagged += [enter(clinician, pid, "madrs", answers=[0] * 9 + [4])["id"] for _ in range(3)]

    with signed_in(app, world.clinician_x) as session:
        patient = session.get(Patient, pid)
        with counted_statements() as statements:
            summary = outcomes.summary(patient, "phq9")
            entry_ids = [flag.entry.id for flag in summary.open_flags]
            instruments = [flag.entry.instrument for flag in summary.open_flags]

    assert sorted(entry_ids) == sorted(flagged)
    assert sorted(instruments) == ["madrs", "madrs", "madrs", "phq9", "phq9"]
    # The summary's own entries, then every open flag's entry at once: not one per flag.
    entry_reads = [sql for sql in statements if sql.startswith("SELECT") and "FROM entry" in sql]
    assert len(entry_reads) == 2, statements
    with database(app) as session:
        assert session.scalars(select(AuditEvent.action)).all().count("summary.read") == 1


def test_the_summary_says_why_there_is_no_outcome(app, world):
    clinician = world.as_clinician_x()
    pid = world.patient_a.id

    with signed_in(app, world.clinician_x) as session:
        assert outcomes.summary(session.get(Patient, pid), "phq9").outcome_unavailable == (
            "no_entries"
        )
    enter(clinician, pid, answers=[1, 1, 1, 0, 0, 0, 0, 0, 0])
    with signed_in(app, world.clinician_x) as session:
        assert outcomes.summary(session.get(Patient, pid), "phq9").outcome_unavailable == (
            "no_follow_up"
        )


def test_an_unknown_instrument_has_no_baseline_to_set_or_clear(app, world):
    with signed_in(app, world.clinician_x) as session:
        patient = session.get(Patient, world.patient_a.id)
        clinician = session.merge(world.clinician_x)
        with pytest.raises(NotFound) as unknown:
            outcomes.set_baseline(patient, "bdi", "an entry", clinician)
        with pytest.raises(NotFound):
            outcomes.clear_baseline(patient, "bdi")

    assert unknown.value.message == "No such instrument."


def test_a_voided_entry_cannot_be_the_baseline(app, world):
    clinician = world.as_clinician_x()
    pid = world.patient_a.id
    entry = enter(clinician, pid)
    clinician.post(f"/api/v1/patients/{pid}/entries/{entry['id']}/void", json={"reason": "typo"})

    with signed_in(app, world.clinician_x) as session:
        with pytest.raises(Invalid) as refused:
            outcomes.set_baseline(
                session.get(Patient, pid), "phq9", entry["id"], session.merge(world.clinician_x)
            )

    assert refused.value.fields == {"entry_id": ["No such PHQ-9 entry to choose."]}
    with database(app) as session:
        assert session.scalars(select(BaselineChoice)).all() == []
        assert "baseline.set" not in session.scalars(select(AuditEvent.action)).all()


def test_setting_and_clearing_the_baseline_rewrites_the_panels_snapshot(app, world):
    clinician = world.as_clinician_x()
    pid = world.patient_a.id
    first = enter(clinician, pid, taken_at="2026-01-01T09:00:00+00:00")
    second = enter(clinician, pid, taken_at="2026-01-08T09:00:00+00:00")
    enter(clinician, pid, taken_at="2026-01-15T09:00:00+00:00")

    def snapshot() -> tuple:
        with database(app) as session:
            row = session.get(OutcomeSnapshot, (pid, "phq9"))
            return row.baseline_entry_id, row.baseline_rule

    assert snapshot() == (first["id"], 4)
    with signed_in(app, world.clinician_x) as session:
        chosen = outcomes.set_baseline(
            session.get(Patient, pid), "phq9", second["id"], session.merge(world.clinician_x)
        )
    assert (chosen.instrument, chosen.entry_id, chosen.rule) == ("phq9", second["id"], 1)
    assert snapshot() == (second["id"], 1)

    with signed_in(app, world.clinician_x) as session:
        outcomes.clear_baseline(session.get(Patient, pid), "phq9")

    assert snapshot() == (first["id"], 4)
    with database(app) as session:
        assert session.scalars(select(BaselineChoice)).all() == []


def _points(key: str):
    from hypothesis import strategies as st

    point = st.fixed_dictionaries(
        {
            key: st.dates(),
            # Means as the series writes them (round1: floats with one decimal), and wholes.
            "mean": st.integers(0, 600).map(lambda tenths: tenths / 10) | st.integers(0, 60),
            "n": st.integers(1, 40),
        }
    )
    return st.lists(point, max_size=30)


@pytest.mark.parametrize(
    "schema_name, key", [("DailyPoint", "date"), ("WeeklyPoint", "week_start")]
)
def test_a_series_is_written_as_its_declared_point_schema_writes_it(schema_name, key):
    """The summary's series are written directly (SeriesPoints), past marshmallow's per-point
    dump: the JSON text must be what the declared schema writes, point for point."""
    import json

    from hypothesis import given
    from marshmallow import fields

    from server.api import schemas

    point = getattr(schemas, schema_name)
    declared = fields.List(fields.Nested(point))
    fast = schemas.SeriesPoints(point, key)

    @given(_points(key))
    def check(points):
        written = fast.serialize("series", {"series": points})
        assert json.dumps(written) == json.dumps(declared.serialize("series", {"series": points}))

    check()
