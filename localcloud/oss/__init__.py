"""OSS emulator: `build(ctx)` returns the OssService and its ASGI app (see localcloud/server.py)."""

from __future__ import annotations

from .auth import Credentials
from .faults import FaultConfig
from .notifications import NotificationHub
from .service import OssConfig, OssService

__all__ = ["Credentials", "FaultConfig", "NotificationHub", "OssConfig", "OssService", "build"]


def build(ctx):
    """Service factory for localcloud.server: (OssService, ASGI app) from the shared context."""
    from .app import OssApp

    cfg = ctx.config
    service = OssService(
        OssConfig(
            data_dir=cfg.data_dir / "oss",
            credentials=Credentials(
                cfg.access_key_id, cfg.access_key_secret, cfg.security_token, cfg.region
            ),
            account_id=cfg.account_id,
            restore_seconds=cfg.restore_seconds,
            day_seconds=cfg.day_seconds,
            faults=cfg.faults,
        )
    )
    ram = getattr(ctx, "services", {}).get("ram")
    if ram is not None:  # role (STS) credentials are authorized by localcloud's RAM
        from localcloud.ram.oss_access import RoleAwareAuthenticator

        service.auth = RoleAwareAuthenticator(service.auth, ram.sessions, cfg.account_id)
        service.ram = ram  # inventories are written through their RoleArn (inventory_run.py)
    return service, OssApp(service)
