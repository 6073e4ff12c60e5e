"""`ossbatch`: start, watch, resume, stop and audit batch jobs, in the cloud or on localcloud.

Exit codes (docs/operations.md): 0 success, 1 a job finished with failed items above
tolerance (or failed, or --wait timed out), 2 usage or configuration error (nothing was
started), 3 localcloud / the cloud endpoint is unreachable, 70 a bug. Every command takes
`--json` (also before the command: `ossbatch --json jobs list`); with it errors are one JSON
object on stderr: {"error", "detail", "exit_code"}.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from ossbatch import cloud, local, localproc, output, preflight
from ossbatch.cloud import ConfigError
from ossbatch.jobdocs import MAX_SHARDS
from ossbatch.output import EXIT_FAILED_ITEMS, EXIT_USAGE, handles_errors

app = typer.Typer(
    name="ossbatch",
    help="Massive batch jobs over OSS (copy, restore, unzip) on CloudFlow + FC, or on localcloud.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    cls=output.OneLineErrors,
)
copy_app = typer.Typer(
    help="Copy/convert objects (e.g. Standard -> Archive).", no_args_is_help=True
)
restore_app = typer.Typer(help="Restore archived objects.", no_args_is_help=True)
jobs_app = typer.Typer(help="Follow, resume, stop and audit jobs.", no_args_is_help=True)
unzip_app = typer.Typer(help="Extraction runs started by .zip uploads.", no_args_is_help=True)
flows_app = typer.Typer(help="The CloudFlow definitions as deployed.", no_args_is_help=True)
app.add_typer(copy_app, name="copy")
app.add_typer(restore_app, name="restore")
app.add_typer(jobs_app, name="jobs")
app.add_typer(unzip_app, name="unzip")
app.add_typer(local.app, name="local")
app.add_typer(flows_app, name="flows")

JsonOption = Annotated[bool, typer.Option("--json", help="machine-readable output")]
ConcurrencyOption = Annotated[
    int | None,
    typer.Option(
        help=f"shards worked in parallel, 1..{MAX_SHARDS} (CloudFlow's inline Map limit)",
    ),
]

# options copy and restore share: one definition each, one help text
InventoryPlusIsSpaceOption = Annotated[
    bool,
    typer.Option(
        "--inventory-plus-is-space",
        help="the inventory's Keys are form-encoded ('+' is a space); default: RFC 3986",
    ),
]
TolerateOption = Annotated[
    int, typer.Option(min=0, help="failed items tolerated before exit code 1")
]
NotifyQueueOption = Annotated[str, typer.Option(help="MNS queue to tell when the job finished")]
IncludeOption = Annotated[
    list[str] | None, typer.Option(help="rclone-style glob of keys to take (repeatable)")
]
ExcludeOption = Annotated[
    list[str] | None, typer.Option(help="rclone-style glob of keys to leave (repeatable)")
]
OnlyClassOption = Annotated[
    list[str] | None, typer.Option(help="only objects in this storage class (repeatable)")
]
ModifiedAfterOption = Annotated[
    str | None, typer.Option(help="only objects last modified at/after (ISO 8601)")
]
ModifiedBeforeOption = Annotated[
    str | None, typer.Option(help="only objects last modified before (ISO 8601)")
]
MinSizeOption = Annotated[int | None, typer.Option(min=0, help="only objects of >= bytes")]
MaxSizeOption = Annotated[int | None, typer.Option(min=0, help="only objects of <= bytes")]
KeyRegexOption = Annotated[
    str | None, typer.Option(help="only keys a Python regex finds a match in")
]
DryRunOption = Annotated[
    bool, typer.Option("--dry-run", help="print what the job would do and cost; change nothing")
]
MaxQpsOption = Annotated[
    int | None,
    typer.Option(
        min=1,
        max=100_000,
        help="OSS requests per second for the whole job (default: environment's requests.max_qps)",
    ),
]
MaxItemsPerPageOption = Annotated[int | None, typer.Option(hidden=True)]
EventLimitOption = Annotated[
    int, typer.Option(hidden=True, help="CloudFlow's per-execution event limit")
]
WaitOption = Annotated[bool, typer.Option("--wait", help="watch until the job finishes")]
TimeoutOption = Annotated[float | None, typer.Option(hidden=True)]


@app.callback()
def main(
    ctx: typer.Context,
    env: Annotated[
        str,
        typer.Option(
            "--env",
            envvar="OSSBATCH_ENV",
            help="environment name or file (environments/<name>.yaml)",
        ),
    ] = "local",
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir", envvar="OSSBATCH_DATA_DIR", help="localcloud data dir (local env)"
        ),
    ] = None,
):
    ctx.obj = {"env": env, "data_dir": data_dir}


def environment(ctx: typer.Context):
    """The selected environment file, read and validated (no network)."""
    return preflight.environment((ctx.find_root().obj or {}).get("env") or "local")


def connect(ctx: typer.Context, env=None):
    """(environment, Connection) for the selected environment."""
    from ossbatch import provision

    obj = ctx.find_root().obj or {}
    env = env or environment(ctx)
    if env.localcloud is not None:
        data_dir = preflight.data_dir(obj.get("data_dir") or env.localcloud.data_dir)
        state = cloud.read_state(data_dir)
        localproc.check_answers(state, data_dir)
        return env, cloud.from_local_state(state)
    account_id = env.account_id or os.environ.get("OSSBATCH_ACCOUNT_ID")
    if not account_id:
        raise ConfigError(
            f"environment {env.name!r} has no account_id (needed for ARNs and the MNS "
            "endpoint); add account_id to its file or set OSSBATCH_ACCOUNT_ID"
        )
    return env, cloud.from_cloud_environment(
        provision.resource_names(env), env.region, account_id, {"report_prefix": env.report_prefix}
    )


def _check_notify_queue(env, queue: str) -> None:
    """Refuse before work starts a queue the deployment grants no role to send to."""
    from ossbatch.deployment import notify_queue_refusal

    refusal = notify_queue_refusal(env, queue)
    if refusal:
        raise ConfigError(refusal)


def _finish(statuses, as_json: bool, extra: dict | None = None) -> None:
    """Print the final statuses and exit 1 if any job failed or has too many failed items."""
    docs = [st.as_dict() for st in statuses]
    if as_json:
        doc = docs[0] if len(docs) == 1 else docs
        if extra and isinstance(doc, dict):
            doc = {**doc, **extra}
        output.emit(doc if isinstance(doc, dict) else {"jobs": doc}, True)
    else:
        for d in docs:
            output.emit(d, False, title=f"job {d['job_id']}")
    if any(st.state != "succeeded" or st.over_tolerance for st in statuses):
        raise typer.Exit(EXIT_FAILED_ITEMS)


def _emit_dry_run(conn, env, kind: str, doc: dict, as_json: bool, tier: str | None = None):
    from ossbatch.dryrun import dry_run
    from ossbatch.listprices import describe

    result = dry_run(conn, env, kind, doc, tier=tier)
    if as_json:
        output.emit(result, True)
        return
    prices = result.pop("prices")
    output.emit(result, False, title=f"{kind} dry run")
    output.emit_lines([describe(name, entry) for name, entry in prices.items()], title="prices")


def _start_and_maybe_wait(
    ctx, conn, kind: str, doc: dict, wait: bool, as_json: bool, timeout: float | None = None
) -> None:
    from ossbatch.jobs import Jobs
    from ossbatch.watch import Watcher

    jobs = Jobs(conn)
    job_id = jobs.start(kind, doc)
    if not wait:
        output.emit(
            {
                "job_id": job_id,
                "flow": conn.flow_name(kind),
                "shards": len(doc.get("shards", [])),
                "pages_per_execution": doc["settings"]["pages_per_execution"],
                "state": "started",
            },
            as_json,
            title=f"{kind} job started",
        )
        return
    if as_json:
        st = jobs.wait(job_id, interval=1.0, timeout=timeout)
    else:
        st = Watcher(jobs, [job_id], interval=1.0).run(output.console, timeout=timeout)[job_id]
    _finish([st], as_json)


@copy_app.command("start")
@handles_errors
def copy_start(
    ctx: typer.Context,
    dest: Annotated[str, typer.Option(help="oss://bucket/prefix/ to copy into")],
    index: Annotated[
        str | None, typer.Option(help="oss://bucket/key of an index (CSV bucket,key or JSONL)")
    ] = None,
    source: Annotated[
        str | None, typer.Option(help="oss://bucket/prefix/ to list instead of an index")
    ] = None,
    inventory: Annotated[
        str | None,
        typer.Option(
            help="oss://bucket/.../manifest.json of an OSS bucket inventory (CSV) to copy "
            "instead of listing; --source then only narrows it to a prefix"
        ),
    ] = None,
    inventory_plus_is_space: InventoryPlusIsSpaceOption = False,
    storage_class: Annotated[
        str | None, typer.Option(help="target class (default: environment's)")
    ] = None,
    tags: Annotated[
        str, typer.Option(help="set these tags on every copy instead of the source's: k=v,k2=v2")
    ] = "",
    tags_directive: Annotated[
        str | None,
        typer.Option(help="Copy (default: keep the source's tags) or Replace (only --tags)"),
    ] = None,
    concurrency: ConcurrencyOption = None,
    page_seconds: Annotated[
        float | None, typer.Option(help="time budget of one copy invocation (seconds)")
    ] = None,
    allow_nested: Annotated[
        bool,
        typer.Option(
            "--allow-nested",
            help="allow --dest inside --source (the destination prefix is left out of the listing)",
        ),
    ] = False,
    tolerate: TolerateOption = 0,
    notify_queue: NotifyQueueOption = "",
    include: IncludeOption = None,
    exclude: ExcludeOption = None,
    only_class: OnlyClassOption = None,
    modified_after: ModifiedAfterOption = None,
    modified_before: ModifiedBeforeOption = None,
    min_size: MinSizeOption = None,
    max_size: MaxSizeOption = None,
    key_regex: KeyRegexOption = None,
    dry_run: DryRunOption = False,
    max_qps: MaxQpsOption = None,
    max_items_per_page: MaxItemsPerPageOption = None,
    event_limit: EventLimitOption = 5000,
    wait: WaitOption = False,
    timeout: TimeoutOption = None,
    json_out: JsonOption = False,
):
    """Copy the objects of an index or a prefix listing to --dest (optionally changing class)."""
    from ossbatch import jobdocs, jobfilters
    from ossbatch.jobs import new_job_id

    preflight.exactly_one_source(index, source, inventory)
    target = preflight.oss_url(dest, "--dest")
    index_url = preflight.oss_url(index, "--index", object_key=True)
    source_url = preflight.oss_url(source, "--source")
    inventory_url = preflight.oss_url(inventory, "--inventory", object_key=True)
    klass = preflight.storage_class(storage_class) if storage_class else None
    tag_set, directive = preflight.tags(tags, tags_directive)
    env = environment(ctx)
    _check_notify_queue(env, notify_queue)
    settings = env.copy_job
    shards, budget = _tuning(settings, concurrency, page_seconds, "copy")
    env, conn = connect(ctx, env)
    plan = None
    if inventory_url is not None:
        plan, source_url = _inventory_plan(conn, inventory_url, source_url, shards)
        preflight.inventory_not_nested(preflight.in_place(target, source_url), inventory_url)
    target = preflight.in_place(target, source_url)
    preflight.not_nested(target, index_url, source_url, allow_nested)
    _check_targets(conn, index_url or source_url, target, index_url, notify_queue)
    doc = jobdocs.copy_document(
        conn,
        new_job_id("copy"),
        index=index,
        source=f"oss://{source_url.bucket}/{source_url.key}" if plan else source,
        inventory=plan,
        inventory_plus_is_space=inventory_plus_is_space,
        dest=f"oss://{target.bucket}/{target.key}",
        storage_class=klass or settings.storage_class,
        tags=tag_set,
        tags_directive=directive,
        concurrency=shards,
        page_budget_s=budget,
        notify_queue=notify_queue,
        tolerated_failures=tolerate,
        max_items_per_page=max_items_per_page,
        event_limit=event_limit,
        max_qps=max_qps or env.requests.max_qps,
        filters=jobfilters.object_filter(
            include=include,
            exclude=exclude,
            only_class=only_class,
            modified_after=modified_after,
            modified_before=modified_before,
            size_range=(min_size, max_size),
            key_regex=key_regex,
        ),
    )
    if dry_run:
        _emit_dry_run(conn, env, "copy", doc, json_out)
        return
    _start_and_maybe_wait(ctx, conn, "copy", doc, wait, json_out, timeout)


def _inventory_plan(conn, inventory, source, shards: int):
    """(plan, the job's source range) of --inventory; one-line errors for a bad inventory."""
    from ossbatch import inventoryplan

    preflight.inventory_readable(conn, inventory)
    plan = inventoryplan.plan(conn, inventory.bucket, inventory.key, shards)
    return plan, preflight.inventory_source(plan.manifest.source_bucket, source, inventory)


def _tuning(settings, concurrency: int | None, page_seconds: float | None, section: str):
    """(shards, page budget) from the options or the environment's section, both checked."""
    shards = preflight.concurrency(
        settings.concurrency if concurrency is None else concurrency,
        f"{section}.concurrency of the environment" if concurrency is None else "--concurrency",
    )
    budget = preflight.page_seconds(
        settings.page_budget_s if page_seconds is None else page_seconds,
        settings.function.timeout_s,
    )
    return shards, budget


def _check_targets(conn, source, dest, index, notify_queue: str) -> None:
    """What the request names exists (read-only calls), before anything is started."""
    what = "--index" if index else "--source"
    buckets = {what: source.bucket}
    if dest is not None:
        buckets.setdefault("--dest", dest.bucket)
    preflight.buckets_exist(conn, buckets)
    if index is not None:
        preflight.index_object(conn, index)
    preflight.queue_exists(conn, notify_queue)


@restore_app.command("start")
@handles_errors
def restore_start(
    ctx: typer.Context,
    index: Annotated[str | None, typer.Option(help="oss://bucket/key of an index")] = None,
    source: Annotated[str | None, typer.Option(help="oss://bucket/prefix/ to list")] = None,
    inventory: Annotated[
        str | None,
        typer.Option(
            help="oss://bucket/.../manifest.json of an OSS bucket inventory (CSV) to restore "
            "from instead of listing; --source then only narrows it to a prefix"
        ),
    ] = None,
    inventory_plus_is_space: InventoryPlusIsSpaceOption = False,
    days: Annotated[
        int | None, typer.Option(min=1, max=365, help="days the restored copy stays")
    ] = None,
    tier: Annotated[
        str | None, typer.Option(help="Expedited | Standard | Bulk (Cold/DeepCold)")
    ] = None,
    concurrency: ConcurrencyOption = None,
    page_seconds: Annotated[
        float | None, typer.Option(help="time budget of one restore invocation (seconds)")
    ] = None,
    poll_seconds: Annotated[
        int | None, typer.Option(help="wait between polls (default: from class/tier)")
    ] = None,
    deadline_hours: Annotated[
        float, typer.Option(help="give up on objects not readable by then")
    ] = 72.0,
    tolerate: TolerateOption = 0,
    notify_queue: NotifyQueueOption = "",
    include: IncludeOption = None,
    exclude: ExcludeOption = None,
    only_class: OnlyClassOption = None,
    modified_after: ModifiedAfterOption = None,
    modified_before: ModifiedBeforeOption = None,
    min_size: MinSizeOption = None,
    max_size: MaxSizeOption = None,
    key_regex: KeyRegexOption = None,
    dry_run: DryRunOption = False,
    max_qps: MaxQpsOption = None,
    max_items_per_page: MaxItemsPerPageOption = None,
    event_limit: EventLimitOption = 5000,
    wait: WaitOption = False,
    timeout: TimeoutOption = None,
    json_out: JsonOption = False,
):
    """Restore archived objects and follow them until every one is readable."""
    from ossbatch import jobdocs_restore, jobfilters
    from ossbatch.jobs import new_job_id

    preflight.exactly_one_source(index, source, inventory)
    index_url = preflight.oss_url(index, "--index", object_key=True)
    source_url = preflight.oss_url(source, "--source")
    inventory_url = preflight.oss_url(inventory, "--inventory", object_key=True)
    chosen_tier = preflight.tier(tier) if tier else None
    env = environment(ctx)
    _check_notify_queue(env, notify_queue)
    settings = env.restore
    shards, budget = _tuning(settings, concurrency, page_seconds, "restore")
    env, conn = connect(ctx, env)
    plan = None
    if inventory_url is not None:
        plan, source_url = _inventory_plan(conn, inventory_url, source_url, shards)
    _check_targets(conn, index_url or source_url, None, index_url, notify_queue)
    doc = jobdocs_restore.restore_document(
        conn,
        new_job_id("restore"),
        index=index,
        source=f"oss://{source_url.bucket}/{source_url.key}" if plan else source,
        inventory=plan,
        inventory_plus_is_space=inventory_plus_is_space,
        days=days or settings.days,
        tier=chosen_tier or settings.tier,
        concurrency=shards,
        page_budget_s=budget,
        poll_seconds=poll_seconds,
        default_poll_seconds=settings.poll_interval_s,
        deadline_hours=deadline_hours,
        notify_queue=notify_queue,
        tolerated_failures=tolerate,
        max_items_per_page=max_items_per_page,
        event_limit=event_limit,
        local_restore_seconds=env.localcloud.restore_seconds if env.localcloud else None,
        max_qps=max_qps or env.requests.max_qps,
        filters=jobfilters.object_filter(
            include=include,
            exclude=exclude,
            only_class=only_class,
            modified_after=modified_after,
            modified_before=modified_before,
            size_range=(min_size, max_size),
            key_regex=key_regex,
        ),
    )
    preflight.restore_days(doc["request"]["days"], doc["settings"].get("sampled_storage_class"))
    if dry_run:
        _emit_dry_run(conn, env, "restore", doc, json_out, tier=doc["request"]["tier"])
        return
    _start_and_maybe_wait(ctx, conn, "restore", doc, wait, json_out, timeout)


@jobs_app.command("list")
@handles_errors
def jobs_list(ctx: typer.Context, limit: int = 50, json_out: JsonOption = False):
    """Jobs of every kind, newest first."""
    from ossbatch.jobs import Jobs

    _, conn = connect(ctx)
    rows = Jobs(conn).list(limit=limit)
    output.emit_rows(rows, ["job_id", "kind", "state", "started"], json_out, title="jobs")


@jobs_app.command("status")
@handles_errors
def jobs_status(
    ctx: typer.Context,
    job_id: str,
    watch: Annotated[bool, typer.Option("--watch", help="follow until the job finishes")] = False,
    interval: Annotated[float, typer.Option(help="seconds between polls")] = 2.0,
    json_out: JsonOption = False,
):
    """Where a job is: follows its chain of executions; exit 1 if it failed."""
    from ossbatch.jobs import Jobs
    from ossbatch.watch import Watcher

    _, conn = connect(ctx)
    jobs = Jobs(conn)
    if watch and not json_out:
        st = Watcher(jobs, [job_id], interval).run(output.console)[job_id]
    elif watch:
        st = jobs.wait(job_id, interval=interval)
    else:
        st = jobs.status(job_id)
        output.emit(st.as_dict(), json_out, title=f"job {job_id}")
        if st.finished and (st.state != "succeeded" or st.over_tolerance):
            raise typer.Exit(EXIT_FAILED_ITEMS)
        return
    _finish([st], json_out)


@jobs_app.command("resume")
@handles_errors
def jobs_resume(
    ctx: typer.Context,
    job_id: str,
    wait: WaitOption = False,
    timeout: TimeoutOption = None,
    json_out: JsonOption = False,
):
    """Continue a failed/stopped job from its last good positions, same job id."""
    from ossbatch.jobs import Jobs
    from ossbatch.watch import Watcher

    _, conn = connect(ctx)
    jobs = Jobs(conn)
    was_running = jobs.status(job_id).state == "running"
    name = jobs.resume(job_id)
    if not wait:
        state = "running" if was_running else "resumed"
        output.emit({"job_id": job_id, "execution": name, "state": state}, json_out, title="job")
        return
    if json_out:
        st = jobs.wait(job_id, interval=1.0, timeout=timeout)
    else:
        st = Watcher(jobs, [job_id], 1.0).run(output.console, timeout=timeout)[job_id]
    _finish([st], json_out)


@jobs_app.command("stop")
@handles_errors
def jobs_stop(
    ctx: typer.Context,
    job_id: str,
    wait: Annotated[bool, typer.Option("--wait", help="return once the job has stopped")] = False,
    timeout: TimeoutOption = None,
    json_out: JsonOption = False,
):
    """Ask the running execution of a job to stop (resume later with `jobs resume`)."""
    from ossbatch.jobs import Jobs

    _, conn = connect(ctx)
    jobs = Jobs(conn)
    name = jobs.stop(job_id)
    if name is None:
        doc = {"job_id": job_id, "execution": None, "state": jobs.status(job_id).state}
        doc["message"] = "not running: nothing to stop"
    elif wait:
        st = jobs.wait(job_id, interval=0.5, timeout=timeout)
        doc = {"job_id": job_id, "execution": name, "state": st.state, "message": "stopped"}
    else:
        doc = {
            "job_id": job_id,
            "execution": name,
            "state": "stopping",
            "message": "stop requested; the page in flight finishes (use --wait to wait for it)",
        }
    output.emit(doc, json_out, title="job")


@jobs_app.command("report")
@handles_errors
def jobs_report(
    ctx: typer.Context,
    job_id: str,
    failed_only: Annotated[bool, typer.Option("--failed-only", help="only failed items")] = False,
    out: Annotated[
        Path | None, typer.Option("--output", "-o", help="write JSON Lines here")
    ] = None,
    json_out: JsonOption = False,
):
    """Download and merge the per-item report (JSON Lines) of a job."""
    from ossbatch import report
    from ossbatch.jobs import Jobs

    if out is not None:
        preflight.output_file(out)
    from ossbatch.jobs import JobNotFound
    from ossbatch.verifyinline import ran_inline

    _, conn = connect(ctx)
    try:
        Jobs(conn).chain(job_id)  # an unknown job id is a usage error, as in `jobs status`
    except JobNotFound:
        if not ran_inline(conn, job_id):  # `jobs verify --inline` runs have no execution
            raise
    bucket = conn.buckets.get("reports")
    prefix = conn.settings.get("report_prefix", "reports/")
    summary = report.ReportSummary()
    sink = open(out, "w", encoding="utf-8") if out else None  # noqa: SIM115 - closed below
    count = 0
    try:
        for record in report.records(conn, bucket, prefix, job_id, failed_only, summary):
            count += 1
            line = json.dumps(record, ensure_ascii=False, sort_keys=True)
            if sink:
                sink.write(line + "\n")
            elif not json_out:
                sys.stdout.write(line + "\n")
    finally:
        if sink:
            sink.close()
    doc = {
        "job_id": job_id,
        "location": f"oss://{bucket}/{report.job_prefix(prefix, job_id)}",
        "parts": summary.parts,
        "records": summary.records,
        "by_status": summary.by_status,
        "written": count,
        "output": str(out) if out else None,
    }
    if json_out or out:
        output.emit(doc, json_out, title=f"report of {job_id}")


@jobs_app.command("verify")
@handles_errors
def jobs_verify(
    ctx: typer.Context,
    job_id: str,
    page_seconds: Annotated[
        float | None, typer.Option(help="time budget of one verify invocation (seconds)")
    ] = None,
    inline: Annotated[
        bool | None,
        typer.Option(
            "--inline/--no-inline",
            help="run the verify pages in this process instead of the flow "
            "(default: inline when the copy counted at most 1,000 items)",
        ),
    ] = None,
    timeout: TimeoutOption = None,
    json_out: JsonOption = False,
):
    """Compare a finished copy job's destination with its source (existence, size, CRC-64,
    storage class, tags); mismatches go to the report as JSON Lines; exit 1 if any."""
    from ossbatch import verification, verifyinline
    from ossbatch.jobs import Jobs, new_job_id

    env, conn = connect(ctx)
    jobs = Jobs(conn)
    copied = jobs.status(job_id)  # an unknown job id is a usage error, as in `jobs status`
    verification.verifiable(copied)
    budget = page_seconds or env.verify.page_budget_s
    if not 1 <= budget < env.verify.function.timeout_s:
        raise ConfigError(
            f"--page-seconds {budget:g} must be below verify.function.timeout_s "
            f"{env.verify.function.timeout_s}"
        )
    counted = copied.progress.total  # the copy's own count: verify's status shows done/total
    doc = verification.verify_document(
        conn,
        new_job_id("verify"),
        copied.executions[0].input,
        budget,
        covered=None if counted is None or counted.estimate else counted.objects,
    )
    if verifyinline.runs_inline(inline, copied):
        st = verifyinline.run_inline(conn, doc)
    else:
        st = jobs.wait(jobs.start("verify", doc), interval=1.0, timeout=timeout)
    result = {**verification.summary(st, job_id), "inline": st.flow == verifyinline.INLINE_FLOW}
    output.emit(result, json_out, title=f"verify of {job_id}")
    if st.state != "succeeded" or result["mismatched"]:
        raise typer.Exit(EXIT_FAILED_ITEMS)


@unzip_app.command("status")
@handles_errors
def unzip_status(
    ctx: typer.Context,
    package: Annotated[str | None, typer.Argument(help="oss://bucket/key of one package")] = None,
    limit: int = 20,
    json_out: JsonOption = False,
):
    """Extraction runs (newest first) or the run of one package, with their results."""
    from ossbatch import unzipruns

    _, conn = connect(ctx)
    rows = unzipruns.runs(conn, package, limit)
    output.emit_rows(
        rows,
        ["execution", "status", "key", "entries", "failed_entries", "bytes", "deleted", "started"],
        json_out,
        title="unzip runs",
    )
    if package and rows and rows[0]["status"] not in ("Succeeded", "Running"):
        raise typer.Exit(EXIT_FAILED_ITEMS)


@flows_app.command("check")
@handles_errors
def flows_check(
    environment_names: Annotated[
        list[str] | None,
        typer.Option(
            "--environment",
            "-e",
            help="check these environments (default: every file in environments/)",
        ),
    ] = None,
    synth: Annotated[
        Path | None,
        typer.Option(
            help="check a synthesized stack's flows instead (cdktf.out/stacks/<s>/cdk.tf.json)"
        ),
    ] = None,
    json_out: JsonOption = False,
):
    """Run flows/*.yaml, as each environment deploys them, through the strict CloudFlow parser."""
    from ossbatch import flowcheck

    if synth is not None:
        reports = flowcheck.check_synthesized(synth)
    else:
        reports = flowcheck.check(environment_names or flowcheck.environment_names())
    rows = [
        {
            "environment": r.environment,
            "flow": r.name,
            "result": "ok" if not r.problems else f"{len(r.problems)} problem(s)",
            "problems": r.problems,
        }
        for r in reports
    ]
    output.emit_rows(rows, ["environment", "flow", "result"], json_out, title="flows check")
    bad = [r for r in reports if r.problems]
    if bad and not json_out:
        for r in bad:
            for problem in r.problems:
                output.console.print(f"{r.name}: {problem}", soft_wrap=True, markup=False)
    if bad:
        raise typer.Exit(EXIT_USAGE)


@app.command("probe")
@handles_errors
def probe_cmd(
    ctx: typer.Context,
    role_arn: Annotated[
        str, typer.Option(help="RAM role the probe flow runs with (cloud: one that may invoke FC)")
    ] = "",
    json_out: JsonOption = False,
):
    """Ask this account's CloudFlow what its docs leave open (FC result shape, exception
    names, duplicate StartExecution) with a tiny flow + function, removed afterwards."""
    from ossbatch import probe

    env, conn = connect(ctx)
    result = probe.probe(conn, env.runtime, role_arn)
    output.emit(result.as_dict(), json_out, title=f"CloudFlow probe ({env.name})")


def run() -> None:  # pragma: no cover - console entry for `python -m ossbatch.cli`
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    app()


if __name__ == "__main__":  # pragma: no cover
    run()
