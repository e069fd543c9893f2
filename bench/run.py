"""`make bench`: a synthetic clinic of 1,000 patients with two years of history, measured.

Builds the clinic in a fresh SQLite file, then times, in-process through the Flask test client,
the panel, one patient's summary and one entry submission, against a floor: a minimal Flask
endpoint doing one SQLite read of the same file; and one `send-reminders` pass for a clinic of
10,000 subscribed patients (nothing due, then a tenth due), sending to the loopback stand-in
push service of the tests. Prints tables and writes docs/benchmarks.md (`--only reminders`
measures the reminder pass alone and replaces only its section).

With DATABASE_URL naming a PostgreSQL database (`make bench DATABASE_URL=postgresql://...`),
the same panel, summary, submission, export and import figures are measured there instead,
against a floor doing one PostgreSQL read, and written to the document's PostgreSQL section.
That database is emptied first (its public schema dropped), and the import goes into a second
one beside it, `<name>_import`, created when missing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import time
import tracemalloc
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import flask_migrate
from flask import Flask

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from server import create_app  # noqa: E402
from server.data.extensions import db  # noqa: E402
from server.data.models import (  # noqa: E402
    Clinic,
    Entry,
    OutcomeSnapshot,
    Patient,
    PushSubscription,
    ReminderDelivery,
    new_id,
)
from server.services import reminders  # noqa: E402
from server.services.synthetic import SYNTHETIC_PASSWORD, build_clinic, clinician_of  # noqa: E402
from tests.push_service import new_subscriber  # noqa: E402

TARGETS_MS = {"panel": 50.0, "summary": 10.0}  # medians, from issue 14 (issue 6 asked 150 and 20)
EXPORT_TARGET = 50_000  # entries per second, issue 14
IMPORT_TARGET = 10_000
REMINDER_TARGETS_S = {"nothing due": 2.0, "a tenth due": 10.0}  # issue 12
REMINDERS_HEADING = "## Sending reminders"
POSTGRES_HEADING = "## On PostgreSQL"
SECRET = "benchmark-only-secret-key-0123456789"


def postgres_url() -> str | None:
    """DATABASE_URL as SQLAlchemy takes it when it names PostgreSQL; None for SQLite."""
    from server.config import database_url

    raw = os.environ.get("DATABASE_URL")
    url = database_url(raw) if raw else None
    return url if url and url.startswith("postgresql") else None


def engine_name() -> str:
    return "PostgreSQL" if postgres_url() else "SQLite"


def emptied_postgres(url: str, suffix: str = "") -> str:
    """`url`'s database (or `<name><suffix>` beside it), created if missing, emptied."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    target = make_url(url)
    target = target.set(database=f"{target.database}{suffix}")
    admin = create_engine(
        target.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    with admin.connect() as connection:
        exists = connection.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": target.database}
        )
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()
    engine = create_engine(target, poolclass=NullPool)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return target.render_as_string(hide_password=False)


def replace_section(output: Path, heading: str, section: str) -> None:
    """Replace one `## ` section of the document (or add it at its end), keeping the rest."""
    text = output.read_text() if output.exists() else "# Benchmarks\n"
    before, found, after = text.partition(f"\n{heading}\n")
    rest = after.split("\n## ", 1) if found else [""]
    tail = f"\n## {rest[1]}" if len(rest) > 1 else ""
    output.write_text(f"{before.rstrip()}\n\n{section.rstrip()}\n{tail}")


def replace_prelude(output: Path, prelude: str) -> None:
    """Replace what comes before the document's first `## ` section, keeping the sections."""
    text = output.read_text() if output.exists() else ""
    _, found, sections = text.partition("\n## ")
    output.write_text(f"{prelude.rstrip()}\n" + (f"\n## {sections}" if found else ""))


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def measure(call, repeat: int, warmup: int = 3) -> dict:
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return {"median": statistics.median(samples), "p95": percentile(samples, 0.95), "n": repeat}


