"""PostObject: browser form upload (multipart/form-data) with a signed policy.

The body is streamed to a temp file first and then parsed through mmap, so the file field of a
large upload never sits on the heap.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import mmap
import os
import time
from datetime import datetime

from . import errors
from .checksums import BodyDigest
from .names import check_object_key, storage_class
from .objects import MAX_PUT_BYTES, STORED_HEADERS
from .service import OssService
from .wire import OssRequest, Response, xml_response
from .xmlwire import document, element

_CHUNK = 1 << 20


def _boundary(content_type: str) -> bytes:
    main, _, rest = content_type.partition(";")
    if main.strip().lower() != "multipart/form-data":
        raise errors.MalformedPOSTRequest("PostObject needs Content-Type multipart/form-data.")
    for param in rest.split(";"):
        name, _, value = param.strip().partition("=")
        if name.lower() == "boundary" and value:
            return value.strip('"').encode("latin-1")
    raise errors.MalformedPOSTRequest("multipart/form-data without a boundary.")


def _parse_form(buf, boundary: bytes) -> tuple[dict[str, str], tuple[int, int, str, str] | None]:
    """Fields (name -> value) and the file part as (start, end, filename, content_type)."""
    delim = b"--" + boundary
    fields: dict[str, str] = {}
    pos = buf.find(delim)
    if pos < 0:
        raise errors.MalformedPOSTRequest("The form has no part.")
    while True:
        pos += len(delim)
        if buf[pos : pos + 2] == b"--":
            return fields, None
        header_end = buf.find(b"\r\n\r\n", pos)
        if header_end < 0:
            raise errors.MalformedPOSTRequest("A form part has no header end.")
        headers = bytes(buf[pos:header_end]).decode("utf-8", "replace").strip().split("\r\n")
        disposition = next((h for h in headers if h.lower().startswith("content-disposition:")), "")
        part_type = next(
            (h.split(":", 1)[1].strip() for h in headers if h.lower().startswith("content-type:")),
            "",
        )
        params = {}
        for item in disposition.split(";")[1:]:
            k, _, v = item.strip().partition("=")
            params[k.lower()] = v.strip('"')
        name = params.get("name")
        if name is None:
            raise errors.MalformedPOSTRequest("A form part has no name.")
        start = header_end + 4
        end = buf.find(b"\r\n" + delim, start)
        if end < 0:
            raise errors.MalformedPOSTRequest("The form is truncated (no closing boundary).")
        if name.lower() == "file":
            return fields, (start, end, params.get("filename", ""), part_type)
        try:
            value = bytes(buf[start:end]).decode("utf-8")
        except UnicodeDecodeError:
            raise errors.MalformedPOSTRequest(f"Form field {name!r} is not UTF-8.") from None
        fields[name.lower() if name.lower() in _CASELESS else name] = value
        pos = end + 2


_CASELESS = {
    "key",
    "policy",
    "signature",
    "ossaccesskeyid",
    "success_action_status",
    "content-type",
    "x-oss-security-token",
    "x-oss-storage-class",
}


def _check_policy(svc: OssService, bucket: str, fields: dict, key: str, size: int) -> bool:
    """Verify OSSAccessKeyId/Signature over the policy and the policy's conditions; True when signed."""
    policy = fields.get("policy")
    if policy is None:
        return False
    if fields.get("ossaccesskeyid") != svc.auth.creds.access_key_id:
        raise errors.InvalidAccessKeyId(OSSAccessKeyId=fields.get("ossaccesskeyid", ""))
    expected = base64.b64encode(
        hmac.new(svc.auth.creds.access_key_secret.encode(), policy.encode(), hashlib.sha1).digest()
    ).decode()
    if not hmac.compare_digest(expected, fields.get("signature", "")):
        raise errors.SignatureDoesNotMatch("The policy signature does not match.")
    token = fields.get("x-oss-security-token")
    if token is not None and token != svc.auth.creds.security_token:
        raise errors.InvalidSecurityToken()
    try:
        _check_policy_document(json.loads(base64.b64decode(policy)), bucket, fields, key, size)
    except errors.OssError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError, IndexError):
        raise errors.InvalidPolicyDocument(
            "The policy must be base64 of a JSON object with an ISO 8601 'expiration' and a "
            "'conditions' list."
        ) from None
    return True


