"""The thin bindings: typed arguments are enforced, values render the same in JSON and HCL."""

from __future__ import annotations

import cdktf
import hcl2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infra.alicloud import (
    Fcv3Function,
    FunctionCode,
    MessageServiceQueue,
    OssBucket,
    Versioning,
)
from infra.alicloud.base import ArgumentTypeError, multiline


def _scope():
    return cdktf.TerraformStack(cdktf.Testing.app(), "bindings")


def test_a_literal_outside_its_choices_is_refused():
    with pytest.raises(ArgumentTypeError, match=r"Fcv3Function\(runtime=\.\.\.\): 'python3\.9'"):
        Fcv3Function(
            _scope(), "f", function_name="f", handler="h.handler", runtime="python3.9",
            code=FunctionCode(zip_file="UEs="), memory_size=512, timeout=60,
        )  # fmt: skip


def test_a_wrong_scalar_type_is_refused():
    with pytest.raises(ArgumentTypeError, match="memory_size"):
        Fcv3Function(
            _scope(), "f", function_name="f", handler="h.handler", runtime="python3.10",
            code=FunctionCode(zip_file="UEs="), memory_size="512", timeout=60,
        )  # fmt: skip
    with pytest.raises(ArgumentTypeError, match="delay_seconds"):
        MessageServiceQueue(_scope(), "q", queue_name="q", delay_seconds=True)


def test_blocks_must_be_their_dataclass():
    with pytest.raises(ArgumentTypeError, match="versioning"):
        OssBucket(_scope(), "b", bucket="b", versioning={"status": "Enabled"})
    bucket = OssBucket(_scope(), "b", bucket="b", versioning=Versioning("Enabled"))
    assert bucket.arguments == {"bucket": "b", "versioning": {"status": "Enabled"}}


lines = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="$%"),
    max_size=30,
).filter(lambda line: line.strip() != "EOF")


@settings(max_examples=40, deadline=None)
@given(st.lists(lines, min_size=2, max_size=6))
def test_multiline_strings_survive_the_hcl_heredoc_exactly(body_lines):
    text = multiline("\n".join(body_lines))
    if "\n" not in text[:-1]:
        return  # one line after normalisation: rendered as a quoted string instead
    stack = _scope()
    MessageServiceQueue(stack, "q", queue_name="q", tags={"k": "v"})
    from infra.alicloud import FnfFlow

    FnfFlow(stack, "f", name="f", definition=text, description="d", type="FDL")
    parsed = hcl2.loads(stack.to_hcl_terraform()["hcl"])
    flow = next(
        body for entry in parsed["resource"] for t, items in entry.items() if "fnf" in t
        for body in items.values()
    )  # fmt: skip
    heredoc = flow["definition"]
    assert heredoc.startswith('"<<EOF\n') and heredoc.endswith('\nEOF"')
    assert heredoc[len('"<<EOF\n') : -len('EOF"')] == text
