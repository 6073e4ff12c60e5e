"""CLI usage and configuration errors: one readable line, exit code 2."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from ossbatch.cli import app

runner = CliRunner()


def test_unknown_environment_is_a_usage_error_naming_the_file(tmp_path):
    result = runner.invoke(app, ["--env", "nosuch", "jobs", "list"])
    assert result.exit_code == 2
    assert "nosuch.yaml" in result.output and "known environments" in result.output


def test_local_status_without_a_running_localcloud_says_how_to_start_one(tmp_path):
    result = runner.invoke(app, ["local", "status", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "ossbatch local up" in result.output


def test_job_commands_need_a_running_localcloud(tmp_path):
    result = runner.invoke(
        app,
        ["--data-dir", str(tmp_path), "copy", "start", "--source", "oss://src/p/"]
        + ["--dest", "oss://dst/p/", "--json"],
    )
    assert result.exit_code == 2
    assert "no local cloud is running" in result.output


def test_bad_option_value_is_exit_code_2():
    result = runner.invoke(app, ["copy", "start", "--dest", "oss://b/", "--concurrency", "0"])
    assert result.exit_code == 2


def test_local_status_reads_the_state_file_and_reports_a_dead_process(tmp_path):
    state = {
        "environment": "local",
        "data_dir": str(tmp_path),
        "localcloud": {
            "pid": 2**22 + 12345,
            "region": "cn-hangzhou",
            "account_id": "1",
            "access_key_id": "ak",
            "access_key_secret": "sk",
            "security_token": "",
            "oss_endpoint": "http://127.0.0.1:1",
            "mns_endpoint": "http://127.0.0.1:2",
            "fc_endpoint": "http://127.0.0.1:3",
            "fnf_endpoint": "http://127.0.0.1:4",
        },
        "names": {"buckets": {"sources": "s"}, "queues": {"notifications": "q"}},
    }
    (tmp_path / "ossbatch-local.json").write_text(json.dumps(state))
    result = runner.invoke(app, ["local", "status", "--data-dir", str(tmp_path), "--json"])
    assert result.exit_code == 1
    doc = json.loads(result.output)
    assert doc["status"] == "dead"
    assert doc["oss_endpoint"] == "http://127.0.0.1:1"
    assert doc["buckets"] == {"sources": "s"} and doc["queues"] == {"notifications": "q"}
