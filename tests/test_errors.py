"""One error shape for everything, including what the framework itself answers."""

import logging

import pytest

from server import create_app
from tests.conftest import TEST_CONFIG, entry_body


def assert_error_shape(response, code: int):
    assert response.status_code == code
    assert response.mimetype == "application/json"
    assert response.json["code"] == code
    assert isinstance(response.json["status"], str) and response.json["status"]
    assert set(response.json) <= {"code", "status", "message", "errors"}


def test_an_unknown_api_path_is_a_json_404(app):
    assert_error_shape(app.test_client().get("/api/v1/nothing-here"), 404)


def test_an_unknown_api_path_is_404_for_unsafe_methods_too(app):
    assert_error_shape(app.test_client().post("/api/v1/nothing-here", json={}), 404)


def test_a_wrong_method_is_a_405_that_lists_the_allowed_methods(app):
    response = app.test_client().delete("/api/v1/instruments")
    assert_error_shape(response, 405)
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "HEAD"}


def test_malformed_json_is_a_400(world):
    browser = world.as_patient_a()
    response = browser.post(
        "/api/v1/patients/me/entries", data='{"id": ', content_type="application/json"
    )
    assert_error_shape(response, 400)


@pytest.mark.parametrize("body", ["[]", "[1, 2]", '"text"', "42", "null", "true"])
def test_a_json_body_that_is_not_an_object_is_a_400(world, body):
    browser = world.as_patient_a()
    response = browser.post(
        "/api/v1/patients/me/entries", data=body, content_type="application/json"
    )
    assert_error_shape(response, 400)
    assert "object" in response.json["message"]


def test_nan_is_not_json(world):
    browser = world.as_patient_a()
    body = '{"id": "x", "answers": [NaN]}'
    response = browser.post(
        "/api/v1/patients/me/entries", data=body, content_type="application/json"
    )
    assert_error_shape(response, 400)


def test_a_body_that_is_not_declared_as_json_is_a_400(world):
    browser = world.as_patient_a()
    response = browser.post("/api/v1/patients/me/entries", data="id=1", content_type="text/plain")
    assert_error_shape(response, 400)


def test_a_body_over_64_kib_is_a_413_and_nothing_is_stored(world):
    browser = world.as_patient_a()
    body = entry_body(note="x" * (65 * 1024))
    response = browser.post("/api/v1/patients/me/entries", json=body)
    assert_error_shape(response, 413)
    assert browser.get("/api/v1/patients/me/entries").json["items"] == []


def test_an_unexpected_exception_is_a_500_without_a_stack_trace_and_is_logged(caplog):
    failing = create_app({**TEST_CONFIG, "TESTING": False, "SQLALCHEMY_DATABASE_URI": "sqlite://"})

    @failing.get("/api/v1/boom")
    def boom():
        raise RuntimeError("secret internals")

    with caplog.at_level(logging.ERROR):
        response = failing.test_client().get("/api/v1/boom")
    assert_error_shape(response, 500)
    assert "secret internals" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)
    assert any("secret internals" in str(record.exc_info) for record in caplog.records)


def test_readyz_answers_503_when_the_database_does_not(tmp_path):
    broken = create_app(
        {**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none"}
    )
    client = broken.test_client()
    assert client.get("/healthz").status_code == 200
    assert_error_shape(client.get("/readyz"), 503)
    assert_error_shape(client.get("/api/v1/readyz"), 503)


def test_readyz_answers_200_when_the_database_answers(app):
    assert app.test_client().get("/readyz").status_code == 200
    assert app.test_client().get("/api/v1/healthz").json == {"status": "ok"}


@pytest.mark.parametrize("path", ["/", "/api/v1/instruments", "/api/v1/nothing-here"])
def test_every_response_carries_the_security_headers(app, path):
    with app.test_client().get(path) as response:
        headers = response.headers
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert "Strict-Transport-Security" not in headers


@pytest.mark.parametrize("path", ["/sw.js", "/", "/?code=abc"])
def test_documents_and_the_service_worker_carry_the_document_headers(app, path):
    with app.test_client().get(path) as response:
        headers = response.headers
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "camera=()" in headers["Permissions-Policy"]


@pytest.mark.parametrize(
    "path",
    ["/app.js", "/views/home.js", "/style.css", "/icons/icon-192.png", "/manifest.webmanifest"],
)
def test_scripts_styles_and_icons_keep_nosniff_and_leave_the_document_only_headers_off(app, path):
    """A subresource cannot be framed or open a window: those headers only cost bytes on it
    (about 270 on each of the ~40 responses of a first visit)."""
    with app.test_client().get(path) as response:
        headers = response.headers
        assert response.status_code == 200
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    for document_only in (
        "Content-Security-Policy",
        "X-Frame-Options",
        "Cross-Origin-Opener-Policy",
        "Permissions-Policy",
    ):
        assert document_only not in headers, (path, document_only)


def test_hsts_is_sent_when_served_over_https(app):
    response = app.test_client().get("/api/v1/instruments", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_api_answers_are_never_cached(world):
    response = world.as_patient_a().get("/api/v1/patients/me/entries")
    assert response.headers["Cache-Control"] == "no-store"


def test_the_pwa_placeholder_is_served_at_the_root(app):
    with app.test_client().get("/") as response:
        assert response.status_code == 200
        assert b"Tidemark" in response.data
