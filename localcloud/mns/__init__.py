"""Local MNS: queues over the MNS data-plane wire protocol (aliyun-mns-sdk works against it).

`service` holds the queue semantics (SQLite-backed), `api` the HTTP routing and XML.
"""

from .service import MnsService


def build(ctx):
    """Service factory for localcloud.server: (MnsService, ASGI app of the MNS data plane)."""
    from .api import build_app

    cfg = ctx.config
    service = MnsService(cfg.data_dir, region=cfg.region, account_id=cfg.account_id)
    ram = getattr(ctx, "services", {}).get("ram")
    return service, build_app(service, ctx.credentials, ram=ram)


__all__ = ["MnsService", "build"]
