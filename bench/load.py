"""`make bench-load`: check-ins under load, through gunicorn exactly as the Procfile runs it.

16 connections (wrk, bench/checkin.lua) post fresh PHQ-9 check-ins as one enrolled patient to
`gunicorn --config gunicorn.conf.py` on a fresh SQLite database; then the same load against
the floor (bench/floor.py: parse the same JSON, one SQLite insert) under the same gunicorn
configuration, in the same run. Afterwards the entries stored are counted: every check-in
answered 201 must be there once. Prints a table and replaces its section of
docs/benchmarks.md. Needs `wrk` (apt-get install wrk).
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
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HEADING = "## Check-ins under load (gunicorn, wrk)"
SECRET = "benchmark-only-secret-key-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare_app_database(path: Path) -> tuple[str, str]:
    """A migrated database with one enrolled patient; returns their email and id."""
    import flask_migrate
    from sqlalchemy import select

    from server import create_app
    from server.data.extensions import db
    from server.data.models import User
    from server.services.synthetic import build_clinic

    app = create_app(
        {"DEVELOPMENT": True, "SECRET_KEY": SECRET, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"}
    )
    with app.app_context():
        flask_migrate.upgrade()
        build_clinic("Load Clinic", 1, 0.25, seed=3)
        user = db.session.scalars(select(User).where(User.role == "patient")).one()
        found = user.email, user.patient_id
        db.session.remove()
    return found


def start(args: list[str], env: dict, port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
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
        env={**os.environ, **env, "TM_PATH": path},
        capture_output=True,
        text=True,
        check=True,
    )
    out = done.stdout
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--output", default=str(ROOT / "docs" / "benchmarks.md"))
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install -y wrk")

    folder = ROOT / "instance"
    folder.mkdir(exist_ok=True)
    app_db, floor_db = folder / "load.db", folder / "load-floor.db"
    for base in (app_db, floor_db):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{base}{suffix}").unlink(missing_ok=True)
    email, patient_id = prepare_app_database(app_db)
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
    output = Path(args.output)
    text = output.read_text() if output.exists() else "# Benchmarks\n"
    before, _, after = text.partition(f"\n{HEADING}")
    rest = after.split("\n## ", 1)
    tail = f"\n## {rest[1]}" if len(rest) > 1 else ""
    output.write_text(f"{before.rstrip()}\n\n{section}{tail}")
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
