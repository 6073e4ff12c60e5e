"""Least privilege shown by deletion, with RAM enforced by localcloud.

`ossbatch local up` provisions the deployment (roles, policies, functions, trigger, flows);
then, for each statement of each generated policy, the test replaces the role's policy by
a version without that statement (CreatePolicyVersion through the real RAM SDK), runs a
small real job step and shows that a named step now fails with AccessDenied; the policy is
restored afterwards. A statement that no local step can break is listed with the reason it
stays (UNBREAKABLE). The trust policies are checked the
same way: a role that names another service stops its job step.

The environment is environments/local.yaml with unzip.password {source: kms, key_id}, so
local up encrypts the secret with that key (seeded under the same id), and both of the unzip
function's KMS grants are shown by deletion too: kms:GetSecretValue on its one secret and
kms:Decrypt on the secret's key (GetSecretValue of a secret under a customer master key needs
the caller's kms:Decrypt on it; localcloud asks for it, docs/localcloud-kms.md).

The unzip function has a role of its own (fc-unzip): it extracts, deletes the package and
reads the password under that role's STS credentials, while copy, restore and verify run
as fc-worker, which RAM refuses both the package delete and the secret (naming the action).
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
import urllib.request
import uuid
from dataclasses import dataclass

import pytest
import yaml
from alibabacloud_fc20230330 import models as fc_models
from alibabacloud_fnf20190315 import models as fnf_models
from alibabacloud_ram20150501 import models as ram_models
from typer.testing import CliRunner

from localcloud.ram.remote import RemoteSessions
from ossbatch import cloud, sampledata
from ossbatch.cli import app
from ossbatch.config import PROJECT_ROOT, KmsPassword, load_environment
from ossbatch.deployment import deployment, local_target
from tests import zipcorpus
from tests.contract.ramkit import ram_client

ROTATE = "DeleteOldestNonDefaultVersionWhenLimitExceeded"
ACCOUNT = "1000000000000001"  # statement content is compared without the account
runner = CliRunner()
SECRET = "ossbatch-local/unzip-password"
KEY_ID = "key-lp0123456789abcdef"  # a KMS instance key's id form; local up seeds it
PASSWORD = {"source": "kms", "secret_name": SECRET, "key_id": KEY_ID}
_LOCAL = load_environment("local")
ENV = _LOCAL.model_copy(
    update={"unzip": _LOCAL.unzip.model_copy(update={"password": KmsPassword(**PASSWORD)})}
)
PLAN = deployment(ENV, local_target(ACCOUNT, "", ""))


def _statements() -> list[tuple[str, int, dict]]:
    return [
        (role.key, i, statement)
        for role in PLAN.roles
        for i, statement in enumerate(json.loads(role.policy_document)["Statement"])
    ]


# actions no local step can need, and why their statements stay
UNBREAKABLE = {
    "log:PostLogStoreLogs": "FC ships function logs to Log Service with the function's role "
    "in the cloud; localcloud has no Log Service, so no local step can miss it",
    "oss:ListObjectVersions": "unzip lists a package's versions only when a newer upload "
    "replaced the one it was started for (handlers/packagesource.py); the small job's "
    "package is current, so no step here reaches the listing",
}


def ossbatch(data_dir, *args: str):
    result = runner.invoke(app, ["--data-dir", str(data_dir), *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    try:
        return result.exit_code, json.loads(result.stdout)
    except (json.JSONDecodeError, ValueError):
        return result.exit_code, result.output


@dataclass
class Local:
    data_dir: object
    conn: object
    info: dict
    password: bytes  # what local up put into the KMS secret

    def __getattr__(self, name):  # ramkit's clients read endpoints/credentials as attributes
        if name in self.info:
            return self.info[name]
        raise AttributeError(name)


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("least-privilege")
    data = yaml.safe_load((PROJECT_ROOT / "environments" / "local.yaml").read_text())
    data["unzip"]["password"] = PASSWORD
    env_file = data_dir / "local-kms.yaml"
    env_file.write_text(yaml.safe_dump(data))
    assert load_environment(env_file) == ENV
    # every CLI call below reads this file; local up makes the secret from the shell's value
    saved = {k: os.environ.get(k) for k in ("OSSBATCH_ENV", "OSSBATCH_UNZIP_PASSWORD")}
    password = f"lp-{_uid()}"
    os.environ.update(OSSBATCH_ENV=str(env_file), OSSBATCH_UNZIP_PASSWORD=password)
    try:
        code, doc = ossbatch(data_dir, "local", "up", "--json")
        assert code == 0, doc
        state = cloud.read_state(data_dir)
        conn = cloud.from_local_state(state)
        yield Local(data_dir, conn, state["localcloud"], password.encode())
    finally:
        ossbatch(data_dir, "local", "down", "--json")
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class Without:
    """The role's policy without one statement, for the duration of a `with` block."""

    def __init__(self, local: Local, role_key: str, index: int):
        self.ram = ram_client(local)
        self.role = next(r for r in PLAN.roles if r.key == role_key)
        self.index = index

    def _set(self, document: dict) -> None:
        self.ram.create_policy_version(
            ram_models.CreatePolicyVersionRequest(
                policy_name=self.role.policy_name,
                policy_document=json.dumps(document),
                set_as_default=True,
                rotate_strategy=ROTATE,
            )
        )

    def _attachment(self, attached: bool) -> None:
        request = dict(
            policy_type="Custom", policy_name=self.role.policy_name, role_name=self.role.name
        )
        if attached:
            self.ram.attach_policy_to_role(ram_models.AttachPolicyToRoleRequest(**request))
        else:
            self.ram.detach_policy_from_role(ram_models.DetachPolicyFromRoleRequest(**request))

    def __enter__(self):
        got = self.ram.get_policy(
            ram_models.GetPolicyRequest(policy_name=self.role.policy_name, policy_type="Custom")
        ).body.default_policy_version.policy_document
        self.original = json.loads(got)
        cut = dict(self.original)
        cut["Statement"] = [s for i, s in enumerate(self.original["Statement"]) if i != self.index]
        if cut["Statement"]:
            self._set(cut)
        else:  # RAM refuses an empty Statement list: the role then has no policy at all
            self._attachment(False)
        return self

    def __exit__(self, *exc):
        if len(self.original["Statement"]) > 1:
            self._set(self.original)
        else:
            self._attachment(True)


