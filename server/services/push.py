"""Web push: the server's VAPID key, patients' push subscriptions, and sending to them.

Messages are encrypted for the subscription (RFC 8291, aes128gcm) and signed for the push
service (RFC 8292 VAPID) by pywebpush and py-vapid; only endpoints on allowed push-service
hosts are ever requested (domain/push.py), and a redirect is never followed.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import current_app
from py_vapid import Vapid02
from pywebpush import WebPusher
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from ..data.extensions import db
from ..data.models import Patient, PushSubscription, VapidKey, utcnow
from ..domain import push
from ..domain.errors import Invalid

log = logging.getLogger("server.push")
KEY_NAME = "default"
VAPID_TOKEN_SECONDS = 12 * 3600  # RFC 8292: at most 24 hours


class VapidKeyError(RuntimeError):
    """VAPID_PRIVATE_KEY is set but is not a P-256 private key."""


# ---------------------------------------------------------------- the VAPID key


def _from_setting(text: str) -> Vapid02:
    try:
        if "-----BEGIN" in text:
            key = serialization.load_pem_private_key(text.encode(), password=None)
            vapid = Vapid02(key)
        else:  # base64url: the raw 32-byte private value, or a DER key
            vapid = Vapid02.from_string(text)
    except (ValueError, TypeError) as error:
        raise VapidKeyError(f"VAPID_PRIVATE_KEY is not a readable private key: {error}") from None
    if not isinstance(vapid.private_key, ec.EllipticCurvePrivateKey) or not isinstance(
        vapid.private_key.curve, ec.SECP256R1
    ):
        raise VapidKeyError("VAPID_PRIVATE_KEY must be a P-256 (prime256v1) key.")
    return vapid


def _stored_key() -> str:
    """The PEM of the stored key pair, made now if there is none (committed).

    Two processes starting at once both try to insert it; the primary key lets one in, and
    the other reads the one that won (never a second key).
    """
    row = db.session.get(VapidKey, KEY_NAME)
    if row is not None:
        return row.private_key_pem
    # The read ends first: on SQLite a write in a transaction that read before another's
    # write committed fails at once, where a transaction that starts by writing waits.
    db.session.commit()
    pem = (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    db.session.add(VapidKey(name=KEY_NAME, private_key_pem=pem))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()  # another process made it first: use theirs
    return db.session.get(VapidKey, KEY_NAME, populate_existing=True).private_key_pem


def vapid() -> Vapid02:
    """The key every process signs with: VAPID_PRIVATE_KEY, else the one in the database."""
    setting = current_app.config.get("VAPID_PRIVATE_KEY")
    return _from_setting(setting) if setting else _from_setting(_stored_key())


def public_key(signer: Vapid02 | None = None) -> str:
    """The application server key browsers subscribe with: base64url of the public point."""
    signer = signer or vapid()
    raw = signer.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return push.encode_key(raw)


def vapid_subject() -> str:
    """The contact push services see in the VAPID token (`sub`): configured, or the public
    URL, or a placeholder (set TIDEMARK_VAPID_SUBJECT in production: Apple checks it)."""
    config = current_app.config
    if config.get("TIDEMARK_VAPID_SUBJECT"):
        return config["TIDEMARK_VAPID_SUBJECT"]
    if config.get("TIDEMARK_PUBLIC_URL", "").startswith("https://"):
        return config["TIDEMARK_PUBLIC_URL"]
    return "mailto:reminders@tidemark.invalid"


# ---------------------------------------------------------------- subscriptions


def allowed_hosts() -> tuple[str, ...]:
    return push.parse_hosts(current_app.config.get("TIDEMARK_PUSH_HOSTS"))


def subscribe(patient: Patient, body: dict) -> tuple[PushSubscription, bool]:
    """Keep the browser's subscription for the patient (committed); True when it is new to
    them. An endpoint another patient had moves to this one: the browser is now theirs (a
    shared phone: reminders go to whoever subscribed on it last)."""
    expires = body.get("expirationTime")
    values = {
        "patient_id": patient.id,
        "p256dh": body["keys"]["p256dh"],
        "auth": body["keys"]["auth"],
        "expires_at": datetime.fromtimestamp(expires / 1000, UTC) if expires else None,
        "updated_at": utcnow(),
    }
    endpoint = body["endpoint"]
    for _ in range(3):  # a row removed between the two statements (a 410): insert again
        db.session.add(PushSubscription(endpoint=endpoint, **values))
        try:
            db.session.commit()  # the unique endpoint decides between two requests at once
            return _by_endpoint(endpoint), True
        except IntegrityError:
            db.session.rollback()
        # Known: written, never read first. Theirs already (200), or moved to them (201).
        same = PushSubscription.endpoint == endpoint
        for new_to_them, where in (
            (False, PushSubscription.patient_id == patient.id),
            (True, None),
        ):
            statement = update(PushSubscription).where(same).values(**values)
            if where is not None:
                statement = statement.where(where)
            if db.session.execute(statement).rowcount == 1:
                db.session.commit()
                return _by_endpoint(endpoint), new_to_them
        db.session.rollback()
    raise RuntimeError("The push subscription could not be stored.")


def _by_endpoint(endpoint: str) -> PushSubscription:
    return db.session.scalar(
        select(PushSubscription)
        .where(PushSubscription.endpoint == endpoint)
        .execution_options(populate_existing=True)
    )


def unsubscribe(patient: Patient, endpoint: str) -> None:
    """Forget the patient's subscription with this endpoint (committed); another patient's,
    or an unknown one, is left as it is and answered the same (nothing to tell apart)."""
    db.session.execute(
        delete(PushSubscription).where(
            PushSubscription.endpoint == endpoint, PushSubscription.patient_id == patient.id
        )
    )
    db.session.commit()


def count_for(patient: Patient) -> int:
    """How many browsers the patient's reminders go to."""
    return len(
        db.session.scalars(
            select(PushSubscription.id).where(PushSubscription.patient_id == patient.id)
        ).all()
    )


