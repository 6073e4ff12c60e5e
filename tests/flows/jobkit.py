"""A small stack for the ossbatch flow tests: localcloud's OSS (a real process), and the
real FC runtime (running the real handlers/), MNS service and flow engine in process,
the flow engine's fnf API on loopback for alibabacloud-fnf20190315.

The flows under test are flows/*.yaml, verbatim. Event limits are small so continuation
and budget branches run in seconds.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path

from flowkit import ACCESS_KEY_ID, ACCESS_KEY_SECRET, ApiServer

from localcloud import launcher
from localcloud.fc.runtime import FcRuntime
from localcloud.fc.spec import FunctionSpec
from localcloud.flow.engine import FlowEngine
from localcloud.mns.service import MnsService
from ossbatch.cloud import Connection

PROJECT_ROOT = Path(__file__).resolve().parents[2]
FLOWS = PROJECT_ROOT / "flows"
REGION, ACCOUNT = "cn-hangzhou", "1000000000000001"
HANDLERS = {
    "copy": "handlers.copy.handler",
    "restore": "handlers.restore.handler",
    "unzip": "handlers.unzip.handler",
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
            flows={k: f"ossbatch-{k}" for k in ("copy", "restore", "unzip")},
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


def start_stack(
    tmp: Path, max_events: int = 5000, oss_args: tuple[str, ...] = (), env: dict | None = None
) -> Stack:
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
    fc = FcRuntime(
        credentials=credentials,
        region=REGION,
        account_id=ACCOUNT,
        data_dir=tmp / "fc",
        code_root=PROJECT_ROOT,
    )
    variables = {
        "OSSBATCH_OSS_ENDPOINT": oss.oss_endpoint,
        "OSSBATCH_LOG_LEVEL": "WARNING",
        "OSSBATCH_OUTPUT_PREFIX": "extracted/",
        # as `ossbatch local up` sets it: instances share this machine, one process each
        "OSSBATCH_PROCESSES": "1",
        **(env or {}),
    }
    for role, handler in HANDLERS.items():
        fc.create_function(
            FunctionSpec(
                name=f"ossbatch-{role}",
                handler=handler,
                timeout=60,
                environment_variables=variables,
            )
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
    )
    for stem in ("copy", "restore", "unzip"):
        engine.create_flow(f"ossbatch-{stem}", (FLOWS / f"{stem}.yaml").read_text())
    api = ApiServer(engine).__enter__()
    stack = Stack(oss=oss, fc=fc, mns=mns, engine=engine, api=api)
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
