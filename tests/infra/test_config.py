"""environments/*.yaml: one strict schema; errors name the file and the field path."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from ossbatch.config import (
    ENVIRONMENTS_DIR,
    EnvironmentFileError,
    load_environment,
)

ENVIRONMENTS = ("local", "dev", "staging", "prod")


def write_variant(tmp_path: Path, base: str = "dev", **changes) -> Path:
    """A copy of environments/<base>.yaml with dotted-path changes (None deletes)."""
    data = yaml.safe_load((ENVIRONMENTS_DIR / f"{base}.yaml").read_text())
    for dotted, value in changes.items():
        *parents, leaf = dotted.split("__")
        node = data
        for key in parents:
            node = node.setdefault(key, {})
        if value is None:
            node.pop(leaf, None)
        else:
            node[leaf] = value
    path = tmp_path / f"{base}-variant.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize("name", ENVIRONMENTS)
def test_every_checked_in_environment_loads(name):
    env = load_environment(name)
    assert env.name == name
    assert env.name_prefix == f"ossbatch-{name}"


def test_cloud_environments_have_a_state_backend_and_local_has_localcloud():
    for name in ("dev", "staging", "prod"):
        env = load_environment(name)
        assert env.state is not None and env.state.tablestore_table
        assert env.localcloud is None
    local = load_environment("local")
    assert local.state is None
    assert local.localcloud is not None and local.localcloud.ports.oss == 0
    assert local.account_id


def test_unknown_top_level_key_is_rejected_naming_file_and_key(tmp_path):
    path = write_variant(tmp_path, colour="blue")
    with pytest.raises(EnvironmentFileError) as err:
        load_environment(path)
    assert str(path) in str(err.value) and "colour" in str(err.value)


def test_unknown_nested_key_is_reported_with_its_field_path(tmp_path):
    path = write_variant(tmp_path, unzip__watch_sufix=".zip")
    with pytest.raises(EnvironmentFileError, match=r"unzip\.watch_sufix: Extra inputs"):
        load_environment(path)


def test_invalid_bucket_name_names_the_role(tmp_path):
    path = write_variant(tmp_path, buckets__reports={"name": "Reports_Bucket"})
    with pytest.raises(EnvironmentFileError, match=r"buckets\.reports\.name: .*bucket name"):
        load_environment(path)


def test_output_prefix_inside_watched_prefix_is_the_recursion_loop(tmp_path):
    path = write_variant(
        tmp_path,
        buckets__extraction={"name": "ossbatch-dev-packages"},
        buckets__packages={"name": "ossbatch-dev-packages"},
        unzip__output_prefix="incoming/extracted/",
    )
    with pytest.raises(EnvironmentFileError, match="recursion loop"):
        load_environment(path)


def test_overlapping_prefixes_are_fine_in_another_extraction_bucket(tmp_path):
    path = write_variant(tmp_path, unzip__output_prefix="incoming/extracted/")
    assert load_environment(path).unzip.output_prefix == "incoming/extracted/"


@given(
    watch=st.sampled_from(["", "a/", "a/b/", "in/", "incoming/"]),
    output=st.sampled_from(["", "a/", "a/b/", "out/", "incoming/x/"]),
)
def test_shared_bucket_prefixes_are_accepted_exactly_when_disjoint(watch, output):
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = write_variant(
            Path(tmp),
            buckets__extraction={"name": "ossbatch-dev-packages"},
            buckets__packages={"name": "ossbatch-dev-packages"},
            unzip__watch_prefix=watch,
            unzip__output_prefix=output,
        )
        disjoint = not (output.startswith(watch) or watch.startswith(output))
        if disjoint:
            load_environment(path)
        else:
            with pytest.raises(EnvironmentFileError, match="recursion loop"):
                load_environment(path)


def test_prod_without_deletion_protection_is_rejected(tmp_path):
    path = write_variant(tmp_path, base="prod", deletion_protection=False)
    with pytest.raises(EnvironmentFileError, match="deletion_protection"):
        load_environment(path)


def test_timeout_beyond_the_fc_limit_is_rejected(tmp_path):
    path = write_variant(tmp_path, copy__function={"memory_mb": 1024, "timeout_s": 90_000})
    with pytest.raises(EnvironmentFileError, match=r"copy\.function\.timeout_s: .*86400"):
        load_environment(path)


def test_memory_must_be_a_multiple_of_64(tmp_path):
    path = write_variant(tmp_path, restore__function={"memory_mb": 1000, "timeout_s": 900})
    with pytest.raises(EnvironmentFileError, match=r"restore\.function\.memory_mb"):
        load_environment(path)


@pytest.mark.parametrize(
    ("function", "complaint"),
    [
        ({"memory_mb": 2048, "cpu": 1.03, "timeout_s": 900}, "multiple of 0.05"),
        ({"memory_mb": 1024, "cpu": 2, "timeout_s": 900}, "1 to 4 GB of memory per vCPU"),
        ({"memory_mb": 8192, "cpu": 1, "timeout_s": 900}, "1 to 4 GB of memory per vCPU"),
        ({"memory_mb": 1024, "cpu": 0, "timeout_s": 900}, "greater than or equal to 0.05"),
    ],
)
def test_cpu_follows_the_fc_rules_and_names_the_function(tmp_path, function, complaint):
    path = write_variant(tmp_path, copy__function=function)
    with pytest.raises(EnvironmentFileError, match=r"copy\.function") as err:
        load_environment(path)
    assert complaint in str(err.value)


def test_page_budget_must_leave_time_to_save_the_marker(tmp_path):
    path = write_variant(tmp_path, unzip__page_budget_s=900)
    with pytest.raises(EnvironmentFileError, match="page_budget_s"):
        load_environment(path)


def test_unknown_name_encoding_is_rejected(tmp_path):
    path = write_variant(tmp_path, unzip__name_encoding="klingon")
    with pytest.raises(EnvironmentFileError, match=r"unzip\.name_encoding"):
        load_environment(path)


def test_shared_bucket_with_different_settings_is_rejected(tmp_path):
    path = write_variant(
        tmp_path,
        buckets__extraction={"name": "ossbatch-dev-packages", "versioning": True},
        buckets__packages={"name": "ossbatch-dev-packages"},
    )
    with pytest.raises(EnvironmentFileError, match="share bucket"):
        load_environment(path)


def test_missing_environment_lists_the_known_ones():
    with pytest.raises(EnvironmentFileError, match=r"known environments: dev, local, prod"):
        load_environment("qa")


def test_localcloud_section_only_in_local(tmp_path):
    path = write_variant(tmp_path, localcloud={"data_dir": ".lc"})
    with pytest.raises(EnvironmentFileError, match="localcloud"):
        load_environment(path)


def test_a_checked_in_file_must_carry_its_own_name(tmp_path):
    data = yaml.safe_load((ENVIRONMENTS_DIR / "prod.yaml").read_text())
    data["name"] = "production"
    (tmp_path / "prod.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(EnvironmentFileError, match=r"name: 'production' must match"):
        load_environment("prod", environments_dir=tmp_path)
