"""Shared handler parts: execution names, budget, retry policy, pool, events, report keys."""

from __future__ import annotations

import re
import threading
import time
from types import SimpleNamespace

import oss2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.budget import TimeBudget
from handlers.errors import InvalidEvent, StartExecutionFailed
from handlers.events import CopyEvent, RestoreEvent, UnzipEvent, parse_event
from handlers.pool import BoundedPool
from handlers.report import ReportPart, part_key
from handlers.restore import restore_status, tier_for
from handlers.retrying import RetryPolicy, is_transient
from handlers.trigger import (
    WatchRule,
    dispatch,
    execution_name,
    parse_oss_events,
)

NAME_RULE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,127}$")

# execution names -------------------------------------------------------------


@settings(max_examples=500, deadline=None)
@given(
    bucket=st.text(min_size=1, max_size=63),
    key=st.text(min_size=1, max_size=1023),
    etag=st.text(max_size=40),
)
def test_execution_names_are_always_valid_for_cloudflow(bucket, key, etag):
    name = execution_name(bucket, key, etag)
    assert NAME_RULE.match(name), name
    assert name == execution_name(bucket, key, etag)
    # a continuation appends --<seq> and must stay within CloudFlow's 128 characters
    assert NAME_RULE.match(f"{name}--999999") and len(f"{name}--999999") <= 128


@settings(max_examples=200, deadline=None)
@given(key=st.text(min_size=1, max_size=200), etag1=st.text(max_size=8), etag2=st.text(max_size=8))
def test_a_new_etag_means_a_new_execution(key, etag1, etag2):
    same = execution_name("b", key, etag1) == execution_name("b", key, etag2)
    assert same == (etag1 == etag2)


def oss_event(key, etag="ABC", name="ObjectCreated:PutObject", bucket="bkt"):
    return {
        "eventName": name,
        "eventSource": "acs:oss",
        "region": "cn-hangzhou",
        "oss": {
            "bucket": {"name": bucket, "arn": f"acs:oss:cn-hangzhou:1:{bucket}"},
            "object": {"key": key, "eTag": etag, "size": 1},
        },
    }


def test_duplicate_deliveries_start_one_execution_and_already_exists_is_success():
    started: dict[str, str] = {}

    def start(flow, name, flow_input):
        if name in started:
            err = Exception("ExecutionAlreadyExists: exists")
            err.code = "ExecutionAlreadyExists"
            raise err
        started[name] = flow_input

    events = parse_oss_events({"events": [oss_event("in/a.zip"), oss_event("in/a.zip")]})
    rule = WatchRule(prefix="in/", suffix=".zip", output_prefix="out/")
    first = dispatch(events, rule, "unzip", start)
    again = dispatch(events, rule, "unzip", start)  # FC async retry delivers it again
    assert len(first.started) == 1 and len(first.duplicates) == 1
    assert again.started == [] and again.duplicates == first.started * 2
    assert len(started) == 1


def test_trigger_ignores_outputs_other_prefixes_and_suffixes():
    events = parse_oss_events(
        {
            "events": [
                oss_event("out/x/inner.zip"),
                oss_event("other/a.zip"),
                oss_event("in/a.txt"),
                oss_event("in/b.ZIP"),
                oss_event("in/c.zip", name="ObjectRemoved:DeleteObject"),
            ]
        }
    )
    calls = []
    result = dispatch(events, WatchRule("in/", ".zip", "out/"), "f", lambda *a: calls.append(a))
    assert [c[1] for c in calls] == result.started and len(calls) == 1
    assert [i["reason"].split()[0] for i in result.ignored] == ["under", "outside", "does"]


def test_other_start_errors_fail_the_trigger_by_name():
    def start(*_):
        raise RuntimeError("FlowNotExists")

    with pytest.raises(StartExecutionFailed):
        dispatch(
            parse_oss_events({"events": [oss_event("a.zip")]}),
            WatchRule("", ".zip", ""),
            "f",
            start,
        )


def test_malformed_trigger_event_names_the_field():
    with pytest.raises(InvalidEvent, match="events.0"):
        parse_oss_events({"events": [{"eventName": "ObjectCreated:PutObject"}]})


# budget ------------------------------------------------------------------------


def test_budget_uses_the_function_timeout_minus_a_margin():
    ctx = SimpleNamespace(function=SimpleNamespace(timeout=100))
    started = time.monotonic()
    budget = TimeBudget.from_context(ctx, started_at=started)
    assert 70 < budget.remaining() <= 80


def test_event_budget_is_never_longer_than_the_function_allows():
    ctx = SimpleNamespace(function=SimpleNamespace(timeout=10))
    assert TimeBudget.from_context(ctx, time_budget_seconds=1000).remaining() < 10
    assert TimeBudget.from_context(ctx, time_budget_seconds=0.5).remaining() <= 0.5
    assert TimeBudget.from_context(ctx, deadline_epoch=time.time() - 1).exhausted()


# retry ------------------------------------------------------------------------


def server_error(status, code):
    return oss2.exceptions.ServerError(status, {}, b"", {"Code": code})


