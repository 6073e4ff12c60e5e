"""Local RAM: roles, custom policies, STS sessions of roles, and the policy evaluator every
other localcloud service authorizes role-signed requests with (docs/localcloud-ram.md)."""

from __future__ import annotations

from .policy import Decision, PolicyDocument, parse_policy
from .service import RamService
from .sessions import AssumeRoleError, Denial, RoleSession

__all__ = [
    "AssumeRoleError",
    "Decision",
    "Denial",
    "PolicyDocument",
    "RamService",
    "RoleSession",
    "build",
    "parse_policy",
]


def build(ctx):
    """Service factory for localcloud.server: (RamService, ASGI app of the RAM API)."""
    from .api import create_app

    cfg = ctx.config
    options = getattr(cfg, "options", {}) or {}
    ram = RamService(
        cfg.data_dir / "ram",
        cfg.account_id,
        enforce=cfg.enforce_ram,
        fnf_start_execution_reading=options.get("fnf_start_execution_resource", "all"),
    )
    return ram, create_app(ram, ctx.credentials)
