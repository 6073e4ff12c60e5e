"""RAM enforced by localcloud: functions, flows and the OSS trigger act with STS credentials
of their own roles, and every request made with them is authorized in OSS, MNS, FnF and FC.
Everything goes through the real SDKs (RAM, FC, fnf, oss2, mns)."""

from __future__ import annotations

import json
import time
import urllib.request
import uuid

import oss2
import pytest
from alibabacloud_fc20230330 import models as fc_models
from mns.account import Account
from mns.queue import QueueMeta

from tests.contract.ramkit import (
    allow,
    deny,
    fc_client,
    invoke,
    make_probe,
    make_role,
    probe,
    run_flow,
    task_flow,
)
from tests.fc_handlers import code_location


def _id() -> str:
    return uuid.uuid4().hex[:10]


@pytest.fixture
def owner_bucket(localcloud):
    bucket = oss2.Bucket(
        oss2.Auth(localcloud.access_key_id, localcloud.access_key_secret),
        localcloud.oss_endpoint,
        f"ram-{_id()}",
    )
    bucket.create_bucket()
    bucket.put_object("in/a", b"1")
    bucket.put_object("out/b", b"2")
    return bucket


def _objects(cloud, bucket: str, prefix: str = "") -> str:
    return f"acs:oss:*:{cloud.account_id}:{bucket}/{prefix}*"


def _oss(op: str, bucket: str, key: str, **extra) -> dict:
    return {"service": "oss", "op": op, "bucket": bucket, "key": key, **extra}


def test_a_function_gets_sts_credentials_of_its_own_role(localcloud):
    arn = make_role(localcloud, f"creds-{_id()}", "fc.aliyuncs.com")
    name = f"creds-{_id()}"
    make_probe(localcloud, name, arn, handler="credentials")
    body, _ = invoke(localcloud, name, b"{}")
    creds = json.loads(body)
    assert creds["access_key_id"].startswith("STS.")
    assert creds["access_key_id"] != localcloud.access_key_id
    assert creds["security_token"]


def test_oss_allows_only_what_the_role_grants(localcloud, owner_bucket):
    b = owner_bucket.bucket_name
    arn = make_role(
        localcloud,
        f"read-{_id()}",
        "fc.aliyuncs.com",
        allow("oss:GetObject", _objects(localcloud, b, "in/")),
    )
    name = f"read-{_id()}"
    make_probe(localcloud, name, arn)
    outcomes = probe(
        localcloud,
        name,
        _oss("head_object", b, "in/a"),
        _oss("get_object", b, "in/a"),
        _oss("head_object", b, "out/b"),
        _oss("put_object", b, "in/new"),
        _oss("list_objects", b, ""),
    )
    assert outcomes == ["ok", "ok", "AccessDenied", "AccessDenied", "AccessDenied"]
    assert not owner_bucket.object_exists("in/new")


def test_copy_needs_get_on_the_source_and_put_on_the_destination(localcloud, owner_bucket):
    b = owner_bucket.bucket_name
    copy = _oss("copy_object", b, "out/copy", source_bucket=b, source_key="in/a")
    put_only = make_role(
        localcloud,
        f"put-{_id()}",
        "fc.aliyuncs.com",
        allow("oss:PutObject", _objects(localcloud, b, "out/")),
    )
    both = make_role(
        localcloud,
        f"copy-{_id()}",
        "fc.aliyuncs.com",
        allow("oss:PutObject", _objects(localcloud, b, "out/")),
        allow("oss:GetObject", _objects(localcloud, b, "in/")),
    )
    first = f"put-only-{_id()}"
    make_probe(localcloud, first, put_only)
    second = f"copy-{_id()}"
    make_probe(localcloud, second, both)
    assert probe(localcloud, first, copy) == ["AccessDenied"]
    assert not owner_bucket.object_exists("out/copy")
    assert probe(localcloud, second, copy) == ["ok"]
    assert owner_bucket.get_object("out/copy").read() == b"1"


