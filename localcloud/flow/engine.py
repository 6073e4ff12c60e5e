"""FlowEngine: flows and executions (no HTTP). Each execution runs on its own thread,
persists a checkpoint after every top-level state and resumes from it after a restart.

Contract (docs/internals.md): `FlowEngine(fc=..., mns=..., data_dir, account_id, region,
max_events=5000)`; api.py serves it over the fnf 2019-03-15 API.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import traceback
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import api_errors as api
from . import history as ev
from .errors import (
    EXECUTION_INTERRUPTED,
    EventLimitExceeded,
    ExecutionAborted,
    ExecutionStopped,
    FlowDefinitionError,
    FlowError,
)
from .evaluator import Environment, run_scope
from .integration_fc import make_fc_integration
from .integration_fnf import make_fnf_integration
from .integration_mns import make_mns_integration
from .parser import parse_flow
from .spec import NAME_RE, FlowDefinition
from .store import ExecutionRecord, FlowRecord, FlowStore

log = logging.getLogger("localcloud.flow")

RUNNING, SUCCEEDED, FAILED, STOPPED = "Running", "Succeeded", "Failed", "Stopped"
INTERNAL_ERROR = "FnF.InternalError"


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def check_name(kind: str, name: Any) -> str:
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise api.InvalidArgument(
            f"{kind} {name!r} is invalid: use 1..128 letters, digits, _ or -, starting with a "
            "letter or _"
        )
    return name


@dataclass
class _Running:
    env: Environment
    thread: threading.Thread
    done: threading.Event


class FlowEngine:
    def __init__(
        self,
        fc=None,
        mns=None,
        data_dir: str | Path = ".",
        account_id: str = "0",
        region: str = "cn-hangzhou",
        max_events: int = 5000,
        resume_unfinished: bool = True,
        start: bool = True,
        compat: bool = False,
        wait_scale: float = 1.0,
    ):
        # the other reading of what the docs leave open (docs/decisions/flow-compat.md)
        self.compat = compat
        # localcloud's clock control for Wait states and Retry intervals: 0.01 runs a 300 s
        # Wait in 3 s; events keep the flow's own seconds. Task Timeouts are not scaled.
        self.wait_scale = wait_scale
        self.account_id = account_id
        self.region = region
        self.max_events = max_events
        self.resume_unfinished = resume_unfinished
        self.store = FlowStore(Path(data_dir) / "flow.sqlite")
        self.integrations = {"FNF:StartExecution": make_fnf_integration(self)}
        if fc is not None:
            self.integrations["FC:InvokeFunction"] = make_fc_integration(fc)
        if mns is not None:
            self.integrations["MNS:SendMessage"] = make_mns_integration(mns)
        self._lock = threading.Lock()
        self._running: dict[tuple[str, str], _Running] = {}
        self._finished = threading.Condition(self._lock)
        self._shutting_down = False
        self._definitions: dict[str, FlowDefinition] = {}
        self._counters: dict[str, int] = {}
        if start:
            self.start()

    # --- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        """Resume (or explicitly fail) executions a previous process left Running."""
        for record in self.store.unfinished_executions():
            if (record.flow_name, record.name) in self._running:
                continue
            if not self.resume_unfinished:
                history = ev.History(
                    self.max_events, self.store.event_count(record.flow_name, record.name)
                )
                self._finish(
                    record,
                    history,
                    FAILED,
                    None,
                    EXECUTION_INTERRUPTED,
                    "localcloud restarted while the execution was running; "
                    "start it again (resume is off: LOCALCLOUD_FLOW_RESUME=0)",
                )
                continue
            log.info(
                "resuming execution %s/%s at %s",
                record.flow_name,
                record.name,
                record.checkpoint_state or "the start",
            )
            try:
                self._launch(record, resume=True)
            except Exception as exc:  # never leave it Running because it cannot resume
                log.exception("cannot resume %s/%s", record.flow_name, record.name)
                history = ev.History(
                    self.max_events, self.store.event_count(record.flow_name, record.name)
                )
                self._finish(
                    record,
                    history,
                    FAILED,
                    None,
                    EXECUTION_INTERRUPTED,
                    f"localcloud restarted and could not resume the execution: {exc}",
                )

    def close(self, timeout: float = 10.0) -> None:
        """Stop execution threads without finishing them: they resume on the next start."""
        with self._lock:
            self._shutting_down = True
            running = list(self._running.values())
        for item in running:
            item.env.stop_reason = "localcloud is shutting down"
            item.env.stop_event.set()
        deadline = time.monotonic() + timeout
        for item in running:
            item.thread.join(max(0.0, deadline - time.monotonic()))
        self.store.close()

    def _count(self, name: str, amount: int = 1) -> None:
        with self._lock:
            self._counters[name] = self._counters.get(name, 0) + amount

    def counters_snapshot(self) -> dict:
        """For the admin /counters endpoint: executions by outcome and events recorded."""
        with self._lock:
            return {f"flow_{k}": v for k, v in sorted(self._counters.items())}

    def reset_counters(self) -> None:
        with self._lock:
            self._counters.clear()

    # --- flows -------------------------------------------------------------------------

    def _parse(self, definition: str, flow_name: str | None = None) -> FlowDefinition:
        cached = self._definitions.get(definition)
        if cached is None:
            try:
                cached = parse_flow(definition)
            except FlowDefinitionError as exc:
                raise api.InvalidArgument(str(exc)) from None
            self._definitions[definition] = cached
        if flow_name is not None and cached.name != flow_name:
            # CreateFlow API: the definition's Name "must be consistent with" the Name parameter
            raise api.InvalidArgument(
                f"state '<flow>', field Name: the definition is named {cached.name!r} but the "
                f"flow is {flow_name!r}; they must be equal (deploy substitutes the name)"
            )
        return cached

    def create_flow(
        self,
        name: str,
        definition: str,
        description: str = "",
        type_: str = "FDL",
        role_arn: str = "",
        execution_mode: str = "Standard",
    ) -> FlowRecord:
        check_name("flow name", name)
        if not definition:
            raise api.MissingRequiredParams("Definition")
        self._parse(definition, name)
        now = ev.utc_timestamp()
        record = FlowRecord(
            name,
            str(uuid.uuid4()),
            definition,
            description or "",
            type_ or "FDL",
            role_arn or "",
            execution_mode or "Standard",
            now,
            now,
        )
        if not self.store.insert_flow(record):
            raise api.FlowAlreadyExists(name)
        return record

    def update_flow(
        self,
        name: str,
        definition: str | None = None,
        description: str | None = None,
        type_: str | None = None,
        role_arn: str | None = None,
    ) -> FlowRecord:
        record = self.describe_flow(name)
        if definition:
            self._parse(definition, name)
            record.definition = definition
        if description is not None:
            record.description = description
        if type_:
            record.type = type_
        if role_arn is not None:
            record.role_arn = role_arn
        record.last_modified_time = ev.utc_timestamp()
        self.store.update_flow(record)
        return record

    def describe_flow(self, name: str) -> FlowRecord:
        record = self.store.get_flow(name)
        if record is None:
            raise api.FlowNotExists(name)
        return record

    def list_flows(
        self, limit: int = 60, next_token: str | None = None
    ) -> tuple[list[FlowRecord], str]:
        rows = self.store.list_flows(next_token or "", limit + 1)
        token = rows[limit].name if len(rows) > limit else ""
        return rows[:limit], token

    def delete_flow(self, name: str) -> None:
        if not self.store.delete_flow(name):
            raise api.FlowNotExists(name)

    # --- executions --------------------------------------------------------------------

    def start_execution(
        self, flow_name: str, execution_name: str | None = None, input_text: str | None = None
    ) -> ExecutionRecord:
        flow = self.describe_flow(flow_name)
        name = check_name("execution name", execution_name or f"exec-{uuid.uuid4().hex}")
        text = input_text if input_text not in (None, "") else "{}"
        try:
            value = json.loads(text)
        except (TypeError, json.JSONDecodeError) as exc:
            raise api.InvalidArgument(f"Input must be a JSON object: {exc}") from None
        if not isinstance(value, dict):
            raise api.InvalidArgument("Input must be a JSON object")
        if len(text.encode()) > 64 * 1024:
            raise api.InvalidArgument("Input is larger than 64 KiB")
        record = ExecutionRecord(
            flow_name,
            name,
            0,
            flow.definition,
            text,
            None,
            RUNNING,
            None,
            None,
            ev.utc_timestamp(),
            None,
            None,
            None,
            0,
        )
        with self._lock:
            if self._shutting_down:
                raise api.InvalidArgument("localcloud is shutting down")
            if not self.store.insert_execution(record):
                existing = self.store.get_execution(flow_name, name)
                # StartExecution API: a RUNNING execution of that name is returned;
                # ExecutionAlreadyExists only once it has finished (doc-detail/122628)
                if existing is not None and existing.status == RUNNING:
                    return existing
                raise api.ExecutionAlreadyExists(flow_name, name)
        self._launch(record, resume=False)
        self._count("executions_started")
        return record

    def describe_execution(
        self, flow_name: str, name: str, wait_seconds: float = 0
    ) -> ExecutionRecord:
        if wait_seconds:
            self.wait(flow_name, name, wait_seconds)
        record = self.store.get_execution(flow_name, name)
        if record is None:
            self.describe_flow(flow_name)
            raise api.ExecutionNotExists(flow_name, name)
        return record

    def wait(self, flow_name: str, name: str, timeout: float | None = None) -> ExecutionRecord:
        """Block until the execution is no longer running (tests, FNF WaitForSystemCallback)."""
        with self._lock:
            running = self._running.get((flow_name, name))
        if running is not None:
            running.done.wait(timeout)
        record = self.store.get_execution(flow_name, name)
        if record is None:
            raise api.ExecutionNotExists(flow_name, name)
        return record

    def stop_execution(
        self, flow_name: str, name: str, error: str = "", cause: str = ""
    ) -> ExecutionRecord:
        record = self.describe_execution(flow_name, name)
        with self._lock:
            running = self._running.get((flow_name, name))
        if running is not None:
            running.env.stop_reason = cause or "stopped by StopExecution"
            running.env.stop_code = error or "FnF.ExecutionStopped"
            running.env.stop_event.set()
            running.done.wait(30)
            record = self.describe_execution(flow_name, name)
        return record

    def list_executions(
        self,
        flow_name: str,
        limit: int = 60,
        next_token: str | None = None,
        status: str | None = None,
        prefix: str | None = None,
    ):
        self.describe_flow(flow_name)
        after = int(next_token) if next_token and next_token.isdigit() else 0
        rows = self.store.list_executions(flow_name, status, prefix, after, limit + 1)
        token = str(rows[limit - 1].seq) if len(rows) > limit else ""
        return rows[:limit], token

    def get_execution_history(
        self, flow_name: str, name: str, limit: int = 60, next_token: str | None = None
    ) -> tuple[list[ev.Event], str]:
        self.describe_execution(flow_name, name)
        with self._lock:
            running = self._running.get((flow_name, name))
        if running is not None:
            with running.env.history.flush_lock:
                self.store.append_events(flow_name, name, running.env.history.drain())
        after = int(next_token) - 1 if next_token and next_token.isdigit() else 0
        events = self.store.events(flow_name, name, after, limit + 1)
        token = str(events[limit].event_id) if len(events) > limit else ""
        return events[:limit], token

    # --- running -----------------------------------------------------------------------

    def _launch(self, record: ExecutionRecord, resume: bool) -> None:
        definition = self._parse(record.definition)
        start_at, data = None, json.loads(record.input)
        fresh = True
        if resume and record.checkpoint_state:
            self.store.truncate_events(record.flow_name, record.name, record.checkpoint_event)
            history = ev.History(self.max_events, record.checkpoint_event)
            start_at, data, fresh = (
                record.checkpoint_state,
                json.loads(record.checkpoint_input),
                False,
            )
        else:
            self.store.truncate_events(record.flow_name, record.name, 0)
            history = ev.History(self.max_events)
        flow = self.store.get_flow(record.flow_name)
        env = Environment(
            flow_name=record.flow_name,
            execution_name=record.name,
            execution_input=json.loads(record.input),
            history=history,
            integrations=self.integrations,
            role_arn=flow.role_arn if flow else "",
            compat=self.compat,
            wait_scale=self.wait_scale,
        )
        done = threading.Event()
        thread = threading.Thread(
            target=self._run,
            args=(record, definition, env, start_at, data, fresh, done),
            name=f"flow-{record.flow_name}-{record.name}",
            daemon=True,
        )
        with self._lock:
            self._running[(record.flow_name, record.name)] = _Running(env, thread, done)
        thread.start()

    def _run(
        self, record, definition: FlowDefinition, env: Environment, start_at, data, fresh, done
    ):
        history = env.history
        key = (record.flow_name, record.name)
        try:
            if fresh:
                history.add(ev.EXECUTION_STARTED, "", f'{{"input":{_dumps(data)}}}')
                self._checkpoint(record, history, definition.scope.start_at, data)

            env.replaying = not fresh

            def on_transition(next_state: str, next_input: Any) -> None:
                env.replaying = False
                self._checkpoint(record, history, next_state, next_input)

            try:
                output = run_scope(
                    definition.scope, data, env, start_at, on_transition, history.count
                )
            except ExecutionStopped as stop:
                if self._shutting_down:
                    with history.flush_lock:
                        self.store.append_events(record.flow_name, record.name, history.drain())
                    return  # left Running: the next start resumes it from its checkpoint
                self._finish(record, history, STOPPED, None, env.stop_code, stop.detail)
            except (EventLimitExceeded, ExecutionAborted) as exc:
                self._finish(record, history, FAILED, None, exc.code, exc.detail)
            except FlowError as exc:
                self._finish(record, history, FAILED, None, exc.code, exc.detail)
            except Exception as exc:  # an engine bug must not leave the execution Running
                log.exception("flow engine error in %s/%s", record.flow_name, record.name)
                detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
                self._finish(record, history, FAILED, None, INTERNAL_ERROR, detail)
            else:
                self._finish(record, history, SUCCEEDED, output, None, None)
        finally:
            with self._lock:
                self._running.pop(key, None)
                done.set()

    def _checkpoint(self, record, history: ev.History, state: str, state_input: Any) -> None:
        with history.flush_lock:
            self.store.checkpoint(
                record.flow_name,
                record.name,
                state,
                _dumps(state_input),
                history.drain(),
                history.count,
            )

    def _finish(
        self,
        record,
        history: ev.History,
        status: str,
        output: Any,
        code: str | None,
        detail: str | None,
    ) -> None:
        if status == SUCCEEDED:
            history.add(ev.EXECUTION_SUCCEEDED, "", f'{{"output":{_dumps(output)}}}', history.count)
            output_text = _dumps(output)
        else:
            error = {"Error": code, "Cause": detail or ""}
            history.add(
                ev.EXECUTION_STOPPED if status == STOPPED else ev.EXECUTION_FAILED,
                "",
                {"error": code, "cause": detail or ""},
                history.count,
            )
            output_text = _dumps(error)
        with history.flush_lock:
            self.store.finish(
                record.flow_name,
                record.name,
                status,
                output_text,
                code,
                detail,
                ev.utc_timestamp(),
                history.drain(),
            )
        self._count(f"executions_{status.lower()}")
        self._count("events_recorded", history.count)
