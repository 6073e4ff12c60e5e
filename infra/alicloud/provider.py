"""`provider "alicloud"` binding (source aliyun/alicloud, pinned by constraint)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import cdktf
from constructs import Construct

from infra.alicloud.base import (
    GENERATOR_METADATA,
    PROVIDER_NAME,
    PROVIDER_SOURCE,
    to_hcl_descriptor,
)


class AlicloudProvider(cdktf.TerraformProvider):
    """Credentials are never configured here: the provider reads the environment or a profile."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        region: str,
        profile: str | None = None,
        alias: str | None = None,
    ) -> None:
        super().__init__(
            scope,
            id_,
            terraform_resource_type=PROVIDER_NAME,
            terraform_provider_source=PROVIDER_SOURCE,
            terraform_generator_metadata=GENERATOR_METADATA,
        )
        self._arguments = {"region": region, "profile": profile, "alias": alias}

    def _synthesize_attributes(self) -> Mapping[str, Any]:
        return {k: v for k, v in self._arguments.items() if v is not None}

    def _synthesize_hcl_attributes(self) -> Mapping[str, Any]:
        return {k: to_hcl_descriptor(v) for k, v in self._arguments.items() if v is not None}
