"""Parallel and Map (inline mode): branches/iterations run concurrently on threads.

Parallel output: {"Branch0": ..., "Branch1": ...}. Map output: {"Items": [...]}, one entry
per item in order; the first failed item fails the Map.
Map honours MaxConcurrency (default 40); the first failed iteration fails the Map
(iterations not yet started are skipped). The event limit and StopExecution abort everything at once.
"""

from __future__ import annotations

import threading
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, Any

from . import history as ev
from .errors import (
    EXPRESSION_ERROR,
    INVALID_ITEMS,
    ExecutionAborted,
    FlowError,
)
from .expressions import ExpressionEvaluationError

if TYPE_CHECKING:
    from .evaluator import Environment, StateResult


def run_parallel(state, state_input, env: Environment, ctx: dict, step) -> StateResult:
    from .evaluator import StateResult

    def branch(index: int, scope) -> Any:
        name = f"{state.name}.Branch{index}"
        entered = env.history.add(ev.BRANCH_ENTERED, name, schedule_event_id=step.last)
        output = env.run_scope(scope, state_input, parent_event=entered)
        env.history.add(ev.BRANCH_EXITED, name, schedule_event_id=entered)
        return output

    with ThreadPoolExecutor(max_workers=len(state.branches), thread_name_prefix="flow-par") as pool:
        futures = [pool.submit(branch, i, scope) for i, scope in enumerate(state.branches)]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        for future in futures:
            if future.done() and future.exception() is not None:
                _cancel(futures)
                raise future.exception()
        outputs = [future.result() for future in futures]
    return StateResult({f"Branch{i}": output for i, output in enumerate(outputs)})


def _cancel(futures) -> None:
    for future in futures:
        future.cancel()


def run_map(state, state_input, env: Environment, ctx: dict, step) -> StateResult:
    from .evaluator import StateResult

    try:
        items = state.items_path.evaluate({"Input": state_input, "Context": ctx})
    except ExpressionEvaluationError as exc:
        raise FlowError(EXPRESSION_ERROR, f"ItemsPath {state.items_path.text!r}: {exc}") from None
    if not isinstance(items, list):
        raise FlowError(
            INVALID_ITEMS,
            f"ItemsPath {state.items_path.text!r} of Map {state.name!r} gave a "
            f"{type(items).__name__}, not an array",
        )
    if not items:
        return StateResult({"Items": []})

    results: list[Any] = [None] * len(items)
    failures: list[tuple[int, FlowError]] = []
    abort = threading.Event()
    lock = threading.Lock()

    def too_many_failures(failed: int) -> bool:
        return failed > 0  # inline Map documents no tolerated failures: one fails the Map

    def iteration(index: int) -> None:
        if abort.is_set():
            return
        name = f"{state.name}.Items[{index}]"
        entered = env.history.add(
            ev.ITERATION_ENTERED, name, {"index": index}, schedule_event_id=step.last
        )
        try:
            results[index] = env.run_scope(state.processor, items[index], parent_event=entered)
        except FlowError as error:
            with lock:
                failures.append((index, error))
                results[index] = error.as_context()
                if too_many_failures(len(failures)):
                    abort.set()
            env.history.add(
                ev.ITERATION_EXITED,
                name,
                {"index": index, "error": error.code},
                schedule_event_id=entered,
            )
            return
        except ExecutionAborted:
            abort.set()
            raise
        env.history.add(ev.ITERATION_EXITED, name, {"index": index}, schedule_event_id=entered)

    workers = min(state.max_concurrency, len(items))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="flow-map") as pool:
        futures = [pool.submit(iteration, i) for i in range(len(items))]
        wait(futures, return_when=FIRST_EXCEPTION)
        for future in futures:
            if future.done() and future.exception() is not None:
                abort.set()
                _cancel(futures)
                raise future.exception()
    for future in futures:
        if not future.cancelled() and future.exception() is not None:
            raise future.exception()

    if too_many_failures(len(failures)):
        failures.sort(key=lambda pair: pair[0])
        raise failures[0][1]
    return StateResult({"Items": results})
