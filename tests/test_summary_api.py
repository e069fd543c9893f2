"""The outcome summary and the explicit baseline, through HTTP (API.md, Outcomes)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.conftest import Browser, World, entry_body

# PHQ-9 answers with item 9 at 0 (no safety flag), by total.
PHQ9_18 = [3, 3, 3, 3, 2, 2, 1, 1, 0]
PHQ9_16 = [3, 3, 2, 2, 2, 2, 1, 1, 0]
PHQ9_10 = [2, 2, 1, 1, 1, 1, 1, 1, 0]
PHQ9_8 = [1, 1, 1, 1, 1, 1, 1, 1, 0]

# The worked example's timeline (UTC); the patient's zone is Europe/Berlin.
BASELINE_AT = "2025-03-01T09:00:00+00:00"  # a Saturday
SESSION_AT = "2025-03-03T10:00:00+00:00"  # a Monday
PRE_AT = "2025-03-03T08:00:00+00:00"
POST_AT = "2025-03-04T10:00:00+00:00"
ROUTINE_AT = "2025-03-17T09:00:00+00:00"  # a Monday


def summary_path(pid: str, instrument: str = "phq9") -> str:
    return f"/api/v1/patients/{pid}/summary?instrument={instrument}"


def record_session(clinician: Browser, pid: str, started_at: str) -> str:
    response = clinician.post(
        f"/api/v1/patients/{pid}/sessions",
        json={"started_at": started_at, "treatment": "ketamine_iv"},
    )
    assert response.status_code == 201, response.json
    return response.json["id"]


def submit(browser: Browser, pid: str, answers, taken_at: str, context: str, **more) -> dict:
    body = entry_body(
        more.pop("instrument", "phq9"), answers, taken_at=taken_at, context=context, **more
    )
    response = browser.post(f"/api/v1/patients/{pid}/entries", json=body)
    assert response.status_code == 201, response.json
    return response.json


@dataclass
class WorkedExample:
    pid: str
    clinician: Browser
    patient: Browser
    session_id: str
    baseline: dict
    pre: dict
    post: dict
    routine: dict


@pytest.fixture
def example(world: World) -> WorkedExample:
    """A session, then the patient's baseline (18), pre (16), post (10) and routine (8)."""
    pid = world.patient_a.id
    clinician = world.as_clinician_x()
    patient = world.as_patient_a()
    session_id = record_session(clinician, pid, SESSION_AT)
    return WorkedExample(
        pid=pid,
        clinician=clinician,
        patient=patient,
        session_id=session_id,
        baseline=submit(patient, "me", PHQ9_18, BASELINE_AT, "baseline"),
        pre=submit(patient, "me", PHQ9_16, PRE_AT, "pre_session"),
        post=submit(patient, "me", PHQ9_10, POST_AT, "post_session"),
        routine=submit(patient, "me", PHQ9_8, ROUTINE_AT, "routine"),
    )


def headline_of(summary: dict) -> tuple:
    return (
        summary["change"],
        summary["percent_change"],
        summary["response"],
        summary["remission"],
        summary["reliable_change"],
    )


# ---------------------------------------------------------------- the summary


def test_the_summary_reports_the_worked_example(example):
    response = example.clinician.get(summary_path(example.pid))
    assert response.status_code == 200, response.json
    summary = response.json
    assert summary["instrument"] == "phq9"
    assert summary["baseline"]["id"] == example.baseline["id"]
    assert summary["baseline"]["total"] == 18
    assert summary["baseline_rule"] == 2
    assert summary["latest"]["id"] == example.routine["id"]
    assert summary["latest"]["total"] == 8
    assert headline_of(summary) == (10, 55.6, True, False, "improved")


