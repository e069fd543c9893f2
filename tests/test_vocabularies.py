"""GET /api/v1/vocabularies: the one source of every label the PWA shows for an API value."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from marshmallow import validate

from server.api import schemas
from server.domain import vocabularies as vocabulary_module
from server.services import importer
from tests.conftest import World, entry_body

SERVER = Path(__file__).resolve().parents[1] / "server"
VOCABULARIES = {
    "contexts",
    "treatments",
    "session_statuses",
    "monitoring_levels",
    "adverse_events",
    "roles",
    "panel_sorts",
    "madrs_remission_choices",
    "baseline_rules",
    "outcome_unavailable",
    "reliable_change",
    "audit_actions",
    "token_scopes",
    "side_effects",
    "side_effect_levels",
    "pre_session_reminders",
}
# Totals of PHQ-9 answers with item 9 at 0.
PHQ9 = {18: [3, 3, 3, 3, 2, 2, 1, 1, 0], 8: [1, 1, 1, 1, 1, 1, 1, 1, 0], 5: [1] * 5 + [0] * 4}


def vocabularies(app) -> dict:
    response = app.test_client().get("/api/v1/vocabularies")
    assert response.status_code == 200, response.json
    return response.json


def values(app, name: str) -> list:
    return [term["value"] for term in vocabularies(app)[name]]


def accepted(schema, field: str) -> list:
    """The choices a schema's field validates against (its OneOf validator)."""
    validators = schema._declared_fields[field].validators
    [one_of] = [v for v in validators if isinstance(v, validate.OneOf)]
    return list(one_of.choices)


def test_every_vocabulary_is_served_without_sign_in_and_every_value_has_a_label(app):
    served = vocabularies(app)

    assert set(served) == VOCABULARIES
    for name, terms in served.items():
        assert terms, name
        assert len({term["value"] for term in terms}) == len(terms), name
        for term in terms:
            assert isinstance(term["label"], str) and term["label"].strip(), (name, term)


def test_the_labels_are_the_words_the_app_shows(app):
    served = vocabularies(app)
    contexts = {term["value"]: term for term in served["contexts"]}

    assert contexts["routine"] == {
        "value": "routine",
        "label": "Routine",
        "patient_label": "A regular check-in",
        "due_label": "regular check-in",
    }
    assert contexts["baseline"]["patient_label"] is None  # a patient never chooses it
    assert {t["value"]: t["label"] for t in served["treatments"]}["ketamine_iv"] == (
        "Ketamine infusion"
    )
    assert [t["value"] for t in served["roles"]] == ["clinician", "admin", "patient"]
    assert [t["value"] for t in served["madrs_remission_choices"]] == [12, 10]
    assert [t["value"] for t in served["baseline_rules"]] == [1, 2, 3, 4]


@pytest.mark.parametrize(
    ("schema", "field", "vocabulary"),
    [
        (schemas.EntryIn, "context", "contexts"),
        (importer.ImportedEntry, "context", "contexts"),
        (schemas.SessionIn, "treatment", "treatments"),
        (schemas.SessionPatch, "treatment", "treatments"),
        (importer.ImportedSession, "treatment", "treatments"),
        (schemas.PanelQuery, "sort", "panel_sorts"),
        (schemas.ClinicPatch, "madrs_remission_max", "madrs_remission_choices"),
        (schemas.TokenIn, "scope", "token_scopes"),
    ],
)
def test_every_value_the_api_accepts_is_in_its_vocabulary_and_nothing_else(
    app, schema, field, vocabulary
):
    assert sorted(values(app, vocabulary), key=str) == sorted(accepted(schema, field), key=str)


def test_contexts_and_treatments_come_from_the_constants_the_server_validates_with(app):
    assert values(app, "contexts") == list(vocabulary_module.CONTEXTS)
    assert values(app, "treatments") == list(vocabulary_module.TREATMENTS)


def test_every_action_the_server_audits_is_in_the_vocabulary(app):
    written = set()
    for path in SERVER.rglob("*.py"):
        source = path.read_text()
        written |= set(re.findall(r"\b(?:record|clinician_read)\(\s*\"([a-z_.]+)\"", source))

    assert len(written) > 20  # the search finds the audit calls at all
    assert written <= set(values(app, "audit_actions"))


def summary(world: World, clinician, instrument: str = "phq9") -> dict:
    path = f"/api/v1/patients/{world.patient_a.id}/summary?instrument={instrument}"
    response = clinician.get(path)
    assert response.status_code == 200, response.json
    return response.json


@pytest.mark.parametrize(
    ("totals", "reason"),
    [
        ([], "no_entries"),
        ([18], "no_follow_up"),
        ([8, 5], "baseline_below_minimum"),
        ([18, 8], None),
    ],
)
def test_a_summary_says_why_its_outcomes_are_missing_as_its_panel_row_does(
    app, world, totals, reason
):
    clinician = world.as_clinician_x()
    start = datetime.now(UTC) - timedelta(days=len(totals) + 1)
    for day, total in enumerate(totals):
        body = entry_body(answers=PHQ9[total], taken_at=(start + timedelta(days=day)).isoformat())
        response = clinician.post(f"/api/v1/patients/{world.patient_a.id}/entries", json=body)
        assert response.status_code == 201, response.json

    answer = summary(world, clinician)
    [row] = [
        row
        for row in clinician.get("/api/v1/patients?instrument=phq9").json["items"]
        if row["patient"]["id"] == world.patient_a.id
    ]

    assert answer["outcome_unavailable"] == reason
    assert row["outcome_unavailable"] == reason
    assert reason is None or reason in values(app, "outcome_unavailable")
    assert (answer["response"] is None) == (reason is not None)
