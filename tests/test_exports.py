"""Exports: the tidemark.export JSON document, the FHIR R4 Bundle and CSV (API.md, Export)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient as FhirPatient
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from sqlalchemy import select

from server.data.models import AuditEvent
from tests.conftest import Browser, database, entry_body, make_clinic, make_clinician, make_patient

FORMATS = ["json", "fhir", "csv"]
LOINC = "http://loinc.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"

# shared/scales.md, LOINC codes (for FHIR export), in item order.
PHQ9_ITEM_CODES = [
    "44250-9",
    "44255-8",
    "44259-0",
    "44254-1",
    "44251-7",
    "44258-2",
    "44252-5",
    "44253-3",
    "44260-8",
]
PHQ9_DIFFICULTY_CODE = "69722-7"
GAD7_ITEM_CODES = ["69725-0", "68509-9", "69733-4", "69734-2", "69735-9", "69689-8", "69736-7"]
FREQUENCY_ANSWER_CODES = {0: "LA6568-5", 1: "LA6569-3", 2: "LA6570-1", 3: "LA6571-9"}
DIFFICULTY_ANSWER_CODES = {0: "LA6572-7", 1: "LA6573-5", 2: "LA6575-0", 3: "LA6574-3"}
PHQ9_QUESTIONNAIRE = "http://loinc.org/q/44249-1"
GAD7_QUESTIONNAIRE = "http://loinc.org/q/69737-5"
PHQ9_TOTAL = "44261-6"
GAD7_TOTAL = "70274-6"
ITEM_COLUMNS = (
    [f"phq9_{n}" for n in range(1, 10)]
    + [f"gad7_{n}" for n in range(1, 8)]
    + [f"madrs_{n}" for n in range(1, 11)]
    + ["phq9_difficulty"]
)
ITEM_9_ONLY = [0, 0, 0, 0, 0, 0, 0, 0, 1]


def z(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def hours_ago(hours: float) -> str:
    return (datetime.now(UTC) - timedelta(hours=hours)).replace(microsecond=0).isoformat()


def export_path(pid: str = "me", fmt: str | None = None) -> str:
    path = f"/api/v1/patients/{pid}/export"
    return f"{path}?format={fmt}" if fmt else path


def submit(browser, pid: str = "me", instrument: str = "phq9", **fields) -> dict:
    response = browser.post(
        f"/api/v1/patients/{pid}/entries", json=entry_body(instrument, **fields)
    )
    assert response.status_code == 201, response.json
    return response.json


def void(browser, entry: dict, reason: str = "entered by mistake", pid: str = "me") -> dict:
    response = browser.post(
        f"/api/v1/patients/{pid}/entries/{entry['id']}/void", json={"reason": reason}
    )
    assert response.status_code == 200, response.json
    return response.json


def patch_patient(world, pid: str, **fields) -> dict:
    response = world.as_clinician_x().patch(f"/api/v1/patients/{pid}", json=fields)
    assert response.status_code == 200, response.json
    return response.json


def exported(browser, pid: str = "me", fmt: str | None = None):
    response = browser.get(export_path(pid, fmt))
    assert response.status_code == 200, response.data[:500]
    return response


def document_of(browser, pid: str = "me") -> dict:
    return json.loads(exported(browser, pid).get_data(as_text=True))


def bundle_of(browser, pid: str = "me") -> dict:
    return json.loads(exported(browser, pid, "fhir").get_data(as_text=True))


def csv_text_of(browser, pid: str = "me") -> str:
    return exported(browser, pid, "csv").data.decode("utf-8-sig")


def csv_rows(browser, pid: str = "me") -> list[dict]:
    return list(csv.DictReader(io.StringIO(csv_text_of(browser, pid), newline="")))


def resources(bundle: dict, resource_type: str) -> list[tuple[str, dict]]:
    """(fullUrl, resource) of every bundle entry of that type."""
    return [
        (item["fullUrl"], item["resource"])
        for item in bundle["entry"]
        if item["resource"]["resourceType"] == resource_type
    ]


def response_for(bundle: dict, entry: dict) -> tuple[str, dict]:
    """The QuestionnaireResponse authored at the entry's taken_at (each test's are distinct)."""
    [found] = [
        pair
        for pair in resources(bundle, "QuestionnaireResponse")
        if pair[1]["authored"] == entry["taken_at"]
    ]
    return found


def observation_from(bundle: dict, response_url: str) -> dict:
    [found] = [
        resource
        for _, resource in resources(bundle, "Observation")
        if [ref["reference"] for ref in resource["derivedFrom"]] == [response_url]
    ]
    return found


def codings(answer: dict) -> tuple[str, str]:
    coding = answer["valueCoding"]
    return coding["system"], coding["code"]


def audit_events(app, action: str) -> list[dict]:
    with database(app) as session:
        return [
            {
                "actor_id": event.actor_id,
                "patient_id": event.patient_id,
                "detail": event.detail,
            }
            for event in session.scalars(select(AuditEvent).where(AuditEvent.action == action))
        ]


@pytest.fixture
def history(world) -> dict:
    """Patient A's record: a session, PHQ-9s (one voided, one flagged and resolved), a GAD-7,
    a clinician's MADRS, an explicit baseline and a custom schedule."""
    clinician = world.as_clinician_x()
    patient = world.as_patient_a()
    pid = world.patient_a.id
    session = clinician.post(
        f"/api/v1/patients/{pid}/sessions",
        json={"started_at": hours_ago(30), "treatment": "ketamine_iv", "dose_mg": 35.0},
    )
    assert session.status_code == 201, session.json
    baseline = submit(
        patient, answers=[3, 3, 2, 2, 2, 2, 1, 1, 0], difficulty=2, taken_at=hours_ago(40)
    )
    voided = void(patient, submit(patient, taken_at=hours_ago(39)), reason="wrong day")
    flagged = submit(patient, answers=ITEM_9_ONLY, taken_at=hours_ago(20), context="post_session")
    anxiety = submit(patient, "me", "gad7", taken_at=hours_ago(10))
    madrs = submit(clinician, pid, "madrs", taken_at=hours_ago(5))
    flags = clinician.get("/api/v1/flags").json["items"]
    [flag] = [item for item in flags if item["entry"]["id"] == flagged["id"]]
    resolved = clinician.post(
        f"/api/v1/flags/{flag['id']}/resolve", json={"note": "called, safe plan in place"}
    )
    assert resolved.status_code == 200, resolved.json
    chosen = clinician.put(
        f"/api/v1/patients/{pid}/baseline/phq9", json={"entry_id": baseline["id"]}
    )
    assert chosen.status_code == 200, chosen.json
    schedule = {"instruments": [{"instrument": "gad7", "every_days": 7}], "pre_session": False}
    assert clinician.put(f"/api/v1/patients/{pid}/schedule", json=schedule).status_code == 200
    return {
        "session": session.json,
        "entries": [baseline, voided, flagged, anxiety, madrs],
        "baseline": baseline,
        "voided": voided,
        "flagged": flagged,
        "flag": flag,
        "anxiety": anxiety,
        "madrs": madrs,
        "schedule": schedule,
    }


