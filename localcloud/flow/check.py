"""Check flow definitions as they will be deployed, with the strict parser and the
CreateFlow name rule: what `localcloud check-flows` (and so `ossbatch flows check`) runs.
"""

from __future__ import annotations

from .errors import FlowDefinitionError
from .parser import load_definition, parse_flow


def problems_of(name: str, definition: str) -> list[str]:
    """Every problem of one definition deployed as flow `name` (empty: it would be accepted)."""
    try:
        flow = parse_flow(definition)
    except FlowDefinitionError as exc:
        return list(exc.problems)
    if flow.name != name:
        # CreateFlow API: the definition's Name must be consistent with the Name parameter
        return [f"state '<flow>', field Name: {flow.name!r} is deployed as {name!r}; set Name"]
    load_definition(definition)
    return []
