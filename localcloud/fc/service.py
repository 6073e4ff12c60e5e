"""Plugging the FC runtime into `localcloud serve` (see localcloud.server)."""

from __future__ import annotations

import os

from .api import build_app
from .runtime import FcRuntime


def _option(options: dict, name: str, cast, default):
    """config.options["fc_<name>"], else env LOCALCLOUD_FC_<NAME>, else the default."""
    value = options.get(f"fc_{name}")
    if value is None:
        value = os.environ.get(f"LOCALCLOUD_FC_{name.upper()}")
    return default if value in (None, "") else cast(value)


def build(ctx):
    """(FcRuntime, ASGI app of the FC 3.0 API); OSS triggers use ctx.oss.notifications."""
    cfg = ctx.config
    options = getattr(cfg, "options", {}) or {}
    oss = ctx.services.get("oss")
    runtime = FcRuntime(
        notifications=getattr(oss, "notifications", None),
        credentials=ctx.credentials,
        region=cfg.region,
        account_id=cfg.account_id,
        data_dir=cfg.data_dir,
        code_root=_option(options, "code_root", str, None),
        default_concurrency=_option(options, "default_concurrency", int, 32),
        idle_instance_seconds=_option(options, "idle_instance_seconds", float, 300.0),
        async_retry_base_delay=_option(options, "async_retry_base_delay", float, 0.5),
        ram=ctx.services.get("ram"),
    )
    app = build_app(runtime, ctx.credentials, ram=ctx.services.get("ram"))
    runtime.close_hooks.append(app.state.fc_api.close)
    return runtime, app
