"""An execution's event history, counted like CloudFlow's GetExecutionHistory, with the
per-execution event limit (5,000 by default) enforced at the moment an event is added.

Which events each state records is documented in docs/decisions/flow-event-history.md;
`EVENTS_PER` below is the single place that knows it, so benchmarks can cite it.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass

from .errors import EventLimitExceeded

# Event types: the values GetExecutionHistory's `Type` documents (alibabacloud-fnf20190315).
EXECUTION_STARTED = "ExecutionStarted"
EXECUTION_SUCCEEDED = "ExecutionSucceeded"
EXECUTION_FAILED = "ExecutionFailed"
EXECUTION_STOPPED = "ExecutionStopped"
STEP_ENTERED = "StepEntered"
STEP_STARTED = "StepStarted"
STEP_SUCCEEDED = "StepSucceeded"
STEP_FAILED = "StepFailed"
STEP_EXITED = "StepExited"
TASK_SCHEDULED = "TaskScheduled"
TASK_SUBMITTED = "TaskSubmitted"
TASK_STARTED = "TaskStarted"
TASK_SUCCEEDED = "TaskSucceeded"
TASK_FAILED = "TaskFailed"
TASK_TIMED_OUT = "TaskTimedOut"
BRANCH_ENTERED = "BranchEntered"
BRANCH_EXITED = "BranchExited"
ITERATION_ENTERED = "IterationEntered"
ITERATION_EXITED = "IterationExited"

TERMINAL_EVENTS = {EXECUTION_SUCCEEDED, EXECUTION_FAILED, EXECUTION_STOPPED}

# Events one successful occurrence costs (retries add a Task's 4 again per attempt).
EVENTS_PER = {
    "execution": 2,  # ExecutionStarted + ExecutionSucceeded/Failed/Stopped
    "state": 4,  # StepEntered + StepStarted + StepSucceeded/StepFailed + StepExited
    # TaskScheduled + TaskSubmitted + TaskStarted + TaskSucceeded/Failed/TimedOut: the
    # limits page's documented history has TaskSubmitted, so budget 4 per attempt, not 3
    "task_attempt": 4,
    "map_iteration": 2,  # IterationEntered + IterationExited (+ the processor's states)
    "parallel_branch": 2,  # BranchEntered + BranchExited (+ the branch's states)
}


def utc_timestamp(seconds: float | None = None) -> str:
    """CloudFlow's time format: 2019-01-01T01:01:01.001Z."""
    seconds = time.time() if seconds is None else seconds
    whole = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    return f"{whole}.{int(seconds * 1000) % 1000:03d}Z"


@dataclass(frozen=True)
class Event:
    event_id: int
    type: str
    step_name: str
    time: str
    detail: str
    schedule_event_id: int = 0

    def to_api(self) -> dict:
        return {
            "EventId": self.event_id,
            "Type": self.type,
            "StepName": self.step_name,
            "Time": self.time,
            "EventDetail": self.detail,
            "ScheduleEventId": self.schedule_event_id,
        }


class History:
    """Thread-safe append-only event list with a hard limit.

    The limit counts every event including the final Execution* one: an execution that
    needs N events succeeds iff N <= max_events, so non-terminal events stop at
    max_events - 1 and the terminal event always fits.
    """

    def __init__(self, max_events: int, start_id: int = 0):
        self.max_events = max_events
        self._lock = threading.Lock()
        self._next_id = start_id + 1
        self._pending: list[Event] = []
        self.exceeded = False
        # held while drained events are written, so writes land in event order
        self.flush_lock = threading.Lock()

    @property
    def count(self) -> int:
        return self._next_id - 1

    def add(
        self,
        type_: str,
        step_name: str = "",
        detail: dict | str | None = None,
        schedule_event_id: int = 0,
    ) -> int:
        if isinstance(detail, str):
            text = detail
        else:
            text = json.dumps(detail, ensure_ascii=False, separators=(",", ":")) if detail else "{}"
        with self._lock:
            if type_ not in TERMINAL_EVENTS and (
                self.exceeded or self._next_id > self.max_events - 1
            ):
                self.exceeded = True
                raise EventLimitExceeded(
                    f"the execution needs more than {self.max_events} history events "
                    f"(event {self._next_id} {type_} of state {step_name!r}); "
                    "continue the work in a fresh execution (FNF:StartExecution) before the limit"
                )
            event_id = self._next_id
            self._next_id += 1
            self._pending.append(
                Event(event_id, type_, step_name, utc_timestamp(), text, schedule_event_id)
            )
            return event_id

    def drain(self) -> list[Event]:
        """Events added since the last drain (for the store to persist)."""
        with self._lock:
            pending, self._pending = self._pending, []
            return pending
