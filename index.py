"""FC entry points at the code package root: handler strings are `index.<job>`.

FC 3.0 documents handlers as `<file>.<method>` (file at the code root), so each job's
function points here and this module hands the invocation to handlers/. Each entry
imports only its own handler module: the trigger's cold start never loads the zip stack.
"""

from __future__ import annotations

from importlib import import_module


def _handler(job: str):
    return import_module(f"handlers.{job}").handler


def copy(event, context):
    return _handler("copy")(event, context)


def restore(event, context):
    return _handler("restore")(event, context)


def unzip(event, context):
    return _handler("unzip")(event, context)


def trigger(event, context):
    return _handler("trigger")(event, context)


def verify(event, context):
    return _handler("verify")(event, context)
