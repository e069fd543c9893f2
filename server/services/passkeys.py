"""Passkeys (WebAuthn): registering one after signing in, signing in with one, removing them,
and the clinic's rule that its clinicians sign in with a passkey.

Every challenge is kept here on the server, for one ceremony: it is taken back (deleted) the
first time a response names it, whether or not that response verifies, and it expires after
PASSKEY_CHALLENGE_SECONDS. The webauthn package (py_webauthn) checks the responses.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    base64url_to_bytes,
    bytes_to_base64url,
    options_to_json_dict,
    parse_authentication_credential_json,
    parse_authenticator_data,
    parse_client_data_json,
    parse_registration_credential_json,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from ..data.extensions import db
from ..data.models import Passkey, PasskeyChallenge, User, utcnow
from ..domain.errors import Conflict, Invalid, NotSignedIn, TooManyAttempts
from . import accounts, audit
from .pagination import page

# What a malformed credential can raise inside the parsers (bad base64url, CBOR, JSON ...).
MALFORMED = (WebAuthnException, ValueError, TypeError, KeyError, IndexError, struct.error)
LOGIN_REFUSED = "The passkey could not be used to sign in. Try again, or use your password."


@dataclass(frozen=True)
class RelyingParty:
    """Who the browser signs for: the RP id (a host name) and the page's origin."""

    id: str
    origin: str
    name: str = "Tidemark"


# ---------------------------------------------------------------- challenges


def _issue_challenge(challenge: bytes, purpose: str, user: User | None, address: str) -> None:
    """Keep a new challenge (committed); expired ones are cleared on the way."""
    counters = [("PASSKEY_CHALLENGES_PER_ADDRESS", ("passkey-challenge", address))]
    accounts.refuse_when_over(counters)
    accounts.count_failure(counters)  # every challenge counts: each is a row until it expires
    now = utcnow()
    db.session.execute(db.delete(PasskeyChallenge).where(PasskeyChallenge.expires_at <= now))
    seconds = current_app.config["PASSKEY_CHALLENGE_SECONDS"]
    db.session.add(
        PasskeyChallenge(
            challenge=bytes_to_base64url(challenge),
            purpose=purpose,
            user_id=user.id if user else None,
            expires_at=now + timedelta(seconds=seconds),
        )
    )
    db.session.commit()


def _take_challenge(client_data_json: bytes, purpose: str) -> tuple[bytes, str | None] | None:
    """The challenge the browser signed, and whose it is, if it is ours, unexpired and unused.

    It is deleted and committed at once: a second response naming it finds nothing.
    """
    try:
        challenge = parse_client_data_json(client_data_json).challenge
    except MALFORMED:
        return None
    encoded = bytes_to_base64url(challenge)
    kept = db.session.scalar(
        db.select(PasskeyChallenge).where(
            PasskeyChallenge.challenge == encoded, PasskeyChallenge.purpose == purpose
        )
    )
    if kept is None:
        return None
    taken = db.session.execute(db.delete(PasskeyChallenge).where(PasskeyChallenge.id == kept.id))
    db.session.commit()
    if taken.rowcount != 1 or kept.expires_at <= utcnow():
        return None  # another request took it first, or it is too old
    return challenge, kept.user_id


def _timeout_ms() -> int:
    return current_app.config["PASSKEY_CHALLENGE_SECONDS"] * 1000


# ---------------------------------------------------------------- registering


def registration_options(user: User, rp: RelyingParty, address: str) -> dict:
    """PublicKeyCredentialCreationOptions (JSON) for a new passkey of `user` (committed)."""
    options = generate_registration_options(
        rp_id=rp.id,
        rp_name=rp.name,
        user_id=user.id.encode(),
        user_name=user.email,
        user_display_name=user.display_name,
        timeout=_timeout_ms(),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            require_resident_key=True,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=[_descriptor(passkey) for passkey in user.passkeys],
    )
    _issue_challenge(options.challenge, "register", user, address)
    return options_to_json_dict(options)


def _descriptor(passkey: Passkey) -> PublicKeyCredentialDescriptor:
    known = {transport.value for transport in AuthenticatorTransport}
    return PublicKeyCredentialDescriptor(
        id=base64url_to_bytes(passkey.credential_id),
        transports=[AuthenticatorTransport(t) for t in passkey.transports if t in known] or None,
    )


def register(user: User, name: str, credential: dict, rp: RelyingParty) -> Passkey:
    """Verify the browser's new credential against a challenge of `user`'s, and keep it."""

    def refuse(reason: str) -> Invalid:
        return Invalid(fields={"credential": [reason]})

    try:
        parsed = parse_registration_credential_json(credential)
    except MALFORMED:
        raise refuse("Not a WebAuthn registration credential.") from None
    taken = _take_challenge(parsed.response.client_data_json, "register")
    if taken is None or taken[1] != user.id:
        raise refuse("The registration expired or was already used: start again.")
    try:
        verified = verify_registration_response(
            credential=parsed,
            expected_challenge=taken[0],
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            require_user_verification=True,
        )
    except MALFORMED as error:
        raise refuse(f"The passkey could not be verified: {error}") from None
    credential_id = bytes_to_base64url(verified.credential_id)
    if db.session.scalar(db.select(Passkey.id).where(Passkey.credential_id == credential_id)):
        raise Conflict("This passkey is registered already.")
    passkey = Passkey(
        user_id=user.id,
        name=name,
        credential_id=credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        transports=[t.value for t in parsed.response.transports or []],
    )
    db.session.add(passkey)
    db.session.flush()
    audit.record("passkey.create", actor=user, detail={"passkey_id": passkey.id, "name": name})
    db.session.commit()
    return passkey


