"""Per-item report parts: JSON Lines, one part object per invocation, deterministic key.

A retried invocation rewrites its own part (same key) instead of appending to a shared
object: no read-modify-write, no duplicates.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading

from .clients import put_verified

_UNSAFE = re.compile(r"[^A-Za-z0-9._=-]+")


def part_key(prefix: str, job_id: str, operation: str, position: str) -> str:
    """``{prefix}/{job_id}/{operation}/{position}.jsonl``; position is derived from the input."""
    safe = _UNSAFE.sub("_", position)
    if len(safe) > 200 or safe != position:
        # keep keys short and unambiguous: two positions never share a part
        safe = safe[:80] + "-" + hashlib.sha256(position.encode()).hexdigest()[:16]
    head = prefix.strip("/")
    parts = [p for p in (head, job_id, operation, safe + ".jsonl") if p]
    return "/".join(parts)


class ReportPart:
    """Collects records from worker threads; written once at the end of the invocation."""

    def __init__(self, key: str):
        self.key = key
        self._lines: list[bytes] = []  # encoded at once: 100k dicts would cost far more
        self._lock = threading.Lock()

    def add(self, **record) -> None:
        line = (json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
        with self._lock:
            self._lines.append(line)

    def add_lines(self, lines: list[bytes]) -> None:
        """Records already encoded elsewhere (a page worker process)."""
        with self._lock:
            self._lines.extend(lines)

    def take_lines(self) -> list[bytes]:
        """Hand over (and forget) the records so far: a worker sends them to its parent."""
        with self._lock:
            lines, self._lines = self._lines, []
        return lines

    def __len__(self) -> int:
        return len(self._lines)

    @property
    def records(self) -> list[dict]:
        return [json.loads(line) for line in self._lines]

    def body(self) -> bytes:
        return b"".join(self._lines)

    def write(self, bucket, retry) -> str | None:
        """PUT the part (if any record) and return its key; None when there is nothing to report."""
        if not self._lines:
            return None
        put_verified(bucket, retry, self.key, self.body(), {"Content-Type": "application/x-ndjson"})
        return self.key
