"""Raw OSS requests signed like oss2 (v1), for inputs oss2 refuses to send (hostile tests)."""

from __future__ import annotations

from urllib.parse import quote

import oss2
import requests


def signed_request(
    cloud,
    method: str,
    bucket: str,
    key: str = "",
    *,
    params: dict | None = None,
    headers: dict | None = None,
    data: bytes = b"",
    raw_path: str | None = None,
    timeout: float = 30,
) -> requests.Response:
    """Send method /bucket/key signed with the configured key; raw_path overrides the URL path."""
    params = dict(params or {})
    path = (
        raw_path
        if raw_path is not None
        else (f"/{bucket}/{quote(key, safe='')}" if bucket else "/")
    )
    url = cloud.oss_endpoint + path
    req = oss2.http.Request(method, url, data=data, params=params, headers=dict(headers or {}))
    oss2.Auth(cloud.access_key_id, cloud.access_key_secret)._sign_request(req, bucket, key)
    hdrs = {k: v for k, v in req.headers.items() if v is not None}
    return requests.request(method, url, params=params, headers=hdrs, data=data, timeout=timeout)


def error_code(resp: requests.Response) -> str:
    from xml.etree import ElementTree

    return ElementTree.fromstring(resp.content).findtext("Code")
