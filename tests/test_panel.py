"""The clinician's panel: GET /api/v1/patients, one row per patient of the clinic."""

from __future__ import annotations

import hashlib
import random
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
from sqlalchemy import event, select

from server.data.extensions import db
from server.data.models import AuditEvent, Entry, Flag, Patient, TreatmentSession, User
from server.domain.instruments import INSTRUMENTS, score
from tests.conftest import Browser, database, entry_body, make_patient

PANEL = "/api/v1/patients"
ROW_FIELDS = {
    "patient",
    "instrument",
    "baseline",
    "baseline_rule",
    "latest",
    "change",
    "percent_change",
    "response",
    "remission",
    "reliable_change",
    "outcome_unavailable",
    "open_flag_count",
    "last_entry_at",
    "sessions_count",
    "overdue",
    "next_due_at",
    "recent_scores",
}
PATIENT_FIELDS = {
    "id",
    "display_name",
    "external_id",
    "timezone",
    "enrolled",
    "active",
    "created_at",
}
# Items per instrument and the highest answer; the safety item is the last one (not GAD-7).
SHAPES = {"phq9": (9, 3, True), "gad7": (7, 3, False), "madrs": (10, 6, True)}


# ---------------------------------------------------------------- helpers


def ago(days: float = 0, hours: float = 0, minutes: float = 0) -> datetime:
    """A moment in the past, to the second (the server keeps seconds only)."""
    moment = datetime.now(UTC) - timedelta(days=days, hours=hours, minutes=minutes)
    return moment.replace(microsecond=0)