def test_an_explicit_deny_wins_over_an_allow(localcloud, owner_bucket):
    b = owner_bucket.bucket_name
    arn = make_role(
        localcloud,
        f"deny-{_id()}",
        "fc.aliyuncs.com",
        allow(["oss:GetObject", "oss:DeleteObject"], _objects(localcloud, b)),
        deny("oss:DeleteObject", _objects(localcloud, b, "in/")),
    )
    name = f"deny-{_id()}"
    make_probe(localcloud, name, arn)
    assert probe(
        localcloud, name, _oss("delete_object", b, "in/a"), _oss("delete_object", b, "out/b")
    ) == [
        "AccessDenied",
        "ok",
    ]
    assert owner_bucket.object_exists("in/a") and not owner_bucket.object_exists("out/b")


def test_the_oss_denial_names_the_action_and_the_resource(localcloud, owner_bucket):
    b = owner_bucket.bucket_name
    arn = make_role(
        localcloud,
        f"none-{_id()}",
        "fc.aliyuncs.com",
        allow("oss:ListObjects", f"acs:oss:*:{localcloud.account_id}:{b}"),
    )
    name = f"creds-{_id()}"
    make_probe(localcloud, name, arn, handler="credentials")
    creds = json.loads(invoke(localcloud, name, b"{}")[0])
    bucket = oss2.Bucket(
        oss2.StsAuth(creds["access_key_id"], creds["access_key_secret"], creds["security_token"]),
        localcloud.oss_endpoint,
        b,
    )
    with pytest.raises(oss2.exceptions.AccessDenied) as info:
        bucket.get_object("in/a")
    resource = f"acs:oss:*:{localcloud.account_id}:{b}/in/a"
    assert "oss:GetObject" in info.value.message and resource in info.value.message
    assert info.value.details["AuthAction"] == "oss:GetObject"
    assert info.value.details["NoPermissionType"] == "ImplicitDeny"
    unsigned_token = oss2.Bucket(
        oss2.Auth(creds["access_key_id"], creds["access_key_secret"]), localcloud.oss_endpoint, b
    )
    with pytest.raises(oss2.exceptions.ServerError) as info:
        unsigned_token.list_objects()
    assert info.value.code == "InvalidSecurityToken"


def test_mns_send_is_allowed_only_to_the_granted_queue(localcloud):
    owner = Account(localcloud.mns_endpoint, localcloud.access_key_id, localcloud.access_key_secret)
    granted, other = f"ok-{_id()}", f"no-{_id()}"
    for q in (granted, other):
        owner.get_queue(q).create(QueueMeta())
    queue_arn = f"acs:mns:{localcloud.region}:{localcloud.account_id}:/queues/{granted}/messages"
    arn = make_role(
        localcloud, f"mns-{_id()}", "fc.aliyuncs.com", allow("mns:SendMessage", queue_arn)
    )
    name = f"mns-{_id()}"
    make_probe(localcloud, name, arn)
    calls = [{"service": "mns", "queue": granted}, {"service": "mns", "queue": other}]
    assert probe(localcloud, name, *calls) == ["ok", "AccessDenied"]


def _start_flow(cloud, flow: str, execution: str) -> dict:
    return {"service": "fnf", "flow": flow, "execution": execution}


def _pass_flow(cloud, name: str) -> None:
    from alibabacloud_fnf20190315 import models as fnf_models

    from tests.contract.ramkit import fnf_client

    definition = f"Type: StateMachine\nName: {name}\nSpecVersion: v1\nStartAt: P\nStates:\n  - Type: Pass\n    Name: P\n    End: true\n"
    fnf_client(cloud).create_flow(
        fnf_models.CreateFlowRequest(name=name, definition=definition, description="t", type="FDL")
    )


def test_start_execution_is_granted_only_by_resource_star(localcloud):
    flow = f"f{_id()}"
    _pass_flow(localcloud, flow)
    scoped = make_role(
        localcloud,
        f"scoped-{_id()}",
        "fc.aliyuncs.com",
        allow("fnf:StartExecution", f"acs:fnf:*:{localcloud.account_id}:flows/{flow}/executions/*"),
    )
    star = make_role(
        localcloud, f"star-{_id()}", "fc.aliyuncs.com", allow("fnf:StartExecution", "*")
    )
    first, second = f"scoped-{_id()}", f"star-{_id()}"
    make_probe(localcloud, first, scoped)
    make_probe(localcloud, second, star)
    assert probe(localcloud, first, _start_flow(localcloud, flow, "a")) == ["AccessDenied"]
    assert probe(localcloud, second, _start_flow(localcloud, flow, "b")) == ["ok"]


