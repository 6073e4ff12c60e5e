"""Local CloudFlow (Serverless Workflow) engine: parser, evaluator, SQLite store, fnf API.

See docs/localcloud-flow.md for the supported subset of the CloudFlow spec.
"""

from __future__ import annotations

import os

from .engine import FlowEngine
from .errors import FlowDefinitionError, FlowError
from .parser import parse_flow

__all__ = ["FlowEngine", "FlowDefinitionError", "FlowError", "build", "parse_flow"]

DEFAULT_MAX_EVENTS = 5000


def build(ctx):
    """Service factory for localcloud.server: (FlowEngine, ASGI app of the fnf API).

    Settings: config.options["flow_max_events"] (or env LOCALCLOUD_FLOW_MAX_EVENTS),
    config.options["flow_compat"] (or env LOCALCLOUD_FLOW_COMPAT=1: the other reading of
    what the CloudFlow docs leave open, docs/decisions/flow-compat.md),
    config.options["flow_resume"] (or env LOCALCLOUD_FLOW_RESUME=0 to fail interrupted
    executions with FnF.ExecutionInterrupted instead of resuming them).
    """
    from .api import create_app

    cfg = ctx.config
    options = getattr(cfg, "options", {}) or {}
    max_events = int(
        options.get("flow_max_events")
        or os.environ.get("LOCALCLOUD_FLOW_MAX_EVENTS")
        or DEFAULT_MAX_EVENTS
    )
    compat = options.get("flow_compat")
    if compat is None:
        compat = os.environ.get("LOCALCLOUD_FLOW_COMPAT", "0") in ("1", "true", "yes")
    resume = options.get("flow_resume")
    if resume is None:
        resume = os.environ.get("LOCALCLOUD_FLOW_RESUME", "1") not in ("0", "false", "no")
    services = getattr(ctx, "services", {})
    engine = FlowEngine(
        fc=services.get("fc"),
        mns=services.get("mns"),
        data_dir=cfg.data_dir,
        account_id=cfg.account_id,
        region=cfg.region,
        max_events=max_events,
        resume_unfinished=bool(resume),
        start=False,  # resumed executions must see the role-guarded integrations
        compat=bool(compat),
    )
    ram = services.get("ram")
    if ram is not None:  # tasks act with the flow's role (localcloud/ram/flow_access.py)
        from localcloud.ram.flow_access import guard_integrations

        engine.integrations = guard_integrations(
            engine.integrations, ram, cfg.region, cfg.account_id
        )
    engine.start()
    app = create_app(engine, cfg.access_key_id, cfg.access_key_secret, cfg.security_token, ram=ram)
    return engine, app
