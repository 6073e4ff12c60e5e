"""Thin typed bindings for the alicloud resources the stack uses (provider aliyun/alicloud).

No prebuilt cdktf bindings exist and `cdktf get` needs the registry, so each
resource is a small `TerraformResource` subclass with typed arguments; see
docs/decisions/typed-thin-bindings.md. `infra/schema/alicloud-1.289.0.json`
holds the provider schema subset they are checked against.
"""

from infra.alicloud.base import (
    PROVIDER_SOURCE,
    PROVIDER_VERSION_CONSTRAINT,
    SCHEMA_VERSION,
    AlicloudResource,
    Block,
)
from infra.alicloud.fc import Fcv3Function, Fcv3Trigger, FunctionCode, FunctionLogConfig
from infra.alicloud.oss import (
    AbortMultipartUpload,
    LifecycleExpiration,
    LifecycleRule,
    OssBucket,
    OssBucketAcl,
    OssBucketObject,
    OssBucketPublicAccessBlock,
    ServerSideEncryptionRule,
    Versioning,
)
from infra.alicloud.provider import AlicloudProvider
from infra.alicloud.ram import RamPolicy, RamRole, RamRolePolicyAttachment
from infra.alicloud.services import (
    AccountData,
    DlqPolicy,
    FnfFlow,
    LogProject,
    LogStore,
    MessageServiceQueue,
)

__all__ = [
    "PROVIDER_SOURCE",
    "PROVIDER_VERSION_CONSTRAINT",
    "SCHEMA_VERSION",
    "AbortMultipartUpload",
    "AccountData",
    "AlicloudProvider",
    "AlicloudResource",
    "Block",
    "DlqPolicy",
    "Fcv3Function",
    "Fcv3Trigger",
    "FnfFlow",
    "FunctionCode",
    "FunctionLogConfig",
    "LifecycleExpiration",
    "LifecycleRule",
    "LogProject",
    "LogStore",
    "MessageServiceQueue",
    "OssBucket",
    "OssBucketAcl",
    "OssBucketObject",
    "OssBucketPublicAccessBlock",
    "RamPolicy",
    "RamRole",
    "RamRolePolicyAttachment",
    "ServerSideEncryptionRule",
    "Versioning",
]
