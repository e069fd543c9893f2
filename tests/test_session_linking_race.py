"""A session and its pre-session entries sent at the same moment always end up linked (issue 11).

Real concurrent HTTP requests: each thread has its own test client, so its own app context,
database session and connection, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from tests.conftest import entry_body

ROUNDS = 20
ENTRIES_PER_ROUND = 6


def test_a_session_and_six_pre_session_entries_sent_at_once_always_end_up_linked(world):
    clinician = world.as_clinician_x()
    patients = [world.as_patient_a() for _ in range(ENTRIES_PER_ROUND)]
    pid = world.patient_a.id
    first = (datetime.now(UTC) - timedelta(days=200)).replace(second=0, microsecond=0)
    expected: dict[str, str] = {}

    for round_number in range(ROUNDS):
        # Five days apart: every entry falls in the 48 h window of its own round's session only.
        started = first + timedelta(days=5 * round_number)
        barrier = threading.Barrier(ENTRIES_PER_ROUND + 1)

        def add_session(started=started, barrier=barrier):
            barrier.wait(timeout=30)
            return clinician.post(
                f"/api/v1/patients/{pid}/sessions",
                json={"started_at": started.isoformat(), "treatment": "ketamine_iv"},
            )

        def send_entry(patient, minutes, started=started, barrier=barrier):
            body = entry_body(
                context="pre_session",
                taken_at=(started - timedelta(hours=1, minutes=minutes)).isoformat(),
            )
            barrier.wait(timeout=30)
            return patient.post("/api/v1/patients/me/entries", json=body)

        with ThreadPoolExecutor(max_workers=ENTRIES_PER_ROUND + 1) as pool:
            session = pool.submit(add_session)
            entries = [pool.submit(send_entry, p, m) for m, p in enumerate(patients)]
            session_response = session.result()
            entry_responses = [future.result() for future in entries]

        assert session_response.status_code == 201, session_response.json
        for response in entry_responses:
            assert response.status_code == 201, response.json
            expected[response.json["id"]] = session_response.json["id"]

    listed = clinician.get(f"/api/v1/patients/{pid}/entries", query_string={"limit": 1000})
    linked = {item["id"]: item["session_id"] for item in listed.json["items"]}
    unlinked = [entry_id for entry_id, session_id in expected.items() if linked[entry_id] is None]
    assert unlinked == [], f"{len(unlinked)} of {len(expected)} entries left unlinked"
    assert linked == expected
