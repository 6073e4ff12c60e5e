"""Inventory pages: CPU of one page of rows at the start of a large data file vs one near
its end, side by side in one run.

A page's position is (data file, offset in the decompressed CSV). gzip cannot be entered
mid-stream, so a page that starts deep in a file inflates everything before its offset
(handlers/inventory.py, csv_lines over gunzip). This bench measures that known cost; it has
no target to meet: the ratio says how much more a late page costs than an early one.
BENCH_INVENTORY_ROWS sets the rows of the data file (default 1,000,000, ~75 MB of CSV).
"""

from __future__ import annotations

import gzip
import os
import time
from itertools import islice

from bench.record import write
from handlers.inventory import gunzip, range_lines

ROWS = int(os.environ.get("BENCH_INVENTORY_ROWS", "1000000"))
PAGE_ROWS = 1000
ROUNDS = 3


def data_file(rows: int) -> tuple[bytes, int]:
    """A gzip CSV shaped like OSS's (Bucket, Key, Size, ...) and the offset of row 90%."""
    lines = [
        b'"src","data%%2Fpart-%08d.bin","%d","2026-01-01T00:00:00.000Z","Standard"\n' % (i, i)
        for i in range(rows)
    ]
    deep = sum(len(line) for line in lines[: rows * 9 // 10])
    return gzip.compress(b"".join(lines), compresslevel=6), deep


def page_cpu(packed: bytes, offset: int) -> float:
    """CPU seconds to read one page of rows from ``offset`` on, as a page of a job does."""

    def open_file(number: int):
        chunks = (packed[i : i + (1 << 20)] for i in range(0, len(packed), 1 << 20))
        return gunzip(chunks, "bench.csv.gz")

    started = time.process_time()
    rows = list(islice(range_lines(open_file, 1, 0, offset, 0, None), PAGE_ROWS))
    assert len(rows) == PAGE_ROWS
    return time.process_time() - started


def main() -> int:
    packed, deep = data_file(ROWS)
    early, late = [], []
    for _ in range(ROUNDS):  # alternating, so drift hits both alike
        early.append(page_cpu(packed, 0))
        late.append(page_cpu(packed, deep))
    early_s, late_s = sorted(early)[ROUNDS // 2], sorted(late)[ROUNDS // 2]
    figures = {
        "rows": ROWS,
        "page_rows": PAGE_ROWS,
        "gzip_mb": round(len(packed) / 1e6, 1),
        "late_page_offset_mb": round(deep / 1e6, 1),
        "early_page_cpu_s": round(early_s, 4),
        "late_page_cpu_s": round(late_s, 4),
        "ratio_late_vs_early": round(late_s / early_s, 1),
        "target": "none: measures the known cost of entering a gzip data file mid-stream",
    }
    print(
        f"inventory pages: a page at {figures['late_page_offset_mb']} MB into the CSV costs "
        f"{late_s:.3f} s CPU vs {early_s:.4f} s at its start = {late_s / early_s:.0f}x"
    )
    write("inventory_pages", figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
