"""Task states: evaluate Parameters, call the service integration, record the task events.

Each attempt records TaskScheduled + TaskSubmitted + TaskStarted + TaskSucceeded/TaskFailed:
4 events per attempt, as the limits page's documented history suggests
(docs/decisions/flow-event-history.md). A Task `Timeout` fails the attempt with FnF.Timeout.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TYPE_CHECKING, Any

from . import history as ev
from .errors import EXPRESSION_ERROR, TASK_TIMEOUT, FlowError
from .expressions import ExpressionEvaluationError

if TYPE_CHECKING:
    from .evaluator import Environment, StateResult

INTEGRATION_UNAVAILABLE = "FnF.IntegrationUnavailable"


def _call_within_timeout(state, call):
    """The task fails with FnF.Timeout at its deadline, while the call may still be running:
    Timeout is "the maximum timeout period of the call" (help.aliyun.com document_detail
    2642848, Task state), so the flow does not wait for a late answer."""
    if not state.timeout:
        return call()
    answer: Future = Future()

    def run() -> None:
        try:
            answer.set_result(call())
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting flow thread
            answer.set_exception(exc)

    threading.Thread(target=run, name=f"task-{state.name}", daemon=True).start()
    try:
        return answer.result(timeout=state.timeout)
    except FutureTimeout:
        raise FlowError(
            TASK_TIMEOUT, f"task {state.name!r} ran longer than its Timeout {state.timeout}s"
        ) from None


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
    try:
        output: Any = _call_within_timeout(state, lambda: integration(params, state.task_mode, env))
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
