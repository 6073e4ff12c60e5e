"""Local FC 3.0: a runtime that runs handlers by their FC handler string in reusable
worker processes, and the FC 3.0 HTTP API subset over it.

Kept import-light (the worker process imports `localcloud.fc.worker` only).
"""

from __future__ import annotations

_EXPORTS = {
    "build": "service",
    "FcRuntime": "runtime",
    "FunctionSpec": "spec",
    "TriggerSpec": "spec",
    "AsyncTask": "store",
    "FcError": "errors",
    "FunctionError": "errors",
    "FunctionTimeout": "errors",
    "FunctionThrottled": "errors",
    "FunctionNotFound": "errors",
    "InvalidArgument": "errors",
}


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(name)
    import importlib

    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


__all__ = list(_EXPORTS)
