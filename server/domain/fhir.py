"""A patient's data as a FHIR R4 Bundle (collection): Patient, QuestionnaireResponses, Observations.

Codes come from the instrument definitions (instruments.py), which carry the LOINC codes of
shared/scales.md; MADRS, with no confirmed LOINC code, and mood_now (the project's own quick
rating) use a local code system. The patient's after-session reports are one Observation each,
with one component per side effect, in a local code system too (LOINC has no such panel). Each
set of vital signs of a session's monitoring record becomes vital-signs Observations as the FHIR
vital signs profiles have them: a blood pressure panel (systolic and diastolic as components), a
heart rate and an oxygen saturation, in UCUM units.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from .instruments import INSTRUMENTS, QUICK_RATING, Instrument
from .times import utc
from .vocabularies import SIDE_EFFECTS, VOCABULARIES

LOINC = "http://loinc.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
LOCAL_INSTRUMENTS = "urn:tidemark:instrument"
LOCAL_SEVERITY = "urn:tidemark:severity"
LOCAL_QUESTIONNAIRE = "urn:tidemark:questionnaire:"
LOCAL_OBSERVATIONS = "urn:tidemark:observation"
LOCAL_SIDE_EFFECTS = "urn:tidemark:side-effect"
LOCAL_SIDE_EFFECT_LEVELS = "urn:tidemark:side-effect-level"
SESSION_ID_SYSTEM = "urn:tidemark:session"
EXTERNAL_ID_SYSTEM = "urn:tidemark:external-id"
# Observation ids are derived from entry ids, so that a re-export gives the same Bundle.
OBSERVATION_NAMESPACE = uuid.UUID("5b2f4a1e-2a9f-4c53-9a53-7d0f6f6c1d42")

UCUM = "http://unitsofmeasure.org"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
SESSION_SYSTEM = "urn:tidemark:session"
BLOOD_PRESSURE_PANEL = ("85354-9", "Blood pressure panel with all children optional")
SYSTOLIC = ("8480-6", "Systolic blood pressure")
DIASTOLIC = ("8462-4", "Diastolic blood pressure")
HEART_RATE = ("8867-4", "Heart rate")
# The pulse oximetry code, and the one the FHIR oxygen saturation profile requires beside it.
SPO2 = ("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry")
SPO2_PROFILE = ("2708-6", "Oxygen saturation in Arterial blood")

TOTAL_DISPLAY = {
    "44261-6": "Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]",
    "70274-6": "Generalized anxiety disorder 7 item (GAD-7) total score [Reported.PHQ]",
}


def _urn(identifier: str) -> str:
    return f"urn:uuid:{identifier}"


def observation_id(entry_id: str) -> str:
    return str(uuid.uuid5(OBSERVATION_NAMESPACE, f"{entry_id}:total"))


def patient_resource(patient: dict) -> dict:
    resource = {
        "resourceType": "Patient",
        "id": patient["id"],
        "name": [{"text": patient["display_name"]}],
    }
    if patient.get("external_id"):
        resource["identifier"] = [{"system": EXTERNAL_ID_SYSTEM, "value": patient["external_id"]}]
    return resource


def _answer(instrument: Instrument, value: int) -> dict:
    option = next((o for o in instrument.options if o.value == value), None)
    if option is not None and option.loinc:
        return {"valueCoding": {"system": LOINC, "code": option.loinc, "display": option.label}}
    return {"valueInteger": value}


def questionnaire_response(entry: dict, instrument: Instrument, patient_id: str) -> dict:
    items = []
    for item, value in zip(instrument.items, entry["answers"], strict=True):
        # R4 response items carry no code: the LOINC item code is the linkId, as in the LOINC
        # questionnaires that `questionnaire` names (local item ids where LOINC has none).
        answer_item = {"linkId": item.loinc or item.id, "text": item.text}
        if value is not None:  # a prorated paper form leaves the item unanswered
            answer_item["answer"] = [_answer(instrument, value)]
        items.append(answer_item)
    question = instrument.difficulty
    option = None
    if question and entry.get("difficulty") is not None:
        option = next((o for o in question.options if o.value == entry["difficulty"]), None)
    if option is not None:
        items.append(
            {
                "linkId": question.loinc,
                "text": question.text,
                "answer": [
                    {
                        "valueCoding": {
                            "system": LOINC,
                            "code": option.loinc,
                            "display": option.label,
                        }
                    }
                ],
            }
        )
    return {
        "resourceType": "QuestionnaireResponse",
        "id": entry["id"],
        "questionnaire": instrument.questionnaire_url or f"{LOCAL_QUESTIONNAIRE}{instrument.id}",
        "status": "entered-in-error" if entry["voided"] else "completed",
        "subject": {"reference": _urn(patient_id)},
        "authored": entry["taken_at"],
        "item": items,
    }


def total_observation(entry: dict, instrument: Instrument, patient_id: str) -> dict:
    if instrument.kind == QUICK_RATING:  # the one answer, not a total score of severity
        code = {
            "coding": [
                {
                    "system": LOCAL_INSTRUMENTS,
                    "code": instrument.id,
                    "display": f"{instrument.name} (0–{instrument.max})",
                }
            ],
            "text": instrument.items[0].text,
        }
    elif instrument.total_loinc:
        code = {
            "coding": [
                {
                    "system": LOINC,
                    "code": instrument.total_loinc,
                    "display": TOTAL_DISPLAY[instrument.total_loinc],
                }
            ],
            "text": f"{instrument.name} total score",
        }
    else:
        code = {
            "coding": [
                {
                    "system": LOCAL_INSTRUMENTS,
                    "code": f"{instrument.id}-total",
                    "display": f"{instrument.name} total score",
                }
            ],
            "text": f"{instrument.name} total score",
        }
    observation = {
        "resourceType": "Observation",
        "id": observation_id(entry["id"]),
        "status": "entered-in-error" if entry["voided"] else "final",
        "category": [
            {"coding": [{"system": OBSERVATION_CATEGORY, "code": "survey", "display": "Survey"}]}
        ],
        "code": code,
        "subject": {"reference": _urn(patient_id)},
        "effectiveDateTime": entry["taken_at"],
        "derivedFrom": [{"reference": _urn(entry["id"])}],
    }
    if entry["severity"] is not None:  # a quick rating has no band
        observation["interpretation"] = [
            {
                "coding": [
                    {
                        "system": LOCAL_SEVERITY,
                        "code": entry["severity"],
                        "display": entry["severity"].capitalize(),
                    }
                ],
                "text": entry["severity"],
            }
        ]
    total = entry["total"]
    if isinstance(total, int):
        observation["valueInteger"] = total
    else:  # prorated: unrounded, so a quantity in score units
        observation["valueQuantity"] = {
            "value": total,
            "unit": "{score}",
            "system": "http://unitsofmeasure.org",
            "code": "{score}",
        }
    return observation


def report_observation(report: dict, session: dict, patient_id: str) -> dict:
    """An after-session report: one Observation, a component per side effect (0–3)."""
    names = {t["value"]: t["label"] for t in VOCABULARIES["side_effects"]}
    levels = {t["value"]: t["label"] for t in VOCABULARIES["side_effect_levels"]}
    observation = {
        "resourceType": "Observation",
        "id": report["id"],
        "status": "final",
        "category": [
            {"coding": [{"system": OBSERVATION_CATEGORY, "code": "survey", "display": "Survey"}]}
        ],
        "code": {
            "coding": [
                {
                    "system": LOCAL_OBSERVATIONS,
                    "code": "after-session-report",
                    "display": "Side effects after a treatment session (patient-reported)",
                }
            ],
            "text": "After-session report",
        },
        "subject": {"reference": _urn(patient_id)},
        # The session it is about, by its identifier (sessions are not resources here).
        "focus": [
            {
                "identifier": {"system": SESSION_ID_SYSTEM, "value": session["id"]},
                "display": f"Treatment session of {session['started_at']}",
            }
        ],
        "effectiveDateTime": report["taken_at"],
        "issued": report["received_at"],
        "component": [
            {
                "code": {
                    "coding": [
                        {"system": LOCAL_SIDE_EFFECTS, "code": name, "display": names[name]}
                    ],
                    "text": names[name],
                },
                "valueCodeableConcept": {
                    "coding": [
                        {
                            "system": LOCAL_SIDE_EFFECT_LEVELS,
                            "code": str(report["side_effects"][name]),
                            "display": levels[report["side_effects"][name]],
                        }
                    ],
                    "text": levels[report["side_effects"][name]],
                },
            }
            for name in SIDE_EFFECTS
        ],
    }
    if report["note"]:
        observation["note"] = [{"text": report["note"]}]
    return observation


def _loinc(*codes: tuple[str, str]) -> dict:
    return {
        "coding": [{"system": LOINC, "code": code, "display": display} for code, display in codes],
        "text": codes[0][1],
    }


def _quantity(value: int, unit: str, code: str) -> dict:
    return {"value": value, "unit": unit, "system": UCUM, "code": code}


VITAL_SIGNS_CATEGORY = [
    {"coding": [{"system": OBSERVATION_CATEGORY, "code": "vital-signs", "display": "Vital Signs"}]}
]
HIGH = [
    {
        "coding": [{"system": INTERPRETATION, "code": "H", "display": "High"}],
        "text": "Above the clinic's blood pressure threshold",
    }
]


def _vital_sign(session_id: str, number: int, kind: str, at: str, patient_id: str, **fields):
    """One vital-signs Observation; its id is derived, so a re-export gives the same one."""
    return {
        "resourceType": "Observation",
        "id": str(uuid.uuid5(OBSERVATION_NAMESPACE, f"{session_id}:vitals:{number}:{kind}")),
        # Which session's monitoring it was: sessions themselves travel in tidemark.export.
        "identifier": [{"system": SESSION_SYSTEM, "value": session_id}],
        "status": "final",
        "category": VITAL_SIGNS_CATEGORY,
        "subject": {"reference": _urn(patient_id)},
        "effectiveDateTime": at,
        **fields,
    }


def vital_signs_observations(session: dict, patient_id: str) -> list[dict]:
    """The Observations of a session's monitoring record: per reading, a blood pressure panel
    (marked high when raised), and a heart rate and an SpO2 when they were measured."""
    record = session.get("monitoring")
    if record is None:
        return []
    observations = []
    for number, reading in enumerate(record["vitals"]):
        about = (session["id"], number)
        pressure = _vital_sign(
            *about,
            "blood-pressure",
            reading["at"],
            patient_id,
            code=_loinc(BLOOD_PRESSURE_PANEL),
            component=[
                {
                    "code": _loinc(SYSTOLIC),
                    "valueQuantity": _quantity(reading["systolic"], "mmHg", "mm[Hg]"),
                },
                {
                    "code": _loinc(DIASTOLIC),
                    "valueQuantity": _quantity(reading["diastolic"], "mmHg", "mm[Hg]"),
                },
            ],
        )
        if reading["raised"]:
            pressure["interpretation"] = HIGH
        observations.append(pressure)
        if reading["heart_rate"] is not None:
            observations.append(
                _vital_sign(
                    *about,
                    "heart-rate",
                    reading["at"],
                    patient_id,
                    code=_loinc(HEART_RATE),
                    valueQuantity=_quantity(reading["heart_rate"], "beats/minute", "/min"),
                )
            )
        if reading["spo2"] is not None:
            observations.append(
                _vital_sign(
                    *about,
                    "spo2",
                    reading["at"],
                    patient_id,
                    code=_loinc(SPO2, SPO2_PROFILE),
                    valueQuantity=_quantity(reading["spo2"], "%", "%"),
                )
            )
    return observations


def bundle(block: dict) -> dict:
    """The Bundle for one patient block of a tidemark.export document."""
    patient = block["patient"]
    resources = [patient_resource(patient)]
    for entry in block["entries"]:
        instrument = INSTRUMENTS[entry["instrument"]]
        resources.append(questionnaire_response(entry, instrument, patient["id"]))
        resources.append(total_observation(entry, instrument, patient["id"]))
    for session in block["sessions"]:
        for report in session.get("reports", ()):
            resources.append(report_observation(report, session, patient["id"]))
        resources.extend(vital_signs_observations(session, patient["id"]))
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "type": "collection",
        "timestamp": utc(datetime.now(UTC)),
        "entry": [
            {"fullUrl": _urn(resource["id"]), "resource": resource} for resource in resources
        ],
    }
