"""Injected latency, stalls and failures per operation, seeded so a test run is reproducible."""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass, field

FAULT_KINDS = ("slowdown", "internal", "reset", "damage")
# damage (one byte of the request body flipped on arrival, as if hurt on the way) is only
# injected when asked for: it makes OSS store wrong bytes, which only an integrity check sees
DEFAULT_KINDS = ("slowdown", "internal", "reset")


@dataclass
class FaultConfig:
    latency_ms: float = 0.0  # added to every matching request
    fault_rate: float = 0.0  # probability that a matching request fails
    kinds: list[str] = field(default_factory=lambda: list(DEFAULT_KINDS))
    stall_rate: float = 0.0  # probability of an extra stall (a slow, not failed, request)
    stall_ms: float = 0.0
    ops: list[str] = field(default_factory=list)  # operation names; empty = every operation
    seed: int = 0

    def validate(self) -> FaultConfig:
        if not 0.0 <= self.fault_rate <= 1.0 or not 0.0 <= self.stall_rate <= 1.0:
            raise ValueError("fault_rate and stall_rate must be between 0 and 1")
        if self.latency_ms < 0 or self.stall_ms < 0:
            raise ValueError("latency_ms and stall_ms must be >= 0")
        unknown = [k for k in self.kinds if k not in FAULT_KINDS]
        if unknown or not self.kinds:
            raise ValueError(
                f"fault kinds must be a non-empty subset of {FAULT_KINDS}, got {self.kinds}"
            )
        return self

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class FaultDecision:
    delay_s: float
    failure: str | None  # one of FAULT_KINDS or None


NO_FAULT = FaultDecision(0.0, None)


class FaultInjector:
    """Decides per request; each operation draws from its own seeded stream (stable under concurrency
    of other operations)."""

    def __init__(self, config: FaultConfig | None = None):
        self._lock = threading.Lock()
        self.configure(config or FaultConfig())

    def configure(self, config: FaultConfig) -> None:
        config.validate()
        with self._lock:
            self.config = config
            self._ops = frozenset(config.ops)
            self._rngs: dict[str, random.Random] = {}
            self.active = bool(config.latency_ms or config.fault_rate or config.stall_rate)
            self.injected: dict[str, int] = {}

    def decide(self, op: str) -> FaultDecision:
        if not self.active:
            return NO_FAULT
        cfg = self.config
        if self._ops and op not in self._ops:
            return NO_FAULT
        with self._lock:
            rng = self._rngs.get(op)
            if rng is None:
                rng = self._rngs[op] = random.Random(f"{cfg.seed}:{op}")
            delay = cfg.latency_ms / 1000.0
            if cfg.stall_rate and rng.random() < cfg.stall_rate:
                delay += cfg.stall_ms / 1000.0
            failure = None
            if cfg.fault_rate and rng.random() < cfg.fault_rate:
                failure = cfg.kinds[rng.randrange(len(cfg.kinds))]
                self.injected[failure] = self.injected.get(failure, 0) + 1
        return FaultDecision(delay, failure)
