"""Request hooks shared by every response: body checks, security headers, the PWA files."""

import hashlib
import json
import re
from functools import lru_cache
from pathlib import Path

import brotli
from flask import Blueprint, Flask, Response, abort, current_app, request
from werkzeug.exceptions import BadRequest
from werkzeug.routing import PathConverter

from ..domain.errors import Invalid, NotFound

PWA_DIR = (Path(__file__).resolve().parents[2] / "pwa").resolve()
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
IMPORT_PATH = "/api/v1/import"

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

pwa = Blueprint("pwa", __name__)


class PwaPath(PathConverter):
    """Any path outside /api/, so that unknown API paths answer 404 (never 405)."""

    regex = r"(?!api/)[^/].*?"


MIMETYPES = {
    ".html": "text/html",
    ".js": "text/javascript",
    ".css": "text/css",
    ".webmanifest": "application/manifest+json",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".json": "application/json",
}
# Text types are compressed (flask-compress); API JSON is not, so that no secret in an API
# answer is ever compressed beside attacker-chosen text (BREACH).
COMPRESSED_MIMETYPES = [t for t in MIMETYPES.values() if t.startswith("text/")] + [
    "application/manifest+json",
    "image/svg+xml",
]
SHELL_VERSION_MARK = "__SHELL_VERSION__"


@lru_cache(maxsize=1)
def shell_version() -> str:
    """A hash of every PWA file: the service worker's cache name changes with any of them."""
    digest = hashlib.sha256()
    for path in sorted(PWA_DIR.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(PWA_DIR).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


@lru_cache(maxsize=128)
def _brotli(data: bytes) -> bytes:
    """A PWA file compressed with Brotli's best quality, kept for as long as the file is."""
    return brotli.compress(data, quality=11)


def _pwa_file(filename: str) -> Response:
    path = (PWA_DIR / filename).resolve()
    if not path.is_relative_to(PWA_DIR) or not path.is_file():
        abort(404)
    mimetype = MIMETYPES.get(path.suffix)
    if mimetype is None:
        abort(404)
    data = path.read_bytes()
    if filename == "sw.js":
        data = data.replace(SHELL_VERSION_MARK.encode(), shell_version().encode())
    etag = hashlib.sha256(data).hexdigest()[:20]
    if mimetype in COMPRESSED_MIMETYPES and request.accept_encodings["br"] > 0:
        # Brotli at its best, once per file version (flask-compress, at its default 4, would
        # compress every response afresh): about a sixth fewer bytes on a first load.
        response = Response(_brotli(data), mimetype=mimetype)
        response.headers["Content-Encoding"] = "br"
        response.vary.add("Accept-Encoding")
        response.set_etag(f"{etag}:br")
    else:
        response = Response(data, mimetype=mimetype)
        response.set_etag(etag)
    # Always revalidate: the service worker, not the HTTP cache, keeps the app offline.
    response.headers["Cache-Control"] = "no-cache"
    return response.make_conditional(request)


@pwa.get("/")
def index():
    return _pwa_file("index.html")


@pwa.get("/<pwa_path:filename>")
def static_file(filename: str):
    return _pwa_file(filename)


def body_limit() -> None:
    """64 KiB for every body but an import's (50 MiB); set before anything reads the body."""
    if request.path == IMPORT_PATH:
        request.max_content_length = current_app.config["IMPORT_MAX_CONTENT_LENGTH"]


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


# NUL cannot be stored by PostgreSQL and a lone surrogate cannot be encoded as UTF-8 at all.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# In a JSON text both can only arrive escaped: a body without these is searched no further.
_ESCAPED_UNSTORABLE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")
UNSTORABLE_MESSAGE = "Must not contain a NUL character or a lone surrogate (\\u0000, \\ud800)."


def unstorable_text(value, path: tuple = ()) -> list[tuple]:
    """The paths of every string (or object key) in a parsed JSON value that cannot be stored."""
    found = []
    if isinstance(value, str):
        if UNSTORABLE.search(value):
            found.append(path)
    elif isinstance(value, dict):
        for key, item in value.items():
            if UNSTORABLE.search(key):
                found.append((*path, key.encode("unicode_escape", "replace").decode()))
            else:
                found.extend(unstorable_text(item, (*path, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(unstorable_text(item, (*path, index)))
    return found


def refuse_unstorable(paths: list[tuple], location: str) -> None:
    """A 422 naming every field (dotted for nested ones) that holds unstorable text."""
    if not paths:
        return
    fields: dict = {}
    for path in paths:
        node = fields
        for step in path[:-1]:
            node = node.setdefault(step, {})
        node[path[-1] if path else "_schema"] = [UNSTORABLE_MESSAGE]
    names = ", ".join(".".join(str(step) for step in path) or "(the body)" for path in paths)
    raise Invalid(
        f"Text may not contain a NUL character or a lone surrogate: {names}.",
        fields=fields,
        location=location,
    )


def check_text_in_address() -> None:
    """Query strings are text input too; a path segment with a NUL names nothing here."""
    if not request.path.startswith("/api/") or request.routing_exception is not None:
        return
    if any(UNSTORABLE.search(str(value)) for value in (request.view_args or {}).values()):
        raise NotFound("There is nothing at this address.")
    bad = [
        (key.encode("unicode_escape", "replace").decode(),) if UNSTORABLE.search(key) else (key,)
        for key, value in request.args.items(multi=True)
        if UNSTORABLE.search(key) or UNSTORABLE.search(value)
    ]
    refuse_unstorable(bad, "query")


def check_json_body() -> None:
    """A request body must be a JSON object; anything else is a 400 before any view runs."""
    if request.method not in UNSAFE_METHODS or not request.path.startswith("/api/"):
        return
    if request.routing_exception is not None:
        return  # 404 and 405 take precedence over what the body holds
    raw = request.get_data(cache=True)
    if not raw:
        return
    if request.mimetype != "application/json":
        abort(400, "The body must be JSON, sent with Content-Type: application/json.")
    try:
        body = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise BadRequest("The body is not valid JSON (or nested too deeply).") from None
    if not isinstance(body, dict):
        abort(400, "The body must be a JSON object.")
    if _ESCAPED_UNSTORABLE.search(raw):
        refuse_unstorable(unstorable_text(body), "json")


# Subresources a document loads (never documents themselves, never the service worker):
# the headers that only a document or a worker obeys are left off them. Each would cost
# ~270 bytes on each of the ~40 responses of a first visit, and protect nothing there.
SUBRESOURCE_TYPES = {"text/javascript", "text/css", "image/png", "application/manifest+json"}
SERVICE_WORKER_PATH = "/sw.js"


def security_headers(response):
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    if response.mimetype not in SUBRESOURCE_TYPES or request.path == SERVICE_WORKER_PATH:
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
    if request.path.startswith("/api/"):
        # Patient data must never sit in a shared or browser cache.
        headers.setdefault("Cache-Control", "no-store")
    return response


def register(app: Flask) -> None:
    app.before_request(check_text_in_address)
    app.before_request(check_json_body)
    app.after_request(security_headers)
    app.url_map.converters["pwa_path"] = PwaPath
    app.register_blueprint(pwa)
