"""RAM clients and documents for tests: the real alibabacloud-ram20150501 SDK against localcloud."""

from __future__ import annotations

import json

from alibabacloud_ram20150501.client import Client as RamClient
from alibabacloud_tea_openapi import models as open_api_models


def ram_client(cloud, access_key_id=None, secret=None, token=None) -> RamClient:
    config = open_api_models.Config(
        access_key_id=access_key_id or cloud.access_key_id,
        access_key_secret=secret or cloud.access_key_secret,
        security_token=token,
        endpoint=cloud.ram_endpoint.removeprefix("http://"),
        protocol="http",
        region_id=cloud.region,
    )
    return RamClient(config)


def trust(*services: str) -> str:
    return json.dumps(
        {
            "Version": "1",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "sts:AssumeRole",
                    "Principal": {"Service": list(services)},
                }
            ],
        }
    )


def policy(*statements: dict) -> str:
    return json.dumps({"Version": "1", "Statement": list(statements)})


def allow(actions, resources) -> dict:
    return {"Effect": "Allow", "Action": actions, "Resource": resources}


def deny(actions, resources) -> dict:
    return {"Effect": "Deny", "Action": actions, "Resource": resources}