def test_the_summary_series_are_local_daily_and_monday_weekly_means(example):
    summary = example.clinician.get(summary_path(example.pid)).json
    assert summary["daily"] == [
        {"date": "2025-03-01", "mean": 18.0, "n": 1},
        {"date": "2025-03-03", "mean": 16.0, "n": 1},
        {"date": "2025-03-04", "mean": 10.0, "n": 1},
        {"date": "2025-03-17", "mean": 8.0, "n": 1},
    ]
    assert summary["weekly"] == [
        {"week_start": "2025-02-24", "mean": 18.0, "n": 1},
        {"week_start": "2025-03-03", "mean": 13.0, "n": 2},
        {"week_start": "2025-03-17", "mean": 8.0, "n": 1},
    ]


def test_the_summary_pairs_the_session_with_its_pre_and_post_entries(example):
    summary = example.clinician.get(summary_path(example.pid)).json
    (pair,) = summary["sessions"]
    assert pair["session"]["id"] == example.session_id
    assert pair["session"]["started_at"] == "2025-03-03T10:00:00Z"
    assert pair["pre"]["id"] == example.pre["id"]
    assert [entry["id"] for entry in pair["post"]] == [example.post["id"]]
    assert pair["delta"] == 6
    assert pair["overlapping_recall"] is True


def test_a_pair_overlaps_in_recall_a_week_apart_but_not_at_exactly_14_days(world):
    pid = world.patient_a.id
    clinician = world.as_clinician_x()
    patient = world.as_patient_a()
    session_id = record_session(clinician, pid, "2025-05-05T10:00:00+00:00")
    submit(patient, "me", PHQ9_16, "2025-05-05T09:00:00+00:00", "pre_session")
    submit(patient, "me", PHQ9_10, "2025-05-12T09:00:00+00:00", "post_session")
    summary = clinician.get(summary_path(pid)).json
    (pair,) = summary["sessions"]
    assert pair["session"]["id"] == session_id
    assert pair["delta"] == 6
    assert pair["overlapping_recall"] is True

    other = record_session(clinician, pid, "2025-06-02T10:00:00+00:00")
    submit(patient, "me", PHQ9_18, "2025-06-02T09:00:00+00:00", "pre_session")
    submit(
        patient,
        "me",
        PHQ9_8,
        "2025-06-16T09:00:00+00:00",
        "post_session",
        session_id=other,
    )
    pairs = {p["session"]["id"]: p for p in clinician.get(summary_path(pid)).json["sessions"]}
    assert pairs[other]["delta"] == 10
    assert pairs[other]["overlapping_recall"] is False


def test_a_routine_entry_in_the_week_before_the_first_session_is_the_baseline_by_rule_3(world):
    pid = world.patient_a.id
    clinician = world.as_clinician_x()
    patient = world.as_patient_a()
    submit(patient, "me", PHQ9_10, "2025-02-01T09:00:00+00:00", "routine")
    week_before = submit(patient, "me", PHQ9_18, "2025-02-25T09:00:00+00:00", "routine")
    submit(patient, "me", PHQ9_8, "2025-03-10T09:00:00+00:00", "routine")
    record_session(clinician, pid, "2025-03-01T10:00:00+00:00")
    summary = clinician.get(summary_path(pid)).json
    assert summary["baseline"]["id"] == week_before["id"]
    assert summary["baseline_rule"] == 3
    assert headline_of(summary) == (10, 55.6, True, False, "improved")


def test_with_a_single_entry_every_outcome_field_is_null(world):
    patient = world.as_patient_a()
    only = submit(patient, "me", PHQ9_18, BASELINE_AT, "baseline")
    summary = patient.get(summary_path("me")).json
    assert summary["baseline"]["id"] == only["id"]
    assert summary["baseline_rule"] == 2
    assert headline_of(summary) == (None, None, None, None, None)


def test_an_empty_summary_has_no_baseline_and_empty_series(world):
    summary = world.as_clinician_x().get(summary_path(world.patient_a.id)).json
    assert summary["baseline"] is None
    assert summary["baseline_rule"] is None
    assert summary["latest"] is None
    assert headline_of(summary) == (None, None, None, None, None)
    assert (summary["daily"], summary["weekly"], summary["sessions"]) == ([], [], [])


# ---------------------------------------------------------------- thresholds


