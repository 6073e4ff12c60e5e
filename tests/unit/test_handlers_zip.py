"""Zip central directory, entry names, path safety and the extraction plan (no OSS needed)."""

from __future__ import annotations

import io
import zipfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.errors import PackageRejected
from handlers.zipdir import read_central_directory
from handlers.zipnames import UndecodableName, decode_raw_name
from handlers.zipplan import PlanRules, plan_entries
from handlers.zipsafety import (
    InflationGuard,
    Limits,
    UnsafeEntry,
    output_key,
    package_dir_name,
    safe_relative_path,
)
from tests import zipcorpus

LIMITS = Limits(max_entries=100_000, max_total_bytes=10**12, max_entry_bytes=10**11, max_ratio=1000)


def fetcher(data: bytes, log: list | None = None):
    def fetch(start, end):
        assert 0 <= start < end <= len(data)
        if log is not None:
            log.append(end - start)
        return data[start:end]

    return fetch


def read_cd(data: bytes, **kw):
    return read_central_directory(fetcher(data), len(data), **kw)


def plan(data: bytes, **kw):
    args = dict(output_prefix="out/", package_dir="pkg", limits=LIMITS)
    args.update(kw)
    return plan_entries(read_cd(data).entries, PlanRules(**args))


def test_central_directory_matches_zipfile():
    data = zipcorpus.ordinary()
    cd = read_cd(data)
    infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    assert [e.raw_name.decode() for e in cd.entries] == [i.filename for i in infos]
    assert [e.local_header_offset for e in cd.entries] == [i.header_offset for i in infos]
    assert [e.uncompressed_size for e in cd.entries] == [i.file_size for i in infos]
    assert [e.crc32 for e in cd.entries] == [i.CRC for i in infos]


def test_zip64_directory_with_more_than_65535_entries():
    data = zipcorpus.many_entries(65_540)
    cd = read_cd(data)
    assert len(cd.entries) == 65_540
    assert cd.entries[-1].raw_name == b"e/065539.txt"


def test_directory_read_costs_only_the_tail_and_the_directory():
    data = zipcorpus.build([(f"f{i}", b"x" * 10_000) for i in range(50)])
    log: list = []
    cd = read_central_directory(fetcher(data, log), len(data))
    assert sum(log) <= 65_557 + 56 + cd.cd_size + 20


def test_comment_with_fake_signature_is_not_mistaken_for_the_end_record():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("a.txt", b"a")
        zf.comment = b"PK\x05\x06 not a record"
    cd = read_cd(buf.getvalue())
    assert [e.raw_name for e in cd.entries] == [b"a.txt"]


@pytest.mark.parametrize(
    "data,reason",
    [
        (zipcorpus.not_a_zip(), "NotAZipArchive"),
        (zipcorpus.truncated(), "TruncatedArchive"),
        (b"PK", "NotAZipArchive"),
    ],
)
def test_non_zip_and_truncated_packages_are_rejected_by_name(data, reason):
    with pytest.raises(PackageRejected) as info:
        read_cd(data)
    assert info.value.reason == reason


def test_empty_zip_has_no_entries():
    assert read_cd(zipcorpus.empty()).entries == []


def test_bomb_by_count_is_rejected_before_reading_entries():
    with pytest.raises(PackageRejected, match="TooManyEntries"):
        read_cd(zipcorpus.bomb_by_count(50), max_entries=10)


@settings(max_examples=60, deadline=None)
@given(
    names=st.lists(
        st.text(min_size=1, max_size=20).filter(lambda s: "\x00" not in s),
        min_size=0,
        max_size=20,
        unique=True,
    ),
    comment=st.binary(max_size=300),
)
def test_central_directory_roundtrip_for_random_archives(names, comment):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for n in names:
            zf.writestr(zipfile.ZipInfo(n), n.encode("utf-8", "surrogatepass"))
        zf.comment = comment
    data = buf.getvalue()
    cd = read_cd(data)
    decoded = [decode_raw_name(e.raw_name, e.utf8_flag) for e in cd.entries]
    assert decoded == [zipfile.ZipInfo(n).filename for n in names]


