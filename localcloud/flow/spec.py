"""The typed components a CloudFlow definition is parsed into (parser.py builds them):
one dataclass per state type, Retry/Catch rules, scopes, and the spec's limits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .errors import ALL_ERRORS
from .expressions import Constructor, Expression

NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,127}$")
FC_ARN_RE = re.compile(r"^acs:fc:([^:]*):([^:]*):functions/([^/]+)(?:/([^/]+))?$")
MNS_ARN_RE = re.compile(r"^acs:mns:([^:]*):([^:]*):/queues/([^/]+)/messages$")
FNF_ARN_RE = re.compile(r"^acs:fnf:([^:]*):([^:]*):flow/([^/]+)$")

MAX_WAIT_SECONDS = 300
MAX_PARALLEL_BRANCHES = 50
MAX_MAP_CONCURRENCY = 40


# --- typed components ----------------------------------------------------------------


@dataclass
class RetryRule:
    errors: tuple[str, ...]
    max_attempts: int
    interval_seconds: float
    backoff_rate: float = 1.0
    max_backoff_seconds: float | None = None

    def matches(self, code: str) -> bool:
        return ALL_ERRORS in self.errors or code in self.errors

    def delay(self, retry_number: int) -> float:
        """Seconds to wait before retry `retry_number` (1-based)."""
        seconds = self.interval_seconds * (self.backoff_rate ** (retry_number - 1))
        if self.max_backoff_seconds is not None:
            seconds = min(seconds, self.max_backoff_seconds)
        return seconds


@dataclass
class CatchRule:
    errors: tuple[str, ...]
    next: str
    output: Constructor | None = None

    def matches(self, code: str) -> bool:
        return ALL_ERRORS in self.errors or code in self.errors


@dataclass
class State:
    name: str
    type: str
    path: str
    input: Constructor | None = None
    output: Constructor | None = None
    next: str | None = None
    end: bool = False
    retry: list[RetryRule] = field(default_factory=list)
    catch: list[CatchRule] = field(default_factory=list)


@dataclass
class PassState(State):
    pass


@dataclass
class SucceedState(State):
    pass


@dataclass
class FailState(State):
    code: str = ""
    detail: str = ""


@dataclass
class WaitState(State):
    seconds: int | None = None
    seconds_expr: Expression | None = None


@dataclass
class ChoiceBranch:
    condition: Expression
    next: str


@dataclass
class ChoiceState(State):
    branches: list[ChoiceBranch] = field(default_factory=list)
    default: str = ""


@dataclass
class TaskState(State):
    action: str = ""
    task_mode: str = "RequestComplete"
    parameters: Constructor | None = None
    timeout: int | None = None  # seconds; the Task page documents 0..604800


@dataclass
class Scope:
    """A StartAt + States block: the flow itself, a Parallel branch or a Map processor."""

    start_at: str
    states: dict[str, State]


@dataclass
class ParallelState(State):
    branches: list[Scope] = field(default_factory=list)


@dataclass
class MapState(State):
    items_path: Expression | None = None
    processor: Scope | None = None
    max_concurrency: int = MAX_MAP_CONCURRENCY


@dataclass
class FlowDefinition:
    name: str
    scope: Scope
    description: str = ""
    source: dict = field(default_factory=dict, repr=False)
