"""A synthetic clinic with realistic trajectories, for benchmarks and demos.

Never for real data: every patient is invented. `flask --app server synthetic-clinic`.
"""

from __future__ import annotations

import hashlib
import json
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select

from ..data.extensions import db
from ..data.models import Clinic, Entry, Flag, Patient, TreatmentSession, User
from ..domain.instruments import GAD7, PHQ9, Instrument, score
from .accounts import hash_password

INDUCTION_DAYS = (0, 3, 7, 10, 14, 17)  # six sessions over three weeks
MAINTENANCE_EVERY = timedelta(days=28)
TIMEZONES = ("Europe/Berlin", "Europe/London", "America/New_York", "America/Chicago")
TREATMENTS = ("ketamine_iv", "ketamine_iv", "esketamine_nasal", "ketamine_im")
SYNTHETIC_PASSWORD = "synthetic patient password"
# Invented numbers (the emergency number aside), so that a demo never rings a real line.
SYNTHETIC_CRISIS = {
    "emergency_number": "112",
    "crisis_line": {"name": "Synthetic Crisis Line (demo)", "phone": "0800 000 0000", "sms": None},
    "clinic_phone": "+49 30 000 0000",
    "clinic_hours": "Mon–Fri 9–17",
    "message": "A synthetic demo clinic: these numbers are placeholders.",
}


@dataclass
class Trajectory:
    """A patient's course: baseline severity and where they settle, if they respond."""

    baseline: float
    responder: bool
    settle_fraction: float
    weeks_to_settle: float
    self_harm_risk: float

    def phq9_at(self, days: float, rng: random.Random) -> int:
        progress = min(1.0, days / (7 * self.weeks_to_settle))
        target = self.baseline * (1 - progress * (1 - self.settle_fraction))
        return max(0, min(27, round(rng.gauss(target, 2.0))))


def make_trajectory(rng: random.Random) -> Trajectory:
    responder = rng.random() < 0.5
    return Trajectory(
        baseline=min(27, max(10, rng.gauss(18, 4))),
        responder=responder,
        settle_fraction=rng.uniform(0.2, 0.45) if responder else rng.uniform(0.75, 1.0),
        weeks_to_settle=rng.uniform(2, 8),
        self_harm_risk=rng.uniform(0.0, 0.12),
    )


def answers_for(instrument: Instrument, total: int, rng: random.Random) -> list[int]:
    """Spread a total over an instrument's items at random."""
    highest = max(instrument.option_values)
    answers = [0] * len(instrument.items)
    total = min(total, highest * len(answers))
    while sum(answers) < total:
        position = rng.randrange(len(answers))
        if answers[position] < highest:
            answers[position] += 1
    return answers


def _request_hash(values: dict) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()


def build_clinic(
    name: str, patients: int, years: float, seed: int = 1, now: datetime | None = None
) -> Clinic:
    """Create a clinic with `patients` invented patients and `years` of history each."""
    rng = random.Random(seed)
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    clinic = Clinic(name=name, timezone="Europe/Berlin")
    clinic.crisis = SYNTHETIC_CRISIS
    db.session.add(clinic)
    db.session.flush()
    clinician = User(
        email=f"clinician@{uuid.uuid4().hex[:8]}.synthetic.invalid",
        password_hash=hash_password(SYNTHETIC_PASSWORD),
        role="clinician",
        is_admin=True,
        display_name="Synthetic Clinician",
        clinic_id=clinic.id,
    )
    db.session.add(clinician)
    db.session.flush()
    patient_hash = hash_password(SYNTHETIC_PASSWORD)
    for number in range(patients):
        _build_patient(clinic, clinician, number, years, now, rng, patient_hash)
        if number % 50 == 49:
            db.session.flush()
    db.session.commit()
    return clinic


