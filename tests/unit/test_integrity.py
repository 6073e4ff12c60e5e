"""handlers.integrity: the CRC-64 check of what OSS says it stored (pure parts)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.integrity import (
    CRC_HEADER,
    UploadDamaged,
    UploadUnverified,
    check_stored,
    crc64_of,
)


def test_crc64_is_oss_crc64_xz():
    # the CRC-64/XZ check value of "123456789" (the ECMA-182 variant OSS documents)
    assert crc64_of(b"123456789") == 0x995DC9BBDF1939FA


@given(st.binary(max_size=2000), st.integers(0, 2000))
def test_chained_crc_of_parts_is_the_whole_objects(data, cut):
    cut = min(cut, len(data))
    assert crc64_of(data[cut:], crc64_of(data[:cut])) == crc64_of(data)


@given(st.binary(max_size=500), st.integers(0, 2**64 - 1))
def test_only_the_crc_of_the_bytes_sent_passes(data, other):
    sent = crc64_of(data)
    check_stored({CRC_HEADER: str(sent)}, "k", sent, "PutObject")
    if other != sent:
        with pytest.raises(UploadDamaged, match="^k: OSS stored CRC-64 "):
            check_stored({CRC_HEADER: str(other)}, "k", sent, "PutObject")


def test_an_answer_without_a_crc_cannot_be_verified():
    with pytest.raises(UploadUnverified, match="k part 3: OSS answered UploadPart without"):
        check_stored({}, "k part 3", 1, "UploadPart")