@dataclass(frozen=True)
class Failure:
    step: str  # the flow state, function or trigger that failed
    error: str


def _uid() -> str:
    return uuid.uuid4().hex[:8]


def _history_failure(local: Local, flow: str, execution: str) -> Failure | None:
    events = (
        local.conn.fnf()
        .get_execution_history(
            fnf_models.GetExecutionHistoryRequest(
                flow_name=flow, execution_name=execution, limit=999
            )
        )
        .body.events
    )
    failed = [e for e in events if e.type == "TaskFailed"]
    if not failed:
        return None
    detail = json.loads(failed[-1].event_detail)
    return Failure(failed[-1].step_name, f"{detail.get('error')}: {detail.get('cause')}")


def _job_failure(local: Local, doc: dict, tolerated: int = 0) -> Failure | None:
    for execution in doc.get("executions", []):
        failure = _history_failure(local, doc["flow"], execution["name"])
        if failure is not None:
            return failure
    if doc.get("state") == "failed" or doc.get("failed", 0) > tolerated:
        return Failure(doc.get("flow", "job"), str(doc.get("error")))
    return None


def copy_job(
    local: Local,
    *,
    listing: bool = False,
    continuing: bool = False,
    hole: bool = False,
    paced: bool = False,
) -> Failure | None:
    """Copy 3 objects; `hole` adds a missing one (tolerated), whose report line must be
    written; `paced` (--max-qps) makes the finished shard release its request-budget lease."""
    conn, tag = local.conn, _uid()
    sources = conn.oss_bucket(conn.buckets["sources"])
    keys = sampledata.object_keys(f"lp-{tag}/", 3)
    sampledata.upload_objects(sources, keys)
    source = ["--source", f"oss://{conn.buckets['sources']}/lp-{tag}/"]
    if not listing:
        index = sampledata.csv_index(conn.buckets["sources"], keys)
        if hole:
            index = index.rstrip(b"\n") + f"\n{conn.buckets['sources']},lp-{tag}/missing\n".encode()
        sources.put_object(f"lp-{tag}.csv", index)
        source = ["--index", f"oss://{conn.buckets['sources']}/lp-{tag}.csv", "--tolerate", "1"]
    extra = (
        ["--max-items-per-page", "1", "--event-limit", str(_one_page_limit())] if continuing else []
    ) + (["--max-qps", "1000"] if paced else [])
    denied_before = _denied(local, "fc-worker")
    code, doc = ossbatch(
        local.data_dir,
        "copy",
        "start",
        *source,
        "--dest",
        f"oss://{conn.buckets['archive']}/lp-{tag}/",
        "--concurrency",
        "1",
        *extra,
        "--wait",
        "--json",
    )
    assert isinstance(doc, dict), doc
    failure = _job_failure(local, doc, tolerated=1 if hole else 0)
    if failure is None and hole:
        code, report = ossbatch(
            local.data_dir, "jobs", "report", doc["job_id"], "--failed-only", "--json"
        )
        if report.get("records") != 1:
            return Failure("report", f"the failed item's report line is missing: {report}")
    if failure is None:
        assert doc["state"] == "succeeded" and doc["done"] == 3, doc
        if continuing:
            assert len(doc["executions"]) > 1, doc
    if failure is None and paced:
        failure = _pace_lease_failure(local, doc["job_id"], denied_before)
    return failure