def test_the_execution_arn_reading_of_start_execution_is_selectable(localcloud_factory):
    cloud = localcloud_factory("--fnf-start-execution-resource", "execution")
    flow = f"f{_id()}"
    _pass_flow(cloud, flow)
    scoped = make_role(
        cloud,
        f"scoped-{_id()}",
        "fc.aliyuncs.com",
        allow("fnf:StartExecution", f"acs:fnf:*:{cloud.account_id}:flows/{flow}/executions/*"),
    )
    other = make_role(
        cloud,
        f"other-{_id()}",
        "fc.aliyuncs.com",
        allow("fnf:StartExecution", f"acs:fnf:*:{cloud.account_id}:flows/else/executions/*"),
    )
    first, second = f"scoped-{_id()}", f"other-{_id()}"
    make_probe(cloud, first, scoped)
    make_probe(cloud, second, other)
    assert probe(cloud, first, _start_flow(cloud, flow, "a")) == ["ok"]
    assert probe(cloud, second, _start_flow(cloud, flow, "b")) == ["AccessDenied"]


def test_a_function_whose_role_does_not_trust_fc_gets_no_credentials(localcloud):
    arn = make_role(localcloud, f"flowonly-{_id()}", "fnf.aliyuncs.com", allow("oss:*", "*"))
    name = f"untrusted-{_id()}"
    make_probe(localcloud, name, arn, handler="credentials")
    with pytest.raises(Exception) as info:
        invoke(localcloud, name, b"{}")
    assert getattr(info.value, "code", "") == "AccessDenied"
    assert "does not trust fc.aliyuncs.com" in str(info.value)


def _echo_function(cloud) -> str:
    name = f"echo-{_id()}"
    fc_client(cloud).create_function(
        fc_models.CreateFunctionRequest(
            body=fc_models.CreateFunctionInput(
                code=code_location(), function_name=name, handler="basic.echo", runtime="python3.10"
            )
        )
    )
    return name


def test_a_flow_invokes_functions_with_its_roles_grant_only(localcloud):
    fn = _echo_function(localcloud)
    fn_arn = f"acs:fc:{localcloud.region}:{localcloud.account_id}:functions/{fn}"
    granted = make_role(
        localcloud,
        f"flow-{_id()}",
        "fnf.aliyuncs.com",
        allow("fc:InvokeFunction", [fn_arn, fn_arn + "/*"]),
    )
    empty = make_role(
        localcloud, f"flow-{_id()}", "fnf.aliyuncs.com", allow("fc:GetFunction", fn_arn)
    )
    untrusted = make_role(
        localcloud, f"fcrole-{_id()}", "fc.aliyuncs.com", allow("fc:InvokeFunction", "*")
    )
    for role, want in (
        (granted, ("Succeeded", "")),
        (empty, ("Failed", "FC.AccessDenied")),
        (untrusted, ("Failed", "FC.AccessDenied")),
    ):
        name = f"f{_id()}"
        definition = task_flow(
            name, "FC:InvokeFunction", fn_arn + "/LATEST", "      invocationType: Sync\n"
        )
        assert run_flow(localcloud, name, definition, role) == want


def test_a_flow_sends_to_mns_only_where_its_role_allows(localcloud):
    owner = Account(localcloud.mns_endpoint, localcloud.access_key_id, localcloud.access_key_secret)
    queue = f"q-{_id()}"
    owner.get_queue(queue).create(QueueMeta())
    queue_arn = f"acs:mns:{localcloud.region}:{localcloud.account_id}:/queues/{queue}/messages"
    role = make_role(
        localcloud,
        f"flow-{_id()}",
        "fnf.aliyuncs.com",
        allow("mns:SendMessage", queue_arn.replace(queue, "other")),
    )
    name = f"f{_id()}"
    definition = task_flow(name, "MNS:SendMessage", queue_arn, "      message: hi\n")
    assert run_flow(localcloud, name, definition, role) == ("Failed", "MNS.AccessDenied")