# ---------------------------------------------------------------- the JSON document


def test_the_document_names_its_format_version_time_and_clinic(world, history):
    before = z(datetime.now(UTC) - timedelta(seconds=1))

    document = document_of(world.as_clinician_x(), world.patient_a.id)

    assert (document["format"], document["version"]) == ("tidemark.export", 1)
    assert document["clinic"] == {"name": "Clinic X"}
    assert before <= document["exported_at"] <= z(datetime.now(UTC))
    assert document["exported_at"].endswith("Z")
    assert [block["patient"]["id"] for block in document["patients"]] == [world.patient_a.id]


def test_the_document_carries_the_instrument_definitions_with_items_options_and_bands(
    world, history
):
    document = document_of(world.as_patient_a())

    instruments = {instrument["id"]: instrument for instrument in document["instruments"]}
    assert set(instruments) == {"phq9", "gad7", "madrs", "mood_now"}
    phq9 = instruments["phq9"]
    assert phq9["version"]
    assert [item["loinc"] for item in phq9["items"]] == PHQ9_ITEM_CODES
    assert phq9["items"][0]["text"] == "Little interest or pleasure in doing things"
    assert [(o["value"], o["label"]) for o in phq9["options"]] == [
        (0, "Not at all"),
        (1, "Several days"),
        (2, "More than half the days"),
        (3, "Nearly every day"),
    ]
    assert [(b["min"], b["max"], b["label"]) for b in phq9["bands"]] == [
        (0, 4, "minimal"),
        (5, 9, "mild"),
        (10, 14, "moderate"),
        (15, 19, "moderately severe"),
        (20, 27, "severe"),
    ]
    assert [(b["min"], b["max"], b["label"]) for b in instruments["madrs"]["bands"]] == [
        (0, 6, "symptom-free"),
        (7, 19, "mild"),
        (20, 34, "moderate"),
        (35, 60, "severe"),
    ]
    assert [item["loinc"] for item in instruments["gad7"]["items"]] == GAD7_ITEM_CODES
    assert len(instruments["madrs"]["items"]) == 10


