"""How errors reach a user: one line, a documented exit code, no secrets from signed URLs."""

from __future__ import annotations

import socket

import pytest

from ossbatch import output
from ossbatch.cloud import ConfigError, Connection


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def nowhere() -> Connection:
    port = closed_port()
    url = f"http://127.0.0.1:{port}"
    return Connection(
        region="cn-hangzhou",
        account_id="1",
        access_key_id="AKIDSECRETLOOKING",
        access_key_secret="s",
        oss_endpoint=url,
        mns_endpoint=url,
        fnf_endpoint=url,
    )


def calls(conn: Connection):
    from alibabacloud_fnf20190315 import models as fnf

    yield lambda: conn.fnf().list_executions(fnf.ListExecutionsRequest(flow_name="x"))
    yield lambda: conn.oss_bucket("bkt").get_bucket_info()
    yield lambda: conn.mns().get_queue("q").get_attributes()


def test_sdk_connection_errors_are_exit_3_and_say_to_run_local_up(nowhere):
    for call in calls(nowhere):
        with pytest.raises(Exception) as caught:
            call()
        kind, detail, code = output.classify(caught.value)
        assert (kind, code) == ("unreachable", output.EXIT_UNREACHABLE)
        assert "ossbatch local up" in detail and "jobs resume" in detail
        assert "AKIDSECRETLOOKING" not in detail and "Signature" not in detail


def test_usage_errors_are_exit_2_and_unknown_ones_ask_for_a_report():
    assert output.classify(ConfigError("bad --dest"))[::2] == ("usage", 2)
    kind, detail, code = output.classify(KeyError("x"))
    assert (kind, code) == ("internal", output.EXIT_INTERNAL) and "OSSBATCH_DEBUG" in detail


def test_a_multi_line_message_is_printed_as_one_line(capsys):
    code = output.report_error(ConfigError("first\nsecond"), as_json=False)
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "first; second" in err
