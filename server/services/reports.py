"""The patient's after-session reports: side effects and a note, stored under the client's id."""

from __future__ import annotations

import hashlib
import json

from sqlalchemy.exc import IntegrityError

from ..data.extensions import db
from ..data.models import Patient, SessionReport, TreatmentSession, User, utcnow
from ..domain.errors import Conflict, Invalid
from ..domain.times import utc
from ..domain.vocabularies import SIDE_EFFECTS
from . import audit


def request_hash(patient_id: str, session_id: str, body: dict) -> str:
    """SHA-256 of the report as the client sent it: a replay matches it, a conflict does not."""
    canonical = {
        "patient_id": patient_id,
        "session_id": session_id,
        "taken_at": utc(body["taken_at"]),
        "side_effects": {name: body["side_effects"][name] for name in SIDE_EFFECTS},
        "note": body.get("note"),
    }
    return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()


def _check_fits(session: TreatmentSession, body: dict) -> None:
    """A report is about a session that took place: taken after it started, never cancelled."""
    if session.cancelled_at is not None:
        raise Invalid(
            fields={"sid": ["This session was cancelled: there is nothing to report."]},
            location="path",
        )
    if body["taken_at"] < session.started_at:
        raise Invalid(
            fields={
                "taken_at": [
                    "A report is made after its session, which starts at "
                    f"{utc(session.started_at)}."
                ]
            }
        )


def submit(
    patient: Patient, session: TreatmentSession, body: dict, actor: User
) -> tuple[SessionReport, bool]:
    """Store a report under the client's id; a replay returns the stored one (created=False)."""
    digest = request_hash(patient.id, session.id, body)
    existing = db.session.get(SessionReport, body["id"])
    if existing is not None:  # before the time check: a queued replay is never refused
        return _replayed(existing, digest), False
    _check_fits(session, body)
    report = SessionReport(
        id=body["id"],
        patient_id=patient.id,
        session_id=session.id,
        taken_at=body["taken_at"],
        note=body.get("note"),
        received_at=utcnow(),
        request_hash=digest,
        **{name: body["side_effects"][name] for name in SIDE_EFFECTS},
    )
    db.session.add(report)
    audit.record(
        "session_report.create",
        patient=patient,
        actor=actor,
        detail={"report_id": report.id, "session_id": session.id},
    )
    try:
        db.session.commit()
    except IntegrityError:
        # Another request stored this id between our read and our write: the key decides.
        db.session.rollback()
        existing = db.session.get(SessionReport, body["id"])
        if existing is None:
            raise
        return _replayed(existing, digest), False
    return report, True


def _replayed(existing: SessionReport, digest: str) -> SessionReport:
    if existing.request_hash != digest:
        raise Conflict(
            "A report with this id was already stored with different content.",
            fields={"id": ["Already used for a different report."]},
        )
    return existing
