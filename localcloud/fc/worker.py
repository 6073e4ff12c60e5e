"""One FC instance: a process that loads a handler by its FC handler string and serves
invocations one at a time until its pipe closes (or the runtime kills it on timeout).

Run as `python -m localcloud.fc.worker`; the first frame on stdin says which code root
and handler to serve. stdout/stdin are kept for the frames, so a handler's print()
goes to the function's log (stderr) as it does on FC.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import sys
import threading
import traceback

from localcloud.fc.context import build_context
from localcloud.fc.protocol import read_frame, write_frame

_current = threading.local()


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = getattr(_current, "request_id", "-")
        return True


def _setup_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_RequestIdFilter())
    # FC's Python runtime log line: time, request id, level, message
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(request_id)s [%(levelname)s] %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)


def _load_handler(handler: str):
    """`index.unzip` -> file `index.py` at the code root, method `unzip` (as FC)."""
    module_name, _, attr = handler.rpartition(".")
    module = importlib.import_module(module_name)
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise AttributeError(f"module '{module_name}' has no callable '{attr}'")
    return fn


def _stack_trace(exc: BaseException) -> list:
    # FC's Python stackTrace: [["File \"..\"", "line N", "in fn", "source"], ...]
    return [
        [f'File "{frame.filename}"', f"line {frame.lineno}", f"in {frame.name}", frame.line or ""]
        for frame in traceback.extract_tb(exc.__traceback__)
    ]


def _to_bytes(result) -> bytes:
    if result is None:
        return b""
    if isinstance(result, bytes | bytearray | memoryview):
        return bytes(result)
    if isinstance(result, str):
        return result.encode("utf-8")
    return json.dumps(result).encode("utf-8")


def serve(proto_in, proto_out) -> None:
    hello = read_frame(proto_in)
    if hello is None:
        return
    sys.path.insert(0, hello["code_root"])
    modern = hello["modern_context"]
    handler_fn = None
    while True:
        message = read_frame(proto_in)
        if message is None:
            return
        _current.request_id = message["context"]["request_id"]
        try:
            if handler_fn is None:
                try:
                    handler_fn = _load_handler(hello["handler"])
                except (
                    Exception
                ) as exc:  # reported like FC: the invocation fails, the instance lives
                    write_frame(
                        proto_out,
                        {
                            "ok": False,
                            "error_type": type(exc).__name__,
                            "message": f"Unable to load handler '{hello['handler']}': {exc}",
                            "stack_trace": _stack_trace(exc),
                        },
                    )
                    continue
            context = build_context(message["context"], modern)
            result = handler_fn(message["payload"], context)
            write_frame(proto_out, {"ok": True, "body": _to_bytes(result)})
        except BaseException as exc:  # noqa: BLE001 - whatever the handler raised is its error
            if isinstance(exc, SystemExit | KeyboardInterrupt):
                raise
            write_frame(
                proto_out,
                {
                    "ok": False,
                    "error_type": type(exc).__name__,
                    "message": str(exc),
                    "stack_trace": _stack_trace(exc),
                },
            )
        finally:
            _current.request_id = "-"


def main() -> None:
    # keep private copies of the frame pipes, then point fd 0/1 away from them
    proto_in = os.fdopen(os.dup(0), "rb", buffering=0)
    proto_out = os.fdopen(os.dup(1), "wb", buffering=0)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(2, 1)
    sys.stdout = os.fdopen(1, "w", buffering=1, closefd=False)
    _setup_logging()
    serve(proto_in, proto_out)


if __name__ == "__main__":
    main()