def _counters(local: Local) -> dict:
    with urllib.request.urlopen(f"{local.admin_endpoint}/counters", timeout=10) as response:
        return json.loads(response.read())


def _denied(local: Local, role_key: str) -> dict[str, int]:
    """What localcloud's RAM refused the role so far, by action."""
    name = PLAN.role(role_key).name.lower()
    return _counters(local).get("ram", {}).get("denied", {}).get(name, {})


def _pace_lease_failure(local: Local, job_id: str, denied_before: dict) -> Failure | None:
    """The shard swallows a refused lease delete (the lease expires by itself): RAM's denial
    counter and the lease left behind show it."""
    conn = local.conn
    reports = conn.oss_bucket(conn.buckets["reports"])
    left = [
        o.key for o in reports.list_objects(prefix=f"{ENV.report_prefix}{job_id}/pace/").object_list
    ]
    refused = _denied(local, "fc-worker").get("oss:DeleteObject", 0) - denied_before.get(
        "oss:DeleteObject", 0
    )
    if refused:
        return Failure(
            "ReleasePaceLease", f"AccessDenied: oss:DeleteObject x{refused}, left {left}"
        )
    assert not left, f"a finished shard kept its pace lease: {left}"
    return None


def _one_page_limit() -> int:
    from ossbatch.eventbudget import pages_per_execution

    for limit in range(100, 5000, 5):  # the CLI takes event limits from 100
        try:
            if pages_per_execution("copy", 1, limit) >= 1:
                return limit
        except Exception:  # noqa: BLE001 - too small: try the next limit
            continue
    raise AssertionError("no event limit gives one page per execution")


def _fc_counters(local: Local, function: str) -> dict:
    return _counters(local).get("fc", {}).get("functions", {}).get(function, {})


