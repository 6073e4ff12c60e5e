"""Hostile and ordinary zip packages built byte by byte in the tests (no binary fixtures)."""

from __future__ import annotations

import io
import os
import struct
import zipfile
import zlib


def build(
    entries: list[tuple[str, bytes]], *, method=zipfile.ZIP_DEFLATED, level: int = 6
) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=method, compresslevel=level) as zf:
        for name, data in entries:
            zf.writestr(
                zipfile.ZipInfo(name, date_time=(2024, 1, 2, 3, 4, 6)), data, compress_type=method
            )
    return buf.getvalue()


def ordinary() -> bytes:
    return build(
        [
            ("readme.txt", b"hello zip\n"),
            ("dir/", b""),
            ("dir/data.bin", os.urandom(3000)),
            ("dir/sub/zeros.bin", b"\0" * 50_000),
            ("中文/名字.txt", b"unicode name"),
        ]
    )


def zip_slip() -> bytes:
    return build([("ok.txt", b"ok"), ("../../evil.txt", b"evil"), ("a/../../evil2.txt", b"evil")])


def absolute_paths() -> bytes:
    return build([("/etc/passwd", b"root"), ("C:\\Windows\\win.ini", b"ini"), ("ok.txt", b"ok")])


def backslashes() -> bytes:
    return build([("folder\\inner\\file.txt", b"windows tool")])


def nul_in_name() -> bytes:
    data = build([("badXname.txt", b"nul")])
    return data.replace(b"badXname.txt", b"bad\x00name.txt")


def duplicate_names() -> bytes:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate on purpose
        return build([("same.txt", b"first"), ("same.txt", b"second"), ("other.txt", b"x")])


