"""Task states: evaluate Parameters, call the service integration, record the task events.

Each attempt records TaskScheduled + TaskSubmitted + TaskStarted + TaskSucceeded/TaskFailed:
4 events per attempt, as the limits page's documented history suggests
(docs/decisions/flow-event-history.md). A Task `Timeout` fails the attempt with FnF.Timeout.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from . import history as ev
from .errors import EXPRESSION_ERROR, TASK_TIMEOUT, FlowError
from .expressions import ExpressionEvaluationError

if TYPE_CHECKING:
    from .evaluator import Environment, StateResult

INTEGRATION_UNAVAILABLE = "FnF.IntegrationUnavailable"


def run_task(state, state_input, env: Environment, ctx: dict, step) -> StateResult:
    from .evaluator import StateResult

    try:
        params = state.parameters.build({"Input": state_input, "Context": ctx})
    except ExpressionEvaluationError as exc:
        raise FlowError(EXPRESSION_ERROR, f"Parameters of {state.name!r}: {exc}") from None
    integration = env.integrations.get(state.action)
    if integration is None:
        raise FlowError(
            INTEGRATION_UNAVAILABLE,
            f"{state.action} is not available in this localcloud (no runtime was given to "
            "the flow engine)",
        )
    from .evaluator import encode_limited

    encode_limited(params, state, "Parameters (TaskScheduled event data)")
    scheduled = env.history.add(
        ev.TASK_SCHEDULED,
        state.name,
        {"action": state.action, "taskMode": state.task_mode, "parameters": params},
        schedule_event_id=step.last,
    )
    submitted = env.history.add(ev.TASK_SUBMITTED, state.name, schedule_event_id=scheduled)
    started = env.history.add(ev.TASK_STARTED, state.name, schedule_event_id=submitted)
    began = time.monotonic()
    try:
        output: Any = integration(params, state.task_mode, env)
        if state.timeout and time.monotonic() - began > state.timeout:
            raise FlowError(
                TASK_TIMEOUT, f"task {state.name!r} ran longer than its Timeout {state.timeout}s"
            )
        encode_limited(output, state, "task output (TaskSucceeded event data)")
    except FlowError as error:
        step.last = env.history.add(
            ev.TASK_FAILED,
            state.name,
            {"error": error.code, "cause": error.detail},
            schedule_event_id=started,
        )
        raise
    step.last = env.history.add(
        ev.TASK_SUCCEEDED, state.name, {"output": output}, schedule_event_id=started
    )
    return StateResult(output)
