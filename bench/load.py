"""`make bench-load`: check-ins under load, through gunicorn exactly as the Procfile runs it.

16 connections (wrk, bench/checkin.lua) post fresh PHQ-9 check-ins as one enrolled patient to
`gunicorn --config gunicorn.conf.py` on a fresh SQLite database; then the same load against
the floor (bench/floor.py: parse the same JSON, one SQLite insert) under the same gunicorn
configuration, in the same run. Afterwards the entries stored are counted: every check-in
answered 201 must be there once. Prints a table and replaces its section of
docs/benchmarks.md. Needs `wrk` (apt-get install wrk).

`make bench-scale` (`--scale-out`): two instances, one PostgreSQL, one Redis. An emptied
PostgreSQL database (DATABASE_URL, default postgresql://postgres@127.0.0.1:5432/
tidemark_bench_scale) with a synthetic clinic of 8 enrolled patients; two gunicorns started as
the Procfile does, on two ports, sharing that database, SECRET_KEY and a flushed Redis database
(--redis, default redis://127.0.0.1:6379/14) for both the rate limits and the signed-in
sessions. Each patient signs in through one instance and their cookie is used on both. Then one
wrk per instance at once (bench/mixed.lua): fresh check-ins, reads, and replays of ids that
every thread of both wrk processes sends with the same body. Afterwards every acknowledged
check-in must be stored once, each replayed id once with exactly one 201, and nothing may have
answered 5xx, 409 or 401. Prints a table and replaces its own section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HEADING = "## Check-ins under load (gunicorn, wrk)"
SCALE_HEADING = "## Two instances, one PostgreSQL, one Redis"
SCALE_DATABASE = "postgresql://postgres@127.0.0.1:5432/tidemark_bench_scale"
SCALE_REDIS = "redis://127.0.0.1:6379/14"
SECRET = "benchmark-only-secret-key-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def enrolled_clinic(uri: str, name: str, patients: int, seed: int) -> list[tuple[str, str]]:
    """Migrate the (empty) database at `uri` and build a synthetic clinic of `patients`
    enrolled patients (a quarter-year of history each); returns their (email, patient id)."""
    import flask_migrate
    from sqlalchemy import select

    from server import create_app
    from server.data.extensions import db
    from server.data.models import User
    from server.services.synthetic import build_clinic

    app = create_app({"DEVELOPMENT": True, "SECRET_KEY": SECRET, "SQLALCHEMY_DATABASE_URI": uri})
    with app.app_context():
        flask_migrate.upgrade()
        build_clinic(name, patients, 0.25, seed=seed)
        found = [
            (row.email, row.patient_id)
            for row in db.session.execute(
                select(User.email, User.patient_id)
                .where(User.role == "patient")
                .order_by(User.email)
            )
        ]
        db.session.remove()
        db.engine.dispose()
    return found


def start(args: list[str], env: dict, port: int, log: Path | None = None) -> subprocess.Popen:
    """Start a server and wait until it listens; its error log goes to `log` if given."""
    errors = log.open("w") if log else subprocess.DEVNULL
    process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=errors)
    if log:
        errors.close()
    for _ in range(300):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{args[0]} did not listen on {port}")


def sign_in(port: int, email: str) -> tuple[str, str]:
    from server.services.synthetic import SYNTHETIC_PASSWORD

    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/auth/login",
        data=json.dumps({"email": email, "password": SYNTHETIC_PASSWORD}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        cookies = [header.split(";", 1)[0] for header in answer.headers.get_all("Set-Cookie")]
        return "; ".join(cookies), json.load(answer)["csrf_token"]


def wrk(port: int, path: str, seconds: int, connections: int, env: dict) -> dict:
    done = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(ROOT / "bench" / "checkin.lua"),
            f"http://127.0.0.1:{port}",
        ],
        env={**os.environ, **env, "TM_PATH": path, "TM_BENCH": str(ROOT / "bench")},
        capture_output=True,
        text=True,
        check=True,
    )
    return parse_wrk(done.stdout)


def parse_wrk(out: str) -> dict:
    """wrk's report: requests, their rate, non-2xx answers, socket errors and latencies."""
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)

    def latency(percent: str) -> str:
        found = re.search(rf"^\s+{percent}%\s+(\S+)", out, re.MULTILINE)
        return found.group(1) if found else "?"

    return {
        "requests": requests,
        "per_second": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "non_2xx": int(bad.group(1)) if bad else 0,
        "socket_errors": errors.group(1).strip() if errors else "none",
        "p50": latency("50"),
        "p99": latency("99"),
    }


