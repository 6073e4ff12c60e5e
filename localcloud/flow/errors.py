"""Failures inside a flow execution, and the CloudFlow error names they carry.

`FlowError` is what Retry/Catch see (its `code` is matched against `Errors`).
`ExecutionAborted` subclasses end the execution and are never retried or caught:
the event limit and StopExecution.
"""

from __future__ import annotations

# The catch-all name CloudFlow documents for Retry/Catch `Errors`.
ALL_ERRORS = "FnF.ALL"
# Names this engine raises itself (docs/decisions/flow-error-names.md).
EXPRESSION_ERROR = "FnF.ExpressionError"
INVALID_ITEMS = "FnF.InvalidItemsPath"
INVALID_ARGUMENT = "FnF.InvalidArgument"
TOLERATED_FAILURE_EXCEEDED = "FnF.ExceedToleratedFailureThreshold"
EVENT_LIMIT_EXCEEDED = "FnF.EventLimitExceeded"
EXECUTION_INTERRUPTED = "FnF.ExecutionInterrupted"
STOPPED = "FnF.ExecutionStopped"
DATA_LIMIT_EXCEEDED = "FnF.DataLimitExceeded"
TASK_TIMEOUT = "FnF.Timeout"
FAILED = "FnF.Failed"  # a Fail state without Code (the Fail page makes Code optional)


class FlowError(Exception):
    """An error a state raised; Retry/Catch match on `code`."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail

    def as_context(self) -> dict:
        """The `$Context.Current.Error` object."""
        return {"Code": self.code, "Detail": self.detail}


class ExecutionAborted(Exception):
    """Ends the whole execution at once: not retried, not caught."""

    code = "FnF.Aborted"

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


class EventLimitExceeded(ExecutionAborted):
    code = EVENT_LIMIT_EXCEEDED


class ExecutionStopped(ExecutionAborted):
    code = STOPPED


class DataLimitExceeded(ExecutionAborted):
    """State input/output or event data over 64 KiB (limits page): the execution fails."""

    code = DATA_LIMIT_EXCEEDED


class FlowDefinitionError(ValueError):
    """A flow definition outside the supported spec; `problems` names state and field."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(
            f"flow definition has {len(problems)} problem(s):\n  " + "\n  ".join(problems)
        )
