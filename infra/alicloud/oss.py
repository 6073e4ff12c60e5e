"""OSS bindings: bucket, bucket ACL, public access block, bucket object."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from constructs import Construct

from infra.alicloud.base import AlicloudResource, Block

StorageClass = Literal["Standard", "IA", "Archive", "ColdArchive", "DeepColdArchive"]


@dataclass(frozen=True)
class Versioning(Block):
    status: Literal["Enabled", "Suspended"]


@dataclass(frozen=True)
class ServerSideEncryptionRule(Block):
    sse_algorithm: Literal["AES256", "KMS", "SM4"]
    kms_master_key_id: str | None = None


@dataclass(frozen=True)
class LifecycleExpiration(Block):
    days: int | None = None
    date: str | None = None


@dataclass(frozen=True)
class AbortMultipartUpload(Block):
    days: int


@dataclass(frozen=True)
class LifecycleRule(Block):
    enabled: bool
    id: str | None = None
    prefix: str | None = None
    expiration: Sequence[LifecycleExpiration] | None = None
    abort_multipart_upload: Sequence[AbortMultipartUpload] | None = None


class OssBucket(AlicloudResource):
    TERRAFORM_TYPE = "alicloud_oss_bucket"

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        bucket: str,
        storage_class: StorageClass | None = None,
        force_destroy: bool | None = None,
        versioning: Versioning | None = None,
        server_side_encryption_rule: ServerSideEncryptionRule | None = None,
        lifecycle_rule: Sequence[LifecycleRule] = (),
        tags: Mapping[str, str] | None = None,
        **meta,
    ) -> None:
        super().__init__(scope, id_, **meta)
        self._set_arguments(
            bucket=bucket,
            storage_class=storage_class,
            force_destroy=force_destroy,
            versioning=versioning,
            server_side_encryption_rule=server_side_encryption_rule,
            lifecycle_rule=list(lifecycle_rule),
            tags=dict(tags) if tags else None,
        )

    @property
    def bucket(self) -> str:
        return self.attribute("bucket")


class OssBucketAcl(AlicloudResource):
    TERRAFORM_TYPE = "alicloud_oss_bucket_acl"

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        bucket: str,
        acl: Literal["private", "public-read", "public-read-write"],
        **meta,
    ) -> None:
        super().__init__(scope, id_, **meta)
        self._set_arguments(bucket=bucket, acl=acl)


class OssBucketPublicAccessBlock(AlicloudResource):
    TERRAFORM_TYPE = "alicloud_oss_bucket_public_access_block"

    def __init__(
        self, scope: Construct, id_: str, *, bucket: str, block_public_access: bool, **meta
    ) -> None:
        super().__init__(scope, id_, **meta)
        self._set_arguments(bucket=bucket, block_public_access=block_public_access)


class OssBucketObject(AlicloudResource):
    TERRAFORM_TYPE = "alicloud_oss_bucket_object"

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        bucket: str,
        key: str,
        source: str | None = None,
        content: str | None = None,
        content_md5: str | None = None,
        content_type: str | None = None,
        acl: Literal["private", "public-read", "public-read-write"] | None = None,
        server_side_encryption: Literal["AES256", "KMS"] | None = None,
        **meta,
    ) -> None:
        super().__init__(scope, id_, **meta)
        if (source is None) == (content is None):
            raise ValueError(f"{id_}: give exactly one of source= or content=")
        self._set_arguments(
            bucket=bucket,
            key=key,
            source=source,
            content=content,
            content_md5=content_md5,
            content_type=content_type,
            acl=acl,
            server_side_encryption=server_side_encryption,
        )