def unzip_upload(local: Local, *, encrypted: bool = False) -> Failure | None:
    """Upload a package (ZipCrypto with the KMS secret's password when `encrypted`) and
    follow its unzip execution: None when it succeeded and the package was deleted."""
    conn, tag = local.conn, _uid()
    trigger_fn = PLAN.trigger.function
    before = _fc_counters(local, trigger_fn)
    packages = conn.oss_bucket(conn.buckets["packages"])
    if encrypted:  # only an encrypted entry makes the function read the password
        payload = zipcorpus.zipcrypto([("a.txt", b"alpha"), ("b.txt", b"beta")], local.password)
    else:
        payload, _ = sampledata.build_zip(3)
    key = f"{ENV.unzip.watch_prefix}lp{tag}.zip"
    packages.put_object(key, payload)
    flow = next(f.name for f in PLAN.flows if f.kind == "unzip")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        now = _fc_counters(local, trigger_fn)
        if now.get("trigger_denied", 0) > before.get("trigger_denied", 0):
            return Failure(PLAN.trigger.name, "trigger_denied: the invocation role may not invoke")
        if now.get("errors", 0) > before.get("errors", 0) and not _executions(local, flow, tag):
            return Failure(trigger_fn, "the trigger function failed (StartExecution AccessDenied)")
        for execution in _executions(local, flow, tag):
            failure = _history_failure(local, flow, execution.name)
            if failure is not None:  # a failing step, even while its retries go on
                if execution.status == "Running":
                    local.conn.fnf().stop_execution(
                        fnf_models.StopExecutionRequest(
                            flow_name=flow, execution_name=execution.name
                        )
                    )
                return failure
            if execution.status != "Running":
                assert execution.status == "Succeeded", execution.status
                assert not packages.object_exists(key), "the package was not deleted"
                return None
        time.sleep(0.1)
    raise AssertionError(f"the upload of {key} neither ran nor failed within 60 s")


def _executions(local: Local, flow: str, tag: str) -> list:
    return (
        local.conn.fnf()
        .list_executions(
            fnf_models.ListExecutionsRequest(flow_name=flow, execution_name_prefix=f"unzip-lp{tag}")
        )
        .body.executions
        or []
    )


def unzip_in_fresh_instances(local: Local) -> Failure | None:
    """unzip_upload after the unzip function's instances are replaced (a configuration
    change retires them, as in FC): a warm instance keeps the password it read from KMS.
    The package is encrypted: an unencrypted one never reads the password."""
    name = PLAN.function("unzip").name
    local.conn.fc().update_function(
        name,
        fc_models.UpdateFunctionRequest(
            body=fc_models.UpdateFunctionInput(description=f"{name} ({_uid()})")
        ),
    )
    return unzip_upload(local, encrypted=True)


# (role key, first action of the statement) -> the small job step that needs it
SCENARIOS = {
    ("fc-unzip", "kms:GetSecretValue"): unzip_in_fresh_instances,
    ("fc-unzip", "kms:Decrypt"): unzip_in_fresh_instances,  # the secret's key
    ("fc-unzip", "oss:ListObjects"): unzip_upload,  # the output listing before the delete
    ("fc-worker", "oss:ListObjects"): lambda local: copy_job(local, listing=True),
    ("fc-worker", "oss:GetObject"): copy_job,
    ("fc-worker", "oss:DeleteObject"): lambda local: copy_job(local, paced=True),
    ("fc-trigger", "fnf:StartExecution"): unzip_upload,
    ("flow", "fc:InvokeFunction"): copy_job,
    ("flow", "mns:SendMessage"): unzip_upload,
    ("flow", "fnf:StartExecution"): lambda local: copy_job(local, continuing=True),
    ("oss-trigger", "fc:InvokeFunction"): unzip_upload,
}


def _listed(value) -> list:
    return value if isinstance(value, list) else [value]


def _scenario(role_key: str, statement: dict):
    actions, resources = _listed(statement["Action"]), _listed(statement["Resource"])
    if actions == ["oss:ListObjects"]:
        return SCENARIOS[(role_key, "oss:ListObjects")]
    if role_key == "fc-unzip":
        # package reads and deletes, entry writes, report parts, the package lease: the
        # unzip job; the password needs an encrypted package in fresh instances
        return SCENARIOS.get((role_key, actions[0]), unzip_upload)
    if role_key == "fc-worker" and actions == ["oss:DeleteObject"]:
        return SCENARIOS[(role_key, "oss:DeleteObject")]  # the request-budget lease
    if role_key == "fc-worker" and any(ENV.buckets.reports.name in r for r in resources):
        return lambda local: copy_job(local, hole=True)  # per-item report parts
    if role_key == "fc-worker" and any(f":{ENV.buckets.archive.name}/" in r for r in resources):
        return copy_job  # writes into the archive (and, for reads, the index in sources)
    return SCENARIOS.get((role_key, actions[0]))


