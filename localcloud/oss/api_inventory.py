"""Bucket inventory on the wire: Put/Get/List/DeleteBucketInventory (`?inventory&inventoryId=`);
the model and its rules are in inventory_config.py, the run-now writer in inventory_run.py."""

from __future__ import annotations

from .inventory_config import (
    LIST_PAGE,
    MAX_INVENTORIES,
    InventoryAlreadyExist,
    InventoryConfig,
    NoSuchInventory,
    TooManyInventory,
    parse_config,
    render_config,
)
from .service import OssService
from .wire import OssRequest, Response, xml_response
from .xmlwire import XML_HEADER, element, parse


def _inventory_id(req: OssRequest) -> str:
    return req.query.get("inventoryId", "")


async def put_bucket_inventory(svc: OssService, req: OssRequest) -> Response:
    svc.buckets.get(req.bucket)
    root = parse(await req.read_body(64 << 10), "InventoryConfiguration")
    config = parse_config(root, _inventory_id(req), svc.account_id)
    svc.buckets.get(config.destination.bucket)  # 404 NoSuchBucket: it must exist (same account)
    outcome = svc.storage.insert_inventory(req.bucket, config.id, config.to_json(), MAX_INVENTORIES)
    if outcome == "exists":
        err = InventoryAlreadyExist(
            f"Bucket {req.bucket!r} already has an inventory {config.id!r}: delete it first or "
            "pick another Id."
        )
        err.ec = "0020-00000042"
        raise err
    if outcome == "full":
        raise TooManyInventory(
            f"Bucket {req.bucket!r} already has {MAX_INVENTORIES} inventory configurations."
        )
    return Response(200)


def _stored(svc: OssService, bucket: str, inventory_id: str) -> InventoryConfig:
    doc = svc.storage.get_inventory(bucket, inventory_id)
    if doc is None:
        raise NoSuchInventory(f"Bucket {bucket!r} has no inventory configuration {inventory_id!r}.")
    return InventoryConfig.from_json(doc)


async def get_bucket_inventory(svc: OssService, req: OssRequest) -> Response:
    svc.buckets.get(req.bucket)
    config = _stored(svc, req.bucket, _inventory_id(req))
    return xml_response((XML_HEADER + render_config(config)).encode())


async def list_bucket_inventory(svc: OssService, req: OssRequest) -> Response:
    svc.buckets.get(req.bucket)
    token = req.query.get("continuation-token", "")
    rows = svc.storage.list_inventories(req.bucket, token, LIST_PAGE + 1)
    if not rows and not token:
        # oss2's own test_list_none_inventory: a bucket without any is 404 NoSuchInventory
        raise NoSuchInventory(f"Bucket {req.bucket!r} has no inventory configurations.")
    page, truncated = rows[:LIST_PAGE], len(rows) > LIST_PAGE
    parts = [render_config(InventoryConfig.from_json(doc)) for _, doc in page]
    if token:
        parts.append(element("ContinuationToken", token))
    parts.append(element("IsTruncated", "true" if truncated else "false"))
    if truncated:
        parts.append(element("NextContinuationToken", page[-1][0]))
    body = f"{XML_HEADER}<ListInventoryConfigurationsResult>{''.join(parts)}</ListInventoryConfigurationsResult>"
    return xml_response(body.encode())


async def delete_bucket_inventory(svc: OssService, req: OssRequest) -> Response:
    svc.buckets.get(req.bucket)
    if not svc.storage.delete_inventory(req.bucket, _inventory_id(req)):
        raise NoSuchInventory(
            f"Bucket {req.bucket!r} has no inventory configuration {_inventory_id(req)!r}."
        )
    return Response(204)


HANDLERS = {
    "PutBucketInventory": put_bucket_inventory,
    "GetBucketInventory": get_bucket_inventory,
    "ListBucketInventory": list_bucket_inventory,
    "DeleteBucketInventory": delete_bucket_inventory,
}
