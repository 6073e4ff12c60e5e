"""Sample data for the demo, the end-to-end tests and the benchmarks.

Objects with deterministic bytes (so a copy can be checked byte for byte), a CSV index
(`bucket,key`, key URL-encoded), and zips whose names are GBK without the UTF-8 flag
(as Chinese Windows tools write them) in nested folders.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

from ossbatch.retrying import call

GBK_WORDS = ["报告", "数据", "图片", "合同", "发票", "季度", "汇总", "备份"]


def object_bytes(key: str, size: int) -> bytes:
    """Deterministic content of `size` bytes for `key`."""
    seed = hashlib.sha256(key.encode()).digest()
    return (seed * (size // len(seed) + 1))[:size]


def object_keys(prefix: str, count: int) -> list[str]:
    # nested folders and a few non-ASCII names: keys are not all alike
    return [
        f"{prefix}d{i % 10:02d}/sub{i % 7}/obj-{i:06d}{'-数据' if i % 50 == 0 else ''}.bin"
        for i in range(count)
    ]


def size_of(i: int, small: int = 512, spread: int = 4096) -> int:
    return small + (i * 7919) % spread


def upload_objects(bucket, keys: list[str], threads: int = 16) -> int:
    """PUT every key with its deterministic bytes; returns total bytes."""

    def put(pair):
        i, key = pair
        data = object_bytes(key, size_of(i))
        call(bucket.put_object, key, data)
        return len(data)

    with ThreadPoolExecutor(threads) as pool:
        return sum(pool.map(put, enumerate(keys)))


def csv_index(bucket_name: str, keys: list[str]) -> bytes:
    """`bucket,key` lines (key URL-encoded), no trailing newline on purpose."""
    return "\n".join(f"{bucket_name},{quote(k)}" for k in keys).encode()


class _GbkName(zipfile.ZipInfo):
    """Writes the name as GBK bytes without the UTF-8 flag (bit 11)."""

    def _encodeFilenameFlags(self):  # noqa: N802 - zipfile's own hook
        return self.filename.encode("gbk"), self.flag_bits & ~0x800


def zip_entry_names(count: int) -> list[str]:
    names = []
    for i in range(count):
        word = GBK_WORDS[i % len(GBK_WORDS)]
        if i % 3 == 0:
            names.append(f"{word}/{GBK_WORDS[(i // 3) % len(GBK_WORDS)]}/第{i}号.txt")
        else:
            names.append(f"docs/part{i % 20:02d}/file-{i:05d}.txt")
    return names


def entry_bytes(name: str, i: int) -> bytes:
    return object_bytes(name, 64 + (i * 31) % 2048)


def build_zip(count: int) -> tuple[bytes, dict[str, bytes]]:
    """A deflated zip with `count` entries (a third with GBK names); returns (zip, name -> bytes)."""
    buf = io.BytesIO()
    expected: dict[str, bytes] = {}
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for i, name in enumerate(zip_entry_names(count)):
            data = entry_bytes(name, i)
            info = _GbkName(name) if not name.isascii() else zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
            expected[name] = data
    return buf.getvalue(), expected
