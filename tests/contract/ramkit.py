"""RAM clients and documents for tests: the real alibabacloud-ram20150501 SDK against localcloud."""

from __future__ import annotations

import json

from alibabacloud_ram20150501.client import Client as RamClient
from alibabacloud_tea_openapi import models as open_api_models

from tests.fc_handlers import code_location


def ram_client(cloud, access_key_id=None, secret=None, token=None) -> RamClient:
    config = open_api_models.Config(
        access_key_id=access_key_id or cloud.access_key_id,
        access_key_secret=secret or cloud.access_key_secret,
        security_token=token,
        endpoint=cloud.ram_endpoint.removeprefix("http://"),
        protocol="http",
        region_id=cloud.region,
    )
    return RamClient(config)


def trust(*services: str) -> str:
    return json.dumps(
        {
            "Version": "1",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "sts:AssumeRole",
                    "Principal": {"Service": list(services)},
                }
            ],
        }
    )


def policy(*statements: dict) -> str:
    return json.dumps({"Version": "1", "Statement": list(statements)})


def allow(actions, resources) -> dict:
    return {"Effect": "Allow", "Action": actions, "Resource": resources}


def deny(actions, resources) -> dict:
    return {"Effect": "Deny", "Action": actions, "Resource": resources}


def fc_client(cloud):
    from alibabacloud_fc20230330.client import Client as FcClient

    return FcClient(
        open_api_models.Config(
            access_key_id=cloud.access_key_id,
            access_key_secret=cloud.access_key_secret,
            endpoint=cloud.fc_endpoint.removeprefix("http://"),
            protocol="http",
            region_id=cloud.region,
        )
    )


def make_role(cloud, name: str, trusted: str, *statements: dict) -> str:
    """Create (through the RAM SDK) a role trusting `trusted` with one policy; its ARN."""
    from alibabacloud_ram20150501 import models as m

    ram = ram_client(cloud)
    arn = ram.create_role(
        m.CreateRoleRequest(role_name=name, assume_role_policy_document=trust(trusted))
    ).body.role.arn
    if statements:
        ram.create_policy(
            m.CreatePolicyRequest(policy_name=name, policy_document=policy(*statements))
        )
        ram.attach_policy_to_role(
            m.AttachPolicyToRoleRequest(policy_type="Custom", policy_name=name, role_name=name)
        )
    return arn


def make_probe(cloud, name: str, role_arn: str = "", handler: str = "probe") -> None:
    from alibabacloud_fc20230330 import models as fc_models

    fc_client(cloud).create_function(
        fc_models.CreateFunctionRequest(
            body=fc_models.CreateFunctionInput(
                code=code_location(),
                function_name=name,
                handler=f"ramprobe.{handler}",
                runtime="python3.10",
                role=role_arn or None,
            )
        )
    )


def invoke(cloud, name: str, payload: bytes) -> tuple[bytes, dict]:
    """Invoke through the FC SDK; (body, headers)."""
    from alibabacloud_fc20230330 import models as fc_models

    response = fc_client(cloud).invoke_function(name, fc_models.InvokeFunctionRequest(body=payload))
    return response.body.read(), response.headers


def probe(cloud, name: str, *calls: dict) -> list[str]:
    body, headers = invoke(
        cloud,
        name,
        json.dumps(
            {
                "endpoints": {
                    "oss": cloud.oss_endpoint,
                    "mns": cloud.mns_endpoint,
                    "fnf": cloud.fnf_endpoint,
                    "fc": cloud.fc_endpoint,
                },
                "calls": list(calls),
            }
        ).encode(),
    )
    assert "x-fc-error-type" not in headers, body
    return json.loads(body)["outcomes"]


def fnf_client(cloud):
    from alibabacloud_fnf20190315.client import Client as FnfClient

    return FnfClient(
        open_api_models.Config(
            access_key_id=cloud.access_key_id,
            access_key_secret=cloud.access_key_secret,
            endpoint=cloud.fnf_endpoint.removeprefix("http://"),
            protocol="http",
            region_id=cloud.region,
        )
    )


def task_flow(name: str, action: str, resource_arn: str, extra: str = "") -> str:
    """A one-Task CloudFlow definition (current spec) calling `action` on `resource_arn`."""
    return f"""Type: StateMachine
Name: {name}
SpecVersion: v1
StartAt: Call
States:
  - Type: Task
    Name: Call
    Action: {action}
    TaskMode: RequestComplete
    Parameters:
      resourceArn: {resource_arn}
{extra}    End: true
"""


def run_flow(cloud, name: str, definition: str, role_arn: str = "") -> tuple[str, str]:
    """CreateFlow (with RoleArn), run one execution to its end; (status, error code)."""
    from alibabacloud_fnf20190315 import models as fnf_models

    fnf = fnf_client(cloud)
    fnf.create_flow(
        fnf_models.CreateFlowRequest(
            name=name, definition=definition, description="t", type="FDL", role_arn=role_arn or None
        )
    )
    fnf.start_execution(fnf_models.StartExecutionRequest(flow_name=name, execution_name="e1"))
    for _ in range(120):
        done = fnf.describe_execution(
            fnf_models.DescribeExecutionRequest(
                flow_name=name, execution_name="e1", wait_time_seconds=1
            )
        ).body
        if done.status != "Running":
            history = fnf.get_execution_history(
                fnf_models.GetExecutionHistoryRequest(flow_name=name, execution_name="e1")
            ).body.events
            failed = [json.loads(e.event_detail) for e in history if e.type == "TaskFailed"]
            return done.status, (failed[-1].get("error", "") if failed else "")
    raise AssertionError(f"execution e1 of {name} did not end")
