"""A stand-in push service on loopback, for the reminder tests and the benchmark.

It plays both ends a real push service joins: the browser (each subscriber has its own P-256
key pair and auth secret, as a browser makes for PushManager.subscribe) and the service
(it receives the server's POST). It decrypts what it receives with the subscriber's private
key (RFC 8291 aes128gcm, by http_ece), checks the VAPID Authorization header (RFC 8292: the
JWT's ES256 signature by the key `k`, `aud` the endpoint's origin, `exp` ahead, a `sub`) and
answers what the test asks (201 by default).
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Subscriber:
    """One browser's subscription: its endpoint here, and the keys only it holds."""

    endpoint: str
    private_key: ec.EllipticCurvePrivateKey
    auth_secret: bytes

    def subscription(self) -> dict:
        """What PushSubscription.toJSON() gives the page."""
        point = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {
            "endpoint": self.endpoint,
            "expirationTime": None,
            "keys": {"p256dh": b64url(point), "auth": b64url(self.auth_secret)},
        }


@dataclass
class Received:
    """One message as the push service got it, decrypted."""

    path: str
    payload: dict | None
    ttl: int | None
    urgency: str | None
    vapid_key: str | None
    problems: list[str] = field(default_factory=list)


def check_vapid(authorization: str, origin: str) -> tuple[str | None, list[str]]:
    """The VAPID key of an Authorization header, and what is wrong with it (RFC 8292)."""
    scheme, _, rest = authorization.partition(" ")
    if scheme.lower() != "vapid":
        return None, [f"scheme {scheme!r}, not vapid"]
    parts = dict(part.strip().split("=", 1) for part in rest.split(","))
    token, key = parts.get("t", ""), parts.get("k", "")
    try:
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(key))
        header_b64, claims_b64, signature_b64 = token.split(".")
        header = json.loads(unb64url(header_b64))
        claims = json.loads(unb64url(claims_b64))
        signature = unb64url(signature_b64)
    except (ValueError, KeyError) as error:
        return key, [f"unreadable token or key: {error}"]
    problems = []
    if header.get("alg") != "ES256":
        problems.append(f"alg {header.get('alg')}")
    try:  # JWS ES256: r and s, 32 bytes each
        der = encode_dss_signature(
            int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        )
        public.verify(der, f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        problems.append("bad signature")
    if claims.get("aud") != origin:
        problems.append(f"aud {claims.get('aud')!r}, not {origin!r}")
    exp = claims.get("exp")
    if not isinstance(exp, int) or not time.time() < exp <= time.time() + 24 * 3600:
        problems.append(f"exp {exp!r} not within the next 24 hours")
    if not str(claims.get("sub", "")).startswith(("mailto:", "https://")):
        problems.append(f"sub {claims.get('sub')!r}")
    return key, problems


def new_subscriber(origin: str, name: str | None = None) -> Subscriber:
    """A browser's subscription to the push service at `origin`, with keys of its own."""
    path = f"/push/{name or os.urandom(8).hex()}"
    return Subscriber(f"{origin}{path}", ec.generate_private_key(ec.SECP256R1()), os.urandom(16))


class PushService:
    """The stand-in, serving in a thread on 127.0.0.1 until stop()."""

    def __init__(self, delay: float = 0.0, decrypt: bool = True):
        self.delay = delay  # seconds before each answer (senders overlap for longer)
        self.decrypt = decrypt
        self.received: list[Received] = []
        self.subscribers: dict[str, Subscriber] = {}
        self.answers: dict[str, list[int]] = {}  # path -> statuses to answer, in turn
        self.default_status = 201
        self.lock = threading.Lock()
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                service._receive(self.path, dict(self.headers), body)
                if service.delay:
                    time.sleep(service.delay)
                self.send_response(service._status_for(self.path))
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self):  # noqa: N802 (how many messages arrived, for the benchmark)
                with service.lock:
                    body = json.dumps({"received": len(service.received)}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.origin = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def subscriber(self, name: str | None = None) -> Subscriber:
        """A new browser subscribed to this service (its own keys)."""
        subscriber = new_subscriber(self.origin, name)
        with self.lock:
            self.subscribers[self._path(subscriber)] = subscriber
        return subscriber

    def answer(self, subscriber: Subscriber, *statuses: int) -> None:
        """Answer the next messages to `subscriber` with these statuses (then the default)."""
        with self.lock:
            self.answers.setdefault(self._path(subscriber), []).extend(statuses)

    def to(self, subscriber: Subscriber) -> list[Received]:
        """What `subscriber` was sent, oldest first."""
        path = self._path(subscriber)
        with self.lock:
            return [r for r in self.received if r.path == path]

    def payloads(self, subscriber: Subscriber) -> list[dict]:
        return [r.payload for r in self.to(subscriber)]

    def _path(self, subscriber: Subscriber) -> str:
        return subscriber.endpoint[len(self.origin) :]

    def _status_for(self, path: str) -> int:
        with self.lock:
            queued = self.answers.get(path)
            return queued.pop(0) if queued else self.default_status

    def _receive(self, path: str, headers: dict, body: bytes) -> None:
        headers = {k.lower(): v for k, v in headers.items()}
        key, problems = check_vapid(headers.get("authorization", ""), self.origin)
        payload = None
        if headers.get("content-encoding") != "aes128gcm":
            problems.append(f"content-encoding {headers.get('content-encoding')!r}")
        ttl = headers.get("ttl")
        if ttl is None or not ttl.isdigit():
            problems.append(f"TTL {ttl!r}")
        subscriber = self.subscribers.get(path)
        if subscriber is None:
            problems.append("unknown subscription")
        elif self.decrypt:
            try:
                plain = http_ece.decrypt(
                    body,
                    private_key=subscriber.private_key,
                    auth_secret=subscriber.auth_secret,
                    version="aes128gcm",
                )
                payload = json.loads(plain)
            except Exception as error:  # noqa: BLE001 (anything here is a failed decryption)
                problems.append(f"could not decrypt: {error!r}")
        with self.lock:
            self.received.append(
                Received(
                    path,
                    payload,
                    int(ttl) if ttl and ttl.isdigit() else None,
                    headers.get("urgency"),
                    key,
                    problems,
                )
            )


if __name__ == "__main__":
    # A stand-in in a process of its own (the benchmark's push service): prints its origin,
    # answers 201 without decrypting, and stops when its standard input closes.
    import sys

    standalone = PushService(decrypt=False)
    print(standalone.origin, flush=True)
    sys.stdin.read()
    standalone.stop()
