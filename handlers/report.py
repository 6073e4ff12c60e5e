"""Per-item report parts: JSON Lines, one part object per invocation, deterministic key.

A retried invocation rewrites its own part (same key) instead of appending to a shared
object: no read-modify-write, no duplicates.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import zlib

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


PACK_LINES = 1024  # lines kept as they are; older ones are deflated (~10x smaller)


class ReportPart:
    """Collects records from worker threads; written once at the end of the invocation.

    A page of 100,000 entries has 100,000 lines (~14 MB as bytes objects) to hold until its
    end, beside the page workers the memory target counts too: all but the latest lines are
    kept deflated (level 1: ~0.5 ms per 1,000 lines) and inflated once, for the PUT.
    """

    def __init__(self, key: str):
        self.key = key
        self._lines: list[bytes] = []  # encoded at once: 100k dicts would cost far more
        self._packed: list[bytes] = []  # deflated older lines, one raw deflate stream
        self._deflate = zlib.compressobj(1, zlib.DEFLATED, -15)
        self._count = 0
        self._lock = threading.Lock()

    def add(self, **record) -> None:
        line = (json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
        with self._lock:
            self._lines.append(line)
            self._count += 1
            self._pack_if_long()

    def add_lines(self, lines: list[bytes]) -> None:
        """Records already encoded elsewhere (a page worker process)."""
        with self._lock:
            self._lines.extend(lines)
            self._count += len(lines)
            self._pack_if_long()

    def _pack_if_long(self) -> None:
        if len(self._lines) >= PACK_LINES:
            self._packed.append(self._deflate.compress(b"".join(self._lines)))
            self._lines = []

    def _body(self) -> bytes:
        if not self._packed:
            return b"".join(self._lines)
        # a copy ends the stream: the part keeps taking lines after a look at its body
        packed = b"".join([*self._packed, self._deflate.copy().flush()])
        return zlib.decompress(packed, -15) + b"".join(self._lines)

    def take_lines(self) -> list[bytes]:
        """Hand over (and forget) the records so far: a worker sends them to its parent."""
        with self._lock:
            body = self._body()
            self._lines, self._packed, self._count = [], [], 0
            self._deflate = zlib.compressobj(1, zlib.DEFLATED, -15)
        return body.splitlines(keepends=True)

    def __len__(self) -> int:
        return self._count

    @property
    def records(self) -> list[dict]:
        return [json.loads(line) for line in self.body().splitlines()]

    def body(self) -> bytes:
        with self._lock:
            return self._body()

    def write(self, bucket, retry) -> str | None:
        """PUT the part (if any record) and return its key; None when there is nothing to report."""
        if not self._count:
            return None
        put_verified(bucket, retry, self.key, self.body(), {"Content-Type": "application/x-ndjson"})
        return self.key
