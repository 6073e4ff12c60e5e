"""Length-prefixed pickle frames between the runtime and its worker processes."""

from __future__ import annotations

import pickle
import struct
from typing import BinaryIO

_HEADER = struct.Struct(">I")


def write_frame(stream: BinaryIO, message: dict) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def read_frame(stream: BinaryIO) -> dict | None:
    """The next message, or None when the other side closed the pipe."""
    header = _read_exactly(stream, _HEADER.size)
    if header is None:
        return None
    (size,) = _HEADER.unpack(header)
    data = _read_exactly(stream, size)
    if data is None:
        return None
    return pickle.loads(data)


def _read_exactly(stream: BinaryIO, size: int) -> bytes | None:
    chunks = []
    while size:
        chunk = stream.read(size)
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)