# ------------------------------------------------------------ two instances (--scale-out)

REPLAY_MARK = "-0000-4000-8000-"  # bench/mixed.lua's replay ids: <run>-0000-4000-8000-<k>


def prepare_scale_database(url: str, patients: int) -> tuple[str, list[tuple[str, str]]]:
    """An emptied PostgreSQL database (created if missing) with a clinic of `patients`
    enrolled patients; returns its SQLAlchemy URL and their (email, id)."""
    from bench.run import emptied_postgres
    from server.config import database_url

    uri = emptied_postgres(database_url(url))
    return uri, enrolled_clinic(uri, "Scale Clinic", patients, seed=5)


def entry_counts(uri: str) -> dict[str, tuple[int, int]]:
    """Per patient: (rows, distinct ids) of the entry table."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    engine = create_engine(uri, poolclass=NullPool)
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT patient_id, count(*), count(DISTINCT id) FROM entry GROUP BY patient_id")
        ).all()
    engine.dispose()
    return {row[0]: (row[1], row[2]) for row in rows}


def stored_entries(uri: str) -> tuple[dict[str, str], int]:
    """Every entry (id: patient id), and how many auth_session rows exist."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    engine = create_engine(uri, poolclass=NullPool)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT id, patient_id FROM entry")).all()
        database_sessions = connection.scalar(text("SELECT count(*) FROM auth_session"))
    engine.dispose()
    return {row[0]: row[1] for row in rows}, database_sessions


