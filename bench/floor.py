"""The floor for the check-in load test: a bare Flask endpoint that parses the same JSON and
does one SQLite insert (WAL, synchronous=FULL, as the app's own database), served by the same
gunicorn configuration. FLOOR_DB names the file; bench/load.py creates its table."""

from __future__ import annotations

import json
import os
import sqlite3

from flask import Flask, request

app = Flask("floor")
DATABASE = os.environ.get("FLOOR_DB", "instance/floor.db")


@app.post("/floor")
def one_insert():
    body = request.get_json()
    connection = sqlite3.connect(DATABASE, timeout=30)
    try:
        connection.execute("PRAGMA synchronous=FULL")
        with connection:
            connection.execute(
                "INSERT OR IGNORE INTO entry (id, body) VALUES (?, ?)",
                (body["id"], json.dumps(body)),
            )
    finally:
        connection.close()
    return {"id": body["id"]}, 201
