"""`ossbatch flows check`: the flows as each environment deploys them (the deployment
model's flows, Name = the deployed flow name), through localcloud's strict parser, plus
the rule that every FC task waits at least as long as its function may run (Task Timeout
>= the function timeout of the job kind).

ossbatch never imports localcloud: the parser runs as `python -m localcloud check-flows`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ossbatch.cloud import ConfigError
from ossbatch.config import ENVIRONMENTS_DIR, FUNCTION_KINDS, JOB_KINDS, load_environment
from ossbatch.deployment import Flow, cloud_target, deployment

# ARNs do not enter a definition: any account builds the same flows
CHECK_ACCOUNT = "1000000000000000"


@dataclass
class FlowReport:
    environment: str
    stem: str
    name: str
    problems: list[str] = field(default_factory=list)


def function_timeout(env, kind: str) -> int:
    """The timeout of the function a job kind's flow invokes (the registry, JOB_KINDS)."""
    return FUNCTION_KINDS[JOB_KINDS[kind].function].settings(env).timeout_s


def deployed_flows(env) -> tuple[Flow, ...]:
    """The environment's flows exactly as infra and `local up` deploy them."""
    return deployment(env, cloud_target(env, env.account_id or CHECK_ACCOUNT)).flows


def fc_tasks(states: list) -> list[dict]:
    """FC:InvokeFunction tasks of a definition, Map processors included."""
    found = []
    for state in states or []:
        if not isinstance(state, dict):
            continue
        if state.get("Type") == "Task" and state.get("Action") == "FC:InvokeFunction":
            found.append(state)
        found += fc_tasks((state.get("Processor") or {}).get("States"))
        for branch in state.get("Branches") or []:
            if isinstance(branch, dict):
                found += fc_tasks(branch.get("States"))
    return found


def timeout_problems(definition: str, minimum: int) -> list[str]:
    problems = []
    for task in fc_tasks((yaml.safe_load(definition) or {}).get("States")):
        timeout = task.get("Timeout")
        if not isinstance(timeout, int) or timeout < minimum:
            problems.append(
                f"state {task.get('Name')!r}, field Timeout: {timeout!r} is below the function "
                f"timeout {minimum} s of this environment; set Timeout >= {minimum}"
            )
    return problems


def strict_problems(flows: list[dict]) -> dict[str, list[str]]:
    """{name: problems} from localcloud's strict parser (a child process)."""
    proc = subprocess.run(
        [sys.executable, "-m", "localcloud", "check-flows"],
        input=json.dumps(flows),
        capture_output=True,
        text=True,
        timeout=120,
    )
    try:
        return json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise ConfigError(f"localcloud check-flows failed: {proc.stderr.strip()[-500:]}") from None


def synthesized_flows(path: Path) -> list[dict]:
    """The alicloud_fnf_flow definitions of a synthesized stack (`make synth ENV=x`), with
    Terraform's interpolation escapes undone: exactly what CreateFlow will receive."""
    try:
        stack = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"cannot read the synthesized stack {path}: {exc}") from None
    flows = (stack.get("resource") or {}).get("alicloud_fnf_flow") or {}
    if not flows:
        raise ConfigError(f"{path} has no alicloud_fnf_flow resources; run `make synth ENV=...`")
    return [
        {
            "name": flow["name"],
            "definition": flow["definition"].replace("$${", "${").replace("%%{", "%{"),
        }
        for flow in flows.values()
    ]


def check_synthesized(path: Path) -> list[FlowReport]:
    flows = synthesized_flows(path)
    by_name = strict_problems(flows)
    return [FlowReport(str(path), "", f["name"], by_name.get(f["name"], [])) for f in flows]


def environment_names() -> list[str]:
    return sorted(p.stem for p in ENVIRONMENTS_DIR.glob("*.yaml"))


def check(names: list[str]) -> list[FlowReport]:
    reports, flows = [], []
    for env_name in names:
        env = load_environment(env_name)
        for flow in deployed_flows(env):
            report = FlowReport(env.name, flow.kind, flow.name)
            report.problems += timeout_problems(flow.definition, function_timeout(env, flow.kind))
            reports.append(report)
            flows.append({"name": flow.name, "definition": flow.definition})
    by_name = strict_problems(flows)
    for report in reports:
        report.problems = by_name.get(report.name, []) + report.problems
    return reports
