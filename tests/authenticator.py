"""A software authenticator for HTTP tests: an EC P-256 passkey that answers WebAuthn options
as a browser and a platform authenticator would ('none' attestation, user verified)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

# The Flask test client's requests come from http://localhost.
ORIGIN = "http://localhost"
RP_ID = "localhost"

USER_PRESENT, USER_VERIFIED, ATTESTED = 0x01, 0x04, 0x40


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SoftAuthenticator:
    """One passkey: a key pair, a credential id, a sign counter, the user handle it keeps."""

    def __init__(self):
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(32)
        self.sign_count = 0
        self.user_handle: bytes | None = None

    def _cose_public_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps(
            {
                1: 2,  # kty: EC2
                3: -7,  # alg: ES256
                -1: 1,  # crv: P-256
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )

    def _authenticator_data(self, rp_id: str, flags: int, attested: bool = False) -> bytes:
        data = hashlib.sha256(rp_id.encode()).digest() + bytes([flags])
        data += struct.pack(">I", self.sign_count)
        if attested:
            data += bytes(16)  # AAGUID: none
            data += struct.pack(">H", len(self.credential_id)) + self.credential_id
            data += self._cose_public_key()
        return data

    @staticmethod
    def _client_data(kind: str, challenge: str, origin: str) -> bytes:
        return json.dumps(
            {"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": False}
        ).encode()

    def create(self, options: dict, origin: str = ORIGIN, rp_id: str | None = None) -> dict:
        """The credential navigator.credentials.create() would return, as its toJSON()."""
        self.user_handle = unb64url(options["user"]["id"])
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        flags = USER_PRESENT | USER_VERIFIED | ATTESTED
        auth_data = self._authenticator_data(rp_id or options["rp"]["id"], flags, attested=True)
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return {
            "id": b64url(self.credential_id),
            "rawId": b64url(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "attestationObject": b64url(attestation),
                "transports": ["internal"],
            },
            "clientExtensionResults": {},
        }

    def get(
        self,
        options: dict,
        origin: str = ORIGIN,
        sign_count: int | None = None,
        user_handle: bytes | None = None,
    ) -> dict:
        """The assertion navigator.credentials.get() would return, signed, as its toJSON()."""
        self.sign_count = self.sign_count + 1 if sign_count is None else sign_count
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        auth_data = self._authenticator_data(
            options.get("rpId", RP_ID), USER_PRESENT | USER_VERIFIED
        )
        signature = self.key.sign(
            auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        return {
            "id": b64url(self.credential_id),
            "rawId": b64url(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": b64url(auth_data),
                "signature": b64url(signature),
                "userHandle": b64url(user_handle or self.user_handle or b""),
            },
            "clientExtensionResults": {},
        }


def register_passkey(browser, name: str = "My phone", authenticator=None) -> tuple:
    """Register a passkey for the browser's signed-in user: (the answer, the authenticator)."""
    authenticator = authenticator or SoftAuthenticator()
    options = browser.post("/api/v1/auth/passkeys/registration/options")
    assert options.status_code == 200, options.json
    credential = authenticator.create(options.json)
    response = browser.post("/api/v1/auth/passkeys", json={"name": name, "credential": credential})
    return response, authenticator


def login_options(browser) -> dict:
    response = browser.post("/api/v1/auth/passkey-login/options")
    assert response.status_code == 200, response.json
    return response.json


def passkey_login(browser, authenticator, **assertion):
    """Sign the browser in with the authenticator's passkey; keeps the CSRF token like login."""
    credential = authenticator.get(login_options(browser), **assertion)
    response = browser.post("/api/v1/auth/passkey-login", json={"credential": credential})
    if response.status_code == 200:
        browser.csrf_token = response.json["csrf_token"]
        browser.user = response.json["user"]
    return response
