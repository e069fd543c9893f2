"""Bodies are refused before they are read: an import by anyone but a signed-in clinic admin,
and anything over 64 KiB anywhere else (50 MiB for an import)."""

from __future__ import annotations

import io
import json
from types import SimpleNamespace

import pytest

from tests.conftest import Browser, TokenClient

IMPORT = "/api/v1/import"
KIB = 1024
MIB = 1024 * KIB


class WatchedBody(io.RawIOBase):
    """A request body of `size` bytes that is never held in memory and knows how much of it
    was read."""

    def __init__(self, size: int):
        self.size = size
        self.offset = 0
        self.position = 0  # bytes read by the server

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True  # the test client measures the body's length by seeking to its end

    def seek(self, offset: int, whence: int = 0) -> int:
        self.offset = {0: 0, 1: self.offset, 2: self.size}[whence] + offset
        return self.offset

    def tell(self) -> int:
        return self.offset

    def readinto(self, buffer) -> int:
        count = min(len(buffer), self.size - self.offset)
        buffer[:count] = b" " * count
        self.offset += count
        self.position += count
        return count


def _send(client, path: str, size: int, headers=None):
    body = WatchedBody(size)
    response = client.open(
        path,
        method="POST",
        input_stream=body,
        content_length=size,
        content_type="application/json",
        headers=headers or {},
    )
    return response, body


def _watch_json_parsing(monkeypatch) -> list:
    """Record every parse of a request body by the JSON check that runs before any view."""
    import server.web as web

    calls = []

    def loads(*args, **kwargs):
        calls.append(args[0][:20] if args else "")
        return json.loads(*args, **kwargs)

    monkeypatch.setattr(web, "json", SimpleNamespace(loads=loads))
    return calls


def test_a_huge_anonymous_import_is_refused_before_its_body_is_read(app, monkeypatch):
    parsed = _watch_json_parsing(monkeypatch)

    response, body = _send(app.test_client(), IMPORT, 42 * MIB)

    assert response.status_code == 401
    assert response.json["code"] == 401
    assert body.position == 0
    assert parsed == []


@pytest.mark.parametrize("who", ["patient", "clinician", "admin token"])
def test_a_huge_import_from_anyone_but_a_signed_in_admin_is_refused_unread(
    app, world, monkeypatch, who
):
    if who == "admin token":
        client = TokenClient(app, world.token_for(world.admin_x)).client
        headers = {"Authorization": f"Bearer {world.token_for(world.admin_x)}"}
    else:
        browser = world.as_patient_a() if who == "patient" else world.as_clinician_x()
        client, headers = browser.client, {"X-CSRF-Token": browser.csrf_token}
    parsed = _watch_json_parsing(monkeypatch)

    response, body = _send(client, IMPORT, 42 * MIB, headers)

    assert response.status_code == 403
    assert body.position == 0
    assert parsed == []


def test_a_signed_in_admins_import_body_is_read(app, world):
    admin = world.as_admin_x()

    response, body = _send(admin.client, IMPORT, 1 * MIB, {"X-CSRF-Token": admin.csrf_token})

    assert body.position == 1 * MIB
    assert response.status_code == 400  # a megabyte of spaces is no JSON document


@pytest.mark.parametrize(
    "path",
    ["/api/v1/auth/login", "/api/v1/auth/enroll", "/api/v1/patients", "/api/v1/flags/x/resolve"],
)
def test_a_body_over_64_kib_is_refused_unread_anywhere_else(app, monkeypatch, path):
    parsed = _watch_json_parsing(monkeypatch)

    response, body = _send(app.test_client(), path, 64 * KIB + 1)

    assert response.status_code == 413
    assert response.json["code"] == 413
    assert response.json["status"] == "Request Entity Too Large"
    assert "64 KiB" in response.json["message"]
    assert body.position == 0
    assert parsed == []


def test_a_signed_in_users_body_over_64_kib_is_refused_unread(app, world):
    browser = world.as_clinician_x()

    response, body = _send(
        browser.client, "/api/v1/patients", 64 * KIB + 1, {"X-CSRF-Token": browser.csrf_token}
    )

    assert response.status_code == 413
    assert body.position == 0


def test_a_body_of_64_kib_is_read(app):
    response, body = _send(Browser(app).client, "/api/v1/auth/login", 64 * KIB)

    assert body.position == 64 * KIB
    assert response.status_code == 400


def test_an_admins_import_over_50_mib_names_its_limit_unread(app, world):
    admin = world.as_admin_x()

    response, body = _send(admin.client, IMPORT, 50 * MIB + 1, {"X-CSRF-Token": admin.csrf_token})

    assert response.status_code == 413
    assert "50 MiB" in response.json["message"]
    assert body.position == 0