def test_the_patient_is_exported_with_clinical_identity_and_no_account_state(world, history):
    patch_patient(world, world.patient_a.id, external_id="MRN-0042")

    [block] = document_of(world.as_clinician_x(), world.patient_a.id)["patients"]

    patient = block["patient"]
    assert set(patient) == {"id", "display_name", "external_id", "timezone", "created_at"}
    assert (patient["id"], patient["display_name"]) == (world.patient_a.id, "Alice A")
    assert (patient["external_id"], patient["timezone"]) == ("MRN-0042", "Europe/Berlin")
    assert "alice@example.org" not in json.dumps(block)


def test_every_entry_is_exported_and_the_voided_one_is_marked_with_its_reason(world, history):
    [block] = document_of(world.as_clinician_x(), world.patient_a.id)["patients"]

    entries = {entry["id"]: entry for entry in block["entries"]}
    assert set(entries) == {entry["id"] for entry in history["entries"]}
    voided = entries[history["voided"]["id"]]
    assert (voided["voided"], voided["void_reason"]) == (True, "wrong day")
    assert [entry["voided"] for entry in entries.values()].count(True) == 1
    baseline = entries[history["baseline"]["id"]]
    assert baseline["answers"] == [3, 3, 2, 2, 2, 2, 1, 1, 0]
    assert (baseline["total"], baseline["severity"], baseline["difficulty"]) == (
        16,
        "moderately severe",
        2,
    )
    madrs = entries[history["madrs"]["id"]]
    assert madrs["entered_by"] == {"id": world.clinician_x.id, "role": "clinician"}


def test_sessions_flags_schedule_and_baselines_are_exported(world, history):
    [block] = document_of(world.as_clinician_x(), world.patient_a.id)["patients"]

    [session] = block["sessions"]
    assert (session["id"], session["treatment"], session["dose_mg"]) == (
        history["session"]["id"],
        "ketamine_iv",
        35.0,
    )
    [flag] = block["flags"]
    assert (flag["id"], flag["entry_id"], flag["kind"], flag["status"]) == (
        history["flag"]["id"],
        history["flagged"]["id"],
        "self_harm",
        "resolved",
    )
    assert flag["note"] == "called, safe plan in place"
    assert flag["resolved_by_id"] == world.clinician_x.id
    assert block["schedule"] == history["schedule"]
    assert [(b["instrument"], b["entry_id"]) for b in block["baselines"]] == [
        ("phq9", history["baseline"]["id"])
    ]
    flagged = next(e for e in block["entries"] if e["id"] == history["flagged"]["id"])
    assert flagged["session_id"] == history["session"]["id"]


def test_a_patient_without_entries_exports_empty_lists_and_the_default_schedule(world):
    [block] = document_of(world.as_patient_b())["patients"]

    assert (block["sessions"], block["entries"], block["flags"], block["baselines"]) == (
        [],
        [],
        [],
        [],
    )
    assert block["schedule"] == {
        "instruments": [{"instrument": "phq9", "every_days": 14}],
        "pre_session": True,
    }