def stamp(moment: datetime) -> str:
    """A moment the way the API writes it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def answers_for(instrument: str, total: int, safety: int = 0) -> list[int]:
    """Answers that add up to `total`, with the safety item (if any) at `safety`."""
    count, highest, has_safety_item = SHAPES[instrument]
    answers = [0] * count
    free = count - 1 if has_safety_item else count
    if has_safety_item:
        answers[-1] = safety
    remaining = total - safety
    for position in range(free):
        answers[position] = min(highest, remaining)
        remaining -= answers[position]
    assert remaining == 0, f"{total} does not fit {instrument}"
    return answers


def record(
    client,
    pid: str,
    total: int,
    taken_at: datetime,
    instrument: str = "phq9",
    context: str = "routine",
    safety: int = 0,
    **fields,
) -> dict:
    """Submit an entry with this total through the API; returns the stored entry."""
    body = entry_body(
        instrument,
        answers=answers_for(instrument, total, safety),
        taken_at=taken_at.isoformat(),
        context=context,
        **fields,
    )
    response = client.post(f"/api/v1/patients/{pid}/entries", json=body)
    assert response.status_code == 201, response.json
    assert response.json["total"] == total
    return response.json


def add_session(client, pid: str, started_at: datetime) -> dict:
    response = client.post(
        f"/api/v1/patients/{pid}/sessions",
        json={"started_at": started_at.isoformat(), "treatment": "ketamine_iv"},
    )
    assert response.status_code == 201, response.json
    return response.json


def add_patients(app, world, *names: str, timezone: str = "Europe/Berlin") -> dict[str, str]:
    """Patients of clinic X (not enrolled); name → id."""
    with database(app):
        return {
            name: make_patient(world.clinic_x, name, enrolled=False, timezone=timezone).id
            for name in names
        }


def panel(client, **params) -> list[dict]:
    """Every row of the panel, in one page."""
    params.setdefault("limit", 1000)
    response = client.get(PANEL, query_string=params)
    assert response.status_code == 200, response.json
    assert set(response.json) == {"items", "next_cursor"}
    assert response.json["next_cursor"] is None
    return response.json["items"]


def row_of(client, pid: str, **params) -> dict:
    rows = [row for row in panel(client, **params) if row["patient"]["id"] == pid]
    assert len(rows) == 1, rows
    return rows[0]


def names(rows: list[dict]) -> list[str]:
    return [row["patient"]["display_name"] for row in rows]


def only(wanted, listed: list[str]) -> list[str]:
    """`listed` restricted to the names in `wanted`, order kept."""
    return [name for name in listed if name in wanted]


def midday_timezone() -> str:
    """An Etc/GMT zone where it is about 10:00 now, so that "later today" has room."""
    offset = 10 - datetime.now(UTC).hour
    if offset < -12:
        offset += 24
    if offset == 0:
        return "Etc/GMT"
    # Etc/GMT signs are inverted: Etc/GMT-3 is three hours ahead of UTC.
    return f"Etc/GMT-{offset}" if offset > 0 else f"Etc/GMT+{-offset}"


@pytest.fixture
def clinician(world):
    return world.as_clinician_x()


# ---------------------------------------------------------------- what a row says


def test_a_row_has_the_documented_fields(app, world, clinician):
    pid = add_patients(app, world, "Carl C")["Carl C"]
    record(clinician, pid, 18, ago(days=20))
    record(clinician, pid, 8, ago(days=1))

    rows = panel(clinician)

    # The contract may grow (API.md: extend freely), so these fields at least.
    assert all(set(row) >= ROW_FIELDS for row in rows)
    assert all(set(row["patient"]) >= PATIENT_FIELDS for row in rows)
    assert {row["patient"]["id"] for row in rows} == {
        world.patient_a.id,
        world.patient_b.id,
        pid,
    }


def test_a_patient_from_18_to_8_shows_the_worked_example_of_scales_md(app, world, clinician):
    pid = add_patients(app, world, "Carl C")["Carl C"]
    first, last = ago(days=20), ago(days=1)
    record(clinician, pid, 18, first)
    record(clinician, pid, 8, last)

    row = row_of(clinician, pid)

    assert row["patient"]["display_name"] == "Carl C"
    assert row["instrument"] == "phq9"
    assert row["baseline"] == {
        "total": 18,
        "severity": "moderately severe",
        "taken_at": stamp(first),
    }
    assert row["baseline_rule"] == 4
    assert row["latest"] == {"total": 8, "severity": "mild", "taken_at": stamp(last)}
    assert row["change"] == 10
    assert row["percent_change"] == 55.6
    assert row["response"] is True
    assert row["remission"] is False
    assert row["reliable_change"] == "improved"
    assert row["outcome_unavailable"] is None
    assert row["last_entry_at"] == stamp(last)
    assert row["open_flag_count"] == 0
    assert row["sessions_count"] == 0


def test_a_baseline_below_10_gives_no_response_or_remission_and_says_why(app, world, clinician):
    pid = add_patients(app, world, "Carl C")["Carl C"]
    record(clinician, pid, 8, ago(days=20))
    record(clinician, pid, 3, ago(days=1))

    row = row_of(clinician, pid)

    assert row["baseline"]["total"] == 8
    assert row["latest"]["total"] == 3
    assert row["change"] == 5
    assert row["response"] is None
    assert row["remission"] is None
    assert row["outcome_unavailable"] == "baseline_below_minimum"


def test_a_patient_without_entries_has_no_outcome_because_there_are_no_entries(
    app, world, clinician
):
    pid = add_patients(app, world, "Carl C")["Carl C"]

    row = row_of(clinician, pid)

    assert row["baseline"] is None
    assert row["baseline_rule"] is None
    assert row["latest"] is None
    assert (row["change"], row["percent_change"]) == (None, None)
    assert (row["response"], row["remission"], row["reliable_change"]) == (None, None, None)
    assert row["outcome_unavailable"] == "no_entries"
    assert row["last_entry_at"] is None


def test_a_patient_with_one_entry_has_a_baseline_but_no_follow_up(app, world, clinician):
    pid = add_patients(app, world, "Carl C")["Carl C"]
    taken = ago(days=2)
    record(clinician, pid, 16, taken)

    row = row_of(clinician, pid)

    assert row["baseline"] == {
        "total": 16,
        "severity": "moderately severe",
        "taken_at": stamp(taken),
    }
    assert row["latest"]["total"] == 16
    assert (row["change"], row["percent_change"]) == (None, None)
    assert (row["response"], row["remission"], row["reliable_change"]) == (None, None, None)
    assert row["outcome_unavailable"] == "no_follow_up"


def test_open_flag_count_counts_only_the_open_flags(app, world, clinician):
    pid = add_patients(app, world, "Carl C")["Carl C"]
    record(clinician, pid, 14, ago(days=3), safety=1)
    record(clinician, pid, 12, ago(days=1), safety=2)
    assert row_of(clinician, pid)["open_flag_count"] == 2

    flags = clinician.get("/api/v1/flags", query_string={"status": "open"}).json["items"]
    resolved = clinician.post(f"/api/v1/flags/{flags[0]['id']}/resolve", json={"note": "called"})

    assert resolved.status_code == 200, resolved.json
    assert row_of(clinician, pid)["open_flag_count"] == 1


def test_sessions_count_counts_the_patients_sessions(app, world, clinician):
    pid = add_patients(app, world, "Carl C")["Carl C"]
    add_session(clinician, pid, ago(days=7))
    add_session(clinician, pid, ago(days=3))

    assert row_of(clinician, pid)["sessions_count"] == 2
    assert row_of(clinician, world.patient_a.id)["sessions_count"] == 0


def test_the_gad7_panel_shows_gad7_figures(app, world, clinician):
    pid = add_patients(app, world, "Carl C")["Carl C"]
    record(clinician, pid, 18, ago(days=20))
    record(clinician, pid, 8, ago(days=1))
    record(clinician, pid, 15, ago(days=20), instrument="gad7")
    record(clinician, pid, 5, ago(days=2), instrument="gad7")

    row = row_of(clinician, pid, instrument="gad7")

    assert row["instrument"] == "gad7"
    assert row["baseline"]["total"] == 15
    assert row["baseline"]["severity"] == "severe"
    assert row["latest"]["total"] == 5
    assert row["latest"]["severity"] == "mild"
    assert row["change"] == 10
    assert row["percent_change"] == 66.7
    assert row["response"] is True
    assert row["remission"] is False
    assert row["reliable_change"] == "improved"


def test_the_gad7_panel_shows_no_entries_for_a_patient_with_phq9_only(app, world, clinician):
    pid = add_patients(app, world, "Carl C")["Carl C"]
    record(clinician, pid, 18, ago(days=20))

    row = row_of(clinician, pid, instrument="gad7")

    assert row["baseline"] is None
    assert row["latest"] is None
    assert row["outcome_unavailable"] == "no_entries"


# ---------------------------------------------------------------- order

# Each rule decides at least one pair against the rules below it:
#   Xena Flag before Nora Late: open flag beats more overdue and an earlier name;
#   Zoe Flag before Yves Flag, Nora Late before Mo Late: more overdue beats an earlier name;
#   Ann Fresh before Ben Fresh: neither flagged nor overdue, so the name decides.
TRIAGE_ORDER = [
    "Zoe Flag",  # open flag, PHQ-9 30 days ago: 16 days overdue
    "Yves Flag",  # open flag, 20 days ago: 6 days overdue
    "Xena Flag",  # open flag, an hour ago: not overdue
    "Nora Late",  # 30 days ago: 16 days overdue
    "Mo Late",  # 20 days ago: 6 days overdue
    "Ann Fresh",  # two hours ago
    "Ben Fresh",  # an hour ago
]


@pytest.fixture
def triage(app, world, clinician) -> dict[str, str]:
    ids = add_patients(app, world, *reversed(TRIAGE_ORDER))
    record(clinician, ids["Zoe Flag"], 12, ago(days=30), safety=1)
    record(clinician, ids["Yves Flag"], 12, ago(days=20), safety=1)
    record(clinician, ids["Xena Flag"], 12, ago(hours=1), safety=1)
    record(clinician, ids["Nora Late"], 12, ago(days=30))
    record(clinician, ids["Mo Late"], 12, ago(days=20))
    record(clinician, ids["Ann Fresh"], 12, ago(hours=2))
    record(clinician, ids["Ben Fresh"], 12, ago(hours=1))
    return ids


def test_the_default_order_is_open_flags_then_most_overdue_then_name(clinician, triage):
    listed = names(panel(clinician))

    assert only(TRIAGE_ORDER, listed) == TRIAGE_ORDER


def test_a_resolved_flag_no_longer_puts_its_patient_first(clinician, triage):
    flags = clinician.get("/api/v1/flags").json["items"]
    xena = next(f for f in flags if f["patient"]["display_name"] == "Xena Flag")
    clinician.post(f"/api/v1/flags/{xena['id']}/resolve", json={"note": "seen today"})

    listed = only(TRIAGE_ORDER, names(panel(clinician)))

    assert listed == [
        "Zoe Flag",
        "Yves Flag",
        "Nora Late",
        "Mo Late",
        "Ann Fresh",
        "Ben Fresh",
        "Xena Flag",
    ]


def test_sorting_by_name_is_alphabetical(clinician, triage, world):
    listed = names(panel(clinician, sort="name"))

    assert listed == [
        "Alice A",
        "Ann Fresh",
        "Ben Fresh",
        "Bob B",
        "Mo Late",
        "Nora Late",
        "Xena Flag",
        "Yves Flag",
        "Zoe Flag",
    ]


# Latest, change and last entry each order these four differently from their names.
SCORES = {
    #        baseline, latest, latest taken (days ago)
    "Hana": (22, 20, 5),
    "Ivan": (24, 12, 1),
    "Jill": (10, 3, 3),
    "Kurt": (6, 14, 0.1),
}


@pytest.fixture
def scored(app, world, clinician) -> dict[str, str]:
    ids = add_patients(app, world, *SCORES)
    for name, (baseline, latest, days) in SCORES.items():
        record(clinician, ids[name], baseline, ago(days=10))
        record(clinician, ids[name], latest, ago(days=days))
    return ids


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("latest", ["Hana", "Kurt", "Ivan", "Jill"]),  # highest latest total first
        ("change", ["Ivan", "Jill", "Hana", "Kurt"]),  # largest improvement first
        ("last_entry_at", ["Kurt", "Ivan", "Jill", "Hana"]),  # most recent first
        ("name", ["Hana", "Ivan", "Jill", "Kurt"]),
    ],
)
def test_the_panel_sorts_by_the_column_asked_for(clinician, scored, sort, expected):
    listed = names(panel(clinician, sort=sort))

    assert only(SCORES, listed) == expected


def test_an_unknown_sort_is_a_422_naming_the_parameter(clinician):
    response = clinician.get(PANEL, query_string={"sort": "bogus"})

    assert response.status_code == 422
    assert "sort" in response.json["errors"]["query"]


@pytest.mark.parametrize("limit", [0, 1001])
def test_a_limit_out_of_range_is_a_422(clinician, limit):
    response = clinician.get(PANEL, query_string={"limit": limit})

    assert response.status_code == 422
    assert "limit" in response.json["errors"]["query"]


# ---------------------------------------------------------------- search


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Flag", {"Zoe Flag", "Yves Flag", "Xena Flag"}),
        ("fLAG", {"Zoe Flag", "Yves Flag", "Xena Flag"}),
        ("ALICE", {"Alice A"}),
        ("nN f", {"Ann Fresh"}),
        ("ATE", {"Nora Late", "Mo Late"}),
        ("nobody", set()),
    ],
)
def test_q_keeps_the_patients_whose_name_contains_it_in_any_case(
    clinician, triage, query, expected
):
    assert set(names(panel(clinician, q=query))) == expected


def test_q_matches_letters_beyond_ascii_in_any_case(app, world, clinician):
    add_patients(app, world, "Özlem Öztürk", "Zoe Ozturk")

    assert names(panel(clinician, q="öztürk")) == ["Özlem Öztürk"]
    assert names(panel(clinician, q="ÖZTÜRK")) == ["Özlem Öztürk"]


@pytest.mark.parametrize(("query", "expected"), [("%", ["Fifty % Done"]), ("_", ["Snake_Case"])])
def test_q_matches_wildcard_characters_literally(app, world, clinician, query, expected):
    add_patients(app, world, "Fifty % Done", "Snake_Case")

    assert names(panel(clinician, q=query)) == expected


# ---------------------------------------------------------------- pages


def test_walking_the_panel_one_row_at_a_time_meets_every_patient_once_in_order(clinician, triage):
    whole = [row["patient"]["id"] for row in panel(clinician)]
    walked = []
    url = f"{PANEL}?limit=1"
    while True:
        response = clinician.get(url)
        assert response.status_code == 200, response.json
        assert len(response.json["items"]) == 1
        walked.append(response.json["items"][0]["patient"]["id"])
        cursor = response.json["next_cursor"]
        if cursor is None:
            break
        assert len(walked) <= len(whole), "the cursor never ends"
        url = f"{PANEL}?limit=1&cursor={quote(cursor, safe='')}"

    assert walked == whole
    assert len(set(walked)) == len(whole) == len(TRIAGE_ORDER) + 2


def test_a_cursor_the_api_never_gave_is_a_422(clinician):
    response = clinician.get(PANEL, query_string={"cursor": "not-a-cursor"})

    assert response.status_code == 422


# ---------------------------------------------------------------- overdue and due


@pytest.mark.parametrize(("days_ago", "overdue"), [(15, True), (13, False)])
def test_the_default_schedule_asks_for_a_phq9_every_14_days(
    app, world, clinician, days_ago, overdue
):
    pid = add_patients(app, world, "Carl C")["Carl C"]
    taken = ago(days=days_ago)
    record(clinician, pid, 12, taken)

    row = row_of(clinician, pid)

    assert row["overdue"] is overdue
    assert row["next_due_at"] == stamp(taken + timedelta(days=14))


def test_a_weekly_schedule_makes_a_10_day_old_phq9_overdue(app, world, clinician):
    pid = add_patients(app, world, "Carl C")["Carl C"]
    taken = ago(days=10)
    record(clinician, pid, 12, taken)
    assert row_of(clinician, pid)["overdue"] is False
    schedule = {"instruments": [{"instrument": "phq9", "every_days": 7}], "pre_session": True}

    response = clinician.put(f"/api/v1/patients/{pid}/schedule", json=schedule)

    assert response.status_code == 200, response.json
    row = row_of(clinician, pid)
    assert row["overdue"] is True
    assert row["next_due_at"] == stamp(taken + timedelta(days=7))
    detail = clinician.get(f"/api/v1/patients/{pid}").json
    assert detail["schedule"] == schedule
    assert {
        "instrument": "phq9",
        "context": "routine",
        "due_at": stamp(taken + timedelta(days=7)),
        "overdue": True,
    } in detail["due"]


def test_a_session_later_today_asks_for_a_pre_session_check_in_until_one_is_given(
    app, world, clinician
):
    pid = add_patients(app, world, "Carl C", timezone=midday_timezone())["Carl C"]
    record(clinician, pid, 12, ago(hours=1))
    starts = (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=0)
    session = add_session(clinician, pid, starts)

    due = clinician.get(f"/api/v1/patients/{pid}").json["due"]

    assert {
        "instrument": "phq9",
        "context": "pre_session",
        "due_at": stamp(starts),
        "overdue": False,
    } in due

    entry = record(clinician, pid, 10, ago(minutes=1), context="pre_session")

    assert entry["session_id"] == session["id"]
    due = clinician.get(f"/api/v1/patients/{pid}").json["due"]
    assert [item for item in due if item["context"] == "pre_session"] == []


def test_the_panels_next_due_at_is_the_pre_session_check_in_on_a_session_day(app, world, clinician):
    pid = add_patients(app, world, "Carl C", timezone=midday_timezone())["Carl C"]
    record(clinician, pid, 12, ago(hours=1))
    starts = (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=0)
    add_session(clinician, pid, starts)

    row = row_of(clinician, pid)
    detail = clinician.get(f"/api/v1/patients/{pid}").json

    assert row["next_due_at"] == stamp(starts)
    assert row["next_due_at"] == min(item["due_at"] for item in detail["due"])
    assert row["overdue"] is any(item["overdue"] for item in detail["due"])


def test_a_session_on_another_day_asks_for_no_pre_session_check_in(app, world, clinician):
    pid = add_patients(app, world, "Carl C", timezone=midday_timezone())["Carl C"]
    record(clinician, pid, 12, ago(hours=1))
    add_session(clinician, pid, (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0))

    due = clinician.get(f"/api/v1/patients/{pid}").json["due"]

    assert [item["context"] for item in due] == ["routine"]


# ---------------------------------------------------------------- the panel follows changes


def test_voiding_the_latest_entry_changes_latest_and_change(app, world, clinician):
    pid = add_patients(app, world, "Carl C")["Carl C"]
    record(clinician, pid, 18, ago(days=20))
    record(clinician, pid, 12, ago(days=10))
    last = record(clinician, pid, 8, ago(days=1))
    assert row_of(clinician, pid)["change"] == 10

    voided = clinician.post(
        f"/api/v1/patients/{pid}/entries/{last['id']}/void", json={"reason": "wrong patient"}
    )

    assert voided.status_code == 200, voided.json
    row = row_of(clinician, pid)
    assert row["latest"]["total"] == 12
    assert row["change"] == 6
    assert row["percent_change"] == 33.3
    assert row["response"] is False


def test_adding_and_moving_a_session_changes_sessions_count_and_the_baseline(app, world, clinician):
    pid = add_patients(app, world, "Carl C")["Carl C"]
    record(clinician, pid, 20, ago(days=30))
    record(clinician, pid, 16, ago(days=3))
    record(clinician, pid, 6, ago(hours=1))
    before = row_of(clinician, pid)
    assert (before["baseline"]["total"], before["baseline_rule"], before["change"]) == (20, 4, 14)

    session = add_session(clinician, pid, ago(days=1))

    after = row_of(clinician, pid)
    assert after["sessions_count"] == 1
    # Rule 3: the last entry within 7 days before the first session.
    assert (after["baseline"]["total"], after["baseline_rule"]) == (16, 3)
    assert (after["change"], after["percent_change"]) == (10, 62.5)

    moved = clinician.patch(
        f"/api/v1/patients/{pid}/sessions/{session['id']}",
        json={"started_at": ago(days=29).isoformat()},
    )

    assert moved.status_code == 200, moved.json
    again = row_of(clinician, pid)
    assert (again["baseline"]["total"], again["baseline_rule"], again["change"]) == (20, 3, 14)


def test_setting_and_clearing_the_baseline_changes_the_row(app, world, clinician):
    pid = add_patients(app, world, "Carl C")["Carl C"]
    record(clinician, pid, 20, ago(days=30))
    chosen = record(clinician, pid, 16, ago(days=3))
    record(clinician, pid, 6, ago(hours=1))

    put = clinician.put(f"/api/v1/patients/{pid}/baseline/phq9", json={"entry_id": chosen["id"]})

    assert put.status_code == 200, put.json
    row = row_of(clinician, pid)
    assert (row["baseline"]["total"], row["baseline_rule"], row["change"]) == (16, 1, 10)

    cleared = clinician.delete(f"/api/v1/patients/{pid}/baseline/phq9")

    assert cleared.status_code == 204
    row = row_of(clinician, pid)
    assert (row["baseline"]["total"], row["baseline_rule"], row["change"]) == (20, 4, 14)


def test_the_clinics_madrs_cut_off_changes_madrs_remission_in_the_panel(app, world, clinician):
    pid = add_patients(app, world, "Carl C")["Carl C"]
    record(clinician, pid, 30, ago(days=20), instrument="madrs")
    record(clinician, pid, 11, ago(days=1), instrument="madrs")
    row = row_of(clinician, pid, instrument="madrs")
    assert (row["remission"], row["response"], row["reliable_change"]) == (True, True, None)

    patched = world.as_admin_x().patch("/api/v1/clinic", json={"madrs_remission_max": 10})

    assert patched.status_code == 200, patched.json
    row = row_of(clinician, pid, instrument="madrs")
    assert row["remission"] is False
    assert row["response"] is True


# ---------------------------------------------------------------- the panel agrees with summaries

# Weighted so that every baseline rule gets its turn: explicit, `baseline` context (rare, as it
# wins over the next two), the week before the first session, and the first entry.
CONTEXTS = ("routine",) * 6 + ("pre_session", "pre_session", "post_session", "baseline")
OPERATIONS = ("entry",) * 3 + ("void", "session", "session", "move", "move", "baseline", "clear")


def figures(baseline, latest, outcome: dict) -> dict:
    return {
        "baseline_total": baseline["total"] if baseline else None,
        "baseline_taken_at": baseline["taken_at"] if baseline else None,
        "latest_total": latest["total"] if latest else None,
        **{
            name: outcome[name]
            for name in (
                "baseline_rule",
                "change",
                "percent_change",
                "response",
                "remission",
                "reliable_change",
            )
        },
    }


def assert_panel_matches_summaries(client, pids: list[str], step: str) -> None:
    for instrument in ("phq9", "gad7"):
        rows = {row["patient"]["id"]: row for row in panel(client, instrument=instrument)}
        for pid in pids:
            summary = client.get(
                f"/api/v1/patients/{pid}/summary", query_string={"instrument": instrument}
            )
            assert summary.status_code == 200, summary.json
            row = rows[pid]
            expected = figures(summary.json["baseline"], summary.json["latest"], summary.json)
            assert figures(row["baseline"], row["latest"], row) == expected, (step, instrument)
            assert row["sessions_count"] == len(summary.json["sessions"]), step


class Story:
    """A random sequence of what clinicians do, remembering the ids it may act on."""

    def __init__(self, client, pids: list[str], rng: random.Random):
        self.client, self.pids, self.rng = client, pids, rng
        self.entries = {pid: [] for pid in pids}  # (instrument, id, taken_at), not voided
        self.sessions = {pid: [] for pid in pids}

    def moment(self) -> datetime:
        return ago(minutes=self.rng.randint(1, 60 * 24 * 45))

    def session_time(self, pid: str) -> datetime:
        """Mostly a few hours to days after one of the patient's entries (rule 3's window)."""
        entries = self.entries[pid]
        if entries and self.rng.random() < 0.7:
            taken_at = self.rng.choice(entries)[2]
            return taken_at + timedelta(hours=self.rng.randint(1, 24 * 8))
        return self.moment()

    def step(self) -> str:
        pid = self.rng.choice(self.pids)
        operation = self.rng.choice(OPERATIONS)
        entries, sessions = self.entries[pid], self.sessions[pid]
        if operation == "void" and entries:
            instrument, eid, _ = entries.pop(self.rng.randrange(len(entries)))
            response = self.client.post(
                f"/api/v1/patients/{pid}/entries/{eid}/void", json={"reason": "random"}
            )
            assert response.status_code == 200, response.json
        elif operation == "session":
            sessions.append(add_session(self.client, pid, self.session_time(pid))["id"])
        elif operation == "move" and sessions:
            response = self.client.patch(
                f"/api/v1/patients/{pid}/sessions/{self.rng.choice(sessions)}",
                json={"started_at": self.session_time(pid).isoformat()},
            )
            assert response.status_code == 200, response.json
        elif operation == "baseline" and entries:
            instrument, eid, _ = self.rng.choice(entries)
            response = self.client.put(
                f"/api/v1/patients/{pid}/baseline/{instrument}", json={"entry_id": eid}
            )
            assert response.status_code == 200, response.json
        elif operation == "clear":
            instrument = self.rng.choice(["phq9", "gad7"])
            response = self.client.delete(f"/api/v1/patients/{pid}/baseline/{instrument}")
            assert response.status_code == 204
        else:
            operation = "entry"
            instrument = self.rng.choice(["phq9", "phq9", "gad7"])
            total = self.rng.randint(0, 24 if instrument == "phq9" else 21)
            context = self.rng.choice(CONTEXTS)
            taken_at = self.moment()
            entry = record(self.client, pid, total, taken_at, instrument, context)
            entries.append((instrument, entry["id"], taken_at))
        return f"{operation} for {self.pids.index(pid)}"


@pytest.mark.parametrize("seed", range(4))
def test_after_random_changes_every_panel_row_matches_the_patients_summary(
    app, world, clinician, seed
):
    pids = list(add_patients(app, world, "Rand One", "Rand Two", "Rand Three").values())
    story = Story(clinician, pids, random.Random(seed))

    done = []
    for _ in range(36):
        done.append(story.step())
        assert_panel_matches_summaries(clinician, pids, " / ".join(done))


# ---------------------------------------------------------------- a fixed number of queries


def add_patients_directly(app, world, count: int, first: int) -> None:
    """Patients with entries, sessions and flags, written through the ORM, not the API."""
    now = datetime.now(UTC).replace(microsecond=0)
    clinician_id = world.clinician_x.id
    with database(app) as session:
        for number in range(first, first + count):
            patient = Patient(
                clinic_id=world.clinic_x.id,
                display_name=f"Bulk {number:04d}",
                timezone="Europe/Berlin",
                schedule=(
                    {"instruments": [{"instrument": "gad7", "every_days": 7}], "pre_session": True}
                    if number % 4 == 0
                    else None
                ),
            )
            session.add(patient)
            session.flush()
            if number % 2 == 0:
                session.add(
                    User(
                        email=f"bulk-{number}@example.org",
                        password_hash="not a real hash",
                        role="patient",
                        display_name=patient.display_name,
                        clinic_id=world.clinic_x.id,
                        patient_id=patient.id,
                    )
                )
            past = TreatmentSession(
                patient_id=patient.id,
                started_at=now - timedelta(days=10),
                treatment="ketamine_iv",
                created_by_id=clinician_id,
            )
            soon = TreatmentSession(
                patient_id=patient.id,
                started_at=now + timedelta(hours=3),
                treatment="esketamine_nasal",
                created_by_id=clinician_id,
            )
            session.add_all([past, soon])
            session.flush()
            plan = [
                ("phq9", 20, now - timedelta(days=12), "baseline", None, 0),
                ("phq9", 9, now - timedelta(days=9), "post_session", past.id, number % 3 == 0),
                ("phq9", 7, now - timedelta(hours=1), "pre_session", soon.id, 0),
                ("gad7", 14, now - timedelta(days=12), "routine", None, 0),
                ("gad7", 6, now - timedelta(days=2), "routine", None, 0),
            ]
            for instrument, total, taken_at, context, session_id, safety in plan:
                answers = answers_for(instrument, total, int(safety))
                scored = score(INSTRUMENTS[instrument], answers)
                entry = Entry(
                    id=str(uuid.uuid4()),
                    patient_id=patient.id,
                    instrument=instrument,
                    answers=answers,
                    taken_at=taken_at,
                    context=context,
                    session_id=session_id,
                    total=scored.total,
                    severity=scored.severity,
                    flags=list(scored.flags),
                    imputed_items=list(scored.imputed_items),
                    entered_by_id=clinician_id,
                    entered_by_role="clinician",
                    request_hash=hashlib.sha256(f"{number}{taken_at}".encode()).hexdigest(),
                )
                session.add(entry)
                for kind in scored.flags:
                    session.add(
                        Flag(patient_id=patient.id, checkin_id=entry.id, entry=entry, kind=kind)
                    )
        session.commit()  # the session hook writes their snapshots


def statements_during(app, client, url: str) -> tuple[list[str], object]:
    """The SQL statements the server runs while answering one request."""
    with app.app_context():
        engine = db.engine
    statements: list[str] = []

    def count(connection, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return statements, response


def test_the_panel_runs_the_same_number_of_queries_for_10_and_200_patients(app, world):
    clinician = world.as_clinician_x()
    url = f"{PANEL}?limit=1000"
    add_patients_directly(app, world, 10, first=0)
    assert clinician.get(url).status_code == 200  # the first request after sign-in

    small, small_response = statements_during(app, clinician, url)
    add_patients_directly(app, world, 190, first=10)
    large, large_response = statements_during(app, clinician, url)

    assert small_response.status_code == 200
    assert len(small_response.json["items"]) == 12  # and Alice A, Bob B
    assert large_response.status_code == 200
    assert len(large_response.json["items"]) == 202
    assert sum(row["open_flag_count"] for row in large_response.json["items"]) == 67
    assert sum(row["sessions_count"] for row in large_response.json["items"]) == 400
    assert len(small) == len(large), "\n".join(large)


# ---------------------------------------------------------------- the trend sparkline


def test_recent_scores_are_the_newest_twelve_of_the_instrument_oldest_first(app, world, clinician):
    pid = add_patients(app, world, "Tess T")["Tess T"]
    taken = [ago(days=40 - 2 * n) for n in range(14)]
    for n, moment in enumerate(taken):
        record(clinician, pid, 5 + n, moment)
    anxiety = record(clinician, pid, 9, ago(days=1), instrument="gad7")

    row = row_of(clinician, pid)

    assert (
        row["recent_scores"]
        == [{"taken_at": stamp(moment), "total": 5 + n} for n, moment in enumerate(taken)][2:]
    )
    assert row_of(clinician, pid, instrument="gad7")["recent_scores"] == [
        {"taken_at": anxiety["taken_at"], "total": 9}
    ]


def test_recent_scores_leave_out_a_voided_entry_and_take_post_session_ones(app, world, clinician):
    pid = add_patients(app, world, "Uma U")["Uma U"]
    started = ago(days=6)
    add_session(clinician, pid, started)
    record(clinician, pid, 18, ago(days=20))
    mistaken = record(clinician, pid, 24, ago(days=10))
    record(clinician, pid, 12, started + timedelta(hours=3), context="post_session")
    voided = clinician.post(
        f"/api/v1/patients/{pid}/entries/{mistaken['id']}/void", json={"reason": "wrong patient"}
    )
    assert voided.status_code == 200, voided.json

    assert [point["total"] for point in row_of(clinician, pid)["recent_scores"]] == [18, 12]


def test_a_patient_without_entries_has_no_recent_scores(app, world, clinician):
    pid = add_patients(app, world, "Vic V")["Vic V"]

    assert row_of(clinician, pid)["recent_scores"] == []


def test_a_prorated_total_is_sent_unrounded_in_the_recent_scores(app, world, clinician):
    pid = add_patients(app, world, "Wes W")["Wes W"]
    body = entry_body(
        "phq9", answers=[3, 3, 3, 3, 3, 1, None, None, 0], taken_at=ago(days=2).isoformat()
    )
    assert clinician.post(f"/api/v1/patients/{pid}/entries", json=body).status_code == 201

    [point] = row_of(clinician, pid)["recent_scores"]
    assert point["total"] == pytest.approx(16 * 9 / 7)


# ---------------------------------------------------------------- who sees the panel


def test_a_clinician_of_another_clinic_sees_none_of_its_patients(app, world, triage):
    with database(app):
        make_patient(world.clinic_y, "Yuri Y", enrolled=False)
    clinician_y = world.as_clinician_y()

    assert names(panel(clinician_y)) == ["Yuri Y"]
    assert names(panel(clinician_y, q="Flag")) == []
    assert "Yuri Y" not in names(panel(world.as_clinician_x()))


def test_a_patient_may_not_read_the_panel(world, triage):
    response = world.as_patient_a().get(PANEL)

    assert response.status_code == 403
    text = response.get_data(as_text=True)
    assert not any(name in text for name in [*TRIAGE_ORDER, "Alice A", "Bob B"])


def test_an_anonymous_visitor_may_not_read_the_panel(world, triage):
    response = Browser(world.app).get(PANEL)

    assert response.status_code == 401
    assert "Flag" not in response.get_data(as_text=True)


def test_reading_the_panel_is_audited(app, world, clinician):
    world.as_patient_a().get(PANEL)  # refused: no record of a read

    clinician.get(PANEL, query_string={"instrument": "gad7"})

    with database(app) as session:
        reads = session.scalars(select(AuditEvent).where(AuditEvent.action == "panel.read")).all()
        assert [(r.actor_id, r.actor_role, r.clinic_id) for r in reads] == [
            (world.clinician_x.id, "clinician", world.clinic_x.id)
        ]
        assert reads[0].detail["instrument"] == "gad7"
