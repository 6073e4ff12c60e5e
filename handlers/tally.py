"""Thread-safe page counters (done, skipped, failed, bytes), mergeable across worker processes."""

from __future__ import annotations

import threading


class Tally:
    def __init__(self):
        self._lock = threading.Lock()
        self.values = {"done": 0, "skipped": 0, "failed": 0, "bytes": 0}
        self._sent = dict(self.values)

    def add(self, **deltas: int) -> None:
        with self._lock:
            for k, v in deltas.items():
                self.values[k] = self.values.get(k, 0) + v

    def take_deltas(self) -> dict[str, int]:
        """What changed since the last call (a worker's answer; the parent ``add``s them up)."""
        with self._lock:
            deltas = {k: v - self._sent.get(k, 0) for k, v in self.values.items()}
            self._sent = dict(self.values)
        return {k: v for k, v in deltas.items() if v}
