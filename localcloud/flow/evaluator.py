"""Walk typed states with an explicit environment: input, `$Context`, history.

`run_scope` runs a StartAt/States block; `run_state` runs one state with its
InputConstructor, Retry, Catch and OutputConstructor. What each state type *does* lives
in states_flow.py / states_task.py / states_parallel.py.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import history as ev
from . import states_flow, states_parallel, states_task
from .errors import EXPRESSION_ERROR, DataLimitExceeded, ExecutionStopped, FlowError
from .expressions import Constructor, ExpressionEvaluationError
from .spec import (
    ChoiceState,
    FailState,
    MapState,
    ParallelState,
    PassState,
    Scope,
    State,
    SucceedState,
    TaskState,
    WaitState,
)

MAX_DATA_BYTES = 64 * 1024  # limits page: state input/output and event data

Integration = Callable[[dict, str, "Environment"], Any]


@dataclass
class StateResult:
    """What a state handler produced; `next` overrides the state's Next (Choice)."""

    output: Any
    next: str | None = None
    end_scope: bool = False


@dataclass
class Environment:
    """Everything one execution's states may touch."""

    flow_name: str
    execution_name: str
    execution_input: Any
    history: ev.History
    integrations: dict[str, Integration]
    role_arn: str = ""
    stop_event: threading.Event = field(default_factory=threading.Event)
    stop_reason: str = "stopped by StopExecution"
    stop_code: str = "FnF.ExecutionStopped"
    # True while the state interrupted by a restart runs again (see docs/decisions/flow-resume.md)
    replaying: bool = False
    # the other reading of what the docs leave open (docs/decisions/flow-compat.md)
    compat: bool = False
    # real seconds per flow second of Wait/Retry pauses (FlowEngine.wait_scale)
    wait_scale: float = 1.0

    def check_stopped(self) -> None:
        if self.stop_event.is_set():
            raise ExecutionStopped(self.stop_reason)

    def sleep(self, seconds: float) -> None:
        """Wait/Retry pauses; StopExecution interrupts them."""
        if seconds > 0 and self.stop_event.wait(seconds * self.wait_scale):
            raise ExecutionStopped(self.stop_reason)
        self.check_stopped()

    def context(self, state_name: str, state_input: Any) -> dict:
        return {
            "Execution": {
                "Name": self.execution_name,
                "Input": self.execution_input,
                "RoleArn": self.role_arn,
            },
            "Current": {
                "Name": state_name,
                "Input": state_input,
                "Output": None,
                "Error": None,
                "RetryCount": 0,
                "TaskToken": "",
            },
        }

    def run_scope(
        self,
        scope: Scope,
        scope_input: Any,
        start_at: str | None = None,
        on_transition: Callable[[str, Any], None] | None = None,
        parent_event: int = 0,
    ) -> Any:
        return run_scope(scope, scope_input, self, start_at, on_transition, parent_event)


@dataclass
class Step:
    """The latest event id of the state being run: the ScheduleEventId of its next event."""

    last: int


HANDLERS: dict[type, Callable[[State, Any, Environment, dict, Step], StateResult]] = {
    PassState: states_flow.run_pass,
    ChoiceState: states_flow.run_choice,
    WaitState: states_flow.run_wait,
    SucceedState: states_flow.run_succeed,
    FailState: states_flow.run_fail,
    TaskState: states_task.run_task,
    ParallelState: states_parallel.run_parallel,
    MapState: states_parallel.run_map,
}


def run_scope(
    scope: Scope,
    scope_input: Any,
    env: Environment,
    start_at: str | None = None,
    on_transition: Callable[[str, Any], None] | None = None,
    parent_event: int = 0,
) -> Any:
    """Run states from StartAt (or `start_at`) until one ends the scope; return its output."""
    state = scope.states[start_at or scope.start_at]
    data, last = scope_input, parent_event
    while True:
        env.check_stopped()
        data, next_name, last = run_state(state, data, env, last)
        if next_name is None:
            return data
        if on_transition is not None:
            on_transition(next_name, data)
        state = scope.states[next_name]


def build(constructor: Constructor, scope: dict) -> Any:
    try:
        return constructor.build(scope)
    except ExpressionEvaluationError as exc:
        raise FlowError(EXPRESSION_ERROR, str(exc)) from None


def encode_limited(value: Any, state: State, what: str) -> str:
    """JSON of state data or event data; over 64 KiB the execution fails (limits page)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if len(text.encode()) > MAX_DATA_BYTES:
        raise DataLimitExceeded(
            f"{what} of state {state.path!r} is {len(text.encode())} bytes; CloudFlow allows "
            f"{MAX_DATA_BYTES} (pass keys/offsets, keep big data in OSS)"
        )
    return text


_encode = encode_limited


def run_state(
    state: State, raw_input: Any, env: Environment, previous_event: int = 0
) -> tuple[Any, str | None, int]:
    """Run one state; return (output, next state name or None at the end of the scope,
    id of its StepExited event).

    Events: StepEntered, StepStarted, [task/branch/iteration events], StepSucceeded or
    StepFailed, StepExited (none after an uncaught StepFailed).
    """
    history = env.history
    input_text = _encode(raw_input, state, "input")
    step = Step(
        history.add(ev.STEP_ENTERED, state.name, f'{{"input":{input_text}}}', previous_event)
    )
    ctx = env.context(state.name, raw_input)
    handler = HANDLERS[type(state)]
    try:
        state_input = raw_input
        if state.input is not None:
            state_input = build(state.input, {"Input": raw_input, "Context": ctx})
            ctx["Current"]["Input"] = state_input
            input_text = _encode(state_input, state, "input")
        step.last = history.add(ev.STEP_STARTED, state.name, f'{{"input":{input_text}}}', step.last)
        result = _with_retry(state, handler, state_input, env, ctx, step)
        output = result.output
        if state.output is not None:
            ctx["Current"]["Output"] = result.output
            output = build(
                state.output, {"Input": state_input, "Output": result.output, "Context": ctx}
            )
        output_text = _encode(output, state, "output")
        step.last = history.add(
            ev.STEP_SUCCEEDED, state.name, f'{{"output":{output_text}}}', step.last
        )
        next_name = None if result.end_scope else (result.next or state.next)
    except FlowError as error:
        step.last = history.add(
            ev.STEP_FAILED, state.name, {"error": error.code, "cause": error.detail}, step.last
        )
        rule = next((r for r in state.catch if r.matches(error.code)), None)
        if rule is None:
            raise
        ctx["Current"]["Error"] = error.as_context()
        if rule.output is not None:
            output = build(rule.output, {"Input": raw_input, "Context": ctx})
        else:
            # undocumented: strict passes the state's input on, compat the error object
            output = error.as_context() if env.compat else raw_input
        output_text = _encode(output, state, "output")
        next_name = rule.next
    exited = history.add(ev.STEP_EXITED, state.name, f'{{"output":{output_text}}}', step.last)
    return output, next_name, exited


def _with_retry(state, handler, state_input, env: Environment, ctx: dict, step: Step):
    attempts = [0] * len(state.retry)
    while True:
        try:
            return handler(state, state_input, env, ctx, step)
        except FlowError as error:
            index = next((i for i, r in enumerate(state.retry) if r.matches(error.code)), None)
            if index is None or attempts[index] >= state.retry[index].max_attempts:
                raise
            attempts[index] += 1
            ctx["Current"]["RetryCount"] += 1
            ctx["Current"]["Error"] = error.as_context()
            env.sleep(state.retry[index].delay(attempts[index]))