# ---------------------------------------------------------------- access, headers, audit


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_is_a_download_with_content_disposition_attachment(world, fmt):
    submit(world.as_patient_a())

    response = exported(world.as_patient_a(), "me", fmt)

    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment")
    assert "filename=" in disposition


@pytest.mark.parametrize(
    ("fmt", "mimetype"),
    [("json", "application/json"), ("fhir", "application/fhir+json"), ("csv", "text/csv")],
)
def test_each_format_has_its_content_type(world, fmt, mimetype):
    assert exported(world.as_patient_a(), "me", fmt).mimetype == mimetype


def test_the_patient_exports_themself_as_me_and_by_their_own_id(world):
    entry = submit(world.as_patient_a())
    patient = world.as_patient_a()

    for pid in ("me", world.patient_a.id):
        [block] = document_of(patient, pid)["patients"]
        assert block["patient"]["id"] == world.patient_a.id
        assert [e["id"] for e in block["entries"]] == [entry["id"]]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_patient_cannot_export_another_patient(world, fmt):
    submit(world.as_patient_b())

    response = world.as_patient_a().get(export_path(world.patient_b.id, fmt))

    assert response.status_code == 404
    assert response.json["code"] == 404


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_clinician_of_another_clinic_cannot_export_the_patient(world, fmt):
    submit(world.as_patient_a())

    response = world.as_clinician_y().get(export_path(world.patient_a.id, fmt))

    assert response.status_code == 404
    assert response.json["code"] == 404


def test_a_clinician_cannot_export_me(world):
    assert world.as_clinician_x().get(export_path("me")).status_code == 404


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_anonymous_export_is_refused(world, fmt):
    response = world.browser().get(export_path(world.patient_a.id, fmt))

    assert response.status_code == 401
    assert response.json["code"] == 401


def test_an_unknown_format_is_rejected(world):
    response = world.as_patient_a().get(export_path("me", "xml"))

    assert response.status_code == 422
    assert "format" in json.dumps(response.json["errors"])


def test_an_unknown_query_parameter_is_rejected(world):
    assert world.as_patient_a().get(export_path("me") + "?pretty=1").status_code == 422


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_patient_export_writes_an_audit_record_with_its_format(app, world, fmt):
    exported(world.as_clinician_x(), world.patient_a.id, fmt)
    exported(world.as_patient_b(), "me", fmt)

    events = audit_events(app, "export.patient")

    assert sorted(
        (e["actor_id"], e["patient_id"], e["detail"]["format"]) for e in events
    ) == sorted(
        [
            (world.clinician_x.id, world.patient_a.id, fmt),
            (world.account_of(world.patient_b).id, world.patient_b.id, fmt),
        ]
    )


def test_a_refused_export_writes_no_export_audit_record(app, world):
    world.as_clinician_y().get(export_path(world.patient_a.id))

    assert audit_events(app, "export.patient") == []


# ---------------------------------------------------------------- FHIR


def test_every_fhir_resource_validates_against_the_r4b_models(world, history):
    bundle = bundle_of(world.as_clinician_x(), world.patient_a.id)

    Bundle.model_validate(bundle)
    models = {
        "Patient": FhirPatient,
        "QuestionnaireResponse": QuestionnaireResponse,
        "Observation": Observation,
    }
    for item in bundle["entry"]:
        models[item["resource"]["resourceType"]].model_validate(item["resource"])
    assert bundle["type"] == "collection"
    assert len({item["fullUrl"] for item in bundle["entry"]}) == len(bundle["entry"])


def test_the_bundle_holds_the_patient_and_one_response_and_one_observation_per_entry(
    world, history
):
    bundle = bundle_of(world.as_clinician_x(), world.patient_a.id)

    count = len(history["entries"])
    assert len(resources(bundle, "Patient")) == 1
    assert len(resources(bundle, "QuestionnaireResponse")) == count
    assert len(resources(bundle, "Observation")) == count
    assert len(bundle["entry"]) == 1 + 2 * count