def floor_app(path: Path) -> Flask:
    """The least a Flask endpoint with one read of the same database can cost on this machine
    (on PostgreSQL over one open connection, as the app's pool keeps them)."""
    floor = Flask("floor")
    url = postgres_url()
    if url:
        import psycopg
        from sqlalchemy.engine import make_url

        parsed = make_url(url)
        connection = psycopg.connect(
            host=parsed.host,
            port=parsed.port or 5432,
            user=parsed.username,
            password=parsed.password,
            dbname=parsed.database,
            autocommit=True,
        )

        def read():
            return connection.execute("SELECT id, display_name FROM patient LIMIT 1").fetchone()
    else:

        def read():
            with sqlite3.connect(path) as connection:
                return connection.execute("SELECT id, display_name FROM patient LIMIT 1").fetchone()

    @floor.get("/one-read")
    def one_read():
        row = read()
        return {"id": row[0], "display_name": row[1]}

    return floor


def measure_export_memory(app) -> list[dict]:
    """GET /api/v1/export streamed for clinics of two sizes: the rate (entries per second of
    wall time, consumed chunk by chunk), then the peak Python memory (tracemalloc, which
    slows the run, so it is a second pass); and the document of the larger clinic imported
    through POST /api/v1/import into an empty installation."""
    rows = []
    for name, patients in (("Export clinic, small", 47), ("Export clinic, 100k entries", 465)):
        with app.app_context():
            clinic = build_clinic(name, patients, 2.0, seed=11)
            email = clinician_of(clinic).email
            entries = db.session.scalar(
                db.select(db.func.count())
                .select_from(Entry)
                .join(Patient, Patient.id == Entry.patient_id)
                .where(Patient.clinic_id == clinic.id)
            )
            db.session.remove()
        client = app.test_client()
        client.post("/api/v1/auth/login", json={"email": email, "password": SYNTHETIC_PASSWORD})
        # One pass first, as every other figure is taken after warm-up calls: on PostgreSQL
        # the first read of rows just written also sets their hint bits, a one-time cost a
        # clinic's long-committed rows never pay again.
        for _chunk in client.get("/api/v1/export").response:
            pass
        started = time.perf_counter()
        chunks = list(client.get("/api/v1/export").response)
        seconds = time.perf_counter() - started
        document = b"".join(chunks)
        tracemalloc.start()
        size = sum(len(chunk) for chunk in client.get("/api/v1/export").response)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rows.append(
            {
                "name": name,
                "entries": entries,
                "bytes": size,
                "peak": peak,
                "seconds": seconds,
                "document": document,
            }
        )
        print(
            f"export {entries} entries: {size / 1e6:.1f} MB, {seconds:.2f} s, {peak / 1e6:.1f} MB"
        )
    return rows


