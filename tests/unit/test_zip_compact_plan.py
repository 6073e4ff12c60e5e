"""The compact central directory (EntryTable), plan (Plan) and report part: what they hand
out is what the directory and the planning rules say, entry for entry (no OSS needed)."""

from __future__ import annotations

import io
import json
import warnings
import zipfile

from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.report import PACK_LINES, ReportPart
from handlers.zipdir import read_central_directory
from handlers.zipplan import PlanRules, _plan_one, plan_entries
from handlers.zipsafety import Limits
from tests import zipcorpus

LIMITS = Limits(max_entries=100_000, max_total_bytes=10**12, max_entry_bytes=10**11, max_ratio=1000)

names = st.one_of(
    st.sampled_from(
        ["a.txt", "a.txt", "d/", "./x/y.txt", "../up.txt", "c:\\w.txt", "/abs", "b//c"]
    ),
    st.text(st.characters(min_codepoint=32, max_codepoint=0x4E2F), min_size=1, max_size=12),
)
members = st.lists(
    st.tuples(
        names, st.binary(max_size=40), st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
    ),
    max_size=25,
)


def build(entries, *, zip64: bool = False) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # duplicate names are the point
        for name, data, method in entries:
            info = zipfile.ZipInfo(name)
            info.compress_type = method
            with zf.open(info, "w", force_zip64=zip64) as out:
                out.write(data)
    return buf.getvalue()


def directory(data: bytes):
    return read_central_directory(lambda a, b: data[a:b], len(data))


@settings(max_examples=60, deadline=None)
@given(members, st.booleans())
def test_entry_table_hands_out_what_zipfile_wrote(entries, zip64):
    data = build(entries, zip64=zip64)
    table = directory(data).entries
    infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    assert len(table) == len(infos)
    got = [
        (e.index, e.local_header_offset, e.uncompressed_size, e.compressed_size, e.crc32)
        for e in table
    ]
    assert got == [
        (i, z.header_offset, z.file_size, z.compress_size, z.CRC) for i, z in enumerate(infos)
    ]
    assert [e.raw_name.decode("utf-8") for e in table] == [z.filename for z in infos]
    if infos:
        assert table[-1] == table[len(infos) - 1] and table[1:3] == list(table)[1:3]


@settings(max_examples=60, deadline=None)
@given(
    members,
    st.sampled_from(["reject", "sanitize"]),
    st.sampled_from(["skip", "marker"]),
    st.sampled_from(["", "out/", "o/p"]),
)
def test_plan_is_the_rules_applied_entry_by_entry(entries, unsafe, dirs, prefix):
    table = directory(build(entries)).entries
    rules = PlanRules(prefix, "pkg", LIMITS, unsafe_paths=unsafe, directories=dirs)
    plan = plan_entries(table, rules)
    taken: dict[str, int] = {}
    expected = []
    for entry in table:  # the rule, with the keys earlier entries took ("first one wins")
        p = _plan_one(entry, rules, taken)
        if p.extractable:
            taken[p.key] = entry.index
        expected.append(p)
    assert len(plan) == len(expected)
    assert list(plan) == expected
    assert [plan[i] for i in range(len(plan))] == expected
    assert plan[2:5] == expected[2:5]
    if expected:
        assert plan[-1] == expected[-1]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.booleans(), st.sampled_from(["f{}.txt", "../f{}.txt"])), max_size=12),
    st.booleans(),
)
def test_the_plan_knows_its_last_extractable_encrypted_entry(entries, has_password):
    named = [(pattern.format(i), encrypted) for i, (encrypted, pattern) in enumerate(entries)]
    data = zipcorpus.zipcrypto(
        [(name, b"x") for name, _ in named],
        b"pw",
        plain=tuple(name for name, encrypted in named if not encrypted),
    )
    rules = PlanRules("out/", "pkg", LIMITS, has_password=has_password)
    plan = plan_entries(directory(data).entries, rules)
    wanted = [i for i, p in enumerate(plan) if p.extractable and p.entry.encrypted]
    assert plan.last_encrypted == (wanted[-1] if wanted else -1)
    if not has_password:  # encrypted entries are skipped: no page needs a password
        assert plan.last_encrypted == -1


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(1, PACK_LINES + 300), min_size=1, max_size=4), st.booleans())
def test_report_part_keeps_every_line_in_order_past_the_packing_threshold(batches, take_midway):
    part = ReportPart("k")
    lines: list[bytes] = []
    n = 0
    for count in batches:
        batch = []
        for _ in range(count):
            record = {"entry": n, "name": f"名前/{n}"}
            batch.append((json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n").encode())
            n += 1
        if n % 2:
            part.add_lines(batch)
        else:
            for line in batch:
                part.add(**json.loads(line))
        lines += batch
    assert len(part) == len(lines)
    assert part.body() == b"".join(lines)
    assert part.body() == b"".join(lines)  # looking at the body does not end the part
    part.add(entry=-1)
    lines.append(b'{"entry": -1}\n')
    if take_midway:
        assert part.take_lines() == lines
        assert len(part) == 0 and part.body() == b"" and part.take_lines() == []
    else:
        assert [r["entry"] for r in part.records] == [json.loads(x)["entry"] for x in lines]
