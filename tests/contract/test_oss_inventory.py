"""Bucket inventory through the real SDKs: configuration API (oss2, alibabacloud-oss-v2), OSS's
validation errors, RAM, and the admin "run now" output parsed here independently (gzip + csv +
json) against the bucket's own listing. Format rules: docs/localcloud.md "Bucket inventory"."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import time
import uuid
from urllib.parse import unquote

import oss2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oss2.models import (
    INVENTORY_FORMAT_CSV,
    INVENTORY_FREQUENCY_DAILY,
    INVENTORY_INCLUDED_OBJECT_VERSIONS_ALL,
    INVENTORY_INCLUDED_OBJECT_VERSIONS_CURRENT,
    InventoryBucketDestination,
    InventoryConfiguration,
    InventoryDestination,
    InventoryFilter,
    InventorySchedule,
    InventoryServerSideEncryptionOSS,
)

from localcloud.launcher import InventoryRunFailed
from tests.contract.oss_raw import error_code, signed_request
from tests.contract.ramkit import allow, make_role

ALL_FIELDS = [
    "Size",
    "LastModifiedDate",
    "ETag",
    "StorageClass",
    "IsMultipartUploaded",
    "EncryptionStatus",
]


@pytest.fixture(scope="module")
def inventory_role(localcloud):
    """The role OSS assumes to write inventories: trusts oss.aliyuncs.com, may list and put."""
    return make_role(
        localcloud,
        f"inv-{uuid.uuid4().hex[:8]}",
        "oss.aliyuncs.com",
        allow(["oss:ListObjects", "oss:PutObject"], ["acs:oss:*:*:*"]),
    )


def _new_bucket(localcloud, oss_auth) -> oss2.Bucket:
    b = oss2.Bucket(oss_auth, localcloud.oss_endpoint, f"i-{uuid.uuid4().hex[:20]}")
    b.create_bucket()
    return b


def _config(
    localcloud,
    dest: str,
    role: str,
    inventory_id="inv1",
    prefix="",
    fields=None,
    versions=INVENTORY_INCLUDED_OBJECT_VERSIONS_CURRENT,
    dest_prefix="reports",
    inventory_filter=None,
) -> InventoryConfiguration:
    return InventoryConfiguration(
        inventory_id=inventory_id,
        is_enabled=True,
        inventory_schedule=InventorySchedule(frequency=INVENTORY_FREQUENCY_DAILY),
        included_object_versions=versions,
        inventory_filter=inventory_filter or InventoryFilter(prefix=prefix),
        optional_fields=ALL_FIELDS if fields is None else fields,
        inventory_destination=InventoryDestination(
            bucket_destination=InventoryBucketDestination(
                account_id=localcloud.account_id,
                role_arn=role,
                bucket=dest,
                inventory_format=INVENTORY_FORMAT_CSV,
                prefix=dest_prefix,
            )
        ),
    )


def read_inventory(dest: oss2.Bucket, manifest_key: str) -> tuple[dict, list[dict]]:
    """The manifest and every data row as {column: value}, read as any consumer would."""
    body = dest.get_object(manifest_key).read()
    checksum = dest.get_object(manifest_key.rsplit("/", 1)[0] + "/manifest.checksum").read()
    assert checksum.decode().lower() == hashlib.md5(body).hexdigest()
    manifest = json.loads(body)
    columns = [c.strip() for c in manifest["fileSchema"].split(",")]
    rows = []
    for f in manifest["files"]:
        data = dest.get_object(f["key"]).read()
        assert len(data) == f["size"]
        assert hashlib.md5(data).hexdigest() == f["MD5checksum"].lower()
        for values in csv.reader(io.StringIO(gzip.decompress(data).decode())):
            assert len(values) == len(columns), values
            rows.append(dict(zip(columns, values, strict=True)))
    return manifest, rows


# ---- configuration API ------------------------------------------------------------------
def test_configuration_round_trips_through_oss2_get_and_list(
    localcloud, bucket, dest, inventory_role
):
    f = InventoryFilter(
        prefix="obj-prefix",
        last_modify_begin_time_stamp=1637883649,
        last_modify_end_time_stamp=1638347592,
        lower_size_bound=1024,
        upper_size_bound=1048576,
        storage_class="IA,Standard",
    )
    config = _config(
        localcloud,
        dest.bucket_name,
        inventory_role,
        inventory_filter=f,
        versions=INVENTORY_INCLUDED_OBJECT_VERSIONS_ALL,
    )
    config.inventory_destination.bucket_destination.sse_oss_encryption = (
        InventoryServerSideEncryptionOSS()
    )
    bucket.put_bucket_inventory_configuration(config)
    got = bucket.get_bucket_inventory_configuration("inv1")
    assert (got.inventory_id, got.is_enabled, got.included_object_versions) == ("inv1", True, "All")
    assert got.inventory_schedule.frequency == "Daily"
    assert got.optional_fields == ALL_FIELDS
    assert (got.inventory_filter.prefix, got.inventory_filter.storage_class) == (
        "obj-prefix",
        "IA,Standard",
    )
    assert got.inventory_filter.last_modify_begin_time_stamp == "1637883649"
    assert got.inventory_filter.upper_size_bound == "1048576"
    d = got.inventory_destination.bucket_destination
    assert (d.bucket, d.role_arn, d.account_id, d.prefix) == (
        dest.bucket_name,
        inventory_role,
        localcloud.account_id,
        "reports",
    )
    assert d.sse_oss_encryption is not None and d.sse_kms_encryption is None
    listed = bucket.list_bucket_inventory_configurations()
    assert [c.inventory_id for c in listed.inventory_configurations] == ["inv1"]
    assert listed.is_truncated is False
    bucket.delete_bucket_inventory_configuration("inv1")
    with pytest.raises(oss2.exceptions.NoSuchInventory):
        bucket.get_bucket_inventory_configuration("inv1")
    with pytest.raises(oss2.exceptions.NoSuchInventory):
        bucket.list_bucket_inventory_configurations()


def test_list_pages_by_100_with_continuation_token(localcloud, bucket, dest, inventory_role):
    for i in range(120):
        bucket.put_bucket_inventory_configuration(
            _config(localcloud, dest.bucket_name, inventory_role, inventory_id=f"id-{i:03d}")
        )
    first = bucket.list_bucket_inventory_configurations()
    assert len(first.inventory_configurations) == 100 and first.is_truncated
    second = bucket.list_bucket_inventory_configurations(first.next_continuation_token)
    assert len(second.inventory_configurations) == 20 and not second.is_truncated
    assert second.continuaiton_token == first.next_continuation_token  # oss2's spelling
    ids = [c.inventory_id for c in first.inventory_configurations + second.inventory_configurations]
    assert ids == [f"id-{i:03d}" for i in range(120)]


def test_alibabacloud_oss_v2_reads_what_oss2_configured(
    localcloud, bucket, dest, inventory_role, v2client
):
    import alibabacloud_oss_v2 as oss

    bucket.put_bucket_inventory_configuration(
        _config(localcloud, dest.bucket_name, inventory_role, prefix="p/")
    )
    got = v2client.get_bucket_inventory(
        oss.GetBucketInventoryRequest(bucket=bucket.bucket_name, inventory_id="inv1")
    )
    cfg = got.inventory_configuration
    assert cfg.id == "inv1" and cfg.filter.prefix == "p/"
    assert cfg.destination.oss_bucket_destination.bucket == f"acs:oss:::{dest.bucket_name}"
    assert list(cfg.optional_fields.fields) == ALL_FIELDS
    listed = v2client.list_bucket_inventory(
        oss.ListBucketInventoryRequest(bucket=bucket.bucket_name)
    )
    assert [c.id for c in listed.list_inventory_configurations_result.inventory_configurations] == [
        "inv1"
    ]
    v2client.delete_bucket_inventory(
        oss.DeleteBucketInventoryRequest(bucket=bucket.bucket_name, inventory_id="inv1")
    )
    with pytest.raises(oss.exceptions.OperationError) as err:
        v2client.get_bucket_inventory(
            oss.GetBucketInventoryRequest(bucket=bucket.bucket_name, inventory_id="inv1")
        )
    assert err.value.unwrap().code == "NoSuchInventory"


def test_a_second_configuration_with_the_same_id_is_inventory_already_exist(
    localcloud, bucket, dest, inventory_role
):
    config = _config(localcloud, dest.bucket_name, inventory_role)
    bucket.put_bucket_inventory_configuration(config)
    with pytest.raises(oss2.exceptions.ServerError) as err:
        bucket.put_bucket_inventory_configuration(config)
    assert (err.value.status, err.value.code) == (409, "InventoryAlreadyExist")
    assert err.value.ec == "0020-00000042"


VALID = """<InventoryConfiguration><Id>{id}</Id><IsEnabled>true</IsEnabled>
<Filter><Prefix>p/</Prefix>{filter}</Filter>
<Destination><OSSBucketDestination><Format>{fmt}</Format><AccountId>{account}</AccountId>
{role}<Bucket>acs:oss:::{dest}</Bucket><Prefix>r</Prefix></OSSBucketDestination></Destination>
<Schedule><Frequency>{freq}</Frequency></Schedule><IncludedObjectVersions>{versions}</IncludedObjectVersions>
<OptionalFields><Field>Size</Field>{field}</OptionalFields></InventoryConfiguration>"""


def _put_raw(localcloud, bucket, body: str, inventory_id="inv1"):
    return signed_request(
        localcloud,
        "PUT",
        bucket,
        params={"inventory": "", "inventoryId": inventory_id},
        data=body.encode(),
    )


def _body(localcloud, dest, **changes) -> str:
    values = dict(
        id="inv1",
        filter="",
        fmt="CSV",
        account=localcloud.account_id,
        role=f"<RoleArn>acs:ram::{localcloud.account_id}:role/r</RoleArn>",
        dest=dest,
        freq="Weekly",
        versions="Current",
        field="",
    )
    values.update(changes)
    return VALID.format(**values)


@pytest.mark.parametrize(
    "changes, ec",
    [
        ({"id": ""}, "0020-00000044"),
        ({"id": "x" * 193}, "0020-00000044"),
        ({"id": "other"}, "0020-00000043"),  # differs from ?inventoryId
        ({"role": ""}, "0020-00000014"),
        ({"fmt": "ORC"}, None),
        ({"account": "999"}, None),
        ({"freq": "Hourly"}, None),
        ({"freq": ""}, "0020-00000017"),  # Schedule/Frequency missing
        ({"versions": "Latest"}, None),
        ({"field": "<Field>Colour</Field>"}, None),
        ({"field": "<Field>Size</Field>"}, None),  # twice
        ({"filter": "<LastModifyBeginTimeStamp>abc</LastModifyBeginTimeStamp>"}, "0020-00000008"),
        (
            {"filter": "<LastModifyEndTimeStamp>1000000001</LastModifyEndTimeStamp>"},
            "0020-00000023",
        ),
        (
            {
                "filter": "<LastModifyBeginTimeStamp>1637000001</LastModifyBeginTimeStamp>"
                "<LastModifyEndTimeStamp>1637000000</LastModifyEndTimeStamp>"
            },
            "0020-00000022",
        ),
        (
            {"filter": "<LastModifyEndTimeStamp>253402271999</LastModifyEndTimeStamp>"},
            "0020-00000022",
        ),
        ({"filter": "<LowerSizeBound>10</LowerSizeBound><UpperSizeBound>9</UpperSizeBound>"}, None),
        ({"filter": "<StorageClass>Standard,Gold</StorageClass>"}, None),
    ],
)
def test_an_invalid_configuration_is_invalid_argument_with_the_documented_ec(
    localcloud, bucket, dest, changes, ec
):
    resp = _put_raw(localcloud, bucket.bucket_name, _body(localcloud, dest.bucket_name, **changes))
    assert (resp.status_code, error_code(resp)) == (400, "InvalidArgument"), resp.text
    if ec:
        assert resp.headers["x-oss-ec"] == ec
    assert (
        signed_request(localcloud, "GET", bucket.bucket_name, params={"inventory": ""}).status_code
        == 404
    )  # nothing was stored


def test_the_raw_body_that_passes_every_check_is_stored(localcloud, bucket, dest):
    resp = _put_raw(localcloud, bucket.bucket_name, _body(localcloud, dest.bucket_name))
    assert resp.status_code == 200, resp.text
    assert (
        bucket.get_bucket_inventory_configuration("inv1").inventory_schedule.frequency == "Weekly"
    )


def test_missing_destination_bucket_and_malformed_xml_are_refused(localcloud, bucket):
    resp = _put_raw(localcloud, bucket.bucket_name, _body(localcloud, "no-such-bucket-here"))
    assert (resp.status_code, error_code(resp)) == (404, "NoSuchBucket")
    resp = _put_raw(localcloud, bucket.bucket_name, "<InventoryConfiguration><Id>")
    assert (resp.status_code, error_code(resp)) == (400, "MalformedXML")


def test_sse_kms_is_stored_but_writing_with_it_needs_a_kms_localcloud_does_not_have(
    localcloud, bucket, dest
):
    body = _body(localcloud, dest.bucket_name).replace(
        "<Prefix>r</Prefix>",
        "<Prefix>r</Prefix><Encryption><SSE-KMS><KeyId>k</KeyId></SSE-KMS></Encryption>",
    )
    assert _put_raw(localcloud, bucket.bucket_name, body).status_code == 200
    got = bucket.get_bucket_inventory_configuration("inv1").inventory_destination
    assert got.bucket_destination.sse_kms_encryption.key_id == "k"
    bucket.put_object("a", b"1")
    with pytest.raises(InventoryRunFailed) as err:
        localcloud.run_inventory(bucket.bucket_name, "inv1")
    assert err.value.status == 501 and "KMS" in err.value.message
    assert _dest_keys(dest) == []


def test_storage_classes_of_the_filter_are_answered_sorted(localcloud, bucket, dest):
    body = _body(localcloud, dest.bucket_name, filter="<StorageClass>Standard,IA</StorageClass>")
    assert _put_raw(localcloud, bucket.bucket_name, body).status_code == 200
    got = bucket.get_bucket_inventory_configuration("inv1")
    assert got.inventory_filter.storage_class == "IA,Standard"


# ---- RAM ----------------------------------------------------------------------------------
def _role_bucket(localcloud, name: str, role_arn: str) -> oss2.Bucket:
    session = localcloud.admin(
        "POST", "/ram/assume-role", {"role_arn": role_arn, "service": "fc.aliyuncs.com"}
    )
    auth = oss2.StsAuth(
        session["access_key_id"], session["access_key_secret"], session["security_token"]
    )
    return oss2.Bucket(auth, localcloud.oss_endpoint, name)


def test_a_role_needs_the_inventory_actions_on_the_bucket(localcloud, bucket, dest, inventory_role):
    name = bucket.bucket_name
    reader = make_role(
        localcloud,
        f"invr-{uuid.uuid4().hex[:8]}",
        "fc.aliyuncs.com",
        allow(["oss:GetBucketInventory"], [f"acs:oss:*:*:{name}"]),
    )
    as_reader = _role_bucket(localcloud, name, reader)
    config = _config(localcloud, dest.bucket_name, inventory_role)
    with pytest.raises(oss2.exceptions.AccessDenied) as err:
        as_reader.put_bucket_inventory_configuration(config)
    assert "oss:PutBucketInventory" in err.value.message
    bucket.put_bucket_inventory_configuration(config)
    assert as_reader.get_bucket_inventory_configuration("inv1").inventory_id == "inv1"
    assert len(as_reader.list_bucket_inventory_configurations().inventory_configurations) == 1
    with pytest.raises(oss2.exceptions.AccessDenied) as err:
        as_reader.delete_bucket_inventory_configuration("inv1")
    assert "oss:DeleteBucketInventory" in err.value.message


def _dest_keys(dest: oss2.Bucket) -> list[str]:
    return [o.key for o in oss2.ObjectIterator(dest)]


@pytest.mark.parametrize(
    "trusted, actions, why",
    [
        (
            "fc.aliyuncs.com",
            ["oss:ListObjects", "oss:PutObject"],
            "does not trust oss.aliyuncs.com",
        ),
        ("oss.aliyuncs.com", ["oss:ListObjects"], "oss:PutObject"),
        ("oss.aliyuncs.com", ["oss:PutObject"], "oss:ListObjects"),
    ],
)
def test_the_run_is_refused_and_writes_nothing_unless_oss_may_assume_the_role_and_write(
    localcloud, bucket, dest, trusted, actions, why
):
    role = make_role(
        localcloud, f"invw-{uuid.uuid4().hex[:8]}", trusted, allow(actions, ["acs:oss:*:*:*"])
    )
    bucket.put_object("a", b"1")
    bucket.put_bucket_inventory_configuration(_config(localcloud, dest.bucket_name, role))
    with pytest.raises(InventoryRunFailed) as err:
        localcloud.run_inventory(bucket.bucket_name, "inv1")
    assert err.value.status == 403 and why in err.value.message
    assert _dest_keys(dest) == []


def test_a_role_that_does_not_exist_is_named_in_the_refusal(localcloud, bucket, dest):
    role = f"acs:ram::{localcloud.account_id}:role/nobody-{uuid.uuid4().hex[:6]}"
    bucket.put_object("a", b"1")
    bucket.put_bucket_inventory_configuration(_config(localcloud, dest.bucket_name, role))
    with pytest.raises(InventoryRunFailed) as err:
        localcloud.run_inventory(bucket.bucket_name, "inv1")
    assert err.value.status == 403 and "does not exist" in err.value.message


def test_running_an_unknown_inventory_is_404(localcloud, bucket):
    with pytest.raises(InventoryRunFailed) as err:
        localcloud.run_inventory(bucket.bucket_name, "nope")
    assert err.value.status == 404


# ---- run now: the output -------------------------------------------------------------------
def _listing(b: oss2.Bucket, prefix="") -> dict[str, oss2.models.SimplifiedObjectInfo]:
    return {o.key: o for o in oss2.ObjectIterator(b, prefix=prefix)}


def test_run_writes_manifest_and_data_in_oss_layout_matching_the_listing(
    localcloud, bucket, dest, inventory_role
):
    bucket.put_object("docs/a.txt", b"a" * 10)
    bucket.put_object(
        "docs/b.txt",
        b"b" * 20,
        headers={"x-oss-storage-class": "IA", "x-oss-server-side-encryption": "AES256"},
    )
    up = bucket.init_multipart_upload("docs/big.bin")
    part = bucket.upload_part("docs/big.bin", up.upload_id, 1, b"m" * 100)
    bucket.complete_multipart_upload(
        "docs/big.bin", up.upload_id, [oss2.models.PartInfo(1, part.etag)]
    )
    bucket.put_object("other/c.txt", b"c")
    bucket.put_bucket_inventory_configuration(
        _config(localcloud, dest.bucket_name, inventory_role, prefix="docs/")
    )
    out = localcloud.run_inventory(bucket.bucket_name, "inv1")
    root = f"reports/{bucket.bucket_name}/inv1"
    stamp = out["manifest_key"].split("/")[-2]
    assert time.strptime(stamp, "%Y-%m-%dT%H-%MZ")
    assert out["manifest_key"] == f"{root}/{stamp}/manifest.json"
    manifest, rows = read_inventory(dest, out["manifest_key"])
    assert set(manifest) == {
        "creationTimestamp",
        "destinationBucket",
        "fileFormat",
        "fileSchema",
        "files",
        "sourceBucket",
        "version",
    }
    assert (manifest["sourceBucket"], manifest["destinationBucket"], manifest["fileFormat"]) == (
        bucket.bucket_name,
        dest.bucket_name,
        "CSV",
    )
    assert abs(int(manifest["creationTimestamp"]) - time.time()) < 600
    assert [c.strip() for c in manifest["fileSchema"].split(",")] == [
        "Bucket",
        "Key",
        "Size",
        "StorageClass",
        "LastModifiedDate",
        "ETag",
        "IsMultipartUploaded",
        "EncryptionStatus",
    ]
    assert [f["key"].rsplit("/", 1)[0] for f in manifest["files"]] == [f"{root}/data"]
    listing = _listing(bucket, "docs/")
    assert {unquote(r["Key"]) for r in rows} == set(listing)
    for r in rows:
        obj = listing[unquote(r["Key"])]
        assert r["Bucket"] == bucket.bucket_name
        assert int(r["Size"]) == obj.size and r["StorageClass"] == obj.storage_class
        assert r["ETag"] == obj.etag
        assert time.strptime(r["LastModifiedDate"], "%Y-%m-%dT%H:%M:%SZ")
        assert (
            abs(
                time.mktime(time.strptime(r["LastModifiedDate"], "%Y-%m-%dT%H:%M:%SZ"))
                - time.timezone
                - obj.last_modified
            )
            < 1
        )
    flags = {unquote(r["Key"]): (r["IsMultipartUploaded"], r["EncryptionStatus"]) for r in rows}
    assert flags == {
        "docs/a.txt": ("false", "false"),
        "docs/b.txt": ("false", "true"),
        "docs/big.bin": ("true", "false"),
    }
    assert set(_dest_keys(dest)) == {f["key"] for f in manifest["files"]} | {
        out["manifest_key"],
        out["checksum_key"],
    }


def test_rows_split_into_numbered_files_each_record_once(localcloud, bucket, dest, inventory_role):
    keys = [f"k/{i:02d}" for i in range(7)]
    for k in keys:
        bucket.put_object(k, b"x")
    bucket.put_bucket_inventory_configuration(
        _config(localcloud, dest.bucket_name, inventory_role, fields=[], dest_prefix="")
    )
    out = localcloud.run_inventory(bucket.bucket_name, "inv1", rows_per_file=3)
    manifest, rows = read_inventory(dest, out["manifest_key"])
    names = [f["key"] for f in manifest["files"]]
    assert len(names) == 3 and out["rows"] == 7
    base = names[0].removesuffix(".csv.gz")
    assert names == [f"{base}.csv.gz", f"{base}-1.csv.gz", f"{base}-2.csv.gz"]
    assert base.startswith(f"{bucket.bucket_name}/inv1/data/")  # no prefix: that level omitted
    uuid.UUID(base.rsplit("/", 1)[1])
    assert manifest["fileSchema"] == "Bucket, Key"
    assert sorted(unquote(r["Key"]) for r in rows) == keys


def test_filter_on_size_class_and_time_is_honoured(localcloud, bucket, dest, inventory_role):
    bucket.put_object("s", b"x" * 5)
    bucket.put_object("m", b"x" * 50)
    bucket.put_object("m-ia", b"x" * 50, headers={"x-oss-storage-class": "IA"})
    bucket.put_object("l", b"x" * 500)
    f = InventoryFilter(lower_size_bound=50, upper_size_bound=499, storage_class="Standard")
    bucket.put_bucket_inventory_configuration(
        _config(localcloud, dest.bucket_name, inventory_role, inventory_filter=f)
    )
    _, rows = read_inventory(
        dest, localcloud.run_inventory(bucket.bucket_name, "inv1")["manifest_key"]
    )
    assert [unquote(r["Key"]) for r in rows] == ["m"]
    past = InventoryFilter(
        last_modify_begin_time_stamp=1262275200, last_modify_end_time_stamp=int(time.time()) - 3600
    )
    bucket.put_bucket_inventory_configuration(
        _config(
            localcloud, dest.bucket_name, inventory_role, inventory_id="old", inventory_filter=past
        )
    )
    assert localcloud.run_inventory(bucket.bucket_name, "old") == {
        "written": False,
        "reason": "no object matches the inventory's filter",
        "files": [],
    }


def test_all_versions_list_noncurrent_versions_and_delete_markers(
    localcloud, bucket, dest, inventory_role
):
    bucket.put_bucket_versioning(oss2.models.BucketVersioningConfig("Enabled"))
    v1 = bucket.put_object("doc", b"one").versionid
    v2 = bucket.put_object("doc", b"two!").versionid
    marker = bucket.delete_object("doc").versionid
    bucket.put_object("keep", b"k")
    bucket.put_bucket_inventory_configuration(
        _config(
            localcloud,
            dest.bucket_name,
            inventory_role,
            versions=INVENTORY_INCLUDED_OBJECT_VERSIONS_ALL,
            fields=["Size", "ETag"],
        )
    )
    manifest, rows = read_inventory(
        dest, localcloud.run_inventory(bucket.bucket_name, "inv1")["manifest_key"]
    )
    assert manifest["fileSchema"] == "Bucket, Key, VersionId, IsLatest, IsDeleteMarker, Size, ETag"
    got = [
        (unquote(r["Key"]), r["VersionId"], r["IsLatest"], r["IsDeleteMarker"], r["Size"])
        for r in rows
    ]
    assert got[:3] == [
        ("doc", marker, "true", "true", ""),
        ("doc", v2, "false", "false", "4"),
        ("doc", v1, "false", "false", "3"),
    ]
    assert got[3][0] == "keep" and got[3][2:] == ("true", "false", "1")
    current = _config(localcloud, dest.bucket_name, inventory_role, inventory_id="cur", fields=[])
    bucket.put_bucket_inventory_configuration(current)
    manifest, rows = read_inventory(
        dest, localcloud.run_inventory(bucket.bucket_name, "cur")["manifest_key"]
    )
    assert manifest["fileSchema"] == "Bucket, Key"
    assert [unquote(r["Key"]) for r in rows] == ["keep"]  # a deleted key is not current


def test_all_versions_on_an_unversioned_bucket_has_no_version_columns(
    localcloud, bucket, dest, inventory_role
):
    bucket.put_object("a", b"1")
    bucket.put_bucket_inventory_configuration(
        _config(
            localcloud,
            dest.bucket_name,
            inventory_role,
            versions=INVENTORY_INCLUDED_OBJECT_VERSIONS_ALL,
            fields=[],
        )
    )
    manifest, _ = read_inventory(
        dest, localcloud.run_inventory(bucket.bucket_name, "inv1")["manifest_key"]
    )
    assert manifest["fileSchema"] == "Bucket, Key"


KEY_CHARS = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
KEYS = st.lists(
    st.text(KEY_CHARS, min_size=1, max_size=24).filter(
        lambda k: (
            len(k.encode()) <= 200
            and k[0] not in "/\\"  # OSS refuses a leading / or backslash
            # oss2's requests session resolves "." and ".." segments away before sending
            # (docs/decisions/lean-oss-transport.md): such a key cannot be uploaded here
            and not {".", ".."} & set(k.split("/"))
        )
    ),
    min_size=1,
    max_size=8,
    unique=True,
)


@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(keys=KEYS, per_file=st.integers(1, 4))
def test_any_key_round_trips_through_the_url_encoded_csv(
    localcloud, oss_auth, inventory_role, keys, per_file
):
    src, dst = _new_bucket(localcloud, oss_auth), _new_bucket(localcloud, oss_auth)
    for k in keys:
        src.put_object(k, k.encode())
    src.put_bucket_inventory_configuration(
        _config(localcloud, dst.bucket_name, inventory_role, fields=["Size"])
    )
    out = localcloud.run_inventory(src.bucket_name, "inv1", rows_per_file=per_file)
    manifest, rows = read_inventory(dst, out["manifest_key"])
    assert len(manifest["files"]) == -(-len(keys) // per_file)
    decoded = [unquote(r["Key"]) for r in rows]
    assert sorted(decoded) == sorted(keys) and len(decoded) == len(set(decoded))
    assert all(
        set(r["Key"]) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~%")
        for r in rows
    )
    assert {unquote(r["Key"]): int(r["Size"]) for r in rows} == {k: len(k.encode()) for k in keys}


def test_sse_oss_inventories_are_stored_encrypted(localcloud, bucket, dest, inventory_role):
    bucket.put_object("a", b"1")
    config = _config(localcloud, dest.bucket_name, inventory_role)
    config.inventory_destination.bucket_destination.sse_oss_encryption = (
        InventoryServerSideEncryptionOSS()
    )
    bucket.put_bucket_inventory_configuration(config)
    out = localcloud.run_inventory(bucket.bucket_name, "inv1")
    for key in [f["key"] for f in out["files"]] + [out["manifest_key"], out["checksum_key"]]:
        assert dest.head_object(key).headers["x-oss-server-side-encryption"] == "AES256", key


def test_a_bad_run_request_is_400_and_writes_nothing(localcloud, bucket, dest, inventory_role):
    bucket.put_object("a", b"1")
    bucket.put_bucket_inventory_configuration(_config(localcloud, dest.bucket_name, inventory_role))
    for rows in (0, -1, True, "3"):
        with pytest.raises(InventoryRunFailed) as err:
            localcloud.run_inventory(bucket.bucket_name, "inv1", rows_per_file=rows)
        assert err.value.status == 400 and "rows_per_file" in err.value.message
    assert _dest_keys(dest) == []


def test_the_1001st_configuration_is_too_many_inventory(localcloud, bucket, dest):
    body = _body(localcloud, dest.bucket_name)
    for i in range(1000):
        resp = _put_raw(
            localcloud, bucket.bucket_name, body.replace("inv1", f"c{i:04d}"), f"c{i:04d}"
        )
        assert resp.status_code == 200, resp.text
    resp = _put_raw(localcloud, bucket.bucket_name, body.replace("inv1", "one-more"), "one-more")
    assert (resp.status_code, error_code(resp)) == (400, "TooManyInventory")
    bucket.delete_bucket_inventory_configuration("c0000")  # room again
    assert _put_raw(localcloud, bucket.bucket_name, body.replace("inv1", "one-more"), "one-more").ok


def test_deleting_the_bucket_deletes_its_configurations(localcloud, oss_auth, dest, inventory_role):
    b = _new_bucket(localcloud, oss_auth)
    b.put_bucket_inventory_configuration(_config(localcloud, dest.bucket_name, inventory_role))
    b.delete_bucket()
    b.create_bucket()
    with pytest.raises(oss2.exceptions.NoSuchInventory):
        b.list_bucket_inventory_configurations()


def test_each_run_has_its_own_manifest_naming_only_its_own_files(
    localcloud, bucket, dest, inventory_role
):
    bucket.put_object("a", b"1")
    bucket.put_bucket_inventory_configuration(_config(localcloud, dest.bucket_name, inventory_role))
    first = localcloud.run_inventory(bucket.bucket_name, "inv1")
    bucket.put_object("b", b"2")
    second = localcloud.run_inventory(bucket.bucket_name, "inv1")
    assert {f["key"] for f in first["files"]}.isdisjoint(f["key"] for f in second["files"])
    _, rows = read_inventory(dest, second["manifest_key"])
    assert sorted(unquote(r["Key"]) for r in rows) == ["a", "b"]


def test_alibabacloud_oss_v2_configures_an_inventory_oss2_reads_back(
    localcloud, bucket, dest, inventory_role, v2client
):
    import alibabacloud_oss_v2 as oss

    v2client.put_bucket_inventory(
        oss.PutBucketInventoryRequest(
            bucket=bucket.bucket_name,
            inventory_id="v2",
            inventory_configuration=oss.InventoryConfiguration(
                id="v2",
                is_enabled=False,
                included_object_versions="All",
                schedule=oss.InventorySchedule(frequency="Weekly"),
                filter=oss.InventoryFilter(prefix="x/", lower_size_bound=1, storage_class="IA"),
                optional_fields=oss.OptionalFields(fields=["ObjectType", "TaggingCount", "Size"]),
                destination=oss.InventoryDestination(
                    oss_bucket_destination=oss.InventoryOSSBucketDestination(
                        format="CSV",
                        account_id=localcloud.account_id,
                        role_arn=inventory_role,
                        bucket=f"acs:oss:::{dest.bucket_name}",
                        prefix="v2-reports",
                    )
                ),
            ),
        )
    )
    got = bucket.get_bucket_inventory_configuration("v2")
    assert (got.is_enabled, got.included_object_versions) == (False, "All")
    assert got.optional_fields == ["ObjectType", "TaggingCount", "Size"]
    assert (got.inventory_filter.prefix, got.inventory_filter.lower_size_bound) == ("x/", "1")
    assert got.inventory_destination.bucket_destination.prefix == "v2-reports"


def test_a_disabled_inventory_is_not_generated(localcloud, bucket, dest, inventory_role):
    config = _config(localcloud, dest.bucket_name, inventory_role)
    config.is_enabled = False
    bucket.put_object("a", b"1")
    bucket.put_bucket_inventory_configuration(config)
    with pytest.raises(InventoryRunFailed) as err:
        localcloud.run_inventory(bucket.bucket_name, "inv1")
    assert err.value.status == 409 and "IsEnabled" in err.value.message
    assert _dest_keys(dest) == []


def test_the_newer_optional_fields_are_written_in_their_columns(
    localcloud, bucket, dest, inventory_role
):
    bucket.put_object(
        "t", b"12", headers={"x-oss-tagging": "a=1&b=2", "x-oss-object-acl": "private"}
    )
    bucket.append_object("ap", 0, b"xyz")
    bucket.put_bucket_inventory_configuration(_config(
        localcloud, dest.bucket_name, inventory_role,
        fields=["ObjectType", "ObjectAcl", "TaggingCount", "TransitionTime"]))  # fmt: skip
    manifest, rows = read_inventory(
        dest, localcloud.run_inventory(bucket.bucket_name, "inv1")["manifest_key"]
    )
    assert (
        manifest["fileSchema"] == "Bucket, Key, TransitionTime, ObjectAcl, TaggingCount, ObjectType"
    )
    by_key = {unquote(r["Key"]): r for r in rows}
    assert (by_key["t"]["ObjectAcl"], by_key["t"]["TaggingCount"], by_key["t"]["ObjectType"]) == (
        "private",
        "2",
        "Normal",
    )
    assert (
        by_key["ap"]["ObjectAcl"],
        by_key["ap"]["TaggingCount"],
        by_key["ap"]["ObjectType"],
    ) == ("default", "0", "Appendable")
    assert {r["TransitionTime"] for r in rows} == {""}


def test_anonymous_callers_cannot_touch_inventories_even_of_a_public_bucket(
    localcloud, bucket, dest, inventory_role
):
    import requests

    bucket.put_bucket_acl(oss2.BUCKET_ACL_PUBLIC_READ_WRITE)
    bucket.put_bucket_inventory_configuration(_config(localcloud, dest.bucket_name, inventory_role))
    url = f"{localcloud.oss_endpoint}/{bucket.bucket_name}"
    for method, params in (("GET", "inventory&inventoryId=inv1"), ("GET", "inventory"),
                           ("DELETE", "inventory&inventoryId=inv1")):  # fmt: skip
        resp = requests.request(method, f"{url}?{params}", timeout=10)
        assert (resp.status_code, error_code(resp)) == (403, "AccessDenied"), (method, params)
    assert bucket.get_bucket_inventory_configuration("inv1").inventory_id == "inv1"


def test_the_admin_run_refuses_unknown_fields_and_needs_the_token(localcloud, bucket):
    import urllib.error
    import urllib.request

    with pytest.raises(urllib.error.HTTPError) as err:
        localcloud.admin("POST", "/oss/inventory/run", {"bucket": bucket.bucket_name, "id": "x"})
    assert err.value.code == 400 and b"inventory_id" in err.value.read()
    bare = localcloud.admin_endpoint.rsplit("/", 1)[0]  # the endpoint without its token
    request = urllib.request.Request(f"{bare}/oss/inventory/run", method="POST", data=b"{}")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(request, timeout=10)
    assert err.value.code == 401