def test_phq9_thresholds_say_remission_at_4_or_below(example):
    thresholds = example.clinician.get(summary_path(example.pid)).json["thresholds"]
    assert thresholds["remission_max"] == 4
    assert thresholds["response_percent"] == 50
    assert thresholds["min_baseline"] == 10
    assert thresholds["reliable_change"] == 6


def test_madrs_thresholds_say_12_by_default_and_10_once_the_clinic_chooses_it(world):
    pid = world.patient_a.id
    clinician = world.as_clinician_x()
    submit(clinician, pid, [3] * 10, "2025-03-01T09:00:00+00:00", "baseline", instrument="madrs")
    submit(
        clinician,
        pid,
        [2, 2, 2, 2, 2, 1, 0, 0, 0, 0],
        "2025-03-20T09:00:00+00:00",
        "routine",
        instrument="madrs",
    )
    before = clinician.get(summary_path(pid, "madrs")).json
    assert before["thresholds"]["remission_max"] == 12
    assert (before["change"], before["remission"], before["reliable_change"]) == (19, True, None)

    patched = world.as_admin_x().patch("/api/v1/clinic", json={"madrs_remission_max": 10})
    assert patched.status_code == 200, patched.json

    after = clinician.get(summary_path(pid, "madrs")).json
    assert after["thresholds"]["remission_max"] == 10
    assert (after["change"], after["remission"]) == (19, False)


# ---------------------------------------------------------------- voided entries


def test_a_voided_entry_leaves_the_summary_but_stays_in_the_entry_list(example):
    voided = example.patient.post(
        f"/api/v1/patients/me/entries/{example.routine['id']}/void",
        json={"reason": "answered for the wrong week"},
    )
    assert voided.status_code == 200, voided.json

    summary = example.clinician.get(summary_path(example.pid)).json
    # Corrected (issue 11): the follow-up is never a post-session entry (scales.md, Outcomes:
    # "of any context except post_session"); this test expected the post entry (10) here.
    assert summary["latest"]["id"] == example.pre["id"]
    assert headline_of(summary) == (2, 11.1, False, False, "no_change")
    assert "2025-03-17" not in [point["date"] for point in summary["daily"]]
    assert "2025-03-17" not in [point["week_start"] for point in summary["weekly"]]
    assert sum(point["n"] for point in summary["daily"]) == 3

    listed = example.clinician.get(f"/api/v1/patients/{example.pid}/entries?instrument=phq9")
    by_id = {item["id"]: item for item in listed.json["items"]}
    assert len(by_id) == 4
    assert by_id[example.routine["id"]]["voided"] is True


def test_a_voided_post_entry_leaves_its_session_pair(example):
    example.patient.post(
        f"/api/v1/patients/me/entries/{example.post['id']}/void", json={"reason": "mistake"}
    )
    (pair,) = example.clinician.get(summary_path(example.pid)).json["sessions"]
    assert pair["post"] == []
    assert pair["delta"] is None


# ---------------------------------------------------------------- the explicit baseline


def test_a_clinician_sets_the_baseline_and_the_change_follows_it(example):
    response = example.clinician.put(
        f"/api/v1/patients/{example.pid}/baseline/phq9", json={"entry_id": example.pre["id"]}
    )
    assert response.status_code == 200, response.json
    assert response.json["entry_id"] == example.pre["id"]
    assert response.json["rule"] == 1

    summary = example.clinician.get(summary_path(example.pid)).json
    assert summary["baseline"]["id"] == example.pre["id"]
    assert summary["baseline_rule"] == 1
    assert headline_of(summary) == (8, 50.0, True, False, "improved")


def test_deleting_the_explicit_baseline_returns_to_the_default_rule(example):
    base = f"/api/v1/patients/{example.pid}/baseline/phq9"
    assert example.clinician.put(base, json={"entry_id": example.pre["id"]}).status_code == 200
    deleted = example.clinician.delete(base)
    assert deleted.status_code == 204

    summary = example.clinician.get(summary_path(example.pid)).json
    assert summary["baseline"]["id"] == example.baseline["id"]
    assert summary["baseline_rule"] == 2
    assert headline_of(summary) == (10, 55.6, True, False, "improved")


