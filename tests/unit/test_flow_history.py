"""Event history: ids, schedule links and the limit that leaves room for the final event."""

from __future__ import annotations

import threading

import pytest

from localcloud.flow import history as ev
from localcloud.flow.errors import EventLimitExceeded


def test_events_are_numbered_from_one_and_drained_once():
    history = ev.History(max_events=10)
    first = history.add(ev.EXECUTION_STARTED, "", {"input": {}})
    second = history.add(ev.STEP_ENTERED, "A", '{"input":{}}', first)
    drained = history.drain()
    assert [e.event_id for e in drained] == [1, 2]
    assert drained[1].schedule_event_id == first and second == 2
    assert history.drain() == []
    assert drained[0].to_api()["EventDetail"] == '{"input":{}}'


def test_the_limit_keeps_room_for_the_terminal_event():
    history = ev.History(max_events=3)
    history.add(ev.EXECUTION_STARTED)
    history.add(ev.STEP_ENTERED, "A")
    with pytest.raises(EventLimitExceeded, match="more than 3"):
        history.add(ev.STEP_STARTED, "A")
    assert history.exceeded
    history.add(ev.EXECUTION_FAILED, "", {"error": "FnF.EventLimitExceeded"})
    assert history.count == 3


def test_once_exceeded_every_thread_fails_fast():
    history = ev.History(max_events=100)
    failures = []

    def spam():
        for _ in range(100):
            try:
                history.add(ev.STEP_ENTERED, "X")
            except EventLimitExceeded:
                failures.append(1)
                return

    threads = [threading.Thread(target=spam) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert history.count == 99 and len(failures) == 4
    ids = [e.event_id for e in history.drain()]
    assert ids == list(range(1, 100))


def test_resumed_history_continues_numbering():
    history = ev.History(max_events=50, start_id=7)
    assert history.add(ev.STEP_ENTERED, "B") == 8


def test_time_format_is_cloudflow_style():
    assert ev.utc_timestamp(0) == "1970-01-01T00:00:00.000Z"
    assert ev.utc_timestamp(1.5) == "1970-01-01T00:00:01.500Z"