def test_the_oss_trigger_invokes_only_through_an_invocation_role_that_may(localcloud, owner_bucket):
    fn = _echo_function(localcloud)
    fc = fc_client(localcloud)
    fn_arn = f"acs:fc:{localcloud.region}:{localcloud.account_id}:functions/{fn}"
    roles = {
        "ok": make_role(
            localcloud,
            f"trg-{_id()}",
            "oss.aliyuncs.com",
            allow("fc:InvokeFunction", [fn_arn, fn_arn + "/*"]),
        ),
        "wrong-trust": make_role(
            localcloud, f"trg-{_id()}", "fc.aliyuncs.com", allow("fc:InvokeFunction", "*")
        ),
        "no-grant": make_role(
            localcloud, f"trg-{_id()}", "oss.aliyuncs.com", allow("fc:GetFunction", fn_arn)
        ),
    }
    b = owner_bucket.bucket_name
    for prefix, role in roles.items():
        fc.create_trigger(
            fn,
            fc_models.CreateTriggerRequest(
                body=fc_models.CreateTriggerInput(
                    trigger_name=prefix,
                    trigger_type="oss",
                    source_arn=f"acs:oss:{localcloud.region}:{localcloud.account_id}:{b}",
                    invocation_role=role,
                    trigger_config=json.dumps(
                        {
                            "events": ["oss:ObjectCreated:PutObject"],
                            "filter": {"key": {"prefix": f"{prefix}/"}},
                        }
                    ),
                )
            ),
        )
    for prefix in roles:
        owner_bucket.put_object(f"{prefix}/x", b"1")
    counters = {}
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        counters = _fc_counters(localcloud).get(fn, {})
        if counters.get("trigger_denied") == 2 and counters.get("succeeded") == 1:
            break
        time.sleep(0.05)
    assert (counters.get("trigger_denied"), counters.get("succeeded")) == (2, 1)


def _fc_counters(cloud) -> dict:
    with urllib.request.urlopen(f"{cloud.admin_endpoint}/counters", timeout=10) as response:
        return json.loads(response.read()).get("fc", {}).get("functions", {})


def test_role_credentials_are_authorized_under_every_oss_signature_version(
    localcloud, owner_bucket
):
    b = owner_bucket.bucket_name
    arn = make_role(
        localcloud,
        f"sig-{_id()}",
        "fc.aliyuncs.com",
        allow("oss:GetObject", _objects(localcloud, b, "in/")),
    )
    name = f"sig-{_id()}"
    make_probe(localcloud, name, arn, handler="credentials")
    c = json.loads(invoke(localcloud, name, b"{}")[0])
    key, secret, token = c["access_key_id"], c["access_key_secret"], c["security_token"]
    provider = oss2.credentials.StaticCredentialsProvider(key, secret, token)
    auths = {
        "v1": (oss2.StsAuth(key, secret, token), {}),
        "v2": (oss2.StsAuth(key, secret, token, auth_version=oss2.AUTH_VERSION_2), {}),
        "v4": (oss2.ProviderAuthV4(provider), {"region": localcloud.region}),
    }
    for version, (auth, extra) in auths.items():
        bucket = oss2.Bucket(auth, localcloud.oss_endpoint, b, **extra)
        assert bucket.head_object("in/a").status == 200, version
        with pytest.raises(oss2.exceptions.ServerError) as info:
            bucket.head_object("out/b")
        assert info.value.status == 403, version
        signed_url = bucket.sign_url("GET", "in/a", 60)
        with urllib.request.urlopen(signed_url, timeout=10) as response:
            assert response.read() == b"1", version


def test_fc_invoke_with_role_credentials_needs_fc_invoke_function_on_that_function(localcloud):
    target, other = _echo_function(localcloud), _echo_function(localcloud)
    arn = f"acs:fc:{localcloud.region}:{localcloud.account_id}:functions/{target}"
    role = make_role(localcloud, f"inv-{_id()}", "fc.aliyuncs.com", allow("fc:InvokeFunction", arn))
    name = f"inv-{_id()}"
    make_probe(localcloud, name, role)
    calls = [{"service": "fc", "function": target}, {"service": "fc", "function": other}]
    assert probe(localcloud, name, *calls) == ["ok", "AccessDenied"]
