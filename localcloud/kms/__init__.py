"""Local KMS: the Secrets Manager part of KMS 2016-01-20 (CreateSecret, PutSecretValue,
GetSecretValue) that the unzip function reads its password from, and the customer master
keys that protect secrets (CreateKey, DescribeKey, EnableKey, DisableKey,
ScheduleKeyDeletion, CancelKeyDeletion;
docs/localcloud-kms.md).

`secrets` and `keys` hold the semantics (SQLite-backed), `actions` what each request needs
from RAM and does, `api` the RPC wire, signatures and RAM, `service` the whole.

Settings: config.options["kms_disabled_key_reads"] (or env LOCALCLOUD_KMS_DISABLED_KEY_READS):
"refuse" (default) or "allow", what GetSecretValue does when the secret's key is not Enabled.
"""

from .keys import KeyStore
from .secrets import SecretStore
from .service import KmsService, disabled_key_reads


def build(ctx):
    """Service factory for localcloud.server: (KmsService, ASGI app of the KMS API)."""
    from .api import create_app

    cfg = ctx.config
    options = getattr(cfg, "options", {}) or {}
    kms = KmsService(
        cfg.data_dir, cfg.region, cfg.account_id, disabled_key_reads=disabled_key_reads(options)
    )
    ram = getattr(ctx, "services", {}).get("ram")
    return kms, create_app(kms, ctx.credentials, ram=ram)


__all__ = ["KeyStore", "KmsService", "SecretStore", "build"]