def test_the_fhir_patient_carries_the_name_and_the_external_id(world):
    patch_patient(world, world.patient_a.id, external_id="MRN-7")

    [(_, patient)] = resources(bundle_of(world.as_patient_a()), "Patient")

    FhirPatient.model_validate(patient)
    assert [name["text"] for name in patient["name"]] == ["Alice A"]
    assert [identifier["value"] for identifier in patient["identifier"]] == ["MRN-7"]
    assert patient["identifier"][0]["system"]


def test_a_phq9_response_has_the_loinc_questionnaire_item_codes_and_answer_codes(world):
    answers = [0, 1, 2, 3, 0, 1, 2, 3, 0]
    entry = submit(world.as_patient_a(), answers=answers)

    bundle = bundle_of(world.as_patient_a())

    _, response = response_for(bundle, entry)
    QuestionnaireResponse.model_validate(response)
    assert response["questionnaire"] == PHQ9_QUESTIONNAIRE
    assert response["status"] == "completed"
    assert [item["linkId"] for item in response["item"]] == PHQ9_ITEM_CODES
    assert [codings(item["answer"][0]) for item in response["item"]] == [
        (LOINC, FREQUENCY_ANSWER_CODES[value]) for value in answers
    ]
    assert all(len(item["answer"]) == 1 for item in response["item"])


def test_a_gad7_response_has_the_loinc_questionnaire_item_codes_and_answer_codes(world):
    answers = [3, 2, 1, 0, 3, 2, 1]
    entry = submit(world.as_patient_a(), instrument="gad7", answers=answers)

    _, response = response_for(bundle_of(world.as_patient_a()), entry)

    assert response["questionnaire"] == GAD7_QUESTIONNAIRE
    assert response["status"] == "completed"
    assert [item["linkId"] for item in response["item"]] == GAD7_ITEM_CODES
    assert [codings(item["answer"][0]) for item in response["item"]] == [
        (LOINC, FREQUENCY_ANSWER_CODES[value]) for value in answers
    ]


@pytest.mark.parametrize(
    ("difficulty", "code"),
    [(0, "LA6572-7"), (1, "LA6573-5"), (2, "LA6575-0"), (3, "LA6574-3")],
)
def test_the_difficulty_answer_is_mapped_by_code_not_by_position(world, difficulty, code):
    entry = submit(world.as_patient_a(), difficulty=difficulty)

    _, response = response_for(bundle_of(world.as_patient_a()), entry)

    assert [item["linkId"] for item in response["item"]] == PHQ9_ITEM_CODES + [PHQ9_DIFFICULTY_CODE]
    assert codings(response["item"][-1]["answer"][0]) == (LOINC, code)
    assert DIFFICULTY_ANSWER_CODES[difficulty] == code


def test_a_phq9_without_a_difficulty_answer_has_no_difficulty_item(world):
    entry = submit(world.as_patient_a())

    _, response = response_for(bundle_of(world.as_patient_a()), entry)

    assert PHQ9_DIFFICULTY_CODE not in [item["linkId"] for item in response["item"]]


@pytest.mark.parametrize(
    ("instrument", "answers", "code", "total", "severity"),
    [
        ("phq9", [3, 3, 2, 2, 2, 2, 1, 1, 0], PHQ9_TOTAL, 16, "moderately severe"),
        ("gad7", [1, 1, 1, 1, 1, 1, 0], GAD7_TOTAL, 6, "mild"),
    ],
)
def test_the_total_is_an_observation_with_its_loinc_code_severity_and_derivation(
    world, instrument, answers, code, total, severity
):
    entry = submit(world.as_patient_a(), instrument=instrument, answers=answers)

    bundle = bundle_of(world.as_patient_a())

    [(patient_url, _)] = resources(bundle, "Patient")
    response_url, response = response_for(bundle, entry)
    observation = observation_from(bundle, response_url)
    Observation.model_validate(observation)
    assert observation["status"] == "final"
    assert [
        (coding["system"], coding["code"])
        for category in observation["category"]
        for coding in category["coding"]
    ] == [(OBSERVATION_CATEGORY, "survey")]
    assert [(c["system"], c["code"]) for c in observation["code"]["coding"]] == [(LOINC, code)]
    assert observation["valueInteger"] == total
    assert "valueQuantity" not in observation
    assert [i["text"] for i in observation["interpretation"]] == [severity]
    assert observation["subject"]["reference"] == patient_url
    assert response["subject"]["reference"] == patient_url
    assert observation["effectiveDateTime"] == entry["taken_at"]


