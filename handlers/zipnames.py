"""Entry names: the UTF-8 flag first, then the configured encoding, then GB18030, then CP437.

Names are never guessed with statistics (chardet): a name the chain cannot decode is
reported with its bytes so the user can re-run with the right ``name_encoding``.
"""

from __future__ import annotations

import codecs

from .zipdir import ZipEntry

DEFAULT_ENCODING = "utf-8"
FALLBACKS = ("gb18030", "cp437")


class UndecodableName(ValueError):
    def __init__(self, raw: bytes, why: str):
        super().__init__(f"entry name {raw!r} cannot be decoded: {why}")
        self.raw = raw


def check_encoding(name: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise ValueError(
            f"unknown name encoding {name!r} (use e.g. utf-8, gbk, gb18030, shift_jis, cp437)"
        ) from None


def decode_name(entry: ZipEntry, configured: str | None = None) -> str:
    return decode_raw_name(entry.raw_name, entry.utf8_flag, configured, entry.unicode_path)


def decode_raw_name(
    raw: bytes, utf8_flag: bool, configured: str | None = None, unicode_path: str | None = None
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
    chain = [configured or DEFAULT_ENCODING, *FALLBACKS]
    for encoding in dict.fromkeys(codecs.lookup(e).name for e in chain):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UndecodableName(
        raw, "no encoding in the chain fits"
    )  # pragma: no cover - cp437 decodes all
