"""`ossbatch probe`: ask this account's CloudFlow what its docs leave open, with a tiny flow
and function deployed under a unique name and removed afterwards.

It answers (docs/decisions/flow-compat.md): is an FC result wrapped as {"Body": ...} or
passed through; is a handler exception named `FC.<Name>` or bare; does StartExecution with
the name of a running execution return it, and refuse it once finished. The flows work
either way; the answers say which `--flow-compat` reading localcloud should default to.
"""

from __future__ import annotations

import base64
import io
import json
import time
import uuid
import zipfile
from dataclasses import dataclass

from ossbatch.cloud import ConfigError, Connection

PROBE_CODE = """import json


class ProbeError(Exception):
    pass


def handler(event, context):
    if json.loads(event or "{}").get("fail"):
        raise ProbeError("the probe failed on purpose")
    return json.dumps({"probe": "ok"})
"""


def probe_definition(name: str, function_arn: str) -> str:
    """Invoke the function, keep its raw output, then hold the execution `hold` seconds."""
    return f"""Type: StateMachine
Name: {name}
SpecVersion: v1
StartAt: Invoke
States:
  - Type: Task
    Name: Invoke
    Action: FC:InvokeFunction
    TaskMode: RequestComplete
    Timeout: 60
    Parameters:
      resourceArn: {function_arn}
      invocationType: Sync
      body.$: $Input
    Catch:
      - Description: the probe records how the function's exception is named
        Errors: [FnF.ALL]
        Next: Caught
        OutputConstructor:
          error.$: $Context.Current.Error.Code
    OutputConstructor:
      result.$: $Output
      hold.$: $Input.hold
    Next: Hold
  - Type: Wait
    Name: Hold
    Seconds.$: $Input.hold
    Next: Done
  - Type: Pass
    Name: Done
    End: true
  - Type: Pass
    Name: Caught
    End: true
"""


@dataclass
class ProbeResult:
    flow: str
    function: str
    fc_result: str  # "wrapped" ({"Body": result}) | "passthrough" | "unknown: ..."
    exception_name: str  # the Code a Catch saw, e.g. "FC.ProbeError" or "ProbeError"
    exception_reading: str  # "FC.<Name>" | "bare" | "other"
    duplicate_running: str  # "returns the running execution" | "refused: <code>"
    duplicate_finished: str  # "refused: ExecutionAlreadyExists" | "accepted"
    suggested_reading: str  # "strict" (localcloud's default) | "compat" | "mixed"
    left_behind: list[str] | None = None  # what the clean-up could not delete (delete by hand)

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def _code_zip() -> str:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("index.py", PROBE_CODE)
    return base64.b64encode(buf.getvalue()).decode()


def _error_code(exc: Exception) -> str:
    return str(getattr(exc, "code", "") or type(exc).__name__)


