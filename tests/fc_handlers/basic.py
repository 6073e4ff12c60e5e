"""Small handlers that each show one runtime behaviour."""

import json
import os
import time

_instance_state = {"invocations": 0}


def echo(event, context):
    return event


def upper_text(event, context):
    return event.decode("utf-8").upper()


def returns_dict(event, context):
    return {"size": len(event)}


def sleep_forever(event, context):
    while True:
        time.sleep(3600)


def sleep_seconds(event, context):
    """Sleeps for the number of seconds in the payload, then answers with its pid."""
    time.sleep(float(event or b"0"))
    return str(os.getpid())


def boom(event, context):
    raise ValueError(f"boom: {event.decode('utf-8', 'replace')}")


def exit_process(event, context):
    os._exit(3)


def pid(event, context):
    _instance_state["invocations"] += 1
    return json.dumps({"pid": os.getpid(), "invocations": _instance_state["invocations"]})


def print_and_log(event, context):
    print("printed to the function log")
    context_logger = __import__("logging").getLogger()
    context_logger.info("logged with the request id")
    return "ok"


def read_context(event, context):
    """Everything the context and the instance environment carry."""
    info = {
        "request_id": context.request_id,
        "function": vars(context.function),
        "region": context.region,
        "account_id": context.account_id,
        "attributes": sorted(a for a in vars(context)),
        "env": {
            k: v
            for k, v in os.environ.items()
            if k.startswith(("FC_", "ALIBABA_CLOUD_", "FCTEST_"))
        },
        "cwd": os.getcwd(),
    }
    if hasattr(context, "credentials"):
        info["credentials"] = vars(context.credentials)
    return json.dumps(info)


def record_attempt(event, context):
    """Appends one line per attempt to $FCTEST_RECORD_DIR/<request id>; fails the first
    $FCTEST_FAILURES attempts (all of them when it is 'always')."""
    record_dir = os.environ["FCTEST_RECORD_DIR"]
    path = os.path.join(record_dir, context.request_id)
    with open(path, "a") as f:
        f.write(event.decode("utf-8", "replace").replace("\n", " ") + "\n")
    with open(path) as f:
        attempts = sum(1 for _ in f)
    failures = os.environ.get("FCTEST_FAILURES", "0")
    if failures == "always" or attempts <= int(failures):
        raise RuntimeError(f"attempt {attempts} fails on purpose")
    return str(attempts)


def timeout_then_succeed(event, context):
    """Sleeps past the timeout on the first attempt of a request id, then succeeds."""
    marker = os.path.join(os.environ["FCTEST_RECORD_DIR"], context.request_id + ".seen")
    if not os.path.exists(marker):
        open(marker, "w").close()
        time.sleep(3600)
    return "second time lucky"


def spawn_child_then_sleep(event, context):
    """Starts a child process (pid written to the payload's path), then sleeps forever."""
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"])
    with open(event.decode(), "w") as f:
        f.write(str(child.pid))
    time.sleep(3600)
