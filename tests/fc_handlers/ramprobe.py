"""A function that makes the calls its event lists with the STS credentials FC handed it
(context.credentials), through the real SDKs, and answers each call's outcome: "ok" or the
service's error code. Tests use it to see what a role may and may not do."""

from __future__ import annotations

import json

ENDPOINTS = {}  # filled from the event: {"oss": ..., "mns": ..., "fnf": ...}


def _creds(context):
    c = context.credentials
    return c.access_key_id, c.access_key_secret, c.security_token


def _oss(call, context, endpoints):
    import oss2

    key_id, secret, token = _creds(context)
    auth = oss2.StsAuth(key_id, secret, token) if token else oss2.Auth(key_id, secret)
    bucket = oss2.Bucket(auth, endpoints["oss"], call["bucket"])
    op = call["op"]
    if op == "put_object":
        bucket.put_object(call["key"], call.get("body", "x"))
    elif op == "head_object":
        bucket.head_object(call["key"])
    elif op == "get_object":
        bucket.get_object(call["key"]).read()
    elif op == "copy_object":
        bucket.copy_object(call["source_bucket"], call["source_key"], call["key"])
    elif op == "delete_object":
        bucket.delete_object(call["key"])
    elif op == "list_objects":
        bucket.list_objects(prefix=call.get("prefix", ""), max_keys=1)
    else:
        raise ValueError(op)


def _mns(call, context, endpoints):
    from mns.account import Account
    from mns.queue import Message

    key_id, secret, token = _creds(context)
    account = Account(endpoints["mns"], key_id, secret, token or "")
    account.get_queue(call["queue"]).send_message(Message(call.get("body", "x")))


def _fnf(call, context, endpoints):
    from alibabacloud_fnf20190315.client import Client
    from alibabacloud_fnf20190315.models import StartExecutionRequest
    from alibabacloud_tea_openapi.models import Config

    key_id, secret, token = _creds(context)
    client = Client(
        Config(
            access_key_id=key_id,
            access_key_secret=secret,
            security_token=token,
            endpoint=endpoints["fnf"].removeprefix("http://"),
            protocol="http",
            region_id=context.region,
        )
    )
    client.start_execution(
        StartExecutionRequest(
            flow_name=call["flow"], execution_name=call.get("execution"), input="{}"
        )
    )


def _fc(call, context, endpoints):
    from alibabacloud_fc20230330 import models as fc_models
    from alibabacloud_fc20230330.client import Client
    from alibabacloud_tea_openapi.models import Config

    key_id, secret, token = _creds(context)
    client = Client(
        Config(
            access_key_id=key_id,
            access_key_secret=secret,
            security_token=token,
            endpoint=endpoints["fc"].removeprefix("http://"),
            protocol="http",
            region_id=context.region,
        )
    )
    client.invoke_function(call["function"], fc_models.InvokeFunctionRequest(body=b"{}"))


def _outcome(exc: Exception) -> str:
    code = getattr(exc, "code", None) or getattr(exc, "type", None)
    return str(code or type(exc).__name__)


def probe(event, context):
    request = json.loads(event)
    endpoints = request["endpoints"]
    outcomes = []
    for call in request.get("calls", []):
        runner = {"oss": _oss, "mns": _mns, "fnf": _fnf, "fc": _fc}[call["service"]]
        try:
            runner(call, context, endpoints)
            outcomes.append("ok")
        except Exception as exc:  # the outcome is the answer
            outcomes.append(_outcome(exc))
    return json.dumps({"outcomes": outcomes, "key_id": context.credentials.access_key_id})


def credentials(event, context):
    """The STS credentials FC handed this invocation (benchmarks sign with them)."""
    c = context.credentials
    return json.dumps(
        {
            "access_key_id": c.access_key_id,
            "access_key_secret": c.access_key_secret,
            "security_token": c.security_token,
        }
    )
