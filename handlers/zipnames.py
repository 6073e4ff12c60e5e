"""Entry names, decoded by a fixed chain (docs/decisions/zip-name-decoding.md):

1. the UTF-8 flag (general purpose bit 11): strict UTF-8;
2. the Info-ZIP Unicode Path extra field (0x7075) when its CRC matches the raw name;
3. raw bytes that are valid UTF-8 with at least one multi-byte sequence, when the
   producer's host is Unix or macOS (made-by 3 or 19: Info-ZIP ``zip`` and macOS write
   UTF-8 without the flag) or wherever ``name_encoding`` is ``auto`` (the default);
4. the configured encoding (not for ``auto``);
5. GB18030; 6. CP437, which decodes every byte string.

Names are never guessed with statistics (chardet): the same package always gets the same
keys, and a name the chain gets wrong is fixed with an explicit ``name_encoding``.
"""

from __future__ import annotations

import codecs

from .zipdir import ZipEntry

AUTO = "auto"
UTF8_HOSTS = (3, 19)  # Unix, OS X (Darwin)
FALLBACKS = ("gb18030", "cp437")


class UndecodableName(ValueError):
    def __init__(self, raw: bytes, why: str):
        super().__init__(f"entry name {raw!r} cannot be decoded: {why}")
        self.raw = raw


def check_encoding(name: str) -> str:
    if name.lower() == AUTO:
        return AUTO
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise ValueError(
            f"unknown name encoding {name!r} (use auto, or e.g. utf-8, gbk, gb18030, "
            "shift_jis, cp437)"
        ) from None


def decode_name(entry: ZipEntry, configured: str | None = None) -> str:
    return decode_raw_name(
        entry.raw_name, entry.utf8_flag, configured, entry.unicode_path, entry.made_by_host
    )


def decode_raw_name(
    raw: bytes,
    utf8_flag: bool,
    configured: str | None = None,
    unicode_path: str | None = None,
    host: int = 0,
) -> str:
    if utf8_flag:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            # the archiver promised UTF-8: falling back would produce a silently wrong name
            raise UndecodableName(
                raw, f"UTF-8 flag set but {exc.reason} at byte {exc.start}"
            ) from None
    if unicode_path is not None:
        return unicode_path
    encoding = check_encoding(configured) if configured else AUTO
    if encoding == AUTO or host in UTF8_HOSTS:
        name = _multibyte_utf8(raw)
        if name is not None:
            return name
    chain = [*([] if encoding == AUTO else [encoding]), *FALLBACKS]
    for candidate in dict.fromkeys(codecs.lookup(e).name for e in chain):
        try:
            return raw.decode(candidate)
        except UnicodeDecodeError:
            continue
    raise UndecodableName(raw, "no encoding in the chain fits")  # pragma: no cover - cp437


def _multibyte_utf8(raw: bytes) -> str | None:
    """The name when ``raw`` is valid UTF-8 with a non-ASCII character, else None (pure ASCII
    is the same in every candidate; anything else is not UTF-8)."""
    if raw.isascii():
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
