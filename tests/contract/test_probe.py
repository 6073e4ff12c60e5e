"""`ossbatch probe` against localcloud under both readings: the code path that asks a real
account what the CloudFlow docs leave open, proven end to end (deploy, run, remove)."""

from __future__ import annotations

import pytest

from ossbatch import probe
from ossbatch.cloud import Connection
from tests.contract.ramkit import allow, make_role


def connection(cloud) -> Connection:
    return Connection(
        region=cloud.region,
        account_id=cloud.account_id,
        access_key_id=cloud.access_key_id,
        access_key_secret=cloud.access_key_secret,
        oss_endpoint=cloud.oss_endpoint,
        fc_endpoint=cloud.fc_endpoint,
        fnf_endpoint=cloud.fnf_endpoint,
    )


EXPECTED = {
    "strict": {
        "fc_result": "wrapped",
        "exception_name": "FC.ProbeError",
        "suggested_reading": "strict",
    },
    "compat": {
        "fc_result": "passthrough",
        "exception_name": "ProbeError",
        "suggested_reading": "compat",
    },
}


@pytest.mark.parametrize("reading", sorted(EXPECTED))
def test_probe_reports_what_this_cloudflow_does_and_removes_itself(localcloud_factory, reading):
    from alibabacloud_fnf20190315 import models as fnf

    cloud = localcloud_factory(*(["--flow-compat"] if reading == "compat" else []))
    conn = connection(cloud)
    # localcloud enforces RAM: the probe flow invokes its function as a role, as in the cloud
    role = make_role(
        cloud,
        f"probe-flow-{reading}",
        "fnf.aliyuncs.com",
        allow("fc:InvokeFunction", f"acs:fc:{cloud.region}:{cloud.account_id}:functions/*"),
    )
    result = probe.probe(conn, role_arn=role)
    for field, value in EXPECTED[reading].items():
        assert getattr(result, field) == value, result
    assert result.duplicate_running == "returns the running execution"
    assert result.duplicate_finished == "refused: ExecutionAlreadyExists"
    assert result.left_behind == []
    flows = conn.fnf().list_flows(fnf.ListFlowsRequest(limit=100)).body.flows or []
    assert result.flow not in {f.name for f in flows}, "the probe flow must be removed"
    with pytest.raises(Exception, match="FunctionNotFound"):
        from alibabacloud_fc20230330 import models as fc

        conn.fc().get_function(result.function, fc.GetFunctionRequest())
