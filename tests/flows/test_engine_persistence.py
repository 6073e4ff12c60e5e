"""Executions survive a restart of localcloud: resumed from the last completed state,
or failed with a named error when resume is off; never silently lost."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from flowkit import DEFS, definition, events, named

ROOT = Path(__file__).resolve().parents[2]


def _wait_for_checkpoint(store_path: Path, state: str, timeout: float = 20) -> None:
    import sqlite3

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if store_path.exists():
            try:
                with sqlite3.connect(store_path) as db:
                    row = db.execute("SELECT checkpoint_state FROM executions").fetchone()
                if row and row[0] == state:
                    return
            except sqlite3.OperationalError:
                pass
        time.sleep(0.05)
    raise AssertionError(f"no checkpoint at {state} within {timeout}s")


def _start_in_child(data_dir: Path, delay: int) -> subprocess.Popen:
    script = textwrap.dedent(f"""
        import json, time
        from localcloud.flow.engine import FlowEngine
        engine = FlowEngine(data_dir={str(data_dir)!r})
        engine.create_flow("f", open({str(DEFS / "resumable.yaml")!r}).read().replace("Name: resumable", "Name: f", 1))
        engine.start_execution("f", "e1", json.dumps({{"delay": {delay}}}))
        time.sleep(60)
    """)
    return subprocess.Popen(
        [sys.executable, "-c", script], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}
    )


def test_kill_9_mid_execution_then_restart_resumes_from_the_last_completed_state(
    make_engine, tmp_path
):
    data_dir = tmp_path / "flow"
    child = _start_in_child(data_dir, delay=30)
    try:
        _wait_for_checkpoint(data_dir / "flow.sqlite", "Pause")
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    engine = make_engine(data_dir=data_dir)
    # the Wait state re-runs in full; shorten nothing: stop it early by checking state
    record = engine.describe_execution("f", "e1")
    assert record.status == "Running"
    engine.stop_execution("f", "e1")  # 30 s is too long for a test: prove it is live
    history = events(engine)
    assert [e.type for e in history].count("ExecutionStarted") == 1
    assert [e.step_name for e in history if e.type == "StepEntered"] == ["Before", "Pause"]
    assert [e.event_id for e in history] == list(range(1, len(history) + 1))


def test_restart_resumes_and_completes_the_execution(make_engine, tmp_path):
    data_dir = tmp_path / "flow"
    child = _start_in_child(data_dir, delay=2)
    try:
        _wait_for_checkpoint(data_dir / "flow.sqlite", "Pause")
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    engine = make_engine(data_dir=data_dir)
    record = engine.wait("f", "e1", 20)
    assert record.status == "Succeeded"
    assert json.loads(record.output) == {"stage": "after", "from": "before"}
    history = events(engine)
    assert [e.step_name for e in history if e.type == "StepEntered"] == ["Before", "Pause", "After"]
    assert [e.event_id for e in history] == list(range(1, len(history) + 1))


def test_graceful_shutdown_leaves_the_execution_to_be_resumed(make_engine, tmp_path):
    data_dir = tmp_path / "flow"
    first = make_engine(data_dir=data_dir)
    first.create_flow("f", named(definition("resumable.yaml"), "f"))
    first.start_execution("f", "e1", json.dumps({"delay": 2}))
    _wait_for_checkpoint(data_dir / "flow.sqlite", "Pause")
    first.close()
    second = make_engine(data_dir=data_dir)
    record = second.wait("f", "e1", 20)
    assert record.status == "Succeeded"


def test_with_resume_off_an_interrupted_execution_fails_with_a_named_error(make_engine, tmp_path):
    data_dir = tmp_path / "flow"
    first = make_engine(data_dir=data_dir)
    first.create_flow("f", named(definition("resumable.yaml"), "f"))
    first.start_execution("f", "e1", json.dumps({"delay": 30}))
    _wait_for_checkpoint(data_dir / "flow.sqlite", "Pause")
    first.close()
    second = make_engine(data_dir=data_dir, resume_unfinished=False)
    record = second.describe_execution("f", "e1")
    assert (record.status, record.error_code) == ("Failed", "FnF.ExecutionInterrupted")
    assert events(second)[-1].type == "ExecutionFailed"


def test_flows_and_finished_executions_persist(make_engine, tmp_path):
    data_dir = tmp_path / "flow"
    first = make_engine(data_dir=data_dir)
    first.create_flow("f", named(definition("fail.yaml"), "f"), description="keep me")
    first.start_execution("f", "e1")
    first.wait("f", "e1", 10)
    first.close()
    second = make_engine(data_dir=data_dir)
    assert second.describe_flow("f").description == "keep me"
    record = second.describe_execution("f", "e1")
    assert (record.status, record.error_code) == ("Failed", "JobDeadlineExceeded")
    # ExecutionStarted, StepEntered, StepStarted, StepFailed, ExecutionFailed
    assert [e.type for e in events(second)][-2:] == ["StepFailed", "ExecutionFailed"]
    assert len(events(second)) == 5


SLOW_CHILD = """
Type: StateMachine
Name: slow-child
SpecVersion: v1
StartAt: Pause
States:
  - Name: Pause
    Type: Wait
    Seconds: 2
    Next: Done
  - Name: Done
    Type: Pass
    OutputConstructor:
      child: done
    End: true
"""

WAITING_PARENT = """
Type: StateMachine
Name: waiting-parent
SpecVersion: v1
StartAt: RunChild
States:
  - Name: RunChild
    Type: Task
    Action: FNF:StartExecution
    TaskMode: WaitForSystemCallback
    Parameters:
      resourceArn: acs:fnf:cn-hangzhou:1:flow/slow-child
      executionName: the-child
    End: true
"""


def test_a_resumed_parent_attaches_to_the_child_it_already_started(make_engine, tmp_path):
    data_dir = tmp_path / "flow"
    first = make_engine(data_dir=data_dir)
    first.create_flow("slow-child", named(SLOW_CHILD, "slow-child"))
    first.create_flow("parent", named(WAITING_PARENT, "parent"))
    first.start_execution("parent", "p1")
    deadline = time.monotonic() + 10
    while first.store.get_execution("slow-child", "the-child") is None:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    first.close()
    second = make_engine(data_dir=data_dir)
    record = second.wait("parent", "p1", 20)
    assert (record.status, json.loads(record.output)) == ("Succeeded", {"child": "done"})
    assert second.wait("slow-child", "the-child", 5).status == "Succeeded"