def session_shared(port: int, cookie: str, patient_id: str) -> bool:
    """The cookie of a sign-in through the other instance is a live session on this one."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/auth/me", headers={"Cookie": cookie}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.load(answer)["user"]["patient_id"] == patient_id
    except urllib.error.HTTPError:
        return False


def read_logs(folder: Path) -> tuple[list[tuple[int, str, str]], Counter, Counter, list[str]]:
    """bench/mixed.lua's answer logs: entries (status, id, instance), reads' and errors'
    statuses, and the first error bodies seen."""
    entries, reads, errors, samples = [], Counter(), Counter(), []
    for log in sorted(folder.glob("*.log")):
        for line in log.read_text().splitlines():
            status, kind, *rest = line.split(" ", 2)
            if kind == "entry":
                entries.append((int(status), rest[0], log.name.split("-")[0]))
            elif kind == "read":
                reads[int(status)] += 1
            else:
                errors[int(status)] += 1
                if len(samples) < 5:
                    samples.append(f"{status} {rest[0] if rest else ''}".strip())
    return entries, reads, errors, samples


def scale_out(args) -> None:
    import redis

    url = os.environ.get("DATABASE_URL") or SCALE_DATABASE
    if not url.startswith(("postgres://", "postgresql")):
        sys.exit(f"--scale-out needs a PostgreSQL DATABASE_URL, not {url}")
    folder = ROOT / "instance" / "scale"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    uri, patients = prepare_scale_database(url, args.patients)
    redis.Redis.from_url(args.redis).flushdb()
    before = entry_counts(uri)
    history = set(stored_entries(uri)[0])

    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    ports = [free_port(), free_port()]
    servers = []
    try:
        for number, port in enumerate(ports, 1):
            env = {
                **os.environ,
                "PORT": str(port),
                "TIDEMARK_ENV": "development",  # plain HTTP on loopback: cookies without Secure
                "SECRET_KEY": SECRET,
                "DATABASE_URL": url,
                "RATELIMIT_STORAGE_URI": args.redis,
                "TIDEMARK_SESSION_STORE": args.redis,
                "PYTHONPATH": str(ROOT),
            }
            log = folder / f"gunicorn-{number}.err"
            servers.append(start([gunicorn, "--config", "gunicorn.conf.py"], env, port, log))

        # Each patient signs in through one instance (alternately); every cookie is then
        # used on both, so a session one instance started must be live on the other.
        signed_in, shared = [], 0
        for number, (email, patient_id) in enumerate(patients):
            cookie, csrf = sign_in(ports[number % 2], email)
            shared += session_shared(ports[(number + 1) % 2], cookie, patient_id)
            signed_in.append(f"{patient_id}\t{cookie}\t{csrf}")
        (folder / "patients.tsv").write_text("\n".join(signed_in) + "\n")
        redis_sessions = sum(
            1 for _ in redis.Redis.from_url(args.redis).scan_iter("tidemark:session:*")
        )

        load = {
            "TM_PATIENTS": str(folder / "patients.tsv"),
            "TM_BENCH": str(ROOT / "bench"),
            "TM_OUT": str(folder),
            "TM_RUN": os.urandom(4).hex(),
            "TM_START": str(int(time.time())),
            "TM_FRESH": str(args.fresh),
            "TM_READ": str(args.reads),
        }
        runs = [
            subprocess.Popen(
                [
                    "wrk",
                    "-t2",
                    f"-c{args.connections // 2}",
                    f"-d{args.seconds}s",
                    "--timeout",
                    "10s",
                    "--latency",
                    "-s",
                    str(ROOT / "bench" / "mixed.lua"),
                    f"http://127.0.0.1:{port}",
                ],
                env={**os.environ, **load, "TM_NAME": f"instance{number}", "TM_SEED": str(number)},
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for number, port in enumerate(ports, 1)
        ]
        outputs = [run.communicate() for run in runs]
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=60)

    results = []
    for number, ((out, err), run) in enumerate(zip(outputs, runs, strict=True), 1):
        if run.returncode:
            sys.exit(f"wrk against instance {number} failed: {err or out}")
        result = parse_wrk(out)
        sent = re.search(r"TM-SENT fresh=(\d+) read=(\d+) replay=(\d+)", out)
        kinds = ("fresh", "read", "replay")
        result["sent"] = dict(zip(kinds, map(int, sent.groups()), strict=True))
        results.append(result)
        print(f"instance {number}", result)

    entries, reads, errors, samples = read_logs(folder)
    everything, database_sessions = stored_entries(uri)
    stored = {id: owner for id, owner in everything.items() if id not in history}
    after = entry_counts(uri)
    fresh = Counter(status for status, id, _ in entries if REPLAY_MARK not in id)
    acknowledged = {id for status, id, _ in entries if REPLAY_MARK not in id and status == 201}
    fresh_stored = {id for id in stored if REPLAY_MARK not in id}
    replay_statuses: dict[str, list[int]] = {}
    replay_instances: dict[str, set[str]] = {}
    for status, id, instance in entries:
        if REPLAY_MARK in id:
            replay_statuses.setdefault(id, []).append(status)
            replay_instances.setdefault(id, set()).add(instance)
    on_both = sum(1 for instances in replay_instances.values() if len(instances) == 2)
    replays = Counter(status for statuses in replay_statuses.values() for status in statuses)
    replay_stored = {id for id in stored if REPLAY_MARK in id}
    created_twice = sum(1 for statuses in replay_statuses.values() if statuses.count(201) > 1)
    never_created = sum(1 for statuses in replay_statuses.values() if 201 not in statuses)
    lost = len(acknowledged - fresh_stored) + len(set(replay_statuses) - replay_stored)
    per_patient = [
        (
            patient_id,
            before.get(patient_id, (0, 0))[0],
            *after.get(patient_id, (0, 0)),
            sum(1 for owner in stored.values() if owner == patient_id),
        )
        for _, patient_id in patients
    ]
    duplicated = sum(
        1 for _, was, rows, distinct, new in per_patient if rows != distinct or rows != was + new
    )
    server_errors = sum(count for status, count in errors.items() if status >= 500)
    refused = errors.get(429, 0)
    unexpected = sum(count for status, count in errors.items() if status < 500 and status != 429)
    socket = [r["socket_errors"] for r in results]
    only_timeouts = all(
        s == "none" or re.fullmatch(r"connect 0, read 0, write 0, timeout \d+", s) for s in socket
    )
    timeouts = sum(
        int(m.group(1)) for s in socket if (m := re.search(r"timeout (\d+)", s)) is not None
    )
    in_flight = len(fresh_stored - acknowledged)
    if not only_timeouts:
        socket_note = f"socket errors BEYOND TIMEOUTS: {'; '.join(socket)}"
    elif timeouts:
        socket_note = f"{timeouts} wrk timeouts (requests unanswered after 10 s)"
    else:
        socket_note = "no socket error and no wrk timeout"
    ok = (
        not lost
        and not duplicated
        and not server_errors
        and not unexpected
        and not created_twice
        and not fresh.get(200)
        and only_timeouts
        and shared == len(patients)
    )

    def statuses(counter: Counter) -> str:
        return ", ".join(f"{count:,}× {status}" for status, count in sorted(counter.items()))

    load_lines = [
        "| instance | requests | requests/s | p50 | p99 | non-2xx | socket errors |",
        "|---|---:|---:|---:|---:|---:|---|",
    ] + [
        f"| gunicorn {number} (wrk, {args.connections // 2} connections) | {r['requests']:,} "
        f"| {r['per_second']:.0f} | {r['p50']} | {r['p99']} | {r['non_2xx']} "
        f"| {r['socket_errors']} |"
        for number, r in enumerate(results, 1)
    ]
    sent = {kind: sum(r["sent"][kind] for r in results) for kind in ("fresh", "read", "replay")}
    kind_lines = [
        "| both instances | sent | answered | stored afterwards |",
        "|---|---:|---|---|",
        f"| fresh check-ins | {sent['fresh']:,} | {statuses(fresh)} "
        f"| {len(fresh_stored):,}: every 201 once ({len(acknowledged - fresh_stored)} missing), "
        f"{in_flight} unanswered in flight |",
        f"| replays ({len(replay_statuses):,} ids, one per second; {on_both} answered by both "
        "instances) "
        f"| {sent['replay']:,} | {statuses(replays)} | {len(replay_stored):,} ids once each; "
        f"{created_twice} created twice, {never_created} without a 201 seen, "
        f"{len(replay_stored - set(replay_statuses))} unanswered in flight |",
        f"| reads (entries or summary) | {sent['read']:,} | {statuses(reads)} | |",
        f"| errors (any kind) | | {statuses(errors) or 'none'} | |",
    ]
    patient_rows = sum(rows for _, _, rows, _, _ in per_patient)
    patient_before = sum(was for _, was, _, _, _ in per_patient)
    patient_new = sum(new for *_, new in per_patient)
    section = f"""{SCALE_HEADING}

