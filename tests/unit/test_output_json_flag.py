"""`--json` before the command is moved after it; nothing else in argv changes."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ossbatch.output import json_after_command

WORDS = st.sampled_from(["jobs", "list", "status", "j-1", "--watch", "-x", "--", "a b", "--json"])


@given(
    root=st.lists(st.sampled_from([["--env", "prod"], ["--data-dir", "--json"]]), max_size=2),
    command=st.lists(WORDS, max_size=6),
)
def test_a_leading_json_lands_after_the_command_and_before_the_separator(root, command):
    before = [a for pair in root for a in pair]
    moved = json_after_command(["--json", *before, "jobs", *command])
    tail = ["jobs", *command]
    end = tail.index("--") if "--" in tail else len(tail)
    assert moved == before + tail[:end] + ["--json"] + tail[end:]


def test_a_data_dir_named_json_and_later_flags_are_left_alone():
    args = ["--data-dir", "--json", "jobs", "list", "--json"]
    assert json_after_command(args) == args
    assert json_after_command(["jobs", "--json"]) == ["jobs", "--json"]
