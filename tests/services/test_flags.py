"""services/flags: the clinic's inbox in a fixed number of queries, and resolution."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from server.data.models import AuditEvent, Flag
from server.domain.errors import Conflict
from server.services import flags
from tests.conftest import database, entry_body, make_clinician, make_patient
from tests.services.helpers import counted_statements, signed_in

ITEM_9 = [0, 0, 0, 0, 0, 0, 0, 0, 1]


def open_flags(app, world, count: int) -> None:
    """`count` flags, each for a patient of its own, through the API."""
    with database(app):
        pids = [make_patient(world.clinic_x, f"Flagged {n}").id for n in range(count)]
    clinician = world.as_clinician_x()
    for pid in pids:
        body = entry_body(answers=ITEM_9)
        assert clinician.post(f"/api/v1/patients/{pid}/entries", json=body).status_code == 201


def resolve_some(app, world, clinic) -> list[str]:
    """Every other open flag resolved, each by a clinician of its own of `clinic` (of another
    clinic: as an import may say); their ids."""
    with database(app) as session:
        opened = session.scalars(select(Flag).where(Flag.status == "open").order_by(Flag.id))
        resolvers = []
        for number, flag in enumerate(opened.all()):
            if number % 2 == 0:
                resolver = make_clinician(session.merge(clinic))
                flag.status, flag.resolved_by_id, flag.note = "resolved", resolver.id, "ok"
                resolvers.append(resolver.id)
        session.commit()
        return resolvers


def listed(app, world, status=None, limit=100):
    """The inbox as the service gives it, serialised as the API would, and its statements."""
    from server.api.flags import FlagList

    with signed_in(app, world.clinician_x) as session:
        clinician = session.merge(world.clinician_x)
        with counted_statements() as statements:
            page = flags.list_flags(clinician, status, limit, None)
            answer = FlagList().dump(page)
        return answer, statements


def test_the_inbox_runs_the_same_number_of_queries_for_2_and_12_flags(app, world):
    open_flags(app, world, 2)
    resolve_some(app, world, world.clinic_x)
    two, few = listed(app, world)
    open_flags(app, world, 10)
    resolve_some(app, world, world.clinic_x)

    twelve, many = listed(app, world)

    assert len(two["items"]) == 2 and len(twelve["items"]) == 12
    assert {item["patient"]["enrolled"] for item in twelve["items"]} == {True}
    assert {item["status"] for item in twelve["items"]} == {"open", "resolved"}
    assert len({item["resolved_by"]["id"] for item in twelve["items"] if item["resolved_by"]}) > 2
    assert len(few) == len(many), "\n".join(many)


def test_a_resolver_of_the_clinic_is_named_and_one_of_another_clinic_is_not(app, world):
    open_flags(app, world, 2)
    [mine] = resolve_some(app, world, world.clinic_x)
    [elsewhere] = resolve_some(app, world, world.clinic_y)

    resolved = listed(app, world, "resolved")[0]["items"]

    by_id = sorted((item["resolved_by"] for item in resolved), key=lambda who: who["id"])
    assert by_id == sorted(
        [{"id": mine, "display_name": "Dr Test"}, {"id": elsewhere, "display_name": None}],
        key=lambda who: who["id"],
    )


def test_the_inbox_is_audited_with_the_patients_it_shows(app, world):
    open_flags(app, world, 3)

    answer, _ = listed(app, world, "open", limit=2)

    with database(app) as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "flags.read"))
        shown = sorted(item["patient"]["id"] for item in answer["items"])
        assert event.detail == {"patient_ids": shown}
    assert answer["next_cursor"] is not None


def test_resolving_a_resolved_flag_is_a_conflict_and_keeps_the_first_resolution(app, world):
    open_flags(app, world, 1)
    with signed_in(app, world.clinician_x) as session:
        flag = session.scalar(select(Flag))
        resolved = flags.resolve(flag, session.merge(world.clinician_x), "Called")
        assert (resolved.status, resolved.resolved_by["display_name"]) == ("resolved", "Dr Test")

    with signed_in(app, world.admin_x) as session:
        flag = session.scalar(select(Flag))
        with pytest.raises(Conflict) as refused:
            flags.resolve(flag, session.merge(world.admin_x), "Again")

    assert refused.value.message == "This flag is already resolved."
    with database(app) as session:
        flag = session.scalar(select(Flag))
        assert (flag.resolved_by_id, flag.note) == (world.clinician_x.id, "Called")
        assert session.scalars(select(AuditEvent.action)).all().count("flag.resolve") == 1
