"""The words for each value the API speaks in, served at GET /api/v1/vocabularies.

The values are the lists the server validates and computes with, defined once, here (or in
instruments.py and outcomes.py), with their labels; a value without a label is refused at
import. The PWA shows these labels and keeps no list of its own.
"""

from __future__ import annotations

from .instruments import MADRS_REMISSION_CHOICES
from .outcomes import BASELINE_CONTEXT, BEFORE_FIRST_SESSION, EXPLICIT, FIRST_ENTRY
from .treatment import ADVERSE_EVENTS, SESSION_STATUSES, SEVERITY_LEVELS

# The values themselves: the schemas, the importer, the panel and the database's check
# constraints use these (the constraints are written out in the migrations, checked by tests).
CONTEXTS = ("baseline", "pre_session", "post_session", "routine")
TREATMENTS = ("ketamine_iv", "ketamine_im", "esketamine_nasal", "other")
SORTS = ("default", "name", "latest", "change", "last_entry_at")

# Why response and remission are null (outcomes.why_no_outcome), as the panel and the
# summary's `outcome_unavailable` name it.
OUTCOME_UNAVAILABLE = (
    "no_entries",
    "no_follow_up",
    "baseline_below_minimum",
    "baseline_zero",
    "not_a_scale",
)

# The patient's after-session report: each side effect rated 0 none to 3 severe (API.md).
# The database has a column for each (models.SessionReport).
SIDE_EFFECTS = ("nausea", "dizziness", "dissociation", "headache", "drowsiness")
SIDE_EFFECT_LEVELS = (0, 1, 2, 3)

TOKEN_SCOPES = ("read", "write")  # "read": GET only; no token ever administers
ROLES = ("clinician", "admin", "patient")  # an admin is a clinician with `is_admin`

RELIABLE_CHANGE = ("improved", "no_change", "worsened")
PRE_SESSION_REMINDER_HOURS = (0, 1, 2, 3, 6, 12, 24, 48)

# Every action the server writes to the audit log (tests check the code writes no other).
AUDIT_ACTIONS = (
    "auth.login",
    "auth.login_failed",
    "auth.logout",
    "auth.passkey_login",
    "auth.passkey_login_failed",
    "passkey.create",
    "passkey.remove",
    "auth.sessions_end",
    "auth.password_change",
    "auth.password_change_failed",
    "auth.reset",
    "auth.reset_failed",
    "patient.read",
    "entries.read",
    "entry.read",
    "summary.read",
    "panel.read",
    "schedule.read",
    "sessions.read",
    "session.read",
    "flags.read",
    "flag.read",
    "flag.resolve",
    "safety_signal.receive",
    "export.patient",
    "export.clinic",
    "import",
    "patient.create",
    "patient.update",
    "patient.enroll",
    "patient.enroll_email_in_use",
    "patient.enrollment_reissued",
    "patient.reset_issued",
    "patient.deactivate",
    "patient.activate",
    "entry.create",
    "entry.void",
    "baseline.set",
    "baseline.clear",
    "schedule.update",
    "reminders.read",
    "reminders.update",
    "session.create",
    "session.update",
    "session_report.create",
    "session.cancel",
    "monitoring.record",
    "monitoring.read",
    "clinic.update",
    "clinician.create",
    "clinician.deactivate",
    "clinician.activate",
    "clinician.reset_issued",
    "token.create",
    "token.revoke",
)


def labelled(values, labels: dict, **extra: dict) -> list[dict]:
    """[{"value", "label", ...extra}] in the order of `values`; every value needs a label."""
    if set(labels) != set(values):
        raise ValueError(f"Labels do not match the values: {sorted(set(labels) ^ set(values))}")
    return [
        {"value": value, "label": labels[value]}
        | {name: words.get(value) for name, words in extra.items()}
        for value in values
    ]


