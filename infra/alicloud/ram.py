"""RAM bindings: role, custom policy, role-policy attachment."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from constructs import Construct

from infra.alicloud.base import AlicloudResource


class RamRole(AlicloudResource):
    TERRAFORM_TYPE = "alicloud_ram_role"

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        role_name: str,
        assume_role_policy_document: str,
        description: str | None = None,
        max_session_duration: int | None = None,
        force: bool | None = None,
        tags: Mapping[str, str] | None = None,
        **meta,
    ) -> None:
        super().__init__(scope, id_, **meta)
        self._set_arguments(
            role_name=role_name,
            assume_role_policy_document=assume_role_policy_document,
            description=description,
            max_session_duration=max_session_duration,
            force=force,
            tags=dict(tags) if tags else None,
        )

    @property
    def arn(self) -> str:
        return self.attribute("arn")

    @property
    def name(self) -> str:
        return self.attribute("role_name")


class RamPolicy(AlicloudResource):
    TERRAFORM_TYPE = "alicloud_ram_policy"

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        policy_name: str,
        policy_document: str,
        description: str | None = None,
        force: bool | None = None,
        rotate_strategy: Literal["None", "DeleteOldestNonDefaultVersionWhenLimitExceeded"]
        | None = None,
        tags: Mapping[str, str] | None = None,
        **meta,
    ) -> None:
        super().__init__(scope, id_, **meta)
        self._set_arguments(
            policy_name=policy_name,
            policy_document=policy_document,
            description=description,
            force=force,
            rotate_strategy=rotate_strategy,
            tags=dict(tags) if tags else None,
        )

    @property
    def name(self) -> str:
        return self.attribute("policy_name")


class RamRolePolicyAttachment(AlicloudResource):
    TERRAFORM_TYPE = "alicloud_ram_role_policy_attachment"

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        policy_name: str,
        policy_type: Literal["Custom", "System"],
        role_name: str,
        **meta,
    ) -> None:
        super().__init__(scope, id_, **meta)
        self._set_arguments(policy_name=policy_name, policy_type=policy_type, role_name=role_name)
