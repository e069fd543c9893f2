"""mood_now over HTTP: entries, the summary and its session pairs, the panel and exports."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from tests.conftest import entry_body


def hours_ago(hours: float) -> str:
    return (datetime.now(UTC) - timedelta(hours=hours)).replace(microsecond=0).isoformat()


def rating(answer, **fields) -> dict:
    return entry_body("mood_now", answers=[answer], **fields)


def post_entry(browser, body: dict, pid: str = "me"):
    return browser.post(f"/api/v1/patients/{pid}/entries", json=body)


def add_session(world, started_at: str) -> dict:
    response = world.as_clinician_x().post(
        f"/api/v1/patients/{world.patient_a.id}/sessions",
        json={"started_at": started_at, "treatment": "ketamine_iv", "dose_mg": 35},
    )
    assert response.status_code == 201, response.json
    return response.json


@pytest.fixture
def rated_session(world) -> dict:
    """Patient A's session 5 hours ago, a quick rating 1 hour before it and 3 hours after."""
    session = add_session(world, hours_ago(5))
    patient = world.as_patient_a()
    pre = post_entry(patient, rating(7, context="pre_session", taken_at=hours_ago(6)))
    post = post_entry(patient, rating(3, context="post_session", taken_at=hours_ago(2)))
    assert (pre.status_code, post.status_code) == (201, 201), (pre.json, post.json)
    return {"session": session, "pre": pre.json, "post": post.json}


def summary_of(browser, pid: str = "me", instrument: str = "mood_now") -> dict:
    response = browser.get(f"/api/v1/patients/{pid}/summary?instrument={instrument}")
    assert response.status_code == 200, response.json
    return response.json


# ---------------------------------------------------------------- entries


def test_a_patient_stores_a_quick_rating_with_no_band_and_no_flag(world):
    response = post_entry(world.as_patient_a(), rating(10))

    assert response.status_code == 201, response.json
    entry = response.json
    assert (entry["instrument"], entry["answers"], entry["total"]) == ("mood_now", [10], 10)
    assert entry["severity"] is None
    assert entry["flags"] == []


@pytest.mark.parametrize(
    "answers",
    [[11], [-1], [True], [False], [5.0], [2.5], ["5"], [None], [], [3, 4]],
    ids=["11", "-1", "true", "false", "5.0", "2.5", "string", "null", "none", "two"],
)
def test_a_quick_rating_is_one_whole_number_from_0_to_10(world, answers):
    patient = world.as_patient_a()

    response = post_entry(patient, entry_body("mood_now", answers=answers))

    assert response.status_code == 422, response.json
    assert "answers" in response.json["errors"]["json"]
    assert patient.get("/api/v1/patients/me/entries").json["items"] == []


def test_a_clinician_may_not_leave_a_quick_rating_empty_either(world):
    response = post_entry(
        world.as_clinician_x(), entry_body("mood_now", answers=[None]), world.patient_a.id
    )

    assert response.status_code == 422, response.json


def test_a_replayed_quick_rating_is_stored_once(world):
    patient = world.as_patient_a()
    body = rating(4)

    first, again = post_entry(patient, body), post_entry(patient, body)

    assert (first.status_code, again.status_code) == (201, 200)
    assert len(patient.get("/api/v1/patients/me/entries").json["items"]) == 1


def test_an_explicit_session_link_must_fit_the_context_as_for_any_entry(world):
    session = add_session(world, hours_ago(5))

    response = post_entry(
        world.as_patient_a(),
        rating(6, context="pre_session", taken_at=hours_ago(2), session_id=session["id"]),
    )

    assert response.status_code == 422
    assert "session_id" in response.json["errors"]["json"]


# ---------------------------------------------------------------- the summary and its pairs


def test_the_pre_and_post_ratings_link_to_the_session_and_make_a_pair(world, rated_session):
    summary = summary_of(world.as_patient_a())

    [pair] = summary["sessions"]
    assert pair["session"]["id"] == rated_session["session"]["id"]
    assert pair["pre"]["id"] == rated_session["pre"]["id"]
    assert [e["id"] for e in pair["post"]] == [rated_session["post"]["id"]]
    assert pair["delta"] == 4
    assert pair["overlapping_recall"] is False


def test_the_summary_has_no_outcomes_and_says_why(world, rated_session):
    summary = summary_of(world.as_clinician_x(), world.patient_a.id)

    for name in ("baseline", "baseline_rule", "change", "percent_change"):
        assert summary[name] is None, name
    for name in ("response", "remission", "reliable_change"):
        assert summary[name] is None, name
    assert summary["outcome_unavailable"] == "not_a_scale"
    assert summary["thresholds"]["response_percent"] is None
    assert summary["thresholds"]["remission_max"] is None
    assert summary["latest"]["id"] == rated_session["pre"]["id"]  # never the post-session one
    assert sum(point["n"] for point in summary["daily"]) == 2  # the series counts both


