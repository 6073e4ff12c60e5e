"""RAM's pattern language for Action and Resource: `*` is any run of characters (also `:` and
`/`), `?` is exactly one character, everything else is literal and case-sensitive.

Case: the RAM docs do not say that matching ignores case, so localcloud takes the stricter
reading (exact case); see docs/localcloud-ram.md.
"""

from __future__ import annotations

import re
from functools import lru_cache


@lru_cache(maxsize=4096)
def compile_pattern(pattern: str) -> re.Pattern:
    parts = []
    for char in pattern:
        if char == "*":
            parts.append(".*")
        elif char == "?":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    return re.compile("".join(parts), re.DOTALL)


def compile_any(patterns: tuple[str, ...]) -> re.Pattern:
    """One regex that matches when any of the patterns matches the whole text."""
    if any(p == "*" for p in patterns):
        return re.compile(".*", re.DOTALL)
    return re.compile("|".join(f"(?:{compile_pattern(p).pattern})" for p in patterns), re.DOTALL)


def matches(pattern: str, text: str) -> bool:
    return compile_pattern(pattern).fullmatch(text) is not None
