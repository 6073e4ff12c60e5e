"""`python -m infra`: configuration mistakes exit 2 with a message naming file and field."""

from __future__ import annotations

from infra import cli


def test_unknown_environment_lists_the_known_ones(tmp_path, capsys):
    assert cli.main(["synth", "--env", "qa", "--outdir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "qa.yaml: no such environment file" in err and "dev, local, prod, staging" in err


def test_invalid_flow_file_name_stops_synthesis(tmp_path, capsys):
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "copy v2.yaml").write_text("Type: StateMachine\n")
    code = cli.main(
        ["synth", "--env", "dev", "--outdir", str(tmp_path / "out"), "--flows-dir", str(flows)]
    )
    assert code == 2
    assert "copy v2.yaml: flow name 'ossbatch-dev-copy v2' is invalid" in capsys.readouterr().err
    assert not list((tmp_path / "out").rglob("cdk.tf.json"))


def test_synth_writes_the_stack_where_make_synth_says(tmp_path, capsys):
    assert cli.main(["synth", "--env", "staging", "--outdir", str(tmp_path)]) == 0
    assert (tmp_path / "stacks" / "ossbatch-staging" / "cdk.tf.json").is_file()
    assert "synthesized" in capsys.readouterr().out


def test_hcl_writes_main_tf(tmp_path):
    assert cli.main(["hcl", "--env", "dev", "--outdir", str(tmp_path)]) == 0
    text = (tmp_path / "hcl" / "ossbatch-dev" / "main.tf").read_text()
    assert 'backend "oss"' in text and 'resource "alicloud_fcv3_function"' in text
