"""A lone surrogate or a NUL character in any text input is a 422 naming the field, never a 500
(neither can be stored: no UTF-8 for a lone surrogate, no NUL in PostgreSQL text)."""

from __future__ import annotations

import copy
import json

import pytest

from tests.conftest import Browser, entry_body

SURROGATE = "bad \ud800 text"
NUL = "bad \x00 text"
BAD_TEXTS = {"surrogate": SURROGATE, "nul": NUL}
MESSAGE = "NUL character or a lone surrogate"


def _send_json(browser: Browser, method: str, path: str, body: dict):
    # json.dumps escapes both (\ud800, \u0000), as a browser's JSON.stringify does.
    return browser.request(method, path, data=json.dumps(body), content_type="application/json")


def _field_errors(response, *path):
    node = response.json["errors"]["json"]
    for step in path:
        node = node[str(step)]
    return node


@pytest.mark.parametrize("bad", sorted(BAD_TEXTS))
def test_a_bad_sign_in_email_is_a_422_naming_it(app, world, bad):
    response = _send_json(
        Browser(app), "POST", "/api/v1/auth/login", {"email": BAD_TEXTS[bad], "password": "x"}
    )

    assert response.status_code == 422, response.get_data(as_text=True)
    assert MESSAGE in _field_errors(response, "email")[0]
    assert "email" in response.json["message"]


@pytest.mark.parametrize("bad", sorted(BAD_TEXTS))
def test_a_bad_crisis_line_name_is_a_422_naming_the_nested_field(app, world, bad):
    crisis = {
        "emergency_number": "112",
        "crisis_line": {"name": BAD_TEXTS[bad], "phone": "0800 111 0111"},
        "clinic_phone": "+49 30 1234567",
    }

    response = _send_json(world.as_admin_x(), "PATCH", "/api/v1/clinic", {"crisis": crisis})

    assert response.status_code == 422
    assert _field_errors(response, "crisis", "crisis_line", "name")
    assert "crisis.crisis_line.name" in response.json["message"]
    assert world.as_admin_x().get("/api/v1/clinic").json["crisis"]["crisis_line"]["name"] == (
        "Test Crisis Line"
    )


@pytest.mark.parametrize("bad", sorted(BAD_TEXTS))
def test_a_bad_entry_note_is_a_422_and_nothing_is_stored(app, world, bad):
    patient = world.as_patient_a()

    response = _send_json(
        patient, "POST", "/api/v1/patients/me/entries", entry_body(note=BAD_TEXTS[bad])
    )

    assert response.status_code == 422
    assert _field_errors(response, "note")
    assert patient.get("/api/v1/patients/me/entries").json["items"] == []


@pytest.mark.parametrize("bad", sorted(BAD_TEXTS))
def test_a_bad_object_key_is_a_422(app, world, bad):
    response = _send_json(world.as_clinician_x(), "POST", "/api/v1/patients", {BAD_TEXTS[bad]: "x"})

    assert response.status_code == 422
    assert MESSAGE in response.json["message"]


def test_a_surrogate_pair_is_ordinary_text(app, world):
    response = _send_json(
        world.as_clinician_x(),
        "POST",
        "/api/v1/patients",
        {"display_name": "Emoji \ud83d\ude00 Person"},
    )

    assert response.status_code == 201, response.json
    assert response.json["patient"]["display_name"] == "Emoji \U0001f600 Person"


def test_an_escaped_backslash_before_u0000_is_ordinary_text(app, world):
    response = world.as_clinician_x().post(
        "/api/v1/patients", json={"display_name": "back\\u0000slash"}
    )

    assert response.status_code == 201, response.json
    assert response.json["patient"]["display_name"] == "back\\u0000slash"


# ---------------------------------------------------------------- an import document


def _export(world) -> dict:
    patient = world.as_patient_a()
    assert patient.post("/api/v1/patients/me/entries", json=entry_body(note="ok")).status_code == (
        201
    )
    document = json.loads(world.as_admin_x().get("/api/v1/export").get_data(as_text=True))
    document["patients"].sort(key=lambda block: not block["entries"])  # patient A's first
    return document


IMPORT_PLACES = {
    "patients.0.patient.display_name": lambda d: d["patients"][0]["patient"],
    "patients.0.entries.0.note": lambda d: d["patients"][0]["entries"][0],
    "clinic.name": lambda d: d["clinic"],
}


