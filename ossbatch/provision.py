"""Provision what an environment file describes on localcloud, through the real SDKs.

Buckets (oss2), queues (aliyun-mns-sdk), functions + the OSS trigger of the unzip
trigger function (alibabacloud-fc20230330), flows (alibabacloud-fnf20190315).
Every step is create-or-update, so `local up` after a crash converges again.
"""

from __future__ import annotations

import base64
import io
import json
import os
import zipfile
from pathlib import Path

from ossbatch.cloud import ConfigError, Connection
from ossbatch.config import BUCKET_ROLES
from ossbatch.retrying import call

PROJECT_ROOT = Path(__file__).resolve().parents[1]
HANDLERS_DIR = PROJECT_ROOT / "handlers"
FLOWS_DIR = PROJECT_ROOT / "flows"

# function role -> (FC handler string, settings attribute of the environment)
FUNCTIONS = {
    "copy": "handlers.copy.handler",
    "restore": "handlers.restore.handler",
    "unzip": "handlers.unzip.handler",
    "trigger": "handlers.trigger.handler",
}
FLOWS = ("copy", "restore", "unzip")
TRIGGER_EVENTS = [
    "oss:ObjectCreated:PutObject",
    "oss:ObjectCreated:PostObject",
    "oss:ObjectCreated:CompleteMultipartUpload",
]


def resource_names(env) -> dict:
    """Logical -> real names for the CLI (written into the local state file)."""
    return {
        "buckets": {role: getattr(env.buckets, role).name for role in BUCKET_ROLES},
        "queues": {
            "notifications": env.unzip.notification_queue,
            "dead_letters": env.unzip.dead_letter_queue,
        },
        "flows": {stem: env.flow_name(stem) for stem in FLOWS},
        "functions": {role: env.function_name(role) for role in FUNCTIONS},
    }


def handlers_zip() -> bytes:
    """The FC code package: the handlers/ package (dependencies come from the runtime locally)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(HANDLERS_DIR.rglob("*.py")):
            zf.write(path, path.relative_to(PROJECT_ROOT).as_posix())
    return buf.getvalue()


def function_settings(env, role: str):
    if role == "trigger":
        return env.unzip.trigger_function
    return {"copy": env.copy_job, "restore": env.restore, "unzip": env.unzip}[role].function


def handler_environment(env, conn: Connection) -> dict:
    return {
        "OSSBATCH_OSS_ENDPOINT": conn.oss_endpoint,
        "OSSBATCH_FNF_ENDPOINT": conn.fnf_endpoint,
        "OSSBATCH_UNZIP_FLOW": env.flow_name("unzip"),
        "OSSBATCH_WATCH_PREFIX": env.unzip.watch_prefix,
        "OSSBATCH_WATCH_SUFFIX": env.unzip.watch_suffix,
        "OSSBATCH_OUTPUT_PREFIX": env.unzip.output_prefix,
        "OSSBATCH_REPORT_BUCKET": env.buckets.reports.name,
        "OSSBATCH_REPORT_PREFIX": "reports/",
        "OSSBATCH_NAME_ENCODING": env.unzip.name_encoding,
        "OSSBATCH_LOG_LEVEL": env.log.level,
        # the trigger builds the unzip flow's input from these (see flows/unzip.yaml)
        "OSSBATCH_UNZIP_FUNCTION": env.function_name("unzip"),
        "OSSBATCH_NOTIFICATION_QUEUE": env.unzip.notification_queue,
        "OSSBATCH_DELETE_AFTER_SUCCESS": "true" if env.unzip.delete_after_success else "false",
    }


def password_environment(env) -> dict:
    """The local unzip function's password, copied from the shell (never into a flow input)."""
    from ossbatch.config import UNZIP_PASSWORD_VARIABLE

    source = env.unzip.password
    if source is None:
        return {}
    value = os.environ.get(source.local_variable)
    if not value:
        raise ConfigError(
            f"unzip.password reads ${source.local_variable}, which is not set: "
            f"export {source.local_variable}=... and run local up again"
        )
    return {UNZIP_PASSWORD_VARIABLE: value}


def ensure_buckets(env, conn: Connection) -> list[str]:
    import oss2

    made = []
    for name, spec in env.buckets.distinct().items():
        bucket = conn.oss_bucket(name)
        try:
            call(bucket.get_bucket_info)
            continue
        except oss2.exceptions.NoSuchBucket:
            pass
        try:
            call(
                bucket.create_bucket,
                oss2.BUCKET_ACL_PRIVATE,
                oss2.models.BucketCreateConfig(spec.storage_class),
            )
        except oss2.exceptions.OssError as exc:
            # a retried create whose first answer was lost finds its own bucket
            if exc.code != "BucketAlreadyExists":
                raise
        made.append(name)
    return made