def check_endpoint(endpoint: str) -> None:
    """Invalid unless the server may send to `endpoint`."""
    problem = push.endpoint_problem(endpoint, allowed_hosts())
    if problem:
        raise Invalid(fields={"endpoint": [problem]})


# ---------------------------------------------------------------- sending


@dataclass(frozen=True)
class Target:
    """Where one message goes: a subscription's endpoint and keys (plain values, no ORM)."""

    id: str
    endpoint: str
    p256dh: str
    auth: str


@dataclass(frozen=True)
class Outcome:
    """What a push service answered: delivered, gone (404/410: forget the subscription),
    worth retrying (5xx, 429, no answer), or refused for good (any other answer)."""

    target: Target
    delivered: bool = False
    gone: bool = False
    retry: bool = False
    retry_after: int | None = None
    error: str | None = None


class Sender:
    """Signs and sends messages; one per sending pass (thread-safe: a requests session and
    a VAPID token per push service, made once)."""

    def __init__(self, signer: Vapid02, subject: str, hosts: tuple[str, ...], timeout: float):
        self.signer = signer
        self.subject = subject
        self.hosts = hosts
        self.timeout = timeout
        self.session = requests.Session()
        self.session.max_redirects = 0  # a push service's redirect is never followed
        self._tokens: dict[str, dict] = {}

    def _headers(self, endpoint: str) -> dict:
        origin = push.origin_of(endpoint)
        headers = self._tokens.get(origin)
        if headers is None:
            claims = {
                "aud": origin,
                "sub": self.subject,
                "exp": int(time.time()) + VAPID_TOKEN_SECONDS,
            }
            headers = self._tokens[origin] = self.signer.sign(claims)
        return {**headers, "Urgency": "normal"}

    def send(self, target: Target, payload: dict, ttl: int) -> Outcome:
        """Send one message; never raises for what the network or the push service does."""
        problem = push.endpoint_problem(target.endpoint, self.hosts)
        if problem:  # the allowed hosts changed since it subscribed
            return Outcome(target, error=f"endpoint refused: {problem}")
        pusher = WebPusher(
            {"endpoint": target.endpoint, "keys": {"p256dh": target.p256dh, "auth": target.auth}},
            requests_session=self.session,
        )
        try:
            response = pusher.send(
                json.dumps(payload),
                headers=self._headers(target.endpoint),
                ttl=ttl,
                content_encoding="aes128gcm",
                timeout=self.timeout,
            )
        except requests.TooManyRedirects:
            return Outcome(target, error="the push service answered with a redirect")
        except requests.RequestException as error:
            return Outcome(target, retry=True, error=f"no answer: {type(error).__name__}")
        status = response.status_code
        if 200 <= status < 300:
            return Outcome(target, delivered=True)
        if status in (404, 410):
            return Outcome(target, gone=True, error=f"HTTP {status}")
        if status == 429 or status >= 500:
            return Outcome(
                target, retry=True, retry_after=_seconds(response), error=f"HTTP {status}"
            )
        return Outcome(target, error=f"HTTP {status}: {response.text[:120]}")

    def close(self) -> None:
        self.session.close()


def _seconds(response) -> int | None:
    value = response.headers.get("Retry-After", "")
    return int(value) if value.isdigit() else None


def sender() -> Sender:
    """A sender with this app's key, subject, allowed hosts and timeout."""
    return Sender(
        vapid(), vapid_subject(), allowed_hosts(), current_app.config["PUSH_TIMEOUT_SECONDS"]
    )