@pytest.mark.parametrize("place", sorted(IMPORT_PLACES))
@pytest.mark.parametrize("bad", sorted(BAD_TEXTS))
def test_bad_text_anywhere_in_an_import_document_is_a_422_naming_its_path(app, world, place, bad):
    document = copy.deepcopy(_export(world))
    field = place.rsplit(".", 1)[1]
    IMPORT_PLACES[place](document)[field] = BAD_TEXTS[bad]

    response = _send_json(world.as_admin_x(), "POST", "/api/v1/import", document)

    assert response.status_code == 422, response.get_data(as_text=True)
    assert _field_errors(response, *place.split("."))
    assert place in response.json["message"]


# ---------------------------------------------------------------- query strings and paths


@pytest.mark.parametrize("bad", sorted(BAD_TEXTS))
def test_bad_text_in_a_query_string_is_a_422_naming_the_parameter(app, world, bad):
    # A surrogate cannot travel in a URL (it has no UTF-8): its CESU-8 bytes arrive as U+FFFD.
    escaped = "%ED%A0%80" if bad == "surrogate" else "%00"
    response = world.as_clinician_x().get(f"/api/v1/patients?q=bad{escaped}text")

    if bad == "surrogate":
        assert response.status_code == 200
    else:
        assert response.status_code == 422
        assert response.json["errors"]["query"]["q"]


def test_a_nul_in_a_path_segment_is_not_found(app, world):
    response = world.as_clinician_x().get("/api/v1/patients/abc%00def")

    assert response.status_code == 404
    assert response.json["code"] == 404


# ---------------------------------------------------------------- every endpoint, every field


def _resolve(spec: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _string_paths(spec: dict, schema: dict, path: tuple = ()) -> list[tuple]:
    """Every place a string may go in a body of this schema (arrays: their first item)."""
    schema = _resolve(spec, schema)
    found = []
    for choice in schema.get("oneOf", []) + schema.get("anyOf", []) + schema.get("allOf", []):
        found.extend(_string_paths(spec, choice, path))
    kinds = schema.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    if "string" in kinds:
        found.append(path)
    if "array" in kinds or "items" in schema:
        found.extend(_string_paths(spec, schema.get("items", {}), (*path, 0)))
    for name, prop in (schema.get("properties") or {}).items():
        found.extend(_string_paths(spec, prop, (*path, name)))
    return found


def _body_at(path: tuple, value) -> dict:
    """A body holding `value` at `path` (list steps are indices, 0 here)."""
    for step in reversed(path):
        value = [value] if isinstance(step, int) else {step: value}
    return value


def _cases(app) -> list:
    spec = app.test_client().get("/api/v1/openapi.json").json
    cases = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body:
                for where in _string_paths(spec, body["schema"]):
                    cases.append((method.upper(), path, "json", where))
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query":
                    cases.append((method.upper(), path, "query", (parameter["name"],)))
    return cases


def test_every_endpoint_refuses_bad_text_in_every_field_it_takes(app, world):
    cases = _cases(app)
    assert len(cases) > 60  # the walk found the fields (login, clinic, entries, sessions...)
    assert ("PATCH", "/api/v1/clinic", "json", ("crisis", "crisis_line", "name")) in cases
    admin = world.as_admin_x()
    failures = []
    for method, template, location, where in cases:
        path = (
            template.replace("{pid}", world.patient_a.id)
            .replace("{instrument_id}", "phq9")
            .replace("{", "")
            .replace("}", "")
        )
        for bad in (NUL, SURROGATE):
            if location == "json":
                response = _send_json(admin, method, path, _body_at(where, bad))
            elif bad == NUL:  # a surrogate cannot travel in a URL
                response = admin.request(method, path, query_string={where[0]: bad})
            else:
                continue
            named = (
                response.status_code == 422
                and response.is_json
                and _named(response.json["errors"][location], where)
            )
            if not named:
                failures.append((method, template, where, repr(bad), response.status_code))
    assert failures == []


def _named(errors: dict, where: tuple) -> bool:
    node = errors
    for step in where:
        if not isinstance(node, dict) or str(step) not in node:
            return False
        node = node[str(step)]
    return isinstance(node, list) and MESSAGE in node[0]
