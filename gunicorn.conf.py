"""Gunicorn settings for Tidemark's API (the Procfile's `web:` reads this file).

Chosen for a streaming API: a whole-clinic export or a large import may run for minutes.
- `gthread` workers: each process serves several requests on threads, and its main loop keeps
  telling the arbiter it is alive while a request streams, so `timeout` never kills an export
  mid-body (a sync worker is killed once one request runs past it: the default 30 s cut the
  export of 1,000 patients at 74 MB).
- `timeout` is therefore only "the worker process stopped responding", and `graceful_timeout`
  gives requests in flight time to finish on a restart or deploy.
- Errors gunicorn answers itself (an over-long request line, malformed headers) use the API's
  one JSON error shape instead of gunicorn's HTML page.

Environment: PORT (5000), WEB_CONCURRENCY (2 processes), GUNICORN_THREADS (4 per process),
GUNICORN_TIMEOUT (60 s), GUNICORN_GRACEFUL_TIMEOUT (120 s).
"""

import json
import os

from gunicorn import util

bind = f"0.0.0.0:{os.environ.get('PORT', '5000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "120"))
keepalive = 5
# The largest request line gunicorn allows; the API's own addresses are far shorter.
limit_request_line = 8190
accesslog = "-"
wsgi_app = "server:create_app()"


def _write_json_error(sock, status_int, reason, mesg):
    """gunicorn's own refusals in the API's error shape: {"code", "status", "message"}."""
    body = json.dumps(
        {"code": status_int, "status": reason, "message": mesg or reason}, ensure_ascii=True
    ).encode("ascii")
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        "Cache-Control: no-store\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode("latin1")
    util.write_nonblock(sock, head + body)


# Workers look the function up on the module when they refuse a request.
util.write_error = _write_json_error
