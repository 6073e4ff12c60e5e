"""Buckets: private ACL, public access blocked, encrypted, versioned/expiring as configured."""

from __future__ import annotations

import cdktf
from constructs import Construct

from infra.alicloud import (
    LifecycleExpiration,
    LifecycleRule,
    OssBucket,
    OssBucketAcl,
    OssBucketObject,
    OssBucketPublicAccessBlock,
    ServerSideEncryptionRule,
    Versioning,
)
from infra.package import OBJECT_PREFIX, CodePackage
from ossbatch.config import Environment
from ossbatch.deployment import Deployment

UNBUILT_KEY = OBJECT_PREFIX + "ossbatch-code-unbuilt.zip"


class Storage(Construct):
    def __init__(
        self, scope: Construct, id_: str, *, env: Environment, deployment: Deployment
    ) -> None:
        super().__init__(scope, id_)
        self.env = env
        self.role_bucket = {role: b.name for b in deployment.buckets for role in b.roles}
        self.buckets: dict[str, OssBucket] = {}
        for spec in deployment.buckets:
            if not spec.managed:
                continue  # an existing bucket: only granted access to, never created or destroyed
            rid = "bucket_" + spec.roles[0]
            bucket = OssBucket(
                self,
                rid,
                bucket=spec.name,
                storage_class=spec.storage_class,
                force_destroy=not env.deletion_protection,
                versioning=Versioning("Enabled") if spec.versioning else None,
                server_side_encryption_rule=ServerSideEncryptionRule(sse_algorithm="AES256"),
                lifecycle_rule=[
                    LifecycleRule(
                        id="expire-" + (rule.prefix.strip("/").replace("/", "-") or "all"),
                        prefix=rule.prefix,
                        enabled=True,
                        expiration=[LifecycleExpiration(days=rule.expiration_days)],
                    )
                    for rule in spec.lifecycle
                ],
                tags=env.tags,
                lifecycle=cdktf.TerraformResourceLifecycle(prevent_destroy=True)
                if env.deletion_protection
                else None,
            )
            OssBucketAcl(self, rid + "_acl", bucket=bucket.bucket, acl="private")
            OssBucketPublicAccessBlock(
                self, rid + "_public_access_block", bucket=bucket.bucket, block_public_access=True
            )
            self.buckets[spec.name] = bucket

    def bucket_name(self, role: str) -> str:
        """The bucket of a role: a reference when the stack manages it (orders creation)."""
        name = self.role_bucket[role]
        return self.buckets[name].bucket if name in self.buckets else name

    def managed(self, name: str) -> list[OssBucket]:
        """The bucket's resource when the stack creates it (to depend on), else nothing."""
        return [self.buckets[name]] if name in self.buckets else []

    def code_object(self, package: CodePackage | None) -> OssBucketObject:
        """The code zip in the artifacts bucket, keyed by content hash."""
        bucket = self.bucket_name("artifacts")
        if package is None:
            # synth works before `make package`; plan/deploy always build the package first
            return OssBucketObject(
                self,
                "code_package",
                bucket=bucket,
                key=UNBUILT_KEY,
                content="code package not built: run `make package`",
            )
        # an asset: cdktf copies the zip into the stack directory (self-contained, stable path)
        asset = cdktf.TerraformAsset(self, "code_zip", path=package.path, type=cdktf.AssetType.FILE)
        return OssBucketObject(
            self,
            "code_package",
            bucket=bucket,
            key=package.object_key,
            source=asset.path,
            content_md5=package.md5_base64,
            content_type="application/zip",
            server_side_encryption="AES256",
        )