def _live_statements(local: Local, role_key: str) -> list[dict]:
    role = next(r for r in PLAN.roles if r.key == role_key)
    document = (
        ram_client(local)
        .get_policy(ram_models.GetPolicyRequest(policy_name=role.policy_name, policy_type="Custom"))
        .body.default_policy_version.policy_document
    )
    return json.loads(document)["Statement"]


def _ids() -> list[str]:
    return [f"{k}-{i}-{_listed(s['Action'])[0]}" for k, i, s in _statements()]


@pytest.mark.parametrize("role_key, index, statement", _statements(), ids=_ids())
def test_removing_a_statement_makes_a_named_step_fail_with_access_denied(
    local, role_key, index, statement
):
    actions = _listed(statement["Action"])
    live = _live_statements(local, role_key)
    assert _listed(live[index]["Action"]) == actions, "local up did not provision the plan"
    if all(a in UNBREAKABLE for a in actions):
        pytest.skip(UNBREAKABLE[actions[0]])  # documented: why it stays
    scenario = _scenario(role_key, statement)
    assert scenario is not None, f"no job step is known to need {role_key} statement {statement}"
    assert scenario(local) is None, "the step fails even with the full policy"
    with Without(local, role_key, index):
        failure = scenario(local)
    assert failure is not None, f"removing {statement} from {role_key} broke nothing"
    assert "AccessDenied" in failure.error or "trigger_denied" in failure.error, failure


class Untrusting:
    """The role's trust policy naming another service, for the duration of a `with` block."""

    def __init__(self, local: Local, role_key: str):
        self.ram = ram_client(local)
        self.role = next(r for r in PLAN.roles if r.key == role_key)

    def _trust(self, document: str) -> None:
        self.ram.update_role(
            ram_models.UpdateRoleRequest(
                role_name=self.role.name, new_assume_role_policy_document=document
            )
        )

    def __enter__(self):
        other = next(s for s in TRUST_SCENARIOS_SERVICES if s != self.role.trusted_service)
        self._trust(self.role.trust_policy.replace(self.role.trusted_service, other))
        return self

    def __exit__(self, *exc):
        self._trust(self.role.trust_policy)


TRUST_SCENARIOS_SERVICES = ("fc.aliyuncs.com", "fnf.aliyuncs.com", "oss.aliyuncs.com")
TRUST_SCENARIOS = {
    "fc-worker": copy_job,  # the copy function cannot get its role's credentials
    "fc-unzip": unzip_upload,  # the unzip function cannot get its role's credentials
    "fc-trigger": unzip_upload,  # the trigger function cannot get its role's credentials
    "flow": copy_job,  # the execution cannot act with the flow role
    "oss-trigger": unzip_upload,  # FC cannot invoke through the invocation role
}


@pytest.mark.parametrize("role_key", sorted(TRUST_SCENARIOS))
def test_a_role_that_does_not_trust_its_service_stops_the_job_step(local, role_key):
    role = next(r for r in PLAN.roles if r.key == role_key)
    assert role.trusted_service in role.trust_policy
    scenario = TRUST_SCENARIOS[role_key]
    with Untrusting(local, role_key):
        failure = scenario(local)
    assert failure is not None, f"{role_key} worked without trusting {role.trusted_service}"
    assert "AccessDenied" in failure.error or "trigger_denied" in failure.error, failure
    assert scenario(local) is None  # trusted again: the step works


# --- the unzip function's own role, and what the other workers' role is refused ---------


def _function_role(local: Local, kind: str) -> str:
    name = PLAN.function(kind).name
    return local.conn.fc().get_function(name, fc_models.GetFunctionRequest()).body.role


def _role_name(arn: str) -> str:
    return arn.rsplit(":role/", 1)[1]


def _as_fc(local: Local, role_arn: str):
    """The STS credentials FC hands a function running as `role_arn` (localcloud's RAM)."""
    return RemoteSessions(local.admin_endpoint).assume_role(role_arn, "fc.aliyuncs.com")


