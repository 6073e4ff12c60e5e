"""A small stack for the ossbatch flow tests: localcloud's OSS (a real process), and the
real FC runtime (running the real handlers/), MNS service and flow engine in process,
the flow engine's fnf API on loopback for alibabacloud-fnf20190315.

The flows under test are flows/*.yaml, verbatim. Event limits are small so continuation
and budget branches run in seconds.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from flowkit import ACCESS_KEY_ID, ACCESS_KEY_SECRET, ApiServer

from localcloud import launcher
from localcloud.fc.runtime import FcRuntime
from localcloud.fc.spec import FunctionSpec
from localcloud.flow.engine import FlowEngine
from localcloud.mns.service import MnsService
from localcloud.ram.flow_access import guard_integrations
from localcloud.ram.remote import RemoteRam
from ossbatch.cloud import Connection
from ossbatch.deployment import FLOWS_DIR, named_definition
from tests.contract.ramkit import allow, make_role

PROJECT_ROOT = Path(__file__).resolve().parents[2]
READINGS = ("strict", "compat")  # flow tests run under both readings of the open behaviours
REGION, ACCOUNT = "cn-hangzhou", "1000000000000001"
HANDLERS = {
    "copy": "index.copy",
    "restore": "index.restore",
    "unzip": "index.unzip",
    "verify": "index.verify",
}


@dataclass
class Stack:
    oss: launcher.LocalCloud
    fc: FcRuntime
    mns: MnsService
    engine: FlowEngine
    api: ApiServer
    suffix: str = field(default_factory=lambda: uuid.uuid4().hex[:8])

    def connection(self, **buckets: str) -> Connection:
        return Connection(
            region=REGION,
            account_id=ACCOUNT,
            access_key_id=ACCESS_KEY_ID,
            access_key_secret=ACCESS_KEY_SECRET,
            oss_endpoint=self.oss.oss_endpoint,
            fnf_endpoint=f"http://{self.api.endpoint}",
            buckets={"reports": self.bucket_name("reports"), **buckets},
            queues={"notifications": "notify"},
            flows={k: f"ossbatch-{k}" for k in ("copy", "restore", "unzip", "verify")},
            functions={k: f"ossbatch-{k}" for k in HANDLERS},
            settings={"report_prefix": "reports/"},
        )

    def bucket_name(self, role: str) -> str:
        return f"t-{role}-{self.suffix}"

    def bucket(self, role: str, storage_class: str = "Standard"):
        import oss2

        conn = self.connection()
        bucket = conn.oss_bucket(self.bucket_name(role))
        try:
            bucket.get_bucket_info()
        except oss2.exceptions.NoSuchBucket:
            bucket.create_bucket(
                oss2.BUCKET_ACL_PRIVATE, oss2.models.BucketCreateConfig(storage_class)
            )
        return bucket

    def close(self) -> None:
        self.api.__exit__(None, None, None)
        self.engine.close()
        self.fc.close()
        self.mns.close()
        self.oss.stop()


def stack_roles(
    oss: launcher.LocalCloud, suffix: str, worker_grants: tuple[dict, ...] = ()
) -> tuple[str, str]:
    """RAM roles of this test stack, made in localcloud through the RAM SDK: the functions'
    (trusting FC) and the flows' (trusting CloudFlow), each limited to this stack's buckets,
    functions, queue and flows. The deployment's own policies are proven by the e2e and
    least-privilege tests; these keep RAM enforced in the flow tests too."""
    buckets = f"acs:oss:*:{ACCOUNT}:t-*-{suffix}"
    worker = make_role(
        oss,
        f"jobkit-worker-{suffix}",
        "fc.aliyuncs.com",
        allow("oss:ListObjects", buckets),
        allow(
            [
                "oss:GetObject",
                "oss:GetObjectTagging",
                "oss:PutObject",
                "oss:RestoreObject",
                "oss:DeleteObject",
                "oss:AbortMultipartUpload",
                "oss:ListParts",
            ],
            buckets + "/*",
        ),
        *worker_grants,
    )
    functions = f"acs:fc:{REGION}:{ACCOUNT}:functions/ossbatch-*"
    flow = make_role(
        oss,
        f"jobkit-flow-{suffix}",
        "fnf.aliyuncs.com",
        allow("fc:InvokeFunction", functions),
        allow("mns:SendMessage", f"acs:mns:{REGION}:{ACCOUNT}:/queues/notify/messages"),
        allow("fnf:StartExecution", "*"),  # StartExecution: "All Resource" (doc-detail/122628)
    )
    return worker, flow


def start_stack(
    tmp: Path,
    max_events: int = 5000,
    oss_args: tuple[str, ...] = (),
    env: dict | Callable[[launcher.LocalCloud], dict] | None = None,
    compat: bool = False,
    worker_grants: tuple[dict, ...] = (),
) -> Stack:
    """`compat`: the flow engine's other reading of what the docs leave open (--flow-compat);
    `worker_grants`: statements the functions' role gets beyond the stack's buckets."""
    oss = launcher.start(
        tmp / "oss",
        "--access-key-id",
        ACCESS_KEY_ID,
        "--access-key-secret",
        ACCESS_KEY_SECRET,
        "--account-id",
        ACCOUNT,
        *oss_args,
    )
    credentials = {
        "access_key_id": ACCESS_KEY_ID,
        "access_key_secret": ACCESS_KEY_SECRET,
        "security_token": "",
    }
    suffix = uuid.uuid4().hex[:8]
    worker_role, flow_role = stack_roles(oss, suffix, worker_grants)
    ram = RemoteRam(oss.admin_endpoint)  # the functions and flows act with localcloud's roles
    fc = FcRuntime(
        credentials=credentials,
        region=REGION,
        account_id=ACCOUNT,
        data_dir=tmp / "fc",
        code_root=PROJECT_ROOT,
        ram=ram,
    )
    variables = {
        "OSSBATCH_OSS_ENDPOINT": oss.oss_endpoint,
        "OSSBATCH_LOG_LEVEL": "WARNING",
        "OSSBATCH_OUTPUT_PREFIX": "extracted/",
        # as `ossbatch local up` sets it: instances share this machine, one process each
        "OSSBATCH_PROCESSES": "1",
        **((env(oss) if callable(env) else env) or {}),
    }
    for role, handler in HANDLERS.items():
        fc.create_function(
            FunctionSpec(
                name=f"ossbatch-{role}",
                handler=handler,
                timeout=60,
                environment_variables=variables,
                role=worker_role,
            )
        )
    # the handlers sign with their role's STS credentials, not the owner's keys
    assert fc.function_credentials(fc.get_function("ossbatch-copy"))["access_key_id"].startswith(
        "STS."
    )
    mns = MnsService(data_dir=tmp / "mns", region=REGION, account_id=ACCOUNT)
    mns.create_queue("notify")
    engine = FlowEngine(
        fc=fc,
        mns=mns,
        data_dir=tmp / "flow",
        account_id=ACCOUNT,
        region=REGION,
        max_events=max_events,
        compat=compat,
    )
    engine.integrations = guard_integrations(engine.integrations, ram, REGION, ACCOUNT)
    for stem in ("copy", "restore", "unzip", "verify"):
        # as deployed: the definition's Name is the flow's name
        engine.create_flow(
            f"ossbatch-{stem}",
            named_definition(
                (FLOWS_DIR / f"{stem}.yaml").read_text(), f"ossbatch-{stem}", f"flows/{stem}.yaml"
            ),
            role_arn=flow_role,
        )
    api = ApiServer(engine).__enter__()
    stack = Stack(oss=oss, fc=fc, mns=mns, engine=engine, api=api, suffix=suffix)
    for role in ("src", "dst", "reports"):
        stack.bucket(role)
    return stack


def history(engine: FlowEngine, flow: str, execution: str) -> list:
    out, token = [], None
    while True:
        page, token = engine.get_execution_history(flow, execution, 999, token)
        out += page
        if not token:
            return out