def _other_patients_entry(world, example) -> str:
    return submit(world.as_patient_b(), "me", PHQ9_18, BASELINE_AT, "baseline")["id"]


def _gad7_entry(world, example) -> str:
    return submit(example.patient, "me", [2] * 7, BASELINE_AT, "baseline", instrument="gad7")["id"]


def _voided_entry(world, example) -> str:
    entry = submit(example.patient, "me", PHQ9_16, "2025-02-20T09:00:00+00:00", "routine")
    voided = example.patient.post(
        f"/api/v1/patients/me/entries/{entry['id']}/void", json={"reason": "duplicate"}
    )
    assert voided.status_code == 200
    return entry["id"]


def _unknown_entry(world, example) -> str:
    return "0b0e7b9e-6a51-4d8e-9a63-3f3f3f3f3f3f"


@pytest.mark.parametrize(
    "make_entry_id",
    [_other_patients_entry, _gad7_entry, _voided_entry, _unknown_entry],
    ids=["another patient's", "a GAD-7", "a voided", "an unknown"],
)
def test_setting_the_baseline_to_an_unusable_entry_is_a_422_naming_entry_id(
    world, example, make_entry_id
):
    entry_id = make_entry_id(world, example)
    response = example.clinician.put(
        f"/api/v1/patients/{example.pid}/baseline/phq9", json={"entry_id": entry_id}
    )
    assert response.status_code == 422, response.json
    assert "entry_id" in response.json["errors"]["json"]

    summary = example.clinician.get(summary_path(example.pid)).json
    assert summary["baseline_rule"] == 2
    assert summary["baseline"]["id"] == example.baseline["id"]


# ---------------------------------------------------------------- who may do what


def test_a_patient_reads_their_own_summary_as_me(example):
    response = example.patient.get(summary_path("me"))
    assert response.status_code == 200, response.json
    assert response.json["baseline"]["id"] == example.baseline["id"]
    assert headline_of(response.json) == (10, 55.6, True, False, "improved")


def test_a_patient_cannot_set_or_clear_their_own_baseline(example):
    put = example.patient.put(
        "/api/v1/patients/me/baseline/phq9", json={"entry_id": example.pre["id"]}
    )
    assert put.status_code == 403
    put_by_id = example.patient.put(
        f"/api/v1/patients/{example.pid}/baseline/phq9", json={"entry_id": example.pre["id"]}
    )
    assert put_by_id.status_code == 403
    assert example.patient.delete("/api/v1/patients/me/baseline/phq9").status_code == 403

    summary = example.patient.get(summary_path("me")).json
    assert summary["baseline_rule"] == 2


def test_a_clinician_of_another_clinic_cannot_read_the_summary(world, example):
    response = world.as_clinician_y().get(summary_path(example.pid))
    assert response.status_code == 404


# ---------------------------------------------------------------- flags and bad queries


def test_open_flags_list_an_open_item_9_flag_until_it_is_resolved(example):
    flagged = submit(
        example.patient, "me", [1, 1, 1, 1, 1, 1, 1, 1, 1], "2025-03-18T09:00:00+00:00", "routine"
    )
    assert flagged["flags"] == ["self_harm"]

    summary = example.clinician.get(summary_path(example.pid)).json
    (flag,) = summary["open_flags"]
    assert flag["kind"] == "self_harm"
    assert flag["status"] == "open"
    assert flag["entry"]["id"] == flagged["id"]

    resolved = example.clinician.post(
        f"/api/v1/flags/{flag['id']}/resolve", json={"note": "Called the patient; safe plan."}
    )
    assert resolved.status_code == 200, resolved.json
    assert example.clinician.get(summary_path(example.pid)).json["open_flags"] == []


def test_an_unknown_instrument_is_a_422_naming_instrument(example):
    response = example.clinician.get(summary_path(example.pid, "bdi2"))
    assert response.status_code == 422
    assert "instrument" in response.json["errors"]["query"]