Measured on {datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")} by `make bench-scale`
(`bench/load.py --scale-out`), on the machine above: two gunicorns started as the Procfile does
(`gunicorn --config gunicorn.conf.py`, two ports, 2 workers × 4 threads each), sharing one
PostgreSQL database (emptied, migrated, a synthetic clinic of {len(patients)} enrolled patients)
and one Redis database (flushed) for both the sign-in limits (RATELIMIT_STORAGE_URI) and the
sessions (TIDEMARK_SESSION_STORE). Each patient signed in through one instance, alternately;
{shared} of {len(patients)} cookies were live on the other instance at once, and the sessions
were in Redis ({redis_sessions} session keys, {database_sessions} auth_session rows). Then one
wrk per instance, at the same time, for {args.seconds} s ({args.connections // 2} connections
each, bench/mixed.lua), every request for the next of the {len(patients)} patients: about
{args.fresh}% fresh PHQ-9 check-ins (a new id and taken_at each), {args.reads}% reads (the
patient's entries or summary) and {100 - args.fresh - args.reads}% replays: one id per second of
the run, with one body whichever thread sends it, sent by every thread (two per instance) that
replays in that second.
wrk, both gunicorns and PostgreSQL share the two cores.

{chr(10).join(load_lines)}

{chr(10).join(kind_lines)}

Entry rows of the {len(patients)} patients: {patient_before:,} before, {patient_rows:,} after,
every id distinct, each patient's new rows exactly their new ids ({patient_new:,}).

{"Met: no entry lost or duplicated, no 5xx, no 409, no session refused" if ok else "NOT met"}.
{lost} acknowledged entries missing, {duplicated} patients with rows beyond their new ids,
{server_errors} 5xx, {unexpected} other refusals (401, 403, 409, 422), {refused} rate-limit
refusals (429: the limits count failed sign-ins only, and every sign-in here succeeds);
{socket_note}. Scaling out was starting a second instance with the
same environment; no code changed.
"""
    if samples:
        section += "\nFirst refusals seen: " + "; ".join(f"`{s}`" for s in samples) + ".\n"
    print(section)
    from bench.run import replace_section

    replace_section(Path(args.output), SCALE_HEADING, section)
    print(f"wrote {args.output}")
    if not ok:
        sys.exit("scale-out run: NOT met (see above)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--output", default=str(ROOT / "docs" / "benchmarks.md"))
    parser.add_argument(
        "--scale-out", action="store_true", help="two instances, one PostgreSQL, one Redis"
    )
    parser.add_argument("--patients", type=int, default=8, help="--scale-out: signed-in patients")
    parser.add_argument("--redis", default=os.environ.get("TIDEMARK_BENCH_REDIS_URL", SCALE_REDIS))
    parser.add_argument("--fresh", type=int, default=70, help="--scale-out: % fresh check-ins")
    parser.add_argument("--reads", type=int, default=15, help="--scale-out: % reads")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install -y wrk")
    if args.scale_out:
        scale_out(args)
        return

    folder = ROOT / "instance"
    folder.mkdir(exist_ok=True)
    app_db, floor_db = folder / "load.db", folder / "load-floor.db"
    for base in (app_db, floor_db):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{base}{suffix}").unlink(missing_ok=True)
    ((email, patient_id),) = enrolled_clinic(f"sqlite:///{app_db}", "Load Clinic", 1, seed=3)
    with sqlite3.connect(floor_db) as connection:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("CREATE TABLE entry (id TEXT PRIMARY KEY, body TEXT NOT NULL)")

    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    results = {}
    for name, app_args, path in (
        (
            "Tidemark: POST /api/v1/patients/{id}/entries",
            [],
            f"/api/v1/patients/{patient_id}/entries",
        ),
        ("floor: bare Flask, same JSON, one SQLite insert", ["bench.floor:app"], "/floor"),
    ):
        port = free_port()
        env = {
            **os.environ,
            "PORT": str(port),
            "TIDEMARK_ENV": "development",  # plain HTTP on loopback: cookies without Secure
            "SECRET_KEY": SECRET,
            "DATABASE_URL": f"sqlite:///{app_db}",
            "FLOOR_DB": str(floor_db),
            "PYTHONPATH": str(ROOT),
        }
        server = start([gunicorn, "--config", "gunicorn.conf.py", *app_args], env, port)
        try:
            cookie, csrf = ("", "") if app_args else sign_in(port, email)
            load = {"TM_COOKIE": cookie, "TM_CSRF": csrf}
            warm = wrk(port, path, 2, args.connections, load)
            results[name] = wrk(port, path, args.seconds, args.connections, load)
            results[name]["acknowledged"] = sum(
                r["requests"] - r["non_2xx"] for r in (warm, results[name])
            )
        finally:
            server.terminate()
            server.wait(timeout=60)
        print(name, results[name])

    with sqlite3.connect(app_db) as connection:
        stored = connection.execute(
            "SELECT count(*), count(DISTINCT id) FROM entry WHERE patient_id = ?", (patient_id,)
        ).fetchone()
    app_result, floor_result = results.values()
    ratio = app_result["per_second"] / floor_result["per_second"]
    lines = [
        "| under load | check-ins/s | × floor | p50 | p99 | non-2xx | socket errors |",
        "|---|---:|---:|---:|---:|---:|---|",
    ] + [
        f"| {name} | {r['per_second']:.0f} | {r['per_second'] / floor_result['per_second']:.2f} "
        f"| {r['p50']} | {r['p99']} | {r['non_2xx']} | {r['socket_errors']} |"
        for name, r in results.items()
    ]
    section = f"""{HEADING}

Measured on {datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")} by `make bench-load`
(bench/load.py), on the machine above: {args.connections} connections for {args.seconds} s
(after a 2 s warm-up) posting fresh PHQ-9 check-ins as one enrolled patient (a new id each,
bench/checkin.lua) to `gunicorn --config gunicorn.conf.py` on SQLite, then the same load
against the floor (bench/floor.py) under the same configuration. wrk runs on the same two
cores, so both figures share that cost.

{chr(10).join(lines)}

Throughput is {ratio:.2f} of the floor (target: at least 0.5:
{"met" if ratio >= 0.5 else "NOT met"}). Check-ins acknowledged (2xx, warm-up included):
{app_result["acknowledged"]:,}; the patient's entries afterwards: {stored[0]:,} stored,
{stored[1]:,} distinct ({"none lost" if stored[0] >= app_result["acknowledged"] else "SOME LOST"};
a few more than acknowledged are requests still in flight when wrk stopped).
"""
    print(section)
    from bench.run import replace_section

    replace_section(Path(args.output), HEADING, section)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
