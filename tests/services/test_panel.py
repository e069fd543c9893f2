"""The panel's fast path: panel_row_json writes exactly what the declared PanelRowOut would."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from server.api.schemas import PanelRowOut, panel_row_json
from server.services import panel
from tests.conftest import database, entry_body, make_patient


def ago(days: float = 0) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).replace(microsecond=0).isoformat()


@pytest.fixture
def clinic_x_panel(app, world):
    """Clinic X as a clinician finds it: patients with and without outcomes, flags, overdue."""
    clinician = world.as_clinician_x()
    with database(app):
        ids = {
            name: make_patient(world.clinic_x, name, enrolled=False).id
            for name in ("Olive Outcome", "Nora None", "Flo Flag", "Otto Overdue", "Lou Low")
        }

    def enter(name, answers, days, instrument="phq9", **fields):
        pid = ids.get(name, name)
        body = entry_body(instrument, answers=answers, taken_at=ago(days), **fields)
        response = clinician.post(f"/api/v1/patients/{pid}/entries", json=body)
        assert response.status_code == 201, response.json
        return response.json

    # From 18 to 8: a response, no remission; and a GAD-7 going up.
    enter("Olive Outcome", [2, 2, 2, 2, 2, 2, 3, 3, 0], 20)
    enter("Olive Outcome", [1, 1, 1, 1, 1, 1, 1, 1, 0], 1)
    enter("Olive Outcome", [1, 1, 1, 1, 1, 1, 1], 9, "gad7")
    enter("Olive Outcome", [2, 2, 2, 2, 2, 2, 1], 2, "gad7")
    # A paper PHQ-9 with one item missing: a prorated, fractional baseline.
    enter("Flo Flag", [3, 3, 2, None, 2, 2, 1, 1, 0], 15)
    # Item 9 answered: two open flags, and one resolved (the clinic's only flags).
    for days in (4, 3, 2):
        enter("Flo Flag", [1, 1, 1, 1, 1, 1, 1, 1, 1], days)
    first_flag = clinician.get("/api/v1/flags").json["items"][0]
    resolved = clinician.post(f"/api/v1/flags/{first_flag['id']}/resolve", json={"note": "Seen"})
    assert resolved.status_code == 200, resolved.json
    # Weekly, and last seen ten days ago; a session today.
    enter("Otto Overdue", [1, 1, 1, 1, 1, 1, 1, 1, 0], 10)
    weekly = {"instruments": [{"instrument": "phq9", "every_days": 7}], "pre_session": True}
    otto = f"/api/v1/patients/{ids['Otto Overdue']}"
    assert clinician.put(f"{otto}/schedule", json=weekly).status_code == 200
    session = {"started_at": ago(0.1), "treatment": "ketamine_iv", "dose_mg": 35}
    assert clinician.post(f"{otto}/sessions", json=session).status_code == 201
    # A baseline below PHQ-9's minimum of 10, and an external id.
    enter("Lou Low", [1, 1, 1, 1, 1, 0, 0, 0, 0], 12)
    enter("Lou Low", [1, 0, 0, 0, 0, 0, 0, 0, 0], 1)
    edited = clinician.patch(f"/api/v1/patients/{ids['Lou Low']}", json={"external_id": "MRN-7"})
    assert edited.status_code == 200, edited.json
    # Alice (enrolled) with one MADRS rating by the clinician: a baseline, no follow-up.
    enter(world.patient_a.id, [3, 2, 3, 2, 3, 2, 3, 2, 1, 0], 3, "madrs")
    return clinician


def as_json(value) -> str:
    """The JSON text: 8 and 8.0 are equal in Python, but not to a client reading the text."""
    return json.dumps(value, sort_keys=True, indent=1)


def rows_of(app, world, instrument: str) -> list[panel.PanelRow]:
    with database(app):
        return panel.panel_rows(world.clinic_x.id, instrument)


@pytest.mark.parametrize("instrument", ["phq9", "gad7", "madrs"])
def test_every_fast_path_row_is_what_the_declared_schema_writes(
    app, world, clinic_x_panel, instrument
):
    rows = rows_of(app, world, instrument)

    assert len(rows) == 7
    for row in rows:
        assert as_json(json.loads(panel_row_json(row))) == as_json(PanelRowOut().dump(row))


def test_the_rows_compared_hold_every_kind_of_value_the_schema_declares(app, world, clinic_x_panel):
    """So that the comparison above cannot pass on rows that are mostly nulls."""
    rows = [row for name in ("phq9", "gad7", "madrs") for row in rows_of(app, world, name)]
    written = [json.loads(panel_row_json(row)) for row in rows]

    assert {row["outcome_unavailable"] for row in written} == {
        None,
        "no_entries",
        "no_follow_up",
        "baseline_below_minimum",
    }
    assert {row["response"] for row in written} == {True, False, None}
    assert {row["remission"] for row in written} == {False, None}
    assert {row["reliable_change"] for row in written} >= {"improved", "worsened", None}
    assert {row["baseline_rule"] for row in written} >= {4, None}
    assert any(isinstance(row["change"], int) for row in written)
    assert any(isinstance(row["change"], float) for row in written)
    assert any(isinstance(row["percent_change"], float) for row in written)
    totals = [row[name]["total"] for row in written for name in ("baseline", "latest") if row[name]]
    assert {type(total) for total in totals} == {int, float}  # 21.375: prorated
    assert {row["open_flag_count"] for row in written} == {0, 2}
    assert {row["overdue"] for row in written} == {True, False}
    assert {row["sessions_count"] for row in written} == {0, 1}
    assert {row["last_entry_at"] is None for row in written} == {True, False}
    assert {row["patient"]["enrolled"] for row in written} == {True, False}
    assert {row["patient"]["external_id"] for row in written} == {None, "MRN-7"}
    assert {len(row["recent_scores"]) for row in written} >= {0, 1, 2, 4}
    recent = [point["total"] for row in written for point in row["recent_scores"]]
    assert {type(total) for total in recent} == {int, float}


def conforms(value, schema: dict, document: dict, where: str) -> None:
    """`value` as the OpenAPI document declares it: types, nullability, every field, no other."""
    if "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    if "anyOf" in schema:  # flask-smorest's nullable nested object: null, or the object
        assert len(schema["anyOf"]) == 2 and schema["anyOf"][0]["nullable"], where
        if value is not None:
            conforms(value, schema["anyOf"][1], document, where)
        return
    if value is None:
        assert schema.get("nullable"), f"{where} is null but not nullable"
        return
    kind = schema["type"]
    if kind == "object":
        assert isinstance(value, dict), where
        assert schema.get("additionalProperties") is False, where
        assert set(value) - set(schema["properties"]) == set(), f"{where}: undeclared fields"
        assert set(schema["required"]) - set(value) == set(), f"{where}: missing fields"
        for name, field in schema["properties"].items():
            conforms(value[name], field, document, f"{where}.{name}")
        return
    if kind == "array":
        assert isinstance(value, list), where
        for index, item in enumerate(value):
            conforms(item, schema["items"], document, f"{where}[{index}]")
        return
    types = {"string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,)}
    assert isinstance(value, types[kind]), f"{where} is not a {kind}: {value!r}"
    assert kind == "boolean" or not isinstance(value, bool), f"{where} is a boolean"
    if schema.get("format") == "date-time":
        assert datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ"), where


def test_the_panel_answers_rows_as_its_openapi_document_declares_them(app, clinic_x_panel):
    document = app.test_client().get("/api/v1/openapi.json").json
    declared = document["components"]["schemas"]["PanelRowOut"]

    for instrument in ("phq9", "gad7", "madrs"):
        answer = clinic_x_panel.get("/api/v1/patients", query_string={"instrument": instrument})
        assert answer.status_code == 200, answer.json
        assert set(answer.json) == {"items", "next_cursor"}
        for row in answer.json["items"]:
            conforms(row, declared, document, row["patient"]["display_name"])


def test_the_panel_answers_what_the_declared_schema_writes_for_its_rows(app, world, clinic_x_panel):
    answered = clinic_x_panel.get("/api/v1/patients", query_string={"limit": 1000}).json

    expected = [PanelRowOut().dump(row) for row in rows_of(app, world, "phq9")]

    assert as_json(answered["items"]) == as_json(expected)
    assert answered["next_cursor"] is None
