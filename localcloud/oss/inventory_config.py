"""Bucket inventory configurations: the model, its validation and its XML (no HTTP).

Rules from the OSS docs (docs/localcloud.md "Bucket inventory" cites each page):
PutBucketInventory / GetBucketInventory / ListBucketInventory / DeleteBucketInventory and the
PutBucketInventory error pages 0020-00000006..44.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from xml.etree import ElementTree

from . import errors
from .names import STORAGE_CLASSES, is_uint
from .xmlwire import child_text, element

MAX_INVENTORIES = 1000  # per bucket (PutBucketInventory: "up to 1,000 inventory rules")
LIST_PAGE = 100  # ListBucketInventory: "a single request returns up to 100"
MAX_ID_CHARS = 192  # error page 0020-00000044
FREQUENCIES = ("Daily", "Weekly", "Monthly", "Once")  # alibabacloud-oss-v2 InventoryFrequencyType
VERSIONS = ("Current", "All")
# the documented column order of the CSV after Bucket, Key (and the version columns)
OPTIONAL_FIELDS = (
    "Size",
    "StorageClass",
    "LastModifiedDate",
    "ETag",
    "IsMultipartUploaded",
    "EncryptionStatus",
    "TransitionTime",
    "ObjectAcl",
    "TaggingCount",
    "ObjectType",
)
MIN_TIMESTAMP, MAX_TIMESTAMP = 1262275200, 253402271999  # error page 0020-00000023
BUCKET_ARN_PREFIX = "acs:oss:::"


class InventoryAlreadyExist(errors.OssError):
    status, code = 409, "InventoryAlreadyExist"
    default_message = "The inventory configuration with this Id already exists."


class NoSuchInventory(errors.OssError):
    status, code = 404, "NoSuchInventory"
    default_message = "The specified inventory configuration does not exist."


class TooManyInventory(errors.OssError):
    status, code = 400, "TooManyInventory"
    default_message = f"A bucket can have at most {MAX_INVENTORIES} inventory configurations."


def _invalid(message: str, ec: str | None, name: str | None = None) -> errors.OssError:
    """400 InvalidArgument; `ec` is the OSS EC of the error page that documents it, if any."""
    err = errors.InvalidArgument(message, ArgumentName=name)
    if ec:
        err.ec = ec
    return err


@dataclass(frozen=True)
class InventoryFilter:
    prefix: str = ""
    last_modify_begin: int | None = None
    last_modify_end: int | None = None
    lower_size: int | None = None
    upper_size: int | None = None
    storage_classes: str | None = None  # "IA,Standard": each class checked, sorted

    def classes(self) -> frozenset[str] | None:
        if self.storage_classes is None:
            return None
        return frozenset(c.strip() for c in self.storage_classes.split(","))


@dataclass(frozen=True)
class InventoryDestination:
    bucket: str  # the bare bucket name (the XML carries acs:oss:::<name>)
    account_id: str
    role_arn: str
    prefix: str = ""
    format: str = "CSV"
    encryption: str | None = None  # "SSE-OSS", "SSE-KMS" or None
    kms_key_id: str | None = None  # SSE-KMS's KeyId (stored; writing with it needs a KMS)


@dataclass(frozen=True)
class InventoryConfig:
    id: str
    enabled: bool
    destination: InventoryDestination
    frequency: str
    included_versions: str
    filter: InventoryFilter = field(default_factory=InventoryFilter)
    optional_fields: tuple[str, ...] = ()

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> InventoryConfig:
        data = json.loads(text)
        return cls(
            **{
                **data,
                "destination": InventoryDestination(**data["destination"]),
                "filter": InventoryFilter(**data["filter"]),
                "optional_fields": tuple(data["optional_fields"]),
            }
        )


# ---- parse + validate ----------------------------------------------------------------------
def _required(node: ElementTree.Element, path: str, ec: str | None) -> str:
    value = child_text(node, path)
    if value is None or not value.strip():
        raise _invalid(f"The {path} node is missing from the inventory configuration.", ec, path)
    return value.strip()


def _bool(value: str) -> bool:
    # oss2 sends str(True) = "True": OSS takes either case (error page 0020-00000006: "other")
    if value.lower() not in ("true", "false"):
        raise _invalid(
            f"IsEnabled must be true or false, got {value!r}.", "0020-00000006", "IsEnabled"
        )
    return value.lower() == "true"


def _timestamp(node: ElementTree.Element, tag: str, ec: str | None) -> int | None:
    value = child_text(node, tag)
    if value is None:
        return None
    value = value.strip()
    if not is_uint(value) or not MIN_TIMESTAMP <= int(value) <= MAX_TIMESTAMP:
        raise _invalid(
            f"Filter/{tag} must be a Unix time in seconds between {MIN_TIMESTAMP} and "
            f"{MAX_TIMESTAMP}, got {value!r}.",
            ec,
            tag,
        )
    return int(value)


def _size(node: ElementTree.Element, tag: str) -> int | None:
    value = child_text(node, tag)
    if value is None:
        return None
    if not is_uint(value.strip()):
        raise _invalid(f"Filter/{tag} must be a number of bytes, got {value!r}.", None, tag)
    return int(value.strip())


def parse_filter(root: ElementTree.Element, now: float) -> InventoryFilter:
    node = root.find("Filter")
    if node is None:
        return InventoryFilter()
    begin = _timestamp(node, "LastModifyBeginTimeStamp", "0020-00000008")
    end = _timestamp(node, "LastModifyEndTimeStamp", "0020-00000023")
    if (
        (begin is not None and begin > now)
        or (end is not None and end > now)
        or (begin is not None and end is not None and begin > end)
    ):
        # 0020-00000022: begin <= end, and both before the current time
        raise _invalid(
            "Filter/LastModifyBeginTimeStamp must be <= LastModifyEndTimeStamp and both must be "
            "before the current time.",
            "0020-00000022",
            "LastModifyBeginTimeStamp",
        )
    lower, upper = _size(node, "LowerSizeBound"), _size(node, "UpperSizeBound")
    if lower is not None and upper is not None and lower > upper:
        raise _invalid(
            f"Filter/LowerSizeBound ({lower}) must not be larger than UpperSizeBound ({upper}).",
            None,
            "LowerSizeBound",
        )
    classes = child_text(node, "StorageClass")
    if classes is not None:
        names = [c.strip() for c in classes.split(",")]
        if any(c not in STORAGE_CLASSES for c in names):
            raise _invalid(
                f"Filter/StorageClass {classes!r} is not a comma-separated list of "
                f"{', '.join(STORAGE_CLASSES)}.",
                None,
                "StorageClass",
            )
        # answered sorted: oss2's own test_bucket_inventory_filter sends "Standard,IA" and
        # expects "IA,Standard" back
        classes = ",".join(sorted(set(names)))
    return InventoryFilter((child_text(node, "Prefix") or ""), begin, end, lower, upper, classes)


def parse_destination(root: ElementTree.Element, account_id: str) -> InventoryDestination:
    node = root.find("Destination/OSSBucketDestination")
    if node is None:
        raise _invalid("The Destination/OSSBucketDestination node is missing.", None, "Destination")
    fmt = _required(node, "Format", None)
    if fmt != "CSV":
        raise _invalid(f"Destination Format must be CSV, got {fmt!r}.", None, "Format")
    account = _required(node, "AccountId", None)
    if account != account_id:
        # the destination must belong to the same account (bucket inventory: Limits)
        raise _invalid(
            f"Destination AccountId {account!r} is not this account ({account_id}).",
            None,
            "AccountId",
        )
    role = _required(node, "RoleArn", "0020-00000014")
    arn = _required(node, "Bucket", None)
    if not arn.startswith(BUCKET_ARN_PREFIX) or not arn[len(BUCKET_ARN_PREFIX) :]:
        raise _invalid(
            f"Destination Bucket must be acs:oss:::<bucket>, got {arn!r}.", None, "Bucket"
        )
    encryption, key_id = None, None
    enc = node.find("Encryption")
    if enc is not None:
        if enc.find("SSE-KMS") is not None:
            encryption, key_id = "SSE-KMS", _required(enc, "SSE-KMS/KeyId", None)
        elif enc.find("SSE-OSS") is not None:
            encryption = "SSE-OSS"
        else:
            raise _invalid("Encryption must hold SSE-OSS or SSE-KMS.", None, "Encryption")
    prefix = child_text(node, "Prefix") or ""
    bucket = arn[len(BUCKET_ARN_PREFIX) :]
    return InventoryDestination(bucket, account, role, prefix, fmt, encryption, key_id)


def _optional_fields(root: ElementTree.Element) -> tuple[str, ...]:
    fields = [(f.text or "").strip() for f in root.findall("OptionalFields/Field")]
    for name in fields:
        if name not in OPTIONAL_FIELDS:
            raise _invalid(
                f"OptionalFields Field {name!r} is unknown; use {', '.join(OPTIONAL_FIELDS)}.",
                None,
                "Field",
            )
    if len(set(fields)) != len(fields):
        raise _invalid("OptionalFields lists a Field twice.", None, "Field")
    return tuple(fields)


def parse_config(
    root: ElementTree.Element, inventory_id: str, account_id: str, now: float | None = None
) -> InventoryConfig:
    """The configuration a PutBucketInventory body describes, or OSS's error for it."""
    config_id = child_text(root, "Id")
    if not config_id or len(config_id) > MAX_ID_CHARS:
        raise _invalid(f"Id must be 1-{MAX_ID_CHARS} characters (UTF-8).", "0020-00000044", "Id")
    if config_id != inventory_id:
        raise _invalid(
            f"The inventoryId parameter {inventory_id!r} differs from the Id node {config_id!r}.",
            "0020-00000043",
            "inventoryId",
        )
    enabled = _bool(_required(root, "IsEnabled", "0020-00000007"))
    frequency = _required(root, "Schedule/Frequency", "0020-00000017")
    if frequency not in FREQUENCIES:
        raise _invalid(
            f"Schedule Frequency must be one of {', '.join(FREQUENCIES)}, got {frequency!r}.",
            None,
            "Frequency",
        )
    versions = _required(root, "IncludedObjectVersions", None)
    if versions not in VERSIONS:
        raise _invalid(
            f"IncludedObjectVersions must be Current or All, got {versions!r}.",
            None,
            "IncludedObjectVersions",
        )
    return InventoryConfig(
        id=config_id,
        enabled=enabled,
        destination=parse_destination(root, account_id),
        frequency=frequency,
        included_versions=versions,
        filter=parse_filter(root, time.time() if now is None else now),
        optional_fields=_optional_fields(root),
    )


