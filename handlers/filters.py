"""Object filters on every source: storage class, last-modified window, size range, key
glob/regex, and rclone-style include/exclude rules. A filtered object is skipped with a
reason (counter ``skipped_<reason>``), never copied or restored.

Include/exclude globs follow rclone's syntax: ``*`` any run without ``/``, ``**`` any run,
``?`` one character but ``/``, ``[...]`` a class, ``{a,b}`` alternatives; a pattern that
starts with ``/`` is anchored at the source prefix, otherwise it matches whole trailing
path elements. Rules are tried excludes first, then includes (first match wins), and any
include implies "exclude everything else" — rclone's own advice is not to rely on mixing
them; this order makes an exclude always win.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from .events import ObjectFilter


@dataclass(frozen=True)
class ObjectFacts:
    key: str  # relative to the source prefix (listings) or the full key (indexes)
    size: int | None
    storage_class: str | None
    last_modified: float | None  # epoch seconds


def glob_regex(pattern: str) -> re.Pattern:
    """An rclone glob as a regex over a '/'-separated path."""
    anchored = pattern.startswith("/")
    body = pattern[1:] if anchored else pattern
    out, i = [], 0
    while i < len(body):
        c = body[i]
        if body.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            end = body.find("]", i + 1)
            if end < 0:
                raise ValueError(f"glob {pattern!r}: '[' without ']'")
            out.append("[" + body[i + 1 : end].replace("\\", "\\\\") + "]")
            i = end + 1
            continue
        elif c == "{":
            end = body.find("}", i + 1)
            if end < 0:
                raise ValueError(f"glob {pattern!r}: '{{' without '}}'")
            alternatives = body[i + 1 : end].split(",")
            out.append(
                "(?:" + "|".join(glob_regex("/" + a).pattern[1:-1] for a in alternatives) + ")"
            )
            i = end + 1
            continue
        else:
            out.append(re.escape(c))
        i += 1
    lead = "^" if anchored else "(?:^|.*/)"
    return re.compile(lead + "".join(out) + "$", re.DOTALL)


@lru_cache(maxsize=64)
def _compiled(patterns: tuple[str, ...]) -> tuple[re.Pattern, ...]:
    return tuple(glob_regex(p) for p in patterns)


@lru_cache(maxsize=16)
def _key_regex(pattern: str) -> re.Pattern:
    return re.compile(pattern)


def needs_head(spec: ObjectFilter | None, facts: ObjectFacts) -> bool:
    """True when a filter asks about something the source did not tell (an index line)."""
    if spec is None:
        return False
    return (
        (spec.storage_classes is not None and facts.storage_class is None)
        or (
            (spec.modified_after or spec.modified_before) is not None
            and facts.last_modified is None
        )
        or ((spec.min_size or spec.max_size) is not None and facts.size is None)
    )


def rejection(spec: ObjectFilter | None, facts: ObjectFacts) -> str | None:
    """The reason ``facts`` are filtered out ("storage_class", "modified", "size", "key"), or None."""
    if spec is None:
        return None
    if (
        spec.storage_classes is not None
        and (facts.storage_class or "Standard") not in spec.storage_classes
    ):
        return "storage_class"
    mtime = facts.last_modified
    if spec.modified_after is not None and (mtime is None or mtime < spec.modified_after):
        return "modified"
    if spec.modified_before is not None and (mtime is None or mtime >= spec.modified_before):
        return "modified"
    if spec.min_size is not None and (facts.size or 0) < spec.min_size:
        return "size"
    if spec.max_size is not None and (facts.size is None or facts.size > spec.max_size):
        return "size"
    if spec.key_regex is not None and not _key_regex(spec.key_regex).search(facts.key):
        return "key"
    if not _rules_keep(spec, facts.key):
        return "key"
    return None


def _rules_keep(spec: ObjectFilter, key: str) -> bool:
    if any(r.match(key) for r in _compiled(tuple(spec.exclude))):
        return False
    if spec.include:
        return any(r.match(key) for r in _compiled(tuple(spec.include)))
    return True


def item_rejection(spec: ObjectFilter | None, item, head) -> str | None:
    """The reason a work item is filtered out; ``head(ref)`` answers what the source did not say."""
    if spec is None or item.ref is None:
        return None
    ref = item.ref
    facts = ObjectFacts(
        item.relative_key or ref.key, ref.size, item.storage_class, item.last_modified
    )
    if needs_head(spec, facts):
        result = head(ref)
        facts = ObjectFacts(
            facts.key,
            result.content_length,
            result.headers.get("x-oss-storage-class") or "Standard",
            float(result.last_modified) if result.last_modified is not None else None,
        )
    return rejection(spec, facts)
