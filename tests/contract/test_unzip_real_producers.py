"""Zips from the real Info-ZIP ``zip`` and 7-Zip on Linux extract to exactly the names made."""

from __future__ import annotations

import oss2
import pytest

from handlers import unzip as unzip_handler
from handlers.events import UnzipEvent, parse_event
from tests import producers
from tests.handlerkit import fc_context, read_report


@pytest.fixture
def env(unzip_env):
    return unzip_env


def extract(bucket, cloud, data: bytes, **fields) -> dict:
    bucket.put_object("in/pkg.zip", data)
    event = {"job_id": "p1", "package": {"bucket": bucket.bucket_name, "key": "in/pkg.zip"}}
    return unzip_handler.run(parse_event(UnzipEvent, {**event, **fields}), fc_context(cloud))


def outputs(bucket) -> dict[str, bytes]:
    return {
        o.key: bucket.get_object(o.key).read()
        for o in oss2.ObjectIterator(bucket, prefix="out/")
        if not o.key.endswith("/")
    }


EXPECTED = {f"out/pkg/{name}": body for name, body in producers.TREE.items()}


@pytest.mark.parametrize("encoding", [None, "auto", "gb18030"])
def test_info_zip_utf8_names_without_flag_come_out_exact(
    env, localcloud, bucket, tmp_path, encoding
):
    # zip 3.0 on Linux: raw UTF-8 bytes, no UTF-8 flag, no Unicode Path extra, host Unix;
    # gb18030 was the local and prod setting that garbled them
    data = producers.info_zip(tmp_path)
    result = extract(bucket, localcloud, data, **({"name_encoding": encoding} if encoding else {}))
    assert result["all_succeeded"], read_report(bucket, result["report_key"])
    assert outputs(bucket) == EXPECTED


def test_info_zip_in_the_c_locale_comes_out_exact(env, localcloud, bucket, tmp_path):
    result = extract(bucket, localcloud, producers.info_zip(tmp_path, lang="C"))
    assert result["all_succeeded"] and outputs(bucket) == EXPECTED


@pytest.mark.parametrize(
    "switches",
    [(), ("-mm=Deflate",), ("-mm=Deflate64",), ("-mm=BZip2",), ("-mm=Copy",), ("-mx=9",)],
    ids=["default", "deflate", "deflate64", "bzip2", "stored", "ultra"],
)
def test_seven_zip_archives_come_out_exact(env, localcloud, bucket, tmp_path, switches):
    result = extract(bucket, localcloud, producers.seven_zip(tmp_path, *switches))
    assert result["all_succeeded"], read_report(bucket, result["report_key"])
    assert outputs(bucket) == EXPECTED