# ---- render ----------------------------------------------------------------------------------
def _render_filter(f: InventoryFilter) -> str:
    parts = [element("Prefix", f.prefix)]
    for tag, value in (
        ("LastModifyBeginTimeStamp", f.last_modify_begin),
        ("LastModifyEndTimeStamp", f.last_modify_end),
        ("LowerSizeBound", f.lower_size),
        ("UpperSizeBound", f.upper_size),
        ("StorageClass", f.storage_classes),
    ):
        if value is not None:
            parts.append(element(tag, value))
    return "<Filter>" + "".join(parts) + "</Filter>"


def render_config(config: InventoryConfig) -> str:
    d = config.destination
    encryption = ""
    if d.encryption == "SSE-KMS":
        encryption = f"<Encryption><SSE-KMS>{element('KeyId', d.kms_key_id)}</SSE-KMS></Encryption>"
    elif d.encryption:
        encryption = f"<Encryption><{d.encryption}/></Encryption>"
    return (
        "<InventoryConfiguration>"
        + element("Id", config.id)
        + element("IsEnabled", "true" if config.enabled else "false")
        + _render_filter(config.filter)
        + "<Destination><OSSBucketDestination>"
        + element("Format", d.format)
        + element("AccountId", d.account_id)
        + element("RoleArn", d.role_arn)
        + element("Bucket", BUCKET_ARN_PREFIX + d.bucket)
        + (element("Prefix", d.prefix) if d.prefix else "")
        + encryption
        + "</OSSBucketDestination></Destination>"
        + f"<Schedule>{element('Frequency', config.frequency)}</Schedule>"
        + element("IncludedObjectVersions", config.included_versions)
        + "<OptionalFields>"
        + "".join(element("Field", f) for f in config.optional_fields)
        + "</OptionalFields>"
        + "</InventoryConfiguration>"
    )