VOCABULARIES = {
    # `patient_label`: the check-in's choices (a patient never chooses "baseline");
    # `due_label`: how the patient's home screen names a check-in that is due.
    "contexts": labelled(
        CONTEXTS,
        {
            "routine": "Routine",
            "baseline": "Baseline",
            "pre_session": "Before a session",
            "post_session": "After a session",
        },
        patient_label={
            "pre_session": "Before today's session",
            "post_session": "After a session",
            "routine": "A regular check-in",
        },
        due_label={
            "pre_session": "before today's session",
            "post_session": "after your session",
            "routine": "regular check-in",
            "baseline": "first check-in",
        },
    ),
    "treatments": labelled(
        TREATMENTS,
        {
            "ketamine_iv": "Ketamine infusion",
            "ketamine_im": "Ketamine injection",
            "esketamine_nasal": "Esketamine nasal spray",
            "other": "Treatment session",
        },
    ),
    "session_statuses": labelled(
        SESSION_STATUSES, {"planned": "planned", "done": "done", "cancelled": "cancelled"}
    ),
    # Sedation and dissociation on the monitoring record, at their worst during monitoring.
    "monitoring_levels": labelled(
        SEVERITY_LEVELS,
        {"none": "None", "mild": "Mild", "moderate": "Moderate", "severe": "Severe"},
    ),
    "adverse_events": labelled(
        ADVERSE_EVENTS,
        {
            "nausea": "Nausea",
            "vomiting": "Vomiting",
            "dizziness": "Dizziness",
            "headache": "Headache",
            "raised_blood_pressure": "Raised blood pressure",
            "anxiety": "Anxiety",
            "other": "Other (say what in the notes)",
        },
    ),
    # As the clinic admin's tables show them: "admin" in the Role column, "clinician" or
    # "patient" before an actor's id in the audit log.
    "roles": labelled(ROLES, {"clinician": "clinician", "admin": "admin", "patient": "patient"}),
    "panel_sorts": labelled(
        SORTS,
        {
            "default": "Flags, then overdue",
            "name": "Name",
            "latest": "Latest score",
            "change": "Change",
            "last_entry_at": "Last check-in",
        },
    ),
    "madrs_remission_choices": labelled(
        MADRS_REMISSION_CHOICES,
        {12: "12 or less (esketamine trials)", 10: "10 or less (KetECT)"},
    ),
    "baseline_rules": labelled(
        (EXPLICIT, BASELINE_CONTEXT, BEFORE_FIRST_SESSION, FIRST_ENTRY),
        {
            EXPLICIT: "set by a clinician",
            BASELINE_CONTEXT: "marked as baseline",
            BEFORE_FIRST_SESSION: "last before the first session",
            FIRST_ENTRY: "first entry",
        },
    ),
    "outcome_unavailable": labelled(
        OUTCOME_UNAVAILABLE,
        {
            "no_entries": "n/a: no check-ins yet",
            "no_follow_up": "n/a: no follow-up yet",
            "baseline_below_minimum": "n/a: baseline below 10",
            "baseline_zero": "n/a: baseline is 0",
            "not_a_scale": "n/a: a quick rating, not a scale",
        },
    ),
    # `question`: how the patient's after-session report asks about it, one per screen.
    "side_effects": labelled(
        SIDE_EFFECTS,
        {
            "nausea": "Nausea",
            "dizziness": "Dizziness",
            "dissociation": "Dissociation",
            "headache": "Headache",
            "drowsiness": "Drowsiness",
        },
        question={
            "nausea": "Since your session, have you felt sick (nausea)?",
            "dizziness": "Since your session, have you felt dizzy or unsteady?",
            "dissociation": "Since your session, have you felt detached, unreal or outside "
            "your body (dissociation)?",
            "headache": "Since your session, have you had a headache?",
            "drowsiness": "Since your session, have you felt drowsy or unusually sleepy?",
        },
    ),
    "side_effect_levels": labelled(
        SIDE_EFFECT_LEVELS, {0: "None", 1: "Mild", 2: "Moderate", 3: "Severe"}
    ),
    "reliable_change": labelled(
        RELIABLE_CHANGE,
        {"improved": "improved", "no_change": "no reliable change", "worsened": "worsened"},
    ),
    "audit_actions": labelled(AUDIT_ACTIONS, {action: action for action in AUDIT_ACTIONS}),
    "token_scopes": labelled(
        TOKEN_SCOPES,
        {"read": "read only", "write": "read and write (never administration)"},
    ),
    # The choices the app offers for a reminder before a planned session (the API takes any
    # whole number of hours from 0 to 48).
    "pre_session_reminders": labelled(
        PRE_SESSION_REMINDER_HOURS,
        {
            0: "No reminder",
            1: "1 hour before",
            2: "2 hours before",
            3: "3 hours before",
            6: "6 hours before",
            12: "12 hours before",
            24: "The day before (24 hours)",
            48: "Two days before (48 hours)",
        },
    ),
}
