"""Synth-time checks that the environment schema alone cannot make (names derived from files).

Every problem is collected first, then reported together in one `StackValidationError`.
"""

from __future__ import annotations

import re
from pathlib import Path

from ossbatch.config import (
    FC_MAX_TIMEOUT_S,
    FLOW_NAME_RE,
    FUNCTION_KINDS,
    FUNCTION_NAME_RE,
    Environment,
)
from ossbatch.policies import ROLE_NAME_RE, TRUSTED_SERVICE, role_name


class StackValidationError(ValueError):
    """The environment and flow files cannot make a valid stack; the message lists why."""


def flow_files(flows_dir: Path) -> list[Path]:
    """flows/*.yaml in a stable order; zero files is fine (no flows deployed)."""
    return sorted(flows_dir.glob("*.yaml")) if flows_dir.is_dir() else []


def role_names(env: Environment) -> dict[str, str]:
    return {key: role_name(env, key) for key in TRUSTED_SERVICE}


def validate(env: Environment, flows: list[Path], env_file: str = "") -> None:
    where = f"{env_file or env.name}: "
    problems = []
    seen: dict[str, Path] = {}
    for path in flows:
        address = path.stem.replace("-", "_")
        if address in seen:
            problems.append(f"{path}: same resource address as {seen[address]}; rename one")
        seen.setdefault(address, path)
        name = env.flow_name(path.stem)
        if not re.fullmatch(FLOW_NAME_RE, name):
            problems.append(
                f"{path}: flow name {name!r} is invalid (letters, digits, _ and -, "
                "letter first, <= 128 chars); rename the file"
            )
    for job in FUNCTION_KINDS:
        name = env.function_name(job)
        if not re.fullmatch(FUNCTION_NAME_RE, name):
            problems.append(f"{where}name_prefix gives an invalid function name {name!r}")
    for name in role_names(env).values():
        if not ROLE_NAME_RE.fullmatch(name):
            problems.append(f"{where}name_prefix gives an invalid RAM role name {name!r}")
    functions = {kind.settings_path: kind.settings(env) for kind in FUNCTION_KINDS.values()}
    for field, settings in functions.items():
        if settings.timeout_s > FC_MAX_TIMEOUT_S:
            problems.append(f"{where}{field}.timeout_s exceeds the FC limit of {FC_MAX_TIMEOUT_S}")
    b, u = env.buckets, env.unzip
    if b.packages.name == b.extraction.name and (
        u.output_prefix.startswith(u.watch_prefix) or u.watch_prefix.startswith(u.output_prefix)
    ):
        problems.append(f"{where}unzip.output_prefix overlaps unzip.watch_prefix (recursion loop)")
    if env.name == "prod" and not env.deletion_protection:
        problems.append(f"{where}deletion_protection must be true for prod")
    if problems:
        raise StackValidationError("cannot synthesize:\n  " + "\n  ".join(problems))
