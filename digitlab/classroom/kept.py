"""A browser's work kept on the server for a while, so that a reload does not lose it.

Tablets reload tabs often, and a reload starts a new Streamlit session with empty state. Each browser
therefore gets a random token (`new_token`: 256 bits from `secrets`), which the app keeps in a cookie;
a session that arrives with a token it knows takes up that browser's work again (`Keeper.find`).

The token is a password, and is guarded like one:
- only its SHA-256 digest is stored, so the keeper holds nothing that opens a browser's work;
- a token the keeper did not hand out, or one that has expired, finds nothing, and the page that sent it
  gets a fresh session and a new token (never the one it sent, so nobody can choose a token for someone
  else);
- kept work expires `ttl_s` after the browser was last seen, and the total is capped in entries and in
  bytes: the least recently seen browser's work goes first.

Work is a plain dict of the session's values (its run, its model, its handwriting, its runs' history),
kept by reference: while a session lives, its kept work costs no extra memory. Nothing here needs
streamlit or TensorFlow.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
from dataclasses import dataclass

TOKEN_BYTES = 32  # 256 bits; `secrets.token_urlsafe` writes them as 43 characters
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")
TTL_S = 2 * 60 * 60.0  # a lesson, and a break
MAX_BYTES = 1024 * 2**20  # all browsers together
MAX_ENTRIES = 300  # ten classes of thirty


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def well_formed(token: object) -> bool:
    """Whether `token` has the shape of one `new_token` made (anything else is refused unread)."""
    return isinstance(token, str) and _TOKEN_SHAPE.fullmatch(token) is not None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


@dataclass
class _Entry:
    work: dict
    size: int
    seen: float


class Keeper:
    """The server's kept work, one entry per browser token; safe to use from every session's thread."""

    def __init__(
        self,
        ttl_s: float = TTL_S,
        max_bytes: int = MAX_BYTES,
        max_entries: int = MAX_ENTRIES,
        clock=time.monotonic,
    ):
        self.ttl_s = ttl_s
        self.max_bytes = max_bytes
        self.max_entries = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}  # digest of the token -> its browser's work

    def keep(self, token: str, work: dict, size: int) -> bool:
        """Keep `work` (about `size` bytes) for the browser of `token`; False if it cannot be kept.

        Work bigger than the whole cap is not kept (the session itself still has it).
        """
        if not well_formed(token):
            return False
        now = self._clock()
        with self._lock:
            self._expire(now)
            digest = _digest(token)
            self._entries.pop(digest, None)
            if size > self.max_bytes:
                return False
            self._entries[digest] = _Entry(dict(work), int(size), now)  # the newest: dicts keep order
            while len(self._entries) > self.max_entries or self._total() > self.max_bytes:
                del self._entries[next(iter(self._entries))]  # the least recently seen browser
            return True

    def find(self, token: object) -> dict | None:
        """The work kept for `token`'s browser, or None for a token it never handed out or that expired."""
        if not well_formed(token):
            return None
        now = self._clock()
        with self._lock:
            self._expire(now)
            entry = self._entries.pop(_digest(token), None)
            if entry is None:
                return None
            entry.seen = now
            self._entries[_digest(token)] = entry  # seen now: the last to be dropped
            return dict(entry.work)

    def forget(self, token: str) -> None:
        if well_formed(token):
            with self._lock:
                self._entries.pop(_digest(token), None)

    def usage(self) -> tuple[int, int]:
        """(browsers, bytes) kept now."""
        with self._lock:
            self._expire(self._clock())
            return len(self._entries), self._total()

    def _total(self) -> int:
        return sum(entry.size for entry in self._entries.values())

    def _expire(self, now: float) -> None:
        for digest in [d for d, entry in self._entries.items() if now - entry.seen > self.ttl_s]:
            del self._entries[digest]
