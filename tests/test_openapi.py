"""The OpenAPI document is complete, and the API keeps to it under generated input."""

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from server import create_app
from tests.conftest import TEST_CONFIG, TokenClient, entry_body

EXPECTED_OPERATIONS = {
    ("get", "/api/v1/healthz"),
    ("get", "/api/v1/readyz"),
    ("get", "/api/v1/instruments"),
    ("get", "/api/v1/instruments/{instrument_id}"),
    ("post", "/api/v1/auth/login"),
    ("post", "/api/v1/auth/logout"),
    ("get", "/api/v1/auth/me"),
    ("post", "/api/v1/auth/enroll"),
    ("get", "/api/v1/auth/sessions"),
    ("delete", "/api/v1/auth/sessions"),
    ("delete", "/api/v1/auth/sessions/{session_id}"),
    ("post", "/api/v1/auth/password"),
    ("post", "/api/v1/auth/reset"),
    ("post", "/api/v1/clinicians/{clinician_id}/reset"),
    ("get", "/api/v1/auth/tokens"),
    ("post", "/api/v1/auth/tokens"),
    ("delete", "/api/v1/auth/tokens/{token_id}"),
    ("post", "/api/v1/auth/passkeys/registration/options"),
    ("post", "/api/v1/auth/passkeys"),
    ("get", "/api/v1/auth/passkeys"),
    ("delete", "/api/v1/auth/passkeys/{passkey_id}"),
    ("post", "/api/v1/auth/passkey-login/options"),
    ("post", "/api/v1/auth/passkey-login"),
    ("delete", "/api/v1/clinicians/{clinician_id}/passkeys"),
    ("post", "/api/v1/patients"),
    ("get", "/api/v1/patients/{pid}"),
    ("patch", "/api/v1/patients/{pid}"),
    ("post", "/api/v1/patients/{pid}/enrollment"),
    ("post", "/api/v1/patients/{pid}/deactivate"),
    ("post", "/api/v1/patients/{pid}/activate"),
    ("get", "/api/v1/patients/{pid}/schedule"),
    ("put", "/api/v1/patients/{pid}/schedule"),
    ("get", "/api/v1/patients/{pid}/entries"),
    ("post", "/api/v1/patients/{pid}/entries"),
    ("get", "/api/v1/patients/{pid}/entries/{eid}"),
    ("post", "/api/v1/patients/{pid}/entries/{eid}/void"),
    ("post", "/api/v1/patients/{pid}/safety-signals"),
    ("get", "/api/v1/patients"),
    ("get", "/api/v1/patients/{pid}/sessions"),
    ("post", "/api/v1/patients/{pid}/sessions"),
    ("get", "/api/v1/patients/{pid}/sessions/{sid}"),
    ("patch", "/api/v1/patients/{pid}/sessions/{sid}"),
    ("post", "/api/v1/patients/{pid}/sessions/{sid}/report"),
    ("get", "/api/v1/patients/{pid}/summary"),
    ("put", "/api/v1/patients/{pid}/baseline/{instrument_id}"),
    ("delete", "/api/v1/patients/{pid}/baseline/{instrument_id}"),
    ("get", "/api/v1/flags"),
    ("get", "/api/v1/flags/{fid}"),
    ("post", "/api/v1/flags/{fid}/resolve"),
    ("get", "/api/v1/clinic"),
    ("patch", "/api/v1/clinic"),
}


def test_the_document_is_served_without_sign_in_and_lists_every_endpoint(app):
    document = app.test_client().get("/api/v1/openapi.json")
    assert document.status_code == 200
    operations = {
        (method, path)
        for path, item in document.json["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    }
    assert EXPECTED_OPERATIONS <= operations


def test_every_operation_documents_its_error_answers_in_the_error_shape(app):
    document = app.test_client().get("/api/v1/openapi.json").json
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            codes = set(operation["responses"])
            assert "default" in codes, (method, path)
            if operation.get("requestBody"):
                assert "422" in codes, (method, path)
            if "{pid}" in path:
                assert {"401", "404"} <= codes, (method, path)
    error = document["components"]["schemas"]["Error"]["properties"]
    assert {"code", "status", "message", "errors"} <= set(error)


def test_every_request_body_refuses_unknown_fields_in_the_document(app):
    document = app.test_client().get("/api/v1/openapi.json").json
    for name, schema in document["components"]["schemas"].items():
        if name.endswith("In") or name in {"Schedule", "ScheduledInstrument"}:
            assert schema.get("additionalProperties") is False, name


def _openapi_document() -> dict:
    """The OpenAPI document, read once when the tests are collected (no database needed)."""
    application = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    return application.test_client().get("/api/v1/openapi.json").json


@pytest.fixture
def signed_in(app, world):
    """A clinician's bearer token, with a real patient and entry for paths to point at."""
    token = world.token_for(world.clinician_x)
    client = TokenClient(app, token)
    entry = client.post(f"/api/v1/patients/{world.patient_a.id}/entries", json=entry_body()).json
    return {"Authorization": f"Bearer {token}"}, world.patient_a.id, entry["id"]


# A schema loaded at collection (not from a fixture) gives one test per operation, which
# pytest-xdist spreads over its workers: as subtests of one test, it ran minutes on one worker.
# Each case is sent to this worker's own app (its database), never the collection-time one.
schema = schemathesis.openapi.from_dict(_openapi_document())


# Generated requests per operation: a budget for `make test`; `make fuzz` runs many more.
FUZZ_EXAMPLES = int(os.environ.get("TIDEMARK_FUZZ_EXAMPLES", "12"))


@schema.parametrize()
@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_generated_request_gets_a_5xx_or_an_undocumented_answer(case, app, signed_in):
    headers, patient_id, entry_id = signed_in
    # Point most paths at data that exists, so that more than the 404 branch is exercised.
    if case.path_parameters:
        if "pid" in case.path_parameters:
            case.path_parameters["pid"] = patient_id
        if "eid" in case.path_parameters:
            case.path_parameters["eid"] = entry_id
    response = case.call(app=app, headers=headers)
    assert response.status_code < 500, response.text
    # Our rules go beyond the schema (a code must exist, a time must not be in the future),
    # so a schema-valid body may rightly get a 422: that one check does not apply here.
    case.validate_response(response, excluded_checks=[positive_data_acceptance])