# names ---------------------------------------------------------------------


def test_gbk_names_without_utf8_flag_decode_via_gb18030():
    cd = read_cd(zipcorpus.gbk_names())
    assert not any(e.utf8_flag for e in cd.entries)
    assert [decode_raw_name(e.raw_name, False) for e in cd.entries] == ["中文.txt", "报告/二月.csv"]


def test_configured_encoding_wins_over_the_fallbacks():
    raw = "日本語.txt".encode("shift_jis")
    assert decode_raw_name(raw, False, "shift_jis") == "日本語.txt"


def test_utf8_flag_with_invalid_bytes_is_reported_not_guessed():
    with pytest.raises(UndecodableName):
        decode_raw_name(b"\xff\xfe.txt", True)


def test_cp437_is_the_last_resort():
    assert decode_raw_name(b"caf\x82.txt", False) == "café.txt"


# safety --------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["../evil", "a/../../evil", "/etc/passwd", "C:\\x", "c:/x", "a\x00b", "..", "./"]
)
def test_dangerous_paths_are_rejected(name):
    with pytest.raises(UnsafeEntry):
        safe_relative_path(name)


@pytest.mark.parametrize(
    "name,expected",
    [
        ("/etc/passwd", "etc/passwd"),
        ("C:\\Windows\\x.ini", "Windows/x.ini"),
        ("a/../b", "a/b"),
        ("./a//b/", "a/b/"),
    ],
)
def test_sanitize_mode_strips_dangerous_parts(name, expected):
    assert safe_relative_path(name, mode="sanitize") == expected


def test_backslashes_are_separators():
    assert safe_relative_path("folder\\inner\\f.txt") == "folder/inner/f.txt"


@settings(max_examples=500, deadline=None)
@given(
    name=st.text(alphabet=st.sampled_from(list("ab./\\:C\x00 ")), max_size=30),
    mode=st.sampled_from(["reject", "sanitize"]),
)
def test_no_name_ever_escapes_the_output_prefix(name, mode):
    try:
        key = output_key("out/", "pkg", safe_relative_path(name, mode=mode))
    except UnsafeEntry:
        return
    assert key.startswith("out/pkg/")
    parts = key.split("/")
    assert ".." not in parts and "." not in parts and "" not in parts[:-1]
    assert "\\" not in key and "\x00" not in key


def test_package_dir_strips_the_suffix_not_characters():
    # the public sample's rstrip(".zip") turned "backup.zip" into "backu" and "zip.zip" into ""
    assert package_dir_name("in/backup.zip", watch_prefix="in/") == "backup"
    assert package_dir_name("in/zip.zip", watch_prefix="in/") == "zip"
    assert package_dir_name("in/a/PIZZA.ZIP", watch_prefix="in/") == "a/PIZZA"


def test_inflation_guard_stops_an_entry_lying_about_its_size():
    guard = InflationGuard("x", 10, 100, LIMITS)
    guard.feed(100)
    with pytest.raises(UnsafeEntry, match="declared"):
        guard.feed(1)


# the plan ------------------------------------------------------------------


def codes(p):
    return [(x.entry.raw_name.decode("utf-8", "replace"), x.skip_code) for x in p]


def test_plan_rejects_zip_slip_but_keeps_safe_entries():
    assert codes(plan(zipcorpus.zip_slip())) == [
        ("ok.txt", None),
        ("../../evil.txt", "UnsafePath"),
        ("a/../../evil2.txt", "UnsafePath"),
    ]


def test_plan_keeps_the_first_of_duplicate_names():
    assert [c for _, c in codes(plan(zipcorpus.duplicate_names()))] == [None, "DuplicateName", None]