def ensure_queues(env, conn: Connection) -> list[str]:
    from mns.mns_exception import MNSExceptionBase
    from mns.queue import QueueMeta

    account = conn.mns()
    made = []
    for name in (env.unzip.notification_queue, env.unzip.dead_letter_queue):
        queue = account.get_queue(name)
        try:
            call(queue.get_attributes)
            continue
        except MNSExceptionBase:
            pass
        meta = QueueMeta()
        meta.set_visibilitytimeout(60)
        call(queue.create, meta)
        made.append(name)
    return made


def ensure_functions(env, conn: Connection) -> list[str]:
    from alibabacloud_fc20230330 import models as fc

    client = conn.fc()
    code = base64.b64encode(handlers_zip()).decode()
    shared = handler_environment(env, conn)
    names = []
    for role, handler in FUNCTIONS.items():
        settings = function_settings(env, role)
        name = env.function_name(role)
        # page workers per instance, as infra sets it: localcloud's instances share this
        # machine's CPUs, so without a cpu setting each stays one process
        variables = {**shared, "OSSBATCH_PROCESSES": str(settings.processes)}
        if role == "unzip":
            variables |= password_environment(env)
        try:
            client.get_function(name, fc.GetFunctionRequest())
            exists = True
        except Exception as exc:  # FC returns FunctionNotFound as a ResponseException
            if "FunctionNotFound" not in str(exc) and "404" not in str(exc):
                raise
            exists = False
        if exists:
            client.update_function(
                name,
                fc.UpdateFunctionRequest(
                    body=fc.UpdateFunctionInput(
                        code=fc.InputCodeLocation(zip_file=code),
                        handler=handler,
                        runtime=env.runtime,
                        memory_size=settings.memory_mb,
                        timeout=settings.timeout_s,
                        environment_variables=variables,
                    )
                ),
            )
        else:
            client.create_function(
                fc.CreateFunctionRequest(
                    body=fc.CreateFunctionInput(
                        function_name=name,
                        code=fc.InputCodeLocation(zip_file=code),
                        handler=handler,
                        runtime=env.runtime,
                        memory_size=settings.memory_mb,
                        timeout=settings.timeout_s,
                        environment_variables=variables,
                    )
                )
            )
        names.append(name)
    return names


def ensure_unzip_trigger(env, conn: Connection) -> str:
    from alibabacloud_fc20230330 import models as fc

    client = conn.fc()
    function = env.function_name("trigger")
    trigger_name = "oss-zip-upload"
    config = json.dumps(
        {
            "events": TRIGGER_EVENTS,
            "filter": {"key": {"prefix": env.unzip.watch_prefix, "suffix": env.unzip.watch_suffix}},
        }
    )
    source_arn = f"acs:oss:{conn.region}:{conn.account_id}:{env.buckets.packages.name}"
    try:
        client.get_trigger(function, trigger_name)
        return trigger_name
    except Exception as exc:
        if "TriggerNotFound" not in str(exc) and "404" not in str(exc):
            raise
    client.create_trigger(
        function,
        fc.CreateTriggerRequest(
            body=fc.CreateTriggerInput(
                trigger_name=trigger_name,
                trigger_type="oss",
                trigger_config=config,
                source_arn=source_arn,
                qualifier="LATEST",
                # no invocation role until local up provisions the deployment's roles (issue 10)
            )
        ),
    )
    return trigger_name


def ensure_flows(env, conn: Connection) -> list[str]:
    from alibabacloud_fnf20190315 import models as fnf

    client = conn.fnf()
    names = []
    for stem in FLOWS:
        definition = (FLOWS_DIR / f"{stem}.yaml").read_text(encoding="utf-8")
        name = env.flow_name(stem)
        try:
            client.describe_flow(fnf.DescribeFlowRequest(name=name))
            client.update_flow(
                fnf.UpdateFlowRequest(
                    name=name, definition=definition, description=f"ossbatch {stem} job"
                )
            )
        except Exception as exc:
            if "FlowNotExists" not in str(exc) and "404" not in str(exc):
                raise
            client.create_flow(
                fnf.CreateFlowRequest(
                    name=name,
                    definition=definition,
                    description=f"ossbatch {stem} job",
                    type="FDL",
                )
            )
        names.append(name)
    return names


def provision(env, conn: Connection) -> dict:
    return {
        "buckets": ensure_buckets(env, conn),
        "queues": ensure_queues(env, conn),
        "functions": ensure_functions(env, conn),
        "trigger": ensure_unzip_trigger(env, conn),
        "flows": ensure_flows(env, conn),
    }