def test_a_voided_entry_is_entered_in_error_on_both_resources(world):
    patient = world.as_patient_a()
    kept = submit(patient, taken_at=hours_ago(3))
    voided = void(patient, submit(patient, taken_at=hours_ago(2)))

    bundle = bundle_of(patient)

    voided_url, voided_response = response_for(bundle, voided)
    kept_url, kept_response = response_for(bundle, kept)
    assert voided_response["status"] == "entered-in-error"
    assert observation_from(bundle, voided_url)["status"] == "entered-in-error"
    assert kept_response["status"] == "completed"
    assert observation_from(bundle, kept_url)["status"] == "final"
    Bundle.model_validate(bundle)


def test_madrs_uses_a_local_code_system_and_integer_answers(world):
    answers = [0, 1, 2, 3, 4, 5, 6, 0, 1, 2]
    entry = submit(world.as_clinician_x(), world.patient_a.id, "madrs", answers=answers)

    bundle = bundle_of(world.as_clinician_x(), world.patient_a.id)

    response_url, response = response_for(bundle, entry)
    QuestionnaireResponse.model_validate(response)
    assert response["questionnaire"] == "urn:tidemark:questionnaire:madrs"
    assert [item["answer"][0] for item in response["item"]] == [
        {"valueInteger": value} for value in answers
    ]
    assert len({item["linkId"] for item in response["item"]}) == 10
    observation = observation_from(bundle, response_url)
    Observation.model_validate(observation)
    assert [(c["system"], c["code"]) for c in observation["code"]["coding"]] == [
        ("urn:tidemark:instrument", "madrs-total")
    ]
    assert LOINC not in json.dumps(observation["code"])
    assert observation["valueInteger"] == 24
    assert [i["text"] for i in observation["interpretation"]] == ["moderate"]


def test_a_prorated_phq9_total_is_a_quantity_and_the_missing_items_have_no_answer(world):
    answers = [2, 2, None, 1, None, 1, 1, 1, 0]  # 8 over 7 answered items, × 9
    entry = submit(world.as_clinician_x(), world.patient_a.id, answers=answers)
    assert entry["prorated"] is True

    bundle = bundle_of(world.as_clinician_x(), world.patient_a.id)

    Bundle.model_validate(bundle)
    response_url, response = response_for(bundle, entry)
    assert [item["linkId"] for item in response["item"]] == PHQ9_ITEM_CODES
    assert ["answer" in item for item in response["item"]] == [
        value is not None for value in answers
    ]
    assert [codings(item["answer"][0]) for item in response["item"] if "answer" in item] == [
        (LOINC, FREQUENCY_ANSWER_CODES[value]) for value in answers if value is not None
    ]
    observation = observation_from(bundle, response_url)
    assert "valueInteger" not in observation
    assert observation["valueQuantity"]["value"] == pytest.approx(72 / 7)
    assert [i["text"] for i in observation["interpretation"]] == ["moderate"]


def test_a_patient_without_entries_exports_a_bundle_with_only_the_patient(world):
    bundle = bundle_of(world.as_patient_b())

    Bundle.model_validate(bundle)
    assert [item["resource"]["resourceType"] for item in bundle["entry"]] == ["Patient"]


# ---------------------------------------------------------------- CSV