def _kms_as(local: Local, session):
    """The KMS client the CLI builds (Connection.kms), signed with a role's STS credentials."""
    return dataclasses.replace(
        local.conn,
        access_key_id=session.access_key_id,
        access_key_secret=session.access_key_secret,
        security_token=session.security_token,
    ).kms()


def _kms_reads(local: Local) -> int:
    return _counters(local).get("kms", {}).get("GetSecretValue", 0)


def test_the_unzip_function_extracts_deletes_and_reads_the_password_as_fc_unzip(local):
    assert _role_name(_function_role(local, "unzip")) == PLAN.role("fc-unzip").name
    before = _kms_reads(local)
    denied = _denied(local, "fc-unzip")
    # fresh instances, an encrypted package: the entries come out, the package is deleted
    # (unzip_upload asserts both) and the secret was read with the role's credentials
    assert unzip_in_fresh_instances(local) is None
    assert _kms_reads(local) == before + 1
    assert _denied(local, "fc-unzip") == denied  # nothing was refused along the way
    extraction = local.conn.oss_bucket(local.conn.buckets["extraction"])
    keys = [o.key for o in extraction.list_objects(prefix=ENV.unzip.output_prefix).object_list]
    assert any(k.endswith("/a.txt") for k in keys) and any(k.endswith("/b.txt") for k in keys)


@pytest.mark.parametrize("kind", ["copy", "restore", "verify"])
def test_copy_restore_and_verify_run_as_fc_worker_which_may_not_delete_packages_or_read_the_secret(
    local, kind
):
    import oss2
    from alibabacloud_kms20160120 import models as kms_models

    role = _function_role(local, kind)
    assert _role_name(role) == PLAN.role("fc-worker").name
    session = _as_fc(local, role)
    conn = local.conn
    key = f"{ENV.unzip.watch_prefix}lp-{kind}-{_uid()}.txt"  # .txt: the trigger ignores it
    conn.oss_bucket(conn.buckets["packages"]).put_object(key, b"a package")
    as_worker = oss2.Bucket(
        oss2.StsAuth(session.access_key_id, session.access_key_secret, session.security_token),
        conn.oss_endpoint,
        conn.buckets["packages"],
    )
    with pytest.raises(oss2.exceptions.AccessDenied) as refused:
        as_worker.delete_object(key)
    assert "oss:DeleteObject" in refused.value.message, refused.value.message
    assert conn.oss_bucket(conn.buckets["packages"]).object_exists(key)
    with pytest.raises(Exception) as secret_refused:
        _kms_as(local, session).get_secret_value(
            kms_models.GetSecretValueRequest(secret_name=SECRET)
        )
    assert secret_refused.value.code == "Forbidden.NoPermission"
    assert "kms:GetSecretValue" in secret_refused.value.message
    # the same requests with the unzip function's credentials are allowed
    unzip = _as_fc(local, _function_role(local, "unzip"))
    answer = _kms_as(local, unzip).get_secret_value(
        kms_models.GetSecretValueRequest(secret_name=SECRET)
    )
    assert answer.body.secret_data.encode() == local.password
    oss2.Bucket(
        oss2.StsAuth(unzip.access_key_id, unzip.access_key_secret, unzip.security_token),
        conn.oss_endpoint,
        conn.buckets["packages"],
    ).delete_object(key)
    assert not conn.oss_bucket(conn.buckets["packages"]).object_exists(key)


def test_without_decrypt_on_its_key_the_unzip_function_cannot_read_the_password(local):
    (index,) = [
        i
        for key, i, s in _statements()
        if key == "fc-unzip" and _listed(s["Action"]) == ["kms:Decrypt"]
    ]
    denied = _denied(local, "fc-unzip").get("kms:Decrypt", 0)
    with Without(local, "fc-unzip", index):
        failure = unzip_in_fresh_instances(local)
    assert failure is not None, "the password was read without kms:Decrypt on its key"
    # the refusal names the action and the key, not the secret the role may read
    assert "kms:Decrypt" in failure.error and f":key/{KEY_ID}" in failure.error, failure
    assert _denied(local, "fc-unzip").get("kms:Decrypt", 0) > denied
    assert unzip_in_fresh_instances(local) is None  # the grant back: the package extracts
