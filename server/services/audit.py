"""Audit records: added to the current transaction, never changed or deleted."""

from __future__ import annotations

from datetime import datetime

from flask import g, has_request_context, request
from flask_login import current_user

from ..data.extensions import db
from ..data.models import AuditEvent, Patient, User
from .pagination import page


def record(
    action: str,
    *,
    patient: Patient | None = None,
    actor: User | None = None,
    clinic_id: str | None = None,
    detail: dict | None = None,
) -> AuditEvent:
    """Add an audit record for `action` by `actor` (default: the signed-in user)."""
    if actor is None and current_user and current_user.is_authenticated:
        actor = current_user._get_current_object()
    detail = dict(detail or {})
    if g.get("auth_via") == "token":
        detail.setdefault("token_id", g.get("api_token_id"))
    event = AuditEvent(
        action=action,
        actor_id=actor.id if actor else None,
        actor_role=actor.role if actor else None,
        clinic_id=clinic_id
        or (patient.clinic_id if patient else None)
        or (actor.clinic_id if actor else None),
        patient_id=patient.id if patient else None,
        # None from a command-line task (there is no request).
        ip=((request.remote_addr or "")[:64] or None) if has_request_context() else None,
        detail=detail,
    )
    db.session.add(event)
    return event


def clinician_read(action: str, patient: Patient, detail: dict | None = None) -> None:
    """Audit a read of a patient's data when a clinician makes it, then commit."""
    if current_user.is_authenticated and current_user.is_clinician:
        record(action, patient=patient, detail=detail)
        db.session.commit()


def clinic_log(
    clinic_id: str,
    limit: int,
    cursor: str | None,
    *,
    patient_id: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
) -> dict:
    """One page of the clinic's audit records, newest first, narrowed by the filters given."""
    statement = db.select(AuditEvent).where(AuditEvent.clinic_id == clinic_id)
    if patient_id:
        statement = statement.where(AuditEvent.patient_id == patient_id)
    if action:
        statement = statement.where(AuditEvent.action == action)
    if since:
        statement = statement.where(AuditEvent.at >= since)
    found = page(statement, AuditEvent.at, AuditEvent.id, limit, cursor, newest_first=True)
    _name(found["items"])
    return found


def _name(events: list[AuditEvent]) -> None:
    """Give each event of a page `actor_name` and `patient_name`, in two queries a page."""
    actor_ids = {e.actor_id for e in events if e.actor_id}
    patient_ids = {e.patient_id for e in events if e.patient_id}
    actors = dict(
        db.session.execute(
            db.select(User.id, User.display_name).where(User.id.in_(actor_ids))
        ).all()
        if actor_ids
        else []
    )
    patients = dict(
        db.session.execute(
            db.select(Patient.id, Patient.display_name).where(Patient.id.in_(patient_ids))
        ).all()
        if patient_ids
        else []
    )
    for event in events:
        event.actor_name = actors.get(event.actor_id)
        event.patient_name = patients.get(event.patient_id)