def test_the_csv_has_a_header_and_one_row_per_entry_with_voided_ones_marked(world, history):
    rows = csv_rows(world.as_clinician_x(), world.patient_a.id)

    assert sorted(row["entry_id"] for row in rows) == sorted(e["id"] for e in history["entries"])
    voided = {row["entry_id"]: row["voided"] for row in rows}
    assert voided.pop(history["voided"]["id"]) == "yes"
    assert set(voided.values()) == {"no"}


def test_the_csv_header_has_one_column_per_item_of_every_instrument(world):
    submit(world.as_patient_a())

    text = csv_text_of(world.as_patient_a())

    header = next(csv.reader(io.StringIO(text, newline="")))
    assert [name for name in header if name in ITEM_COLUMNS] == ITEM_COLUMNS
    assert len(header) == len(set(header))
    assert {"entry_id", "instrument", "taken_at", "total", "voided", "note"} <= set(header)


def test_the_csv_item_columns_hold_the_answers(world, history):
    rows = {row["entry_id"]: row for row in csv_rows(world.as_clinician_x(), world.patient_a.id)}

    baseline = rows[history["baseline"]["id"]]
    assert [baseline[f"phq9_{n}"] for n in range(1, 10)] == ["3", "3", "2", "2", "2", "2"] + [
        "1",
        "1",
        "0",
    ]
    assert baseline["phq9_difficulty"] == "2"
    assert (baseline["instrument"], baseline["total"]) == ("phq9", "16")
    assert all(baseline[f"gad7_{n}"] == "" for n in range(1, 8))
    anxiety = rows[history["anxiety"]["id"]]
    assert [anxiety[f"gad7_{n}"] for n in range(1, 8)] == ["1"] * 7
    assert all(anxiety[f"phq9_{n}"] == "" for n in range(1, 10))
    madrs = rows[history["madrs"]["id"]]
    assert [madrs[f"madrs_{n}"] for n in range(1, 11)] == ["2"] * 10


def test_a_prorated_entry_leaves_the_missing_item_cells_empty(world):
    answers = [2, 2, None, 1, None, 1, 1, 1, 0]
    entry = submit(world.as_clinician_x(), world.patient_a.id, answers=answers)

    [row] = csv_rows(world.as_clinician_x(), world.patient_a.id)

    assert row["entry_id"] == entry["id"]
    assert [row[f"phq9_{n}"] for n in range(1, 10)] == [
        "" if value is None else str(value) for value in answers
    ]


def test_a_note_with_a_comma_a_quote_and_a_newline_round_trips_through_rfc_4180_quoting(world):
    note = 'He said "fine", then\nleft early'
    entry = submit(world.as_patient_a(), note=note)

    text = csv_text_of(world.as_patient_a())

    [row] = list(csv.DictReader(io.StringIO(text, newline="")))
    assert (row["entry_id"], row["note"]) == (entry["id"], note)
    assert '"He said ""fine"", then\nleft early"' in text


def test_the_csv_is_utf8_with_a_bom_and_crlf_line_ends(world):
    submit(world.as_patient_a(), note="plain")
    submit(world.as_patient_a(), instrument="gad7")

    raw = exported(world.as_patient_a(), "me", "csv").data

    assert raw.startswith("\ufeff".encode())
    text = raw.decode("utf-8-sig")
    assert text.endswith("\r\n")
    assert text.count("\n") == text.count("\r\n") == 3


def test_a_non_ascii_name_survives_the_csv(world):
    name = "Zoë Łukasiewicz-Ñúñez 陈静"
    patch_patient(world, world.patient_a.id, display_name=name)
    submit(world.as_patient_a(), note="Grüße ✓")

    [row] = csv_rows(world.as_patient_a())

    assert (row["patient_name"], row["note"]) == (name, "Grüße ✓")


FORMULAS = [
    '=HYPERLINK("http://evil.example","click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
]


@pytest.mark.parametrize("note", FORMULAS, ids=["equals", "plus", "minus", "at", "tab", "cr"])
def test_a_note_that_a_spreadsheet_would_run_as_a_formula_is_neutralised(world, note):
    submit(world.as_patient_a(), note=note)

    [row] = csv_rows(world.as_patient_a())

    assert row["note"] == "'" + note