@pytest.mark.parametrize(
    "exc,transient",
    [
        (server_error(503, "SlowDown"), True),
        (server_error(500, "InternalError"), True),
        (oss2.exceptions.RequestError(ConnectionResetError("reset")), True),
        (server_error(403, "AccessDenied"), False),
        (oss2.exceptions.NoSuchKey(404, {}, b"", {}), False),
        (server_error(409, "RestoreAlreadyInProgress"), False),
        (ValueError("x"), False),
    ],
)
def test_retry_classification(exc, transient):
    assert is_transient(exc) is transient


def test_retry_gives_up_after_attempts_and_says_how_many():
    calls = []

    def flaky():
        calls.append(1)
        raise server_error(503, "SlowDown")

    with pytest.raises(oss2.exceptions.ServerError) as info:
        RetryPolicy(attempts=3, initial_seconds=0.001, max_seconds=0.002).call(flaky)
    assert len(calls) == 3 and info.value.attempts == 3


def test_client_errors_are_never_retried():
    calls = []

    def denied():
        calls.append(1)
        raise server_error(403, "AccessDenied")

    with pytest.raises(oss2.exceptions.ServerError):
        RetryPolicy(attempts=5, initial_seconds=0.001).call(denied)
    assert calls == [1]


def test_retry_returns_after_transient_failures():
    state = {"n": 0}

    def sometimes():
        state["n"] += 1
        if state["n"] < 3:
            raise oss2.exceptions.RequestError(TimeoutError())
        return "ok"

    assert RetryPolicy(attempts=5, initial_seconds=0.001, max_seconds=0.002).call(sometimes) == "ok"


# pool -------------------------------------------------------------------------


def test_pool_caps_in_flight_requests_and_buffered_bytes():
    gate = threading.Event()
    with BoundedPool(max_in_flight=4, max_buffered_bytes=100) as pool:

        def wait():
            gate.wait(5)

        threading.Timer(0.3, gate.set).start()
        for _ in range(12):
            pool.submit(wait, nbytes=30)
        pool.drain()
    assert pool.peak_in_flight <= 4 and pool.peak_buffered <= 100


def test_pool_runs_an_oversized_item_alone():
    with BoundedPool(max_in_flight=2, max_buffered_bytes=10) as pool:
        assert pool.submit(lambda: 7, nbytes=1000).result(5) == 7


# events -----------------------------------------------------------------------


def test_invalid_events_name_the_field():
    with pytest.raises(InvalidEvent, match=r"dest\.storage_class"):
        parse_event(
            CopyEvent,
            b'{"job_id": "j", "listing": {"bucket": "abc"}, '
            b'"dest": {"bucket": "def", "storage_class": "Glacier"}}',
        )
    with pytest.raises(InvalidEvent, match="exactly one"):
        parse_event(CopyEvent, {"job_id": "j", "dest": {"bucket": "def"}})
    with pytest.raises(InvalidEvent, match="tyop"):
        parse_event(
            UnzipEvent, {"job_id": "j", "package": {"bucket": "abc", "key": "a.zip"}, "tyop": 1}
        )
    with pytest.raises(InvalidEvent, match="not valid JSON"):
        parse_event(RestoreEvent, b"{")


# restore status ----------------------------------------------------------------


@pytest.mark.parametrize(
    "headers,state",
    [
        ({"x-oss-storage-class": "Archive"}, "not_submitted"),
        ({"x-oss-storage-class": "Archive", "x-oss-restore": 'ongoing-request="true"'}, "ongoing"),
        (
            {
                "x-oss-storage-class": "ColdArchive",
                "x-oss-restore": 'ongoing-request="false", expiry-date="Sun, 16 Apr 2017 08:12:33 GMT"',
            },
            "restored",
        ),
        ({"x-oss-storage-class": "Standard"}, "readable"),
        ({}, "readable"),
    ],
)
def test_missing_restore_header_means_not_submitted_never_done(headers, state):
    assert restore_status(headers).state == state


def test_tiers_follow_the_storage_class():
    assert tier_for("Archive", "Bulk") is None
    assert tier_for("ColdArchive", "Expedited") == "Expedited"
    assert tier_for("DeepColdArchive", "Expedited") == "Standard"


# report ------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(position=st.text(min_size=1, max_size=300))
def test_report_part_keys_are_deterministic_and_distinct(position):
    key = part_key("reports/", "job1", "copy", position)
    assert key == part_key("reports", "job1", "copy", position)
    assert key.startswith("reports/job1/copy/") and key.endswith(".jsonl")
    assert key != part_key("reports/", "job1", "copy", position + "x")


def test_report_body_is_json_lines():
    part = ReportPart("k")
    part.add(key="a", code="NoSuchKey")
    part.add(key="b", code="InvalidObjectState")
    assert part.body().decode().count("\n") == 2


# logs --------------------------------------------------------------------------


def test_every_log_line_is_json_with_job_and_request_id(monkeypatch):
    import io
    import json

    from handlers.logs import JobLog

    monkeypatch.setenv("OSSBATCH_LOG_LEVEL", "INFO")
    out = io.StringIO()
    log = JobLog("copy", "job-7", "req-9", stream=out)
    log.debug("hidden")
    log.info("copy_page", done=True, counters={"done": 3})
    (line,) = out.getvalue().splitlines()
    record = json.loads(line)
    assert (record["job_id"], record["request_id"], record["event"]) == (
        "job-7",
        "req-9",
        "copy_page",
    )
    assert record["counters"] == {"done": 3}