def test_the_not_a_scale_reason_has_a_label_for_the_app(app):
    reasons = app.test_client().get("/api/v1/vocabularies").json["outcome_unavailable"]

    assert {"value": "not_a_scale", "label": "n/a: a quick rating, not a scale"} in reasons


def test_a_quick_rating_cannot_be_chosen_as_a_baseline(world, rated_session):
    response = world.as_clinician_x().put(
        f"/api/v1/patients/{world.patient_a.id}/baseline/mood_now",
        json={"entry_id": rated_session["pre"]["id"]},
    )

    assert response.status_code == 422
    assert "instrument" in response.json["errors"]["json"]


def test_the_panel_row_of_a_quick_rating_has_no_outcomes(world, rated_session):
    response = world.as_clinician_x().get("/api/v1/patients?instrument=mood_now")

    assert response.status_code == 200, response.json
    [row] = [r for r in response.json["items"] if r["patient"]["id"] == world.patient_a.id]
    assert row["baseline"] is None
    assert (row["change"], row["response"], row["remission"]) == (None, None, None)
    assert row["outcome_unavailable"] == "not_a_scale"
    assert row["latest"] == {
        "total": 7,
        "severity": None,
        "taken_at": rated_session["pre"]["taken_at"],
    }


def test_quick_ratings_never_move_the_phq9_figures(world, rated_session):
    summary = summary_of(world.as_patient_a(), instrument="phq9")

    assert summary["latest"] is None
    assert summary["outcome_unavailable"] == "no_entries"
    assert all(p["pre"] is None and p["post"] == [] for p in summary["sessions"])


def test_a_pre_session_quick_rating_does_not_stand_for_the_pre_session_phq9(world):
    # Later today in the patient's time zone (Europe/Berlin): a pre-session PHQ-9 is due.
    now = datetime.now(ZoneInfo("Europe/Berlin"))
    midnight = datetime.combine(now.date() + timedelta(days=1), time(), now.tzinfo)
    if midnight - now < timedelta(minutes=4):
        pytest.skip("too close to midnight for a session later today")
    starts = now + min(timedelta(hours=3), (midnight - now) / 2)
    add_session(world, starts.replace(microsecond=0).isoformat())
    patient = world.as_patient_a()
    assert post_entry(patient, rating(5, context="pre_session")).status_code == 201

    due = patient.get("/api/v1/patients/me").json["due"]

    assert ("phq9", "pre_session") in {(d["instrument"], d["context"]) for d in due}


# ---------------------------------------------------------------- exports


def test_the_json_export_carries_the_quick_ratings_and_their_definition(world, rated_session):
    response = world.as_patient_a().get("/api/v1/patients/me/export")
    document = json.loads(response.get_data(as_text=True))

    [mood_now] = [i for i in document["instruments"] if i["id"] == "mood_now"]
    assert (mood_now["kind"], mood_now["bands"], mood_now["max"]) == ("quick_rating", [], 10)
    entries = {e["id"]: e for e in document["patients"][0]["entries"]}
    assert entries[rated_session["post"]["id"]]["answers"] == [3]
    assert entries[rated_session["post"]["id"]]["severity"] is None


def test_the_fhir_export_codes_a_quick_rating_in_the_projects_own_code_system(world, rated_session):
    response = world.as_patient_a().get("/api/v1/patients/me/export?format=fhir")
    bundle = json.loads(response.get_data(as_text=True))

    Bundle.model_validate(bundle)
    by_type: dict = {}
    for item in bundle["entry"]:
        by_type.setdefault(item["resource"]["resourceType"], []).append(item["resource"])
    [pre_response] = [
        r for r in by_type["QuestionnaireResponse"] if r["id"] == rated_session["pre"]["id"]
    ]
    QuestionnaireResponse.model_validate(pre_response)
    assert pre_response["questionnaire"] == "urn:tidemark:questionnaire:mood_now"
    assert pre_response["item"] == [
        {
            "linkId": "mood_now",
            "text": "Right now, how low or depressed do you feel?",
            "answer": [{"valueInteger": 7}],
        }
    ]
    observations = [
        o for o in by_type["Observation"] if o["code"]["coding"][0]["code"] == "mood_now"
    ]
    assert len(observations) == 2
    for observation in observations:
        Observation.model_validate(observation)
        assert observation["code"]["coding"][0]["system"] == "urn:tidemark:instrument"
        assert "loinc" not in json.dumps(observation["code"])
        assert "interpretation" not in observation  # no band, no severity
    assert sorted(o["valueInteger"] for o in observations) == [3, 7]


def test_the_csv_has_a_quick_rating_column_and_no_band(world, rated_session):
    response = world.as_patient_a().get("/api/v1/patients/me/export?format=csv")
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"), newline="")))

    by_id = {row["entry_id"]: row for row in rows}
    post = by_id[rated_session["post"]["id"]]
    assert (post["record"], post["instrument"], post["mood_now"]) == ("entry", "mood_now", "3")
    assert (post["total"], post["severity"], post["context"]) == ("3", "", "post_session")