def _check_policy_document(doc: dict, bucket: str, fields: dict, key: str, size: int) -> None:
    expiry = datetime.strptime(doc["expiration"].replace("Z", "+0000"), "%Y-%m-%dT%H:%M:%S.%f%z")
    if expiry.timestamp() < time.time():
        raise errors.AccessDenied("Invalid according to Policy: Policy expired.")
    values = {"bucket": bucket, "key": key, **{k.lower(): v for k, v in fields.items()}}
    for cond in doc.get("conditions", []):
        if isinstance(cond, dict):
            cond = ["eq", "$" + next(iter(cond)), next(iter(cond.values()))] if cond else []
        if len(cond) == 3 and cond[0] == "content-length-range":
            if not int(cond[1]) <= size <= int(cond[2]):
                raise errors.EntityTooLarge(
                    f"The file is {size} bytes, outside the policy's content-length-range."
                )
        elif len(cond) == 3 and cond[0] in ("eq", "starts-with"):
            actual = values.get(str(cond[1]).lstrip("$").lower(), "")
            ok = actual == cond[2] if cond[0] == "eq" else actual.startswith(str(cond[2]))
            if not ok:
                raise errors.AccessDenied(
                    f"Invalid according to Policy: Policy Condition failed: {cond}."
                )


async def post_object(svc: OssService, req: OssRequest) -> Response:
    bucket = svc.buckets.get(req.bucket)
    boundary = _boundary(req.headers.get("content-type", ""))
    temp = svc.storage.new_temp_path()
    await req.body_to_file(temp, MAX_PUT_BYTES + (1 << 20))  # never inline: parsed via mmap
    try:
        with open(temp, "rb") as f:
            if os.fstat(f.fileno()).st_size == 0:
                raise errors.MalformedPOSTRequest("The form is empty.")
            with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
                fields, file_part = _parse_form(buf, boundary)
                if file_part is None:
                    raise errors.MalformedPOSTRequest(
                        "The form has no file field (it must be the last field)."
                    )
                start, end, filename, part_type = file_part
                key = check_object_key(fields.get("key", "").replace("${filename}", filename))
                signed = _check_policy(svc, req.bucket, fields, key, end - start)
                if not signed and bucket.acl != "public-read-write":
                    raise errors.AccessDenied(
                        "PostObject on a private bucket needs policy, OSSAccessKeyId and Signature."
                    )
                body_path = svc.storage.new_temp_path()
                digest = BodyDigest()
                with open(body_path, "wb") as out:
                    for offset in range(start, end, _CHUNK):
                        chunk = buf[offset : min(offset + _CHUNK, end)]
                        digest.update(chunk)
                        out.write(chunk)
    finally:
        temp.unlink(missing_ok=True)
    meta = {
        k.lower(): v
        for k, v in fields.items()
        if k.lower().startswith("x-oss-meta-") or k.lower() in STORED_HEADERS
    }
    ctype = fields.get("content-type") or part_type or "application/octet-stream"
    sclass = storage_class(fields.get("x-oss-storage-class"), bucket.storage_class)
    rec = svc.objects.commit(
        req.bucket,
        key,
        body_path,
        digest.size,
        digest.etag,
        digest.crc,
        ctype,
        meta,
        sclass,
        req.request_id,
        event="ObjectCreated:PostObject",
    )
    headers = [
        (b"etag", f'"{rec.etag}"'.encode()),
        (b"x-oss-hash-crc64ecma", str(rec.crc64).encode()),
    ]
    status = fields.get("success_action_status", "204")
    if status == "201":
        body = (
            element("Bucket", req.bucket)
            + element("Location", f"/{req.bucket}/{key}")
            + element("Key", key)
            + element("ETag", f'"{rec.etag}"')
        )
        return xml_response(document("PostResponse", body), 201, headers)
    return Response(200 if status == "200" else 204, headers)


HANDLERS = {"PostObject": post_object}
