"""Helpers for handler tests: an FC 3.0-shaped context and localcloud admin counters."""

from __future__ import annotations

import json
import urllib.request
from types import SimpleNamespace


def fc_context(
    cloud, *, timeout: float = 300, request_id: str = "req-test", with_token: bool = True
):
    """What FC 3.0 hands a Python handler: request id, STS credentials, function, region."""
    return SimpleNamespace(
        request_id=request_id,
        credentials=SimpleNamespace(
            access_key_id=cloud.access_key_id,
            access_key_secret=cloud.access_key_secret,
            security_token=cloud.security_token if with_token else None,
        ),
        function=SimpleNamespace(name="ossbatch-test", memory=512, timeout=timeout),
        region=cloud.region,
        account_id=cloud.account_id,
    )


def oss_counters(cloud) -> dict:
    with urllib.request.urlopen(f"{cloud.admin_endpoint}/counters", timeout=10) as resp:
        return json.loads(resp.read()).get("oss", {})


def counter_delta(before: dict, after: dict) -> dict:
    return {
        k: after.get(k, 0) - before.get(k, 0) for k in after if after.get(k, 0) != before.get(k, 0)
    }


def read_report(bucket, key) -> list[dict]:
    return [json.loads(line) for line in bucket.get_object(key).read().decode().splitlines()]
