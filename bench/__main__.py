"""`python -m bench [name ...]`: run every benchmark module (or the named ones) in turn."""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
import traceback
from pathlib import Path


def main(argv: list[str]) -> int:
    here = Path(__file__).parent
    names = argv or sorted(
        m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_")
    )
    if not names:
        print("no benchmarks found under bench/", file=sys.stderr)
        return 2
    failed = []
    for name in names:
        print(f"== {name}", flush=True)
        started = time.monotonic()
        try:
            rc = importlib.import_module(f"bench.{name}").main() or 0
        except Exception:  # one broken benchmark must not hide the others' figures
            traceback.print_exc()
            rc = 1
        print(f"== {name}: exit {rc} in {time.monotonic() - started:.1f}s", flush=True)
        if rc:
            failed.append(name)
    if failed:
        print("benchmarks that missed their target or failed: " + ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