def truncated() -> bytes:
    data = build([("a.bin", os.urandom(20_000)), ("b.bin", os.urandom(20_000))])
    return data[: len(data) // 2]


def bad_crc() -> bytes:
    good = b"A" * 1000
    data = bytearray(
        build(
            [("good.txt", b"fine"), ("corrupt.txt", good), ("after.txt", b"after")],
            method=zipfile.ZIP_STORED,
        )
    )
    at = bytes(data).index(good)
    data[at + 10] ^= 0xFF  # payload changed, CRC in both headers still says the old value
    return bytes(data)


def encrypted_without_password() -> bytes:
    """A ZipCrypto-flagged entry (bit 0 set in local and central headers)."""
    data = bytearray(
        build([("secret.txt", b"x" * 64), ("plain.txt", b"plain")], method=zipfile.ZIP_STORED)
    )
    first_local = 0
    struct.pack_into(
        "<H", data, first_local + 6, struct.unpack_from("<H", data, first_local + 6)[0] | 1
    )
    cd = bytes(data).index(b"PK\x01\x02")
    struct.pack_into("<H", data, cd + 8, struct.unpack_from("<H", data, cd + 8)[0] | 1)
    return bytes(data)


def bomb_by_ratio(size: int = 20 * 1024 * 1024) -> bytes:
    return build([("small.txt", b"ok"), ("bomb.bin", b"\0" * size)], level=9)


def bomb_by_count(count: int = 2000) -> bytes:
    return build([(f"f{i:05d}", b"") for i in range(count)], method=zipfile.ZIP_STORED)


def empty() -> bytes:
    return build([])


def not_a_zip() -> bytes:
    return b"this is a text file that merely ends with .zip\n" * 50


def gbk_names() -> bytes:
    """Names in GBK without the UTF-8 flag, as Chinese Windows tools write them."""
    names = ["中文.txt", "报告/二月.csv"]
    placeholders = [
        f"{'x' * (len(n.encode('gbk')) - 4)}{i:04d}".encode() for i, n in enumerate(names)
    ]
    data = build([(p.decode(), f"content {i}".encode()) for i, p in enumerate(placeholders)])
    for name, ph in zip(names, placeholders, strict=True):
        data = data.replace(ph, name.encode("gbk"))
    return data


def unsupported_method() -> bytes:
    """An entry claiming LZMA (method 14), which stream-unzip does not support."""
    data = bytearray(
        build([("lzma.bin", b"x" * 100), ("ok.txt", b"ok")], method=zipfile.ZIP_STORED)
    )
    struct.pack_into("<H", data, 8, 14)
    cd = bytes(data).index(b"PK\x01\x02")
    struct.pack_into("<H", data, cd + 10, 14)
    return bytes(data)


def many_entries(count: int) -> bytes:
    """ZIP64 end records appear once count > 65,535."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        for i in range(count):
            zf.writestr(f"e/{i:06d}.txt", b"%d" % i)
    return buf.getvalue()


def mixed(total_bytes: int, seed: int = 7) -> bytes:
    """Text-like, random and tiny entries (for benchmarks)."""
    import random

    rnd = random.Random(seed)
    entries, used, i = [], 0, 0
    while used < total_bytes:
        kind = i % 3
        if kind == 0:
            size = rnd.randint(1_000_000, 8_000_000)
            words = b" ".join(
                rnd.choice([b"alpha", b"beta", b"gamma", b"delta", b"omega"]) for _ in range(2000)
            )
            data = (words * (size // len(words) + 1))[:size]
        elif kind == 1:
            size = rnd.randint(500_000, 4_000_000)
            data = rnd.randbytes(size)
        else:
            size = rnd.randint(10, 5000)
            data = rnd.randbytes(size)
        entries.append((f"m/{i:06d}.{kind}", data))
        used += size
        i += 1
    return build(entries, level=1)


def crc32(data: bytes) -> int:
    return zlib.crc32(data)


def raw_zip(entries: list[tuple[bytes, int, bytes, int, int]]) -> bytes:
    """A zip written field by field: (name, method, compressed bytes, crc32, uncompressed size)."""
    out, central = bytearray(), bytearray()
    for name, method, payload, crc, usize in entries:
        offset = len(out)
        out += (
            struct.pack(
                "<4sHHHHHIIIHH",
                b"PK\x03\x04",
                21,
                0,
                method,
                0,
                0x21,
                crc,
                len(payload),
                usize,
                len(name),
                0,
            )
            + name
            + payload
        )
        central += (
            struct.pack(
                "<4sHHHHHHIIIHHHHHII",
                b"PK\x01\x02",
                21,
                21,
                0,
                method,
                0,
                0x21,
                crc,
                len(payload),
                usize,
                len(name),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + name
        )
    eocd = struct.pack(
        "<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(entries), len(entries), len(central), len(out), 0
    )
    return bytes(out + central + eocd)


def deflate64(entries: list[tuple[str, bytes]], deflate: tuple[str, ...] = ()) -> bytes:
    """Deflate64 (method 9) entries, compressed with the inflate64 package's Deflater; the
    names in ``deflate`` use plain Deflate (method 8) instead."""
    import inflate64

    rows = []
    for name, data in entries:
        if name in deflate:
            z = zlib.compressobj(6, zlib.DEFLATED, -15)
            rows.append(
                (name.encode(), 8, z.compress(data) + z.flush(), zlib.crc32(data), len(data))
            )
            continue
        d = inflate64.Deflater()
        rows.append((name.encode(), 9, d.deflate(data) + d.flush(), zlib.crc32(data), len(data)))
    return raw_zip(rows)


def _zipcrypto_encrypt(data: bytes, password: bytes, check_byte: int) -> bytes:
    """Traditional PKWARE encryption (APPNOTE 6.1), enough to build test packages."""
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0xEDB88320 if c & 1 else c >> 1
        table.append(c)
    keys = [0x12345678, 0x23456789, 0x34567890]

    def crc(old, byte):
        return (old >> 8) ^ table[(old ^ byte) & 0xFF]

    def update(byte):
        keys[0] = crc(keys[0], byte)
        keys[1] = (keys[1] + (keys[0] & 0xFF)) & 0xFFFFFFFF
        keys[1] = (keys[1] * 134775813 + 1) & 0xFFFFFFFF
        keys[2] = crc(keys[2], keys[1] >> 24)

    for b in password:
        update(b)
    out = bytearray()
    for b in bytes(11) + bytes([check_byte]) + data:
        temp = (keys[2] | 2) & 0xFFFF
        out.append(b ^ (((temp * (temp ^ 1)) >> 8) & 0xFF))
        update(b)
    return bytes(out)


def zipcrypto(
    entries: list[tuple[str, bytes]], password: bytes, plain: tuple[str, ...] = ()
) -> bytes:
    """Stored entries encrypted with ZipCrypto (flag bit 0 set in both headers), but for
    the names in `plain`, which stay unencrypted (a mixed package)."""
    rows = []
    for name, data in entries:
        crc = zlib.crc32(data)
        body = data if name in plain else _zipcrypto_encrypt(data, password, crc >> 24)
        rows.append((name.encode(), 0, body, crc, len(data)))
    raw = bytearray(raw_zip(rows))
    # (signature, offsets of the flags, the name's length and the name) in both headers
    for signature, flags_at, len_at, name_at in (
        (b"PK\x03\x04", 6, 26, 30),
        (b"PK\x01\x02", 8, 28, 46),
    ):
        pos = 0
        while (pos := bytes(raw).find(signature, pos)) >= 0:
            name_len = struct.unpack_from("<H", raw, pos + len_at)[0]
            name = bytes(raw[pos + name_at : pos + name_at + name_len]).decode()
            if name not in plain:
                struct.pack_into("<H", raw, pos + flags_at, 1)
            pos += 4
    return bytes(raw)


class _Unseekable(io.RawIOBase):
    """An output zipfile cannot seek back in, as a socket or an upload stream."""

    def __init__(self):
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b) -> int:
        self.data += b
        return len(b)


def streamed(entries: list[tuple[str, bytes, int]]) -> bytes:
    """A zip written front to back (Java's ZipOutputStream, Go's archive/zip, zipfile on a
    stream): every file entry is followed by a data descriptor (flag bit 3) with its CRC
    and sizes, and stored entries say size 0 in their local header."""
    out = _Unseekable()
    with zipfile.ZipFile(out, "w") as zf:
        for name, data, method in entries:
            if name.endswith("/"):
                zf.mkdir(name.rstrip("/"))
                continue
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = method
            with zf.open(info, "w") as f:
                f.write(data)
    return bytes(out.data)