class Probe:
    """Deploys, runs and removes the probe (fc 2023-03-30 and fnf 2019-03-15 SDKs)."""

    def __init__(self, conn: Connection, runtime: str = "python3.10", role_arn: str = ""):
        self.conn, self.runtime, self.role_arn = conn, runtime, role_arn
        suffix = uuid.uuid4().hex[:10]
        self.function = f"ossbatch-probe-{suffix}"
        self.flow = f"ossbatch-probe-{suffix}"
        self.fc, self.fnf = conn.fc(), conn.fnf()

    @property
    def function_arn(self) -> str:
        return f"acs:fc:{self.conn.region}:{self.conn.account_id}:functions/{self.function}/LATEST"

    def deploy(self) -> None:
        from alibabacloud_fc20230330 import models as fc
        from alibabacloud_fnf20190315 import models as fnf

        self.fc.create_function(
            fc.CreateFunctionRequest(
                body=fc.CreateFunctionInput(
                    function_name=self.function,
                    code=fc.InputCodeLocation(zip_file=_code_zip()),
                    handler="index.handler",
                    runtime=self.runtime,
                    memory_size=128,
                    timeout=30,
                )
            )
        )
        self.fnf.create_flow(
            fnf.CreateFlowRequest(
                name=self.flow,
                definition=probe_definition(self.flow, self.function_arn),
                description="ossbatch probe (removed after the run)",
                type="FDL",
                role_arn=self.role_arn or None,
            )
        )

    def remove(self) -> list[str]:
        """Delete flow and function; what could not be deleted (named) is returned."""
        from alibabacloud_fnf20190315 import models as fnf

        left = []
        for what, call in (
            (
                f"flow {self.flow}",
                lambda: self.fnf.delete_flow(fnf.DeleteFlowRequest(name=self.flow)),
            ),
            (f"function {self.function}", lambda: self.fc.delete_function(self.function)),
        ):
            try:
                call()
            except Exception as exc:  # a half-deployed probe is removed as far as it got
                if "NotExist" not in _error_code(exc) and "NotFound" not in _error_code(exc):
                    left.append(f"{what}: {_error_code(exc)}")
        return left

    def start(self, name: str, payload: dict) -> None:
        from alibabacloud_fnf20190315 import models as fnf

        self.fnf.start_execution(
            fnf.StartExecutionRequest(
                flow_name=self.flow, execution_name=name, input=json.dumps(payload)
            )
        )

    def wait(self, name: str, timeout: float = 120) -> dict:
        from alibabacloud_fnf20190315 import models as fnf

        deadline = time.monotonic() + timeout
        while True:
            body = self.fnf.describe_execution(
                fnf.DescribeExecutionRequest(flow_name=self.flow, execution_name=name)
            ).body
            if body.status != "Running":
                if body.status != "Succeeded":
                    raise ConfigError(f"probe execution {name} ended {body.status}: {body.output}")
                return json.loads(body.output or "{}")
            if time.monotonic() > deadline:
                raise ConfigError(f"probe execution {name} still running after {timeout:.0f} s")
            time.sleep(0.5)

    def run(self) -> ProbeResult:
        self.start("result", {"fail": False, "hold": 1})
        output = self.wait("result").get("result")
        self.start("exception", {"fail": True, "hold": 1})
        error = str(self.wait("exception").get("error"))
        self.start("duplicate", {"fail": False, "hold": 5})
        running = _try(lambda: self.start("duplicate", {"fail": False, "hold": 5}))
        self.wait("duplicate")
        finished = _try(lambda: self.start("duplicate", {"fail": False, "hold": 1}))
        return _result(self, output, error, running, finished)


def _try(call) -> str:
    try:
        call()
    except Exception as exc:  # the SDK raises one exception type; its code tells which
        return f"refused: {_error_code(exc)}"
    return "accepted"


def _result(probe: Probe, output, error: str, running: str, finished: str) -> ProbeResult:
    if isinstance(output, dict) and output.get("Body") is not None and "probe" not in output:
        shape = "wrapped"
    elif isinstance(output, dict) and output.get("probe") == "ok":
        shape = "passthrough"
    else:
        shape = f"unknown: {json.dumps(output)[:200]}"
    naming = (
        "FC.<Name>" if error == "FC.ProbeError" else "bare" if error == "ProbeError" else "other"
    )
    strict = (shape, naming) == ("wrapped", "FC.<Name>")
    compat = (shape, naming) == ("passthrough", "bare")
    return ProbeResult(
        flow=probe.flow,
        function=probe.function,
        fc_result=shape,
        exception_name=error,
        exception_reading=naming,
        duplicate_running="returns the running execution" if running == "accepted" else running,
        duplicate_finished=finished,
        suggested_reading="strict" if strict else "compat" if compat else "mixed",
    )


def probe(conn: Connection, runtime: str = "python3.10", role_arn: str = "") -> ProbeResult:
    """Deploy, run, remove; the probe is removed even when a step fails."""
    runner = Probe(conn, runtime, role_arn)
    try:
        runner.deploy()
        result = runner.run()
    finally:
        left = runner.remove()
    result.left_behind = left
    return result
