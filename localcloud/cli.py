"""`localcloud serve`: run OSS (+ MNS, FC, CloudFlow when wired) on loopback until SIGTERM/SIGINT."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from localcloud import config as defaults
from localcloud.config import LocalCloudConfig
from localcloud.oss.faults import DEFAULT_KINDS, FaultConfig
from localcloud.oss.restore import parse_restore_seconds

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Wire-compatible local OSS / MNS / FC / CloudFlow on 127.0.0.1.",
)


@app.callback()
def _root() -> None:
    """localcloud: local cloud services for ossbatch (see docs/localcloud.md)."""


def _csv(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


Opt = typer.Option


@app.command()
def serve(
    data_dir: Annotated[
        Path, Opt("--data-dir", help="State directory (objects, SQLite); created if missing.")
    ],
    oss_port: Annotated[int, Opt(help="OSS listener port (0 = pick a free port).")] = 0,
    mns_port: Annotated[int, Opt(help="MNS listener port (0 = free port).")] = 0,
    fc_port: Annotated[int, Opt(help="FC API listener port (0 = free port).")] = 0,
    fnf_port: Annotated[int, Opt(help="CloudFlow (fnf) listener port (0 = free port).")] = 0,
    ram_port: Annotated[int, Opt(help="RAM API listener port (0 = free port).")] = 0,
    kms_port: Annotated[int, Opt(help="KMS (secrets) API listener port (0 = free port).")] = 0,
    admin_port: Annotated[
        int, Opt(help="Admin listener port: counters, faults (0 = free port).")
    ] = 0,
    access_key_id: Annotated[
        str, Opt(help="The one accepted AccessKey ID.")
    ] = defaults.DEFAULT_ACCESS_KEY_ID,
    access_key_secret: Annotated[str, Opt(help="Its secret.")] = defaults.DEFAULT_ACCESS_KEY_SECRET,
    security_token: Annotated[
        str, Opt(help="STS token accepted in x-oss-security-token (handed to FC handlers).")
    ] = defaults.DEFAULT_SECURITY_TOKEN,
    region: Annotated[
        str, Opt(help="Region (v4 signing scope, event ARNs).")
    ] = defaults.DEFAULT_REGION,
    account_id: Annotated[str, Opt(help="Account (owner) ID.")] = defaults.DEFAULT_ACCOUNT_ID,
    restore_seconds: Annotated[
        str,
        Opt(
            help="Restore durations: CLASS=SEC or CLASS.TIER=SEC, comma-separated, e.g. "
            "'Archive=1,ColdArchive=2,ColdArchive.Bulk=5,DeepColdArchive=3'. Defaults: Archive 2; "
            "ColdArchive Expedited 2, Standard 5, Bulk 10; DeepColdArchive Expedited/Standard 10, Bulk 20."
        ),
    ] = "",
    day_seconds: Annotated[
        float, Opt(help="Length of one restore 'Day' in seconds (scaled clock for Days expiry).")
    ] = 86400.0,
    latency_ms: Annotated[float, Opt(help="Latency added to every OSS request (ms).")] = 0.0,
    fault_rate: Annotated[
        float, Opt(help="Probability (0..1) that an OSS request fails with an injected fault.")
    ] = 0.0,
    fault_kinds: Annotated[
        str,
        Opt(
            help="Injected fault kinds: slowdown (503 SlowDown), internal (500 InternalError), "
            "reset (connection dropped mid-body, after the operation ran), damage (the request "
            "body's first byte arrives flipped; only when named)."
        ),
    ] = ",".join(DEFAULT_KINDS),
    fault_ops: Annotated[
        str,
        Opt(
            help="Only these operations get faults/latency, e.g. 'PutObject,CopyObject' (default: all)."
        ),
    ] = "",
    fault_seed: Annotated[
        int, Opt(help="Seed of the fault draws (each operation has its own stream).")
    ] = 0,
    stall_rate: Annotated[
        float, Opt(help="Probability (0..1) of an extra stall of --stall-ms.")
    ] = 0.0,
    stall_ms: Annotated[float, Opt(help="Length of a stall (ms).")] = 0.0,
    max_events: Annotated[
        int | None,
        Opt(help="Event-history limit per flow execution (default 5,000, CloudFlow's).", min=10),
    ] = None,
    resume_executions: Annotated[
        bool | None,
        Opt(
            "--resume-executions/--fail-interrupted",
            help="On start, resume executions a crash interrupted, or end them Failed "
            "(FnF.ExecutionInterrupted). Default: resume.",
        ),
    ] = None,
    enforce_ram: Annotated[
        bool,
        Opt(
            "--enforce-ram/--no-enforce-ram",
            help="Authorize every request signed with role (STS) credentials against the "
            "role's policies. --no-enforce-ram is for debugging only (docs/localcloud.md).",
        ),
    ] = True,
    fnf_start_execution_resource: Annotated[
        str,
        Opt(
            help="How RAM reads fnf:StartExecution's resource: 'all' (the API page: only "
            "Resource \"*\" grants it) or 'execution' (the execution-role guide's "
            "acs:fnf:*:<uid>:flows/<flow>/executions/*).",
        ),
    ] = "all",
    max_header_bytes: Annotated[
        int,
        Opt(
            help="Request line + headers above this many bytes get 431 (every listener).", min=1024
        ),
    ] = 64 * 1024,
    header_timeout: Annotated[
        float,
        Opt(help="Seconds a client has to send a request's headers (slow-loris guard).", min=0.05),
    ] = 10.0,
    flow_compat: Annotated[
        bool | None,
        Opt(
            "--flow-compat/--flow-strict",
            help="Where the CloudFlow docs leave behaviour open (FC result wrapped as Body or "
            "passed through, FC.<Name> or bare exception names, the input after a Catch "
            "without OutputConstructor), use the lenient reading. Default: strict.",
        ),
    ] = None,
    kms_disabled_key_reads: Annotated[
        str | None,
        Opt(
            help="What GetSecretValue does when the secret's customer master key is Disabled "
            "(the docs are silent): 'refuse' (Rejected.Disabled, as Decrypt; the default) or "
            "'allow' (read it anyway).",
        ),
    ] = None,
    log_level: Annotated[
        str, Opt(help="Log level of localcloud's own messages (stderr).")
    ] = "warning",
) -> None:
    """Serve until SIGTERM/SIGINT; prints one `LOCALCLOUD_READY {json}` line when every listener accepts."""
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    try:
        restore = parse_restore_seconds(restore_seconds)
        faults = FaultConfig(
            latency_ms=latency_ms,
            fault_rate=fault_rate,
            kinds=_csv(fault_kinds),
            stall_rate=stall_rate,
            stall_ms=stall_ms,
            ops=_csv(fault_ops),
            seed=fault_seed,
        ).validate()
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    if fnf_start_execution_resource not in ("all", "execution"):
        raise typer.BadParameter("--fnf-start-execution-resource must be 'all' or 'execution'")
    if kms_disabled_key_reads not in (None, "refuse", "allow"):
        raise typer.BadParameter("--kms-disabled-key-reads must be 'refuse' or 'allow'")
    if day_seconds <= 0:
        raise typer.BadParameter("--day-seconds must be > 0")
    cfg = LocalCloudConfig(
        data_dir=data_dir.resolve(),
        oss_port=oss_port,
        mns_port=mns_port,
        fc_port=fc_port,
        fnf_port=fnf_port,
        admin_port=admin_port,
        ram_port=ram_port,
        kms_port=kms_port,
        enforce_ram=enforce_ram,
        access_key_id=access_key_id,
        access_key_secret=access_key_secret,
        security_token=security_token,
        region=region,
        account_id=account_id,
        restore_seconds=restore,
        day_seconds=day_seconds,
        faults=faults,
        max_header_bytes=max_header_bytes,
        header_timeout_s=header_timeout,
        # unset flags leave the engine's env-var defaults (LOCALCLOUD_FLOW_*) in force
        options={
            k: v
            for k, v in (
                ("flow_max_events", max_events),
                ("flow_resume", resume_executions),
                ("fnf_start_execution_resource", fnf_start_execution_resource),
                ("flow_compat", flow_compat),
                ("kms_disabled_key_reads", kms_disabled_key_reads),
            )
            if v is not None
        },
    )
    from localcloud.server import serve as run

    raise typer.Exit(run(cfg))


@app.command("check-flows")
def check_flows() -> None:
    """Read [{"name", "definition"}, ...] (JSON) on stdin; print {name: [problems]} as JSON.

    Exit 0 when the strict engine would accept every definition as that flow, else 1.
    """
    import json
    import sys

    from localcloud.flow.check import problems_of

    try:
        flows = json.loads(sys.stdin.read())
        report = {item["name"]: problems_of(item["name"], item["definition"]) for item in flows}
    except (ValueError, KeyError, TypeError) as exc:
        raise typer.BadParameter(
            f"stdin must be a JSON list of {{name, definition}}: {exc}"
        ) from None
    print(json.dumps(report))
    raise typer.Exit(1 if any(report.values()) else 0)


def main() -> None:
    app()
