"""The corrected outcome rules (scales.md, issue 11) through HTTP: the summary and the panel."""

from __future__ import annotations

from tests.conftest import World
from tests.test_summary_api import PHQ9_8, PHQ9_10, PHQ9_16, PHQ9_18, record_session, submit

B_ANSWERS = [3, 3, 3, 3, 3, 1, None, None, 0]  # 16 × 9 / 7
F_ANSWERS = [2, 2, 2, 1, 1, 1, None, None, 0]  # 9 × 9 / 7


def summary_of(clinician, pid: str) -> dict:
    response = clinician.get(f"/api/v1/patients/{pid}/summary?instrument=phq9")
    assert response.status_code == 200, response.json
    return response.json


def panel_row(clinician, pid: str) -> dict:
    response = clinician.get("/api/v1/patients", query_string={"limit": 1000})
    assert response.status_code == 200, response.json
    (row,) = [item for item in response.json["items"] if item["patient"]["id"] == pid]
    return row


def headline(answer: dict) -> tuple:
    return (
        answer["change"],
        answer["percent_change"],
        answer["response"],
        answer["remission"],
        answer["reliable_change"],
    )


def test_a_post_session_entry_moves_neither_the_summary_nor_the_panel(world: World):
    pid, clinician, patient = world.patient_a.id, world.as_clinician_x(), world.as_patient_a()
    submit(patient, "me", PHQ9_18, "2025-03-01T09:00:00+00:00", "baseline")
    record_session(clinician, pid, "2025-03-20T10:00:00+00:00")
    routine = submit(patient, "me", PHQ9_16, "2025-03-19T09:00:00+00:00", "routine")
    post = submit(patient, "me", PHQ9_8, "2025-03-20T14:00:00+00:00", "post_session")
    assert post["session_id"] is not None

    summary = summary_of(clinician, pid)
    assert summary["latest"]["id"] == routine["id"]
    assert headline(summary) == (2, 11.1, False, False, "no_change")
    # The post-session entry is in the series and in its session's pair.
    assert summary["daily"][-1] == {"date": "2025-03-20", "mean": 8.0, "n": 1}
    assert [entry["id"] for entry in summary["sessions"][0]["post"]] == [post["id"]]
    row = panel_row(clinician, pid)
    assert row["latest"]["total"] == 16
    assert headline(row) == (2, 11.1, False, False, "no_change")
    # The schedule still counts the post-session check-in as the newest entry.
    assert row["last_entry_at"] == "2025-03-20T14:00:00Z"


def test_a_baseline_entry_after_the_first_session_does_not_reset_the_comparison(world: World):
    pid, clinician, patient = world.patient_a.id, world.as_clinician_x(), world.as_patient_a()
    first = submit(patient, "me", PHQ9_18, "2025-03-01T09:00:00+00:00", "baseline")
    record_session(clinician, pid, "2025-03-03T10:00:00+00:00")
    submit(patient, "me", PHQ9_16, "2025-03-20T09:00:00+00:00", "baseline")
    submit(patient, "me", PHQ9_8, "2025-03-30T09:00:00+00:00", "routine")

    summary = summary_of(clinician, pid)
    assert (summary["baseline"]["id"], summary["baseline_rule"]) == (first["id"], 2)
    assert headline(summary) == (10, 55.6, True, False, "improved")
    row = panel_row(clinician, pid)
    assert (row["baseline"]["total"], row["baseline_rule"]) == (18, 2)
    assert headline(row) == (10, 55.6, True, False, "improved")


def test_the_proration_example_gives_change_9_and_43_8_percent_in_summary_and_panel(world):
    pid, clinician = world.patient_a.id, world.as_clinician_x()
    baseline = submit(clinician, pid, B_ANSWERS, "2025-03-01T09:00:00+00:00", "baseline")
    submit(clinician, pid, F_ANSWERS, "2025-03-15T09:00:00+00:00", "routine")
    assert baseline["total"] == 16 * 9 / 7  # stored unrounded (scales.md)

    summary = summary_of(clinician, pid)
    assert headline(summary) == (9, 43.8, False, False, "improved")
    assert headline(panel_row(clinician, pid)) == (9, 43.8, False, False, "improved")


def test_a_session_delta_between_prorated_totals_is_exact(world: World):
    pid, clinician = world.patient_a.id, world.as_clinician_x()
    record_session(clinician, pid, "2025-03-03T10:00:00+00:00")
    submit(clinician, pid, B_ANSWERS, "2025-03-03T08:00:00+00:00", "pre_session")
    submit(clinician, pid, F_ANSWERS, "2025-03-04T10:00:00+00:00", "post_session")

    (pair,) = summary_of(clinician, pid)["sessions"]
    assert pair["delta"] == 9
    assert pair["overlapping_recall"] is True


def test_every_auto_linked_pair_is_marked_as_overlapping_recall(world: World):
    pid, clinician, patient = world.patient_a.id, world.as_clinician_x(), world.as_patient_a()
    record_session(clinician, pid, "2025-03-03T10:00:00+00:00")
    # The widest auto-linked pair: 48 h before and 7 days after, 9 days apart (< 14).
    submit(patient, "me", PHQ9_18, "2025-03-01T10:00:00+00:00", "pre_session")
    submit(patient, "me", PHQ9_10, "2025-03-10T10:00:00+00:00", "post_session")

    (pair,) = summary_of(clinician, pid)["sessions"]
    assert pair["pre"] is not None and len(pair["post"]) == 1
    assert (pair["delta"], pair["overlapping_recall"]) == (8, True)
