"""Web push rules that need no network: which endpoints the server may send to, and the shape
of a subscription's keys. Pure Python: no Flask, no database.

The server makes a request to every endpoint a patient hands it, so an endpoint is a request
the server is asked to make: only push services' hosts are allowed (no server-side request
forgery against the clinic's own network).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from urllib.parse import urlsplit

# The push services of Chrome/Edge-on-Android/Opera/Samsung (FCM), Firefox, Edge on Windows
# (WNS, one host per region: a wildcard) and Safari. TIDEMARK_PUSH_HOSTS replaces this list.
DEFAULT_PUSH_HOSTS = (
    "fcm.googleapis.com",
    "updates.push.services.mozilla.com",
    "*.notify.windows.com",
    "web.push.apple.com",
)
# Only these may be reached over plain http (a stand-in push service in tests, on this machine).
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
MAX_ENDPOINT_LENGTH = 1024
P256DH_BYTES = 65  # an uncompressed P-256 point (RFC 8291)
AUTH_BYTES = 16  # the authentication secret (RFC 8291)

_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_BASE64URL = re.compile(r"^[A-Za-z0-9_-]+={0,2}$")


def parse_hosts(text: str | None) -> tuple[str, ...]:
    """TIDEMARK_PUSH_HOSTS: comma-separated host names (lowercased); empty means the default."""
    hosts = tuple(h.strip().lower() for h in (text or "").split(",") if h.strip())
    return hosts or DEFAULT_PUSH_HOSTS


def host_allowed(host: str, allowed: tuple[str, ...]) -> bool:
    """`host` is listed, or falls under a listed `*.suffix` (one or more labels before the
    suffix; never the bare suffix itself, never an IP address)."""
    for entry in allowed:
        if entry.startswith("*."):
            suffix = entry[1:]  # ".notify.windows.com"
            if host.endswith(suffix) and len(host) > len(suffix) and not _is_ip(host):
                return True
        elif host == entry:
            return True
    return False


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def endpoint_problem(endpoint: str, allowed: tuple[str, ...]) -> str | None:
    """Why the server must not send to `endpoint`, or None when it may.

    https on the default port to a listed host; http only to a listed loopback host. No user
    name or password in the address (`https://fcm.googleapis.com@evil.example/` names the host
    evil.example), no IP address unless it is a listed loopback one, nothing but ASCII.
    """
    if len(endpoint) > MAX_ENDPOINT_LENGTH:
        return f"Must be at most {MAX_ENDPOINT_LENGTH} characters."
    if not endpoint.isascii() or any(c.isspace() or ord(c) < 32 or c == "\\" for c in endpoint):
        return "Must be a plain URL (no spaces, backslashes or non-ASCII characters)."
    try:
        parts = urlsplit(endpoint)
        port = parts.port
    except ValueError:
        return "Must be a URL."
    if parts.scheme not in ("https", "http") or not parts.netloc:
        return "Must be an https:// URL of a push service."
    if "@" in parts.netloc or parts.username is not None or parts.password is not None:
        return "Must not contain a user name or password."
    if parts.fragment or "#" in endpoint:
        return "Must not contain a fragment."
    host = (parts.hostname or "").lower()
    loopback = host in LOOPBACK_HOSTS
    if not host or not (loopback or _valid_host_name(host)):
        return "Must name a push service's host."
    if not host_allowed(host, allowed) or (_is_ip(host) and not loopback):
        return "This push service is not allowed here (TIDEMARK_PUSH_HOSTS)."
    if parts.scheme == "http" and not loopback:
        return "Must be https://."
    if parts.scheme == "https" and port not in (None, 443) and not loopback:
        return "Must use the standard https port."
    return None


def _valid_host_name(host: str) -> bool:
    labels = host.split(".")
    return len(host) <= 253 and len(labels) >= 2 and all(_HOST_LABEL.match(x) for x in labels)


def decode_key(text: str, length: int) -> bytes | None:
    """The bytes of a base64url key (padding optional), or None unless exactly `length`."""
    if not _BASE64URL.match(text):
        return None
    try:
        raw = base64.urlsafe_b64decode(text.rstrip("=") + "=" * (-len(text.rstrip("=")) % 4))
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == length else None


def encode_key(raw: bytes) -> str:
    """base64url without padding, as browsers write keys."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def origin_of(endpoint: str) -> str:
    """The push service's origin, the `aud` of a VAPID token (RFC 8292)."""
    parts = urlsplit(endpoint)
    return f"{parts.scheme}://{parts.netloc}"