def _build_patient(clinic, clinician, number, years, now, rng, patient_hash) -> str:
    start = now - timedelta(days=365 * years) + timedelta(days=rng.uniform(0, 30))
    patient_id = str(uuid.uuid4())
    account_id = str(uuid.uuid4())
    db.session.execute(
        insert(Patient).values(
            id=patient_id,
            clinic_id=clinic.id,
            display_name=f"Synthetic Patient {number + 1:04d}",
            external_id=f"SYN-{number + 1:05d}",
            timezone=rng.choice(TIMEZONES),
            created_at=start - timedelta(days=7),
        )
    )
    db.session.execute(
        insert(User).values(
            id=account_id,
            email=f"patient{number + 1:05d}-{patient_id[:8]}@synthetic.invalid",
            password_hash=patient_hash,
            role="patient",
            is_admin=False,
            display_name=f"Synthetic Patient {number + 1:04d}",
            clinic_id=clinic.id,
            patient_id=patient_id,
            active=True,
            created_at=start - timedelta(days=7),
        )
    )
    trajectory = make_trajectory(rng)
    treatment = rng.choice(TREATMENTS)

    session_times = [start + timedelta(days=day, hours=rng.uniform(0, 2)) for day in INDUCTION_DAYS]
    moment = session_times[-1] + MAINTENANCE_EVERY
    while moment < now:
        session_times.append(moment + timedelta(hours=rng.uniform(-24, 24)))
        moment += MAINTENANCE_EVERY
    sessions = [
        {
            "id": str(uuid.uuid4()),
            "patient_id": patient_id,
            "started_at": at,
            "treatment": treatment,
            "dose_mg": 56.0 if treatment == "esketamine_nasal" else round(rng.uniform(30, 60), 1),
            "notes": None,
            "created_by_id": clinician.id,
            "created_at": at,
        }
        for at in session_times
    ]
    db.session.execute(insert(TreatmentSession), sessions)

    entries, flags = [], []

    def add(instrument, when, context, session_id=None):
        if when > now:
            return
        days = (when - start).total_seconds() / 86400
        total = trajectory.phq9_at(max(days, 0), rng)
        if instrument is GAD7:
            total = max(0, min(21, round(total * 0.75 + rng.gauss(0, 1.5))))
        answers = answers_for(instrument, total, rng)
        if instrument is PHQ9:
            answers[8] = 0
            if rng.random() < trajectory.self_harm_risk * (total / 27):
                answers[8] = rng.choice((1, 1, 2, 3))
        scored = score(instrument, answers)
        entry_id = str(uuid.uuid4())
        entries.append(
            {
                "id": entry_id,
                "patient_id": patient_id,
                "instrument": instrument.id,
                "answers": answers,
                "difficulty": rng.randint(0, 3) if instrument is PHQ9 else None,
                "taken_at": when,
                "context": context,
                "session_id": session_id,
                "session_explicit": False,
                "note": None,
                "total": float(scored.total),
                "severity": scored.severity,
                "flags": list(scored.flags),
                "imputed_items": [],
                "received_at": when,
                "entered_by_id": account_id,
                "entered_by_role": "patient",
                "request_hash": _request_hash({"id": entry_id, "answers": answers}),
                "voided": False,
            }
        )
        for kind in scored.flags:
            resolved = when < now - timedelta(days=3) and rng.random() < 0.9
            flags.append(
                {
                    "id": str(uuid.uuid4()),
                    "patient_id": patient_id,
                    "checkin_id": entry_id,
                    "entry_id": entry_id,
                    "kind": kind,
                    "opened_at": when,
                    "status": "resolved" if resolved else "open",
                    "resolved_by_id": clinician.id if resolved else None,
                    "resolved_at": when + timedelta(hours=6) if resolved else None,
                    "note": "Called the patient; safety plan reviewed." if resolved else None,
                }
            )

    add(PHQ9, start - timedelta(days=2), "baseline")
    add(GAD7, start - timedelta(days=2), "baseline")
    for session in sessions:
        if session["started_at"] >= now:
            continue
        add(PHQ9, session["started_at"] - timedelta(hours=2), "pre_session", session["id"])
        post = session["started_at"] + timedelta(days=1)
        if post < now:
            add(PHQ9, post, "post_session", session["id"])
    weekly = start + timedelta(days=7)
    week = 0
    while weekly < now:
        add(PHQ9, weekly + timedelta(hours=rng.uniform(8, 20)), "routine")
        if week % 2 == 0:
            add(GAD7, weekly + timedelta(hours=rng.uniform(8, 20)), "routine")
        weekly += timedelta(days=7)
        week += 1
    db.session.execute(insert(Entry), entries)
    if flags:
        db.session.execute(insert(Flag), flags)
    return patient_id


def clinician_of(clinic: Clinic) -> User:
    return db.session.scalar(
        select(User).where(User.clinic_id == clinic.id, User.role == "clinician")
    )