@pytest.mark.parametrize("name", FORMULAS[:4], ids=["equals", "plus", "minus", "at"])
def test_a_display_name_that_a_spreadsheet_would_run_as_a_formula_is_neutralised(world, name):
    patch_patient(world, world.patient_a.id, display_name=name)
    submit(world.as_patient_a())

    [row] = csv_rows(world.as_clinician_x(), world.patient_a.id)

    assert row["patient_name"] == "'" + name


@pytest.mark.parametrize(
    "external_id", FORMULAS, ids=["equals", "plus", "minus", "at", "tab", "cr"]
)
def test_an_external_id_that_a_spreadsheet_would_run_as_a_formula_is_neutralised(
    world, external_id
):
    patch_patient(world, world.patient_a.id, external_id=external_id)
    submit(world.as_patient_a())

    [row] = csv_rows(world.as_clinician_x(), world.patient_a.id)

    assert row["external_id"] == "'" + external_id


@pytest.mark.parametrize(
    "text", ["felt calmer = better", "1+1 is fine", "mail me@home", "a-ok", "'quoted"]
)
def test_plain_text_is_left_unchanged_in_the_csv(world, text):
    patch_patient(world, world.patient_a.id, display_name=text, external_id=text)
    submit(world.as_patient_a(), note=text)

    [row] = csv_rows(world.as_patient_a())

    assert (row["note"], row["patient_name"], row["external_id"]) == (text, text, text)


# ---------------------------------------------------------------- the clinic's export


def test_the_clinic_export_is_streamed_and_holds_every_patient_of_the_clinic_only(app, world):
    with database(app):
        other = make_patient(world.clinic_y, "Yvonne Y").id
    submit(world.as_patient_a())
    submit(world.as_patient_b(), instrument="gad7")
    submit(world.as_clinician_y(), other)

    response = world.as_clinician_x().get("/api/v1/export")

    assert response.status_code == 200
    assert response.is_streamed
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith("attachment")
    document = json.loads(response.get_data(as_text=True))
    assert (document["format"], document["version"]) == ("tidemark.export", 1)
    assert document["clinic"] == {"name": "Clinic X"}
    ids = {block["patient"]["id"] for block in document["patients"]}
    assert ids == {world.patient_a.id, world.patient_b.id}
    assert other not in response.get_data(as_text=True)
    assert sum(len(block["entries"]) for block in document["patients"]) == 2


def test_the_clinic_export_holds_the_same_blocks_as_the_patient_exports(world, history):
    clinician = world.as_clinician_x()
    response = clinician.get("/api/v1/export")
    assert response.status_code == 200
    clinic = json.loads(response.get_data(as_text=True))

    blocks = {block["patient"]["id"]: block for block in clinic["patients"]}

    for pid in (world.patient_a.id, world.patient_b.id):
        patient_document = document_of(clinician, pid)
        assert blocks[pid] == patient_document["patients"][0]
        assert clinic["instruments"] == patient_document["instruments"]


def test_a_clinic_without_patients_exports_an_empty_list(app):
    with database(app):
        email = make_clinician(make_clinic("Empty clinic")).email
    browser = Browser(app)
    assert browser.login(email).status_code == 200

    response = browser.get("/api/v1/export")

    assert response.status_code == 200
    document = json.loads(response.get_data(as_text=True))
    assert (document["clinic"], document["patients"]) == ({"name": "Empty clinic"}, [])


def test_a_patient_cannot_export_the_clinic(world):
    response = world.as_patient_a().get("/api/v1/export")

    assert response.status_code == 403
    assert response.json["code"] == 403


def test_an_anonymous_clinic_export_is_refused(world):
    assert world.browser().get("/api/v1/export").status_code == 401


def test_the_clinic_export_writes_an_audit_record(app, world):
    assert world.as_clinician_x().get("/api/v1/export").status_code == 200

    [event] = audit_events(app, "export.clinic")

    assert event["actor_id"] == world.clinician_x.id
    assert event["patient_id"] is None
