"""Synth-time validation: problems the file schema cannot see are reported before synthesis."""

from __future__ import annotations

import pytest

from infra.validation import StackValidationError, validate


def test_invalid_flow_file_name_is_named_with_the_file(tmp_path, stacks):
    bad = tmp_path / "copy.v2.yaml"
    bad.write_text("Type: StateMachine\n")
    with pytest.raises(
        StackValidationError, match=r"copy\.v2\.yaml: flow name 'ossbatch-dev-copy\.v2'"
    ):
        validate(stacks["dev"].env, [bad])


def test_overlong_flow_name_is_rejected(tmp_path, stacks):
    long = tmp_path / ("f" * 130 + ".yaml")
    long.write_text("Type: StateMachine\n")
    with pytest.raises(StackValidationError, match="<= 128 chars"):
        validate(stacks["dev"].env, [long])


def test_problems_are_reported_together(tmp_path, stacks):
    files = []
    for name in ("a b", "c.d"):
        path = tmp_path / f"{name}.yaml"
        path.write_text("x: 1\n")
        files.append(path)
    with pytest.raises(StackValidationError) as err:
        validate(stacks["dev"].env, files)
    assert "a b.yaml" in str(err.value) and "c.d.yaml" in str(err.value)


def test_prod_without_deletion_protection_cannot_synthesize(stacks):
    # the file loader already refuses it; an Environment built in code must not slip through
    unprotected = stacks["prod"].env.model_copy(update={"deletion_protection": False})
    with pytest.raises(StackValidationError, match="deletion_protection"):
        validate(unprotected, [])


def test_recursion_loop_cannot_synthesize_even_when_built_in_code(stacks):
    env = stacks["dev"].env
    same = env.buckets.model_copy(update={"extraction": env.buckets.packages})
    looping = env.model_copy(
        update={
            "buckets": same,
            "unzip": env.unzip.model_copy(update={"output_prefix": env.unzip.watch_prefix + "x/"}),
        }
    )
    with pytest.raises(StackValidationError, match="recursion loop"):
        validate(looping, [])


def test_timeout_beyond_fc_limit_cannot_synthesize(stacks):
    env = stacks["dev"].env
    slow = env.copy_job.function.model_copy(update={"timeout_s": 100_000})
    env = env.model_copy(update={"copy_job": env.copy_job.model_copy(update={"function": slow})})
    with pytest.raises(StackValidationError, match=r"copy\.function\.timeout_s"):
        validate(env, [])


def test_a_valid_environment_passes(stacks, tmp_path):
    flow = tmp_path / "unzip.yaml"
    flow.write_text("Type: StateMachine\n")
    validate(stacks["staging"].env, [flow])


def test_flow_files_that_would_share_an_address_are_rejected(tmp_path, stacks):
    files = []
    for name in ("copy-all", "copy_all"):
        path = tmp_path / f"{name}.yaml"
        path.write_text("Type: StateMachine\n")
        files.append(path)
    with pytest.raises(StackValidationError, match="same resource address"):
        validate(stacks["dev"].env, files)