# ---------------------------------------------------------------- listing and removing


def of_user(user: User, limit: int, cursor: str | None) -> dict:
    """One page of the user's passkeys, newest first."""
    statement = db.select(Passkey).where(Passkey.user_id == user.id)
    return page(statement, Passkey.created_at, Passkey.id, limit, cursor, newest_first=True)


def remove(passkey: Passkey) -> None:
    """Remove one's own passkey (committed). A clinician whose clinic requires passkeys keeps
    their last one: removing it would let a password alone sign in again."""
    user = passkey.user
    if password_alone_refused(user) and len(user.passkeys) == 1:
        raise Conflict(
            "Your clinic requires a passkey: register another before removing your last one."
        )
    _delete([passkey], actor=user)


def remove_all_of(clinician: User, admin: User | None) -> None:
    """An admin (None: the server's operator, from the command line) removes every passkey
    of a clinician (a lost device): they then sign in with their password and make a new one."""
    _delete(list(clinician.passkeys), actor=admin, owner=clinician)


def _delete(passkeys: list[Passkey], actor: User | None, owner: User | None = None) -> None:
    for passkey in passkeys:
        detail = {"passkey_id": passkey.id, "name": passkey.name}
        if owner is not None:
            detail["user_id"] = owner.id
        audit.record("passkey.remove", actor=actor, clinic_id=passkey.user.clinic_id, detail=detail)
        db.session.delete(passkey)
    db.session.commit()


# ---------------------------------------------------------------- signing in


def login_options(rp: RelyingParty, address: str) -> dict:
    """PublicKeyCredentialRequestOptions (JSON) for signing in with any passkey of this site:
    the browser offers the person's discoverable credentials (committed)."""
    options = generate_authentication_options(
        rp_id=rp.id,
        timeout=_timeout_ms(),
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    _issue_challenge(options.challenge, "login", None, address)
    return options_to_json_dict(options)


def sign_in(credential: dict, rp: RelyingParty, address: str) -> User:
    """The user whose passkey signed our challenge, audited; failures are audited and counted
    per client address, like password sign-in (NotSignedIn, the same answer for every one).

    Failed password attempts against the account do not block it: a passkey cannot be guessed,
    so its owner gets in while someone else guesses their password.
    """
    counters = [("LOGIN_FAILURES_PER_ADDRESS", ("login-address", address))]
    try:
        accounts.refuse_when_over(counters)
    except TooManyAttempts:
        _refused("rate_limited")
        raise

    def fail(reason: str, passkey: Passkey | None = None) -> NotSignedIn:
        accounts.count_failure(counters)
        _refused(reason, passkey)
        return NotSignedIn(LOGIN_REFUSED)

    try:
        parsed = parse_authentication_credential_json(credential)
    except MALFORMED:
        raise fail("malformed") from None
    taken = _take_challenge(parsed.response.client_data_json, "login")
    if taken is None:
        raise fail("unknown_challenge")
    passkey = db.session.scalar(
        db.select(Passkey).where(Passkey.credential_id == bytes_to_base64url(parsed.raw_id))
    )
    if passkey is None:
        raise fail("unknown_passkey")
    handle = parsed.response.user_handle
    if handle is not None and handle != passkey.user_id.encode():
        raise fail("wrong_user", passkey)
    try:
        # The sign count is compared below, after the signature: only a genuine assertion
        # with a count that went back says "this authenticator may have been cloned".
        verified = verify_authentication_response(
            credential=parsed,
            expected_challenge=taken[0],
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            credential_public_key=passkey.public_key,
            credential_current_sign_count=0,
            require_user_verification=True,
        )
        new_count = parse_authenticator_data(parsed.response.authenticator_data).sign_count
    except MALFORMED:
        raise fail("not_verified", passkey) from None
    if (new_count or passkey.sign_count) and new_count <= passkey.sign_count:
        raise fail("sign_count_regressed", passkey)
    user = passkey.user
    if not user.active:
        raise fail("inactive", passkey)
    passkey.sign_count = verified.new_sign_count
    passkey.last_used_at = utcnow()
    audit.record("auth.passkey_login", actor=user, detail={"passkey_id": passkey.id})
    db.session.commit()
    return user


def _refused(reason: str, passkey: Passkey | None = None) -> None:
    db.session.rollback()
    detail = {"reason": reason}
    if passkey is not None:
        detail["passkey_id"] = passkey.id
    clinic_id = passkey.user.clinic_id if passkey else None
    audit.record("auth.passkey_login_failed", actor=None, clinic_id=clinic_id, detail=detail)
    db.session.commit()


# ---------------------------------------------------------------- the clinic's requirement


def password_alone_refused(user: User) -> bool:
    """Whether `user` must sign in with a passkey: a clinician of a clinic that requires one,
    who has one. With none registered yet, their password still lets them in (and
    `passkey_needed` asks them to register one), so that nobody is locked out."""
    return bool(user.is_clinician and user.clinic.require_passkey_for_clinicians and user.passkeys)