def fresh_app(filename: str, postgres_suffix: str = "", **config) -> Flask:
    """The app on an empty database: a SQLite file under instance/ (any earlier one deleted),
    or with DATABASE_URL on PostgreSQL its database (or the one `postgres_suffix` names)."""
    url = postgres_url()
    if url:
        uri = emptied_postgres(url, postgres_suffix)
    else:
        path = ROOT / "instance" / filename
        path.parent.mkdir(exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        uri = f"sqlite:///{path}"
    return create_app(
        {
            "DEVELOPMENT": True,
            "SECRET_KEY": SECRET,
            "SQLALCHEMY_DATABASE_URI": uri,
            "SESSION_COOKIE_SECURE": False,
            **config,
        }
    )


def measure_import(document: bytes, entries: int) -> dict:
    """POST /api/v1/import of `document` into a fresh installation, as its admin."""
    target = fresh_app("bench-import.db", "_import", IMPORT_MAX_CONTENT_LENGTH=256 * 2**20)
    with target.app_context():
        flask_migrate.upgrade()
        clinic = build_clinic("Importing clinic", 0, 0.1, seed=3)
        email = clinician_of(clinic).email
        db.session.remove()
    client = target.test_client()
    signed_in = client.post(
        "/api/v1/auth/login", json={"email": email, "password": SYNTHETIC_PASSWORD}
    )
    started = time.perf_counter()
    response = client.post(
        "/api/v1/import",
        data=document,
        content_type="application/json",
        headers={"X-CSRF-Token": signed_in.json["csrf_token"]},
    )
    seconds = time.perf_counter() - started
    assert response.status_code in (200, 201), response.get_data(as_text=True)[:500]
    assert response.json["entries"] == entries, response.json
    print(f"import {entries} entries in {seconds:.2f} s")
    return {"entries": entries, "bytes": len(document), "seconds": seconds}


def reminder_clinic(app, patients: int, origin: str) -> tuple[list[str], datetime]:
    """A clinic of `patients` subscribed patients, each with a PHQ-9 three days before `now`
    (nothing due): written in bulk (Core inserts, the outcome snapshot row included, which
    the session hook would write for an entry through the API). Returns their ids and `now`,
    today at 18:30 UTC (their time zone; after time_of_day, before quiet hours)."""
    now = datetime.now(UTC).replace(hour=18, minute=30, second=0, microsecond=0)
    taken = now - timedelta(days=3)
    with app.app_context():
        clinic = Clinic(name="Reminder Clinic", timezone="UTC")
        db.session.add(clinic)
        db.session.flush()
        ids = [new_id() for _ in range(patients)]
        created = now - timedelta(days=60)
        db.session.execute(
            db.insert(Patient),
            [
                {
                    "id": pid,
                    "clinic_id": clinic.id,
                    "display_name": f"Patient {n}",
                    "timezone": "UTC",
                    "active": True,
                    "created_at": created,
                }
                for n, pid in enumerate(ids)
            ],
        )
        entries = [
            {
                "id": new_id(),
                "patient_id": pid,
                "instrument": "phq9",
                "answers": [1] * 9,
                "taken_at": taken,
                "context": "routine",
                "session_explicit": False,
                "total": 9,
                "severity": "mild",
                "flags": [],
                "imputed_items": [],
                "received_at": taken,
                "entered_by_id": pid,
                "entered_by_role": "patient",
                "request_hash": "0" * 64,
                "voided": False,
            }
            for pid in ids
        ]
        db.session.execute(db.insert(Entry), entries)
        db.session.execute(
            db.insert(OutcomeSnapshot),
            [
                {
                    "patient_id": e["patient_id"],
                    "instrument": "phq9",
                    "clinic_id": clinic.id,
                    "entry_count": 1,
                    "latest_entry_id": e["id"],
                    "latest_total": 9,
                    "latest_severity": "mild",
                    "latest_taken_at": taken,
                    "last_taken_at": taken,
                }
                for e in entries
            ],
        )
        rows = []
        for pid in ids:
            keys = new_subscriber(origin).subscription()
            rows.append(
                {
                    "id": new_id(),
                    "patient_id": pid,
                    "endpoint": keys["endpoint"],
                    "p256dh": keys["keys"]["p256dh"],
                    "auth": keys["keys"]["auth"],
                    "created_at": now,
                    "updated_at": now,
                }
            )
        db.session.execute(db.insert(PushSubscription), rows)
        db.session.commit()
        db.session.remove()
    return ids, now


def measure_reminders(app, patients: int, repeat: int = 5) -> dict:
    """Seconds for one send-reminders pass: nothing due (median of `repeat`), then a tenth
    of the patients due (each pass after the claims of the last are removed, so that every
    one sends them all)."""
    # The stand-in push service in a process of its own, as a push service is: it answers
    # 201 without decrypting (the tests decrypt) and counts what it received.
    service = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "push_service.py")],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    origin = service.stdout.readline().strip()
    app.config["TIDEMARK_PUSH_HOSTS"] = "127.0.0.1"

    def received() -> int:
        with urllib.request.urlopen(f"{origin}/count") as answer:
            return json.load(answer)["received"]

    try:
        ids, now = reminder_clinic(app, patients, origin)

        def one_pass():
            with app.app_context():
                started = time.perf_counter()
                result = reminders.send_due(now)
                seconds = time.perf_counter() - started
                db.session.remove()
            return seconds, result

        one_pass()  # warm-up (and the VAPID key is made)
        idle = []
        for _ in range(repeat):
            seconds, result = one_pass()
            assert result.due == 0, result
            idle.append(seconds)
        due_ids = ids[: patients // 10]
        with app.app_context():
            db.session.execute(
                db.update(OutcomeSnapshot)
                .where(OutcomeSnapshot.patient_id.in_(due_ids))
                .values(last_taken_at=now - timedelta(days=15))
            )
            db.session.commit()
            db.session.remove()
        busy = []
        for _ in range(max(1, repeat // 2)):
            with app.app_context():
                db.session.execute(db.delete(ReminderDelivery))
                db.session.commit()
                db.session.remove()
            before = received()
            seconds, result = one_pass()
            assert result.sent == len(due_ids) == received() - before, result
            busy.append(seconds)
    finally:
        service.stdin.close()
        service.wait(timeout=30)
    results = {
        "nothing due": {"median": statistics.median(idle), "max": max(idle), "n": len(idle)},
        "a tenth due": {
            "median": statistics.median(busy),
            "max": max(busy),
            "n": len(busy),
            "sent": len(due_ids),
        },
    }
    for name, result in results.items():
        print(f"send-reminders, {patients} patients, {name}: {result['median']:.2f} s")
    return results


def reminders_section(patients: int, results: dict, workers: int) -> str:
    lines = [
        "| one send-reminders pass | median s | max s | passes | target |",
        "|---|---:|---:|---:|---|",
    ]
    for name, result in results.items():
        target = REMINDER_TARGETS_S[name]
        verdict = "met" if result["median"] < target else "NOT met"
        what = f"{name} ({result['sent']:,} sent)" if "sent" in result else name
        lines.append(
            f"| {what} | {result['median']:.2f} | {result['max']:.2f} | {result['n']} | "
            f"< {target:g} s: {verdict} |"
        )
    table = "\n".join(lines)
    return f"""{REMINDERS_HEADING}

Measured on {datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}, on the machine above.

A clinic of {patients:,} patients, every one with a push subscription and a PHQ-9 three days
ago (written in bulk, with the outcome snapshot row an entry through the API would write).
One pass (`reminders.send_due`, what `flask send-reminders` runs) reads every subscribed
patient, their settings, last check-ins and sessions in a fixed number of queries and works out
what is due in Python from those rows (no entries are read one by one). Then a tenth of them are
made due (their last PHQ-9 15 days ago): the pass claims {patients // 10:,} reminders (inserted
in batches; the unique key decides), encrypts each for its subscription (RFC 8291) and signs it
(RFC 8292) with pywebpush, and POSTs it to the tests' stand-in push service on loopback
(tests/push_service.py in a process of its own, a threaded HTTP server answering 201 without
decrypting), {workers} at a time. The claims of each measured pass are deleted before the
next, so each sends them all.

{table}
"""


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{platform.system()} {platform.release()} ({platform.machine()}), {cpu}, "
        f"{os.cpu_count()} logical CPUs; Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}"
    )


def build_measured_clinic(app, patients: int, years: float) -> dict:
    """The synthetic clinic of `patients` (seed 7) in the app's empty database."""
    started = time.perf_counter()
    with app.app_context():
        flask_migrate.upgrade()
        clinic = build_clinic("Benchmark Clinic", patients, years, seed=7)
        built = {
            "patients": patients,
            "email": clinician_of(clinic).email,
            "entries": db.session.scalar(db.select(db.func.count()).select_from(Entry)),
            "patient_id": db.session.scalar(db.select(Patient.id).order_by(Patient.display_name)),
        }
        db.session.remove()
    return built | {"built": time.perf_counter() - started}


def measure_requests(app, path: Path, clinic: dict, repeat: int, new_patient: bool = True):
    """The floor, the panel's first page (up to 1,000 rows), one summary, and entry
    submissions (a new patient's, then the first patient's), in-process; by name, floor first."""
    client = app.test_client()
    signed_in = client.post(
        "/api/v1/auth/login", json={"email": clinic["email"], "password": SYNTHETIC_PASSWORD}
    )
    csrf = signed_in.json["csrf_token"]
    patient_id, patients = clinic["patient_id"], clinic["patients"]
    shown = min(patients, 1000)

    def panel():
        response = client.get("/api/v1/patients?limit=1000")
        assert response.status_code == 200 and len(response.json["items"]) == shown

    def summary():
        response = client.get(f"/api/v1/patients/{patient_id}/summary?instrument=phq9")
        assert response.status_code == 200

    def add_patient() -> str:
        """A patient without history, added after the panel is measured (it counts them)."""
        added = client.post(
            "/api/v1/patients",
            json={"display_name": "New Patient", "timezone": "Europe/Berlin"},
            headers={"X-CSRF-Token": csrf},
        )
        assert added.status_code == 201, added.json
        return added.json["patient"]["id"]

    def submit(target=patient_id):
        body = {
            "id": str(uuid.uuid4()),
            "instrument": "phq9",
            "answers": [1, 2, 1, 2, 1, 1, 0, 1, 0],
            "taken_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
            "context": "routine",
        }
        response = client.post(
            f"/api/v1/patients/{target}/entries", json=body, headers={"X-CSRF-Token": csrf}
        )
        assert response.status_code == 201, response.json

    floor_client = floor_app(path).test_client()

    def one_read():
        assert floor_client.get("/one-read").status_code == 200

    history = len(client.get(f"/api/v1/patients/{patient_id}/entries?limit=1000").json["items"])
    page = f"{patients:,} patients" if patients <= 1000 else f"first 1,000 of {patients:,}"
    results = {
        f"floor: minimal Flask + one {engine_name()} read": measure(one_read, repeat * 4),
        f"panel ({page})": measure(panel, max(10, repeat // 2)),
        "summary (one patient)": measure(summary, repeat * 2),
    }
    if new_patient:
        fresh = add_patient()
        results["entry submission, new patient (history 3 to 103 entries)"] = measure(
            lambda: submit(fresh), repeat * 2
        )
    results[f"entry submission, 2-year patient (history {history} entries)"] = measure(
        submit, repeat * 2
    )
    return results


def growth(sizes: list[int], years: float, repeat: int, output: Path) -> None:
    """How each in-process figure grows with the clinic: one fresh clinic per size."""
    columns: dict[int, dict] = {}
    built: dict[int, dict] = {}
    for patients in sizes:
        app = fresh_app("bench-growth.db", "_growth")
        built[patients] = build_measured_clinic(app, patients, years)
        print(f"built {patients} patients in {built[patients]['built']:.1f} s")
        measured = measure_requests(
            app, ROOT / "instance" / "bench-growth.db", built[patients], repeat, new_patient=False
        )
        # Named by kind: the panel's and the history's names carry the size.
        columns[patients] = {name.split(" (")[0]: result for name, result in measured.items()}
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    kinds = list(columns[sizes[0]])
    header = " | ".join(f"{n:,} patients" for n in sizes)
    lines = [f"| median ms (× floor) | {header} |", "|---|" + "---:|" * len(sizes)]
    lines.append("| entries | " + " | ".join(f"{built[n]['entries']:,}" for n in sizes) + " |")
    for kind in kinds:
        cells = []
        for n in sizes:
            floor = next(iter(columns[n].values()))["median"]
            median = columns[n][kind]["median"]
            cells.append(f"{median:.2f} ({median / floor:.0f}×)")
        lines.append(f"| {kind} | " + " | ".join(cells) + " |")
    heading = f"## Growth on {engine_name()}"
    section = f"""{heading}

Written by `make bench-growth` (bench/run.py --growth) on
{datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}, on the machine above: for each size a fresh
synthetic clinic (seed 7, {years:g} years of history a patient), then the same in-process
measurements as above. The panel is its first page (up to 1,000 rows: the clinician pages
through a larger panel, though every row is computed to sort it); the summary and submission
are one two-year patient's, whatever the clinic's size.

{chr(10).join(lines)}
"""
    print(section)
    replace_section(output, heading, section)
    print(f"wrote {output}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--years", type=float, default=2.0)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--output", default=str(ROOT / "docs" / "benchmarks.md"))
    parser.add_argument("--reminder-patients", type=int, default=10_000)
    parser.add_argument("--only", choices=["reminders"], help="Measure this part alone.")
    parser.add_argument(
        "--growth",
        nargs="*",
        type=int,
        metavar="PATIENTS",
        help="Measure the floor, panel, summary and submission at these clinic sizes "
        "(default 100 1000 10000) and replace only the growth section.",
    )
    args = parser.parse_args()
    if args.growth is not None:
        growth(args.growth or [100, 1000, 10_000], args.years, args.repeat, Path(args.output))
        return

    path = ROOT / "instance" / "bench.db"
    app = fresh_app(path.name)
    if args.only == "reminders":
        with app.app_context():
            flask_migrate.upgrade()
        results = measure_reminders(app, args.reminder_patients)
        section = reminders_section(args.reminder_patients, results, app.config["PUSH_WORKERS"])
        print(section)
        replace_section(Path(args.output), REMINDERS_HEADING, section)
        print(f"wrote {args.output}")
        return
    on_postgres = postgres_url() is not None
    clinic = build_measured_clinic(app, args.patients, args.years)
    print(f"built {args.patients} patients, {clinic['entries']} entries in {clinic['built']:.1f} s")
    entries, built_in = clinic["entries"], clinic["built"]
    export_memory = measure_export_memory(app)
    imported = measure_import(export_memory[-1]["document"], export_memory[-1]["entries"])
    # The reminder pass is measured on SQLite only (its figures are mostly push crypto).
    reminder_results = None if on_postgres else measure_reminders(app, args.reminder_patients)
    results = measure_requests(app, path, clinic, args.repeat)
    floor_name = next(iter(results))
    floor_median = results[floor_name]["median"]
    lines = [
        "| measurement | median ms | p95 ms | × floor | calls | target (median) |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for name, result in results.items():
        target = TARGETS_MS.get(name.split(" ")[0])
        verdict = ""
        if target:
            verdict = f"< {target:.0f} ms: {'met' if result['median'] < target else 'NOT met'}"
        lines.append(
            f"| {name} | {result['median']:.2f} | {result['p95']:.2f} | "
            f"{result['median'] / floor_median:.1f} | {result['n']} | {verdict} |"
        )
    table = "\n".join(lines)
    memory_lines = [
        "| clinic export | entries | document | peak Python memory | time | entries/s | target |",
        "|---|---:|---:|---:|---:|---:|---|",
    ] + [
        f"| {row['name']} | {row['entries']:,} | {row['bytes'] / 1e6:.1f} MB | "
        f"{row['peak'] / 1e6:.1f} MB | {row['seconds']:.2f} s | "
        f"{row['entries'] / row['seconds']:,.0f} | ≥ {EXPORT_TARGET:,}: "
        f"{'met' if row['entries'] / row['seconds'] >= EXPORT_TARGET else 'NOT met'} |"
        for row in export_memory
    ]
    rate = imported["entries"] / imported["seconds"]
    memory_lines += [
        "",
        "| clinic import (POST /api/v1/import, the larger document) | entries | document "
        "| time | entries/s | target |",
        "|---|---:|---:|---:|---:|---|",
        f"| into an empty installation | {imported['entries']:,} | "
        f"{imported['bytes'] / 1e6:.1f} MB | {imported['seconds']:.2f} s | {rate:,.0f} | "
        f"≥ {IMPORT_TARGET:,}: {'met' if rate >= IMPORT_TARGET else 'NOT met'} |",
    ]
    memory_table = "\n".join(memory_lines)
    print(memory_table)
    print(table)
    measured = f"""{table}

Streaming the whole clinic (`GET /api/v1/export`, consumed chunk by chunk through the test
client after one warm-up pass; the time without tracemalloc, the peak in another pass with
it): the peak stays flat as the clinic grows, because patients are written 25 at a time and
forgotten before the next batch, entries straight from their columns (no ORM object or schema
per entry). The import posts the larger document to an empty installation.

{memory_table}"""
    data = f"""a synthetic clinic (server/synthetic.py, seed 7) of {args.patients} patients with
{args.years:g} years of history each: {entries} entries (PHQ-9 weekly and around every session,
GAD-7 every two weeks), an induction of six sessions over three weeks then monthly sessions,
response in about half, some item-9 positives. Built in {built_in:.1f} s."""
    output = Path(args.output)
    if on_postgres:
        with app.app_context():
            version = db.session.scalar(db.text("SHOW server_version"))
        section = f"""{POSTGRES_HEADING}

Written by `make bench DATABASE_URL=...` on {datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")},
on the machine above, against PostgreSQL {version} on the same host (loopback, psycopg 3).

Data: {data}

Measured as on SQLite, in-process through the Flask test client after three warm-up calls
each; the floor is a minimal Flask endpoint doing one PostgreSQL read over an open connection,
in the same run. The reminder pass is measured on SQLite only.

{measured}
"""
        replace_section(output, POSTGRES_HEADING, section)
    else:
        prelude = f"""# Benchmarks

Written by `make bench` (bench/run.py) on {datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}.
`make bench DATABASE_URL=postgresql://...` measures the same on PostgreSQL (its section
below), `make bench-growth` how the figures grow with the clinic (100 to 10,000 patients;
with DATABASE_URL on PostgreSQL), and `make bench-load` check-ins under load through gunicorn.

Machine: {machine()}.

Data: {data}

Measured in-process through the Flask test client on SQLite, after three warm-up calls each.
The floor is a minimal Flask endpoint doing one SQLite read of the same file, in the same run;
"× floor" is the median divided by the floor's median.

{measured}
"""
        replace_prelude(output, prelude)
        section = reminders_section(
            args.reminder_patients, reminder_results, app.config["PUSH_WORKERS"]
        )
        replace_section(output, REMINDERS_HEADING, section)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
