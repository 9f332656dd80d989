"""How students join a class: the address to open, the server's LAN address rather than localhost, and a
QR code of it for the projector.

A teacher who starts digitlab on a laptop opens it at http://localhost:8501; that address means nothing
on a student's tablet. So the address shown swaps a loopback host for this machine's address on the
local network (the one its default route leaves by, found without sending a packet). The QR code is
drawn here, offline, by `segno` (a maintained, pure-Python QR encoder with no dependencies).
"""

from __future__ import annotations

import io
import ipaddress
import socket
from urllib.parse import urlsplit, urlunsplit

import segno

LOOPBACK_NAMES = {"localhost", "0.0.0.0", "::", ""}
_PROBE = ("10.255.255.255", 1)  # any address off this machine: a UDP socket "connects" without sending


def lan_address() -> str | None:
    """This machine's address on its local network, or None when it has none (no network at all)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(_PROBE)
            address = probe.getsockname()[0]
    except OSError:
        return None
    return None if _is_loopback(address) else address


def _is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def join_url(page_url: str, lan: str | None) -> str:
    """The app's address for a student's device: `page_url`'s scheme and port, at `lan` when the page
    was opened at a loopback address; its own host otherwise (a real name already works for all)."""
    parts = urlsplit(page_url)
    host = parts.hostname or ""
    if _is_loopback(host) and lan:
        host = lan
    netloc = f"[{host}]" if ":" in host else host
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme or "http", netloc, "/", "", ""))


def reachable(url: str) -> bool:
    """Whether other devices can open `url` (its host is not this machine's loopback)."""
    return not _is_loopback(urlsplit(url).hostname or "")


def qr_png(url: str, scale: int = 8) -> bytes:
    """A QR code of `url` as PNG bytes, black on white with the standard quiet zone."""
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()