def test_plan_skips_encrypted_entries_without_password():
    p = plan(zipcorpus.encrypted_without_password())
    assert p[0].skip_code == "EncryptedEntry" and "password" in p[0].skip_message
    assert p[1].skip_code is None


def test_plan_reports_unsupported_methods():
    assert plan(zipcorpus.unsupported_method())[0].skip_code == "UnsupportedMethod"


def test_plan_flags_a_ratio_bomb():
    p = plan(zipcorpus.bomb_by_ratio(4 * 1024 * 1024), limits=Limits(100, 10**9, 10**9, 50))
    assert [x.skip_code for x in p] == [None, "CompressionRatioExceeded"]


def test_plan_rejects_a_package_over_the_total_size_limit():
    with pytest.raises(PackageRejected, match="TooLarge"):
        plan(zipcorpus.ordinary(), limits=Limits(100, 1000, 10**9, 1000))


def test_plan_output_keys_and_directories():
    p = plan(zipcorpus.ordinary())
    assert [x.key for x in p if x.extractable] == [
        "out/pkg/readme.txt",
        "out/pkg/dir/data.bin",
        "out/pkg/dir/sub/zeros.bin",
        "out/pkg/中文/名字.txt",
    ]
    assert [x.skip_code for x in p if not x.extractable] == ["Directory"]
    assert not [x for x in p if x.skip_code == "Directory"][0].counts_as_failure
    with_markers = plan(zipcorpus.ordinary(), directories="marker")
    assert "out/pkg/dir/" in [x.key for x in with_markers if x.extractable]


# the name chain (docs/decisions/zip-name-decoding.md) ------------------------

non_ascii_names = st.text(min_size=1, max_size=40).filter(lambda s: not s.isascii())


@given(name=non_ascii_names, configured=st.sampled_from([None, "auto", "gb18030", "cp437", "gbk"]))
def test_utf8_names_from_unix_and_macos_producers_win_over_any_configured_encoding(
    name, configured
):
    for host in (3, 19):
        assert decode_raw_name(name.encode("utf-8"), False, configured, None, host) == name


@given(name=non_ascii_names, host=st.sampled_from([0, 3, 10, 11, 14, 19]))
def test_auto_takes_valid_multibyte_utf8_from_any_host(name, host):
    assert decode_raw_name(name.encode("utf-8"), False, "auto", None, host) == name


def test_a_configured_encoding_still_decides_names_from_windows_hosts():
    raw = "中文.txt".encode()  # valid UTF-8, but a Windows zip says "use the code page"
    assert decode_raw_name(raw, False, "gb18030", None, 0) == raw.decode("gb18030")
    sjis = "日本語.txt".encode("shift_jis")
    assert decode_raw_name(sjis, False, "shift_jis", None, 0) == "日本語.txt"


def test_gbk_bytes_that_are_not_utf8_fall_to_gb18030_under_auto():
    raw = "报告/二月.csv".encode("gbk")
    assert decode_raw_name(raw, False, "auto", None, 3) == "报告/二月.csv"


def test_the_unicode_path_extra_wins_over_raw_bytes():
    assert decode_raw_name(b"bad\xff", False, "auto", "good.txt", 0) == "good.txt"


@given(raw=st.binary(min_size=1, max_size=60), host=st.integers(0, 255), utf8_flag=st.booleans())
@settings(max_examples=300)
def test_every_name_decodes_the_same_way_twice_or_is_reported(raw, host, utf8_flag):
    try:
        first = decode_raw_name(raw, utf8_flag, "auto", None, host)
    except UndecodableName:
        assert utf8_flag  # only a broken UTF-8 promise is undecodable: CP437 takes any bytes
        return
    assert first == decode_raw_name(raw, utf8_flag, "auto", None, host)


def test_auto_is_a_known_encoding_and_typos_are_named():
    from handlers.zipnames import check_encoding

    assert check_encoding("AUTO") == "auto"
    with pytest.raises(ValueError, match="klingon"):
        check_encoding("klingon")
