"""`ossbatch local up/down/status`: localcloud in the background, provisioned like the cloud."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from ossbatch import cloud, localproc, output, preflight
from ossbatch.cloud import ConfigError
from ossbatch.output import handles_errors

app = typer.Typer(help="Run the whole stack on this machine (localcloud).", no_args_is_help=True)

DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir", help="localcloud state directory (default: from environments/local.yaml)"
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="machine-readable output")]


def _local_env(ctx: typer.Context):
    name = (ctx.obj or {}).get("env") or "local"
    env = preflight.environment(name)
    if env.localcloud is None:
        raise ConfigError(f"environment {env.name!r} has no localcloud section; use --env local")
    return env


def _data_dir(env, data_dir: Path | None, ctx: typer.Context | None = None) -> Path:
    parent = (ctx.find_root().obj or {}).get("data_dir") if ctx else None
    return preflight.data_dir(Path(data_dir or parent or env.localcloud.data_dir).resolve())


def localcloud_options(env) -> list[str]:
    lc = env.localcloud
    opts = [
        "--region",
        env.region,
        "--account-id",
        env.account_id or "1000000000000001",
        "--oss-port",
        str(lc.ports.oss),
        "--mns-port",
        str(lc.ports.mns),
        "--fc-port",
        str(lc.ports.fc),
        "--fnf-port",
        str(lc.ports.fnf),
        "--admin-port",
        str(lc.ports.admin),
        "--ram-port",
        str(lc.ports.ram),
        "--kms-port",
        str(lc.ports.kms),
    ]
    if lc.restore_seconds:
        pairs = ",".join(f"{k}={v:g}" for k, v in lc.restore_seconds.items())
        opts += ["--restore-seconds", pairs]
    return opts


def bring_up(env, data_dir: Path, extra: list[str] | None = None) -> dict:
    """Start (or find) localcloud for data_dir, provision env, write and return the state."""
    from ossbatch import provision

    state_file = cloud.state_path(data_dir)
    if state_file.exists():
        state = cloud.read_state(data_dir)
        if localproc.running(state):
            # converge: what changed in the environment file since is created or updated
            state["names"] = provision.resource_names(env)
            state["settings"] = {"report_prefix": env.report_prefix}
            state["provisioned"] = provision.provision(env, cloud.from_local_state(state))
            cloud.write_state(state, data_dir)
            return state
        # kill -9, a reaped or zombie process, or a hung one: stop what is left, start afresh
        pid = int(state["localcloud"].get("pid", 0))
        if localproc.serves(pid, data_dir):
            localproc.terminate(pid, timeout=5.0)
    options = localcloud_options(env) + list(extra or [])
    started = time.monotonic()
    info = localproc.spawn(data_dir, options)
    state = {
        "environment": env.name,
        "data_dir": str(data_dir),
        "localcloud": info,
        "options": options,
        "names": provision.resource_names(env),
        "settings": {"report_prefix": env.report_prefix},
    }
    cloud.write_state(
        state, data_dir
    )  # written first: `local down` can stop a half-provisioned cloud
    conn = cloud.from_local_state(state)
    state["provisioned"] = provision.provision(env, conn)
    state["started_in_s"] = round(time.monotonic() - started, 2)
    cloud.write_state(state, data_dir)
    return state


def bring_down(data_dir: Path) -> bool:
    path = cloud.state_path(data_dir)
    if not path.exists():
        return False
    state = cloud.read_state(data_dir)
    was_running = localproc.terminate(int(state["localcloud"].get("pid", 0)))
    path.unlink(missing_ok=True)
    return was_running


@app.command(
    "up",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
@handles_errors
def up(
    ctx: typer.Context,
    data_dir: DataDirOption = None,
    json_out: JsonOption = False,
):
    """Start localcloud in the background and provision environments/local.yaml.

    Extra options after `--` go to `localcloud serve` (latency, faults, restore times).
    """
    env = _local_env(ctx)
    state = bring_up(env, _data_dir(env, data_dir, ctx), ctx.args)
    conn = cloud.from_local_state(state)
    output.emit(
        {"status": "running", "data_dir": state["data_dir"], **conn.public()},
        json_out,
        title="localcloud is up",
    )


@app.command("down")
@handles_errors
def down(ctx: typer.Context, data_dir: DataDirOption = None, json_out: JsonOption = False):
    """Stop the background localcloud (its data stays in the data dir)."""
    env = _local_env(ctx)
    directory = _data_dir(env, data_dir, ctx)
    stopped = bring_down(directory)
    output.emit(
        {"status": "stopped" if stopped else "not running", "data_dir": str(directory)},
        json_out,
        title="localcloud",
    )


@app.command("status")
@handles_errors
def status(ctx: typer.Context, data_dir: DataDirOption = None, json_out: JsonOption = False):
    """Endpoints, credentials, bucket and queue names of the running localcloud."""
    env = _local_env(ctx)
    directory = _data_dir(env, data_dir, ctx)
    state = cloud.read_state(directory)
    alive = localproc.running(state)
    conn = cloud.from_local_state(state)
    doc = {
        "status": "running" if alive else "dead",
        "data_dir": str(directory),
        **conn.public(),
        # the admin listener (counters, faults, clock) wants this token: see docs/localcloud.md
        "admin_token": state["localcloud"].get("admin_token", ""),
    }
    output.emit(doc, json_out, title="localcloud")
    if not alive:
        raise typer.Exit(1)
