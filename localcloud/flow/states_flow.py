"""Pass, Choice, Wait, Succeed and Fail: states that only move data and control."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import EXPRESSION_ERROR, FAILED, INVALID_ARGUMENT, FlowError
from .expressions import ExpressionEvaluationError
from .spec import MAX_WAIT_SECONDS

if TYPE_CHECKING:
    from .evaluator import Environment, StateResult


def _result(output: Any, next_name: str | None = None, end_scope: bool = False) -> StateResult:
    from .evaluator import StateResult

    return StateResult(output, next_name, end_scope)


def run_pass(state, state_input, env: Environment, ctx: dict, step=None) -> StateResult:
    return _result(state_input)


def run_succeed(state, state_input, env: Environment, ctx: dict, step=None) -> StateResult:
    return _result(state_input, end_scope=True)


def run_fail(state, state_input, env: Environment, ctx: dict, step=None) -> StateResult:
    raise FlowError(state.code or FAILED, state.detail)


def run_choice(state, state_input, env: Environment, ctx: dict, step=None) -> StateResult:
    scope = {"Input": state_input, "Context": ctx}
    for index, branch in enumerate(state.branches):
        try:
            matched = branch.condition.evaluate(scope)
        except ExpressionEvaluationError as exc:
            raise FlowError(
                EXPRESSION_ERROR, f"Branches[{index}].Condition {branch.condition.text!r}: {exc}"
            ) from None
        if matched is True:
            return _result(state_input, branch.next)
        if matched is not False:
            raise FlowError(
                EXPRESSION_ERROR,
                f"Branches[{index}].Condition {branch.condition.text!r} gave {matched!r}, "
                "not a boolean",
            )
    return _result(state_input, state.default)


def run_wait(state, state_input, env: Environment, ctx: dict, step=None) -> StateResult:
    seconds = state.seconds
    if state.seconds_expr is not None:
        try:
            seconds = state.seconds_expr.evaluate({"Input": state_input, "Context": ctx})
        except ExpressionEvaluationError as exc:
            raise FlowError(EXPRESSION_ERROR, f"Seconds.$: {exc}") from None
        if (
            not isinstance(seconds, int | float)
            or isinstance(seconds, bool)
            or not 1 <= seconds <= MAX_WAIT_SECONDS
        ):
            # wait page: Seconds is 1..300 in Standard mode
            raise FlowError(
                INVALID_ARGUMENT,
                f"Seconds.$ of Wait state {state.name!r} gave {seconds!r}; "
                f"needs a number 1..{MAX_WAIT_SECONDS}",
            )
    env.sleep(float(seconds or 0))
    return _result(state_input)
