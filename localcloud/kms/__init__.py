"""Local KMS: the Secrets Manager part of KMS 2016-01-20 (CreateSecret, PutSecretValue,
GetSecretValue) that the unzip function reads its password from (docs/localcloud-kms.md).

`secrets` holds the semantics (SQLite-backed), `api` the RPC wire, ACS4 signature and RAM.
"""

from .secrets import SecretStore


def build(ctx):
    """Service factory for localcloud.server: (SecretStore, ASGI app of the KMS API)."""
    from .api import create_app

    cfg = ctx.config
    store = SecretStore(cfg.data_dir / "kms.sqlite", cfg.region, cfg.account_id)
    ram = getattr(ctx, "services", {}).get("ram")
    return store, create_app(store, ctx.credentials, ram=ram)


__all__ = ["SecretStore", "build"]
