"""Infra fixtures: each environment synthesized once per session (jsii start-up is slow)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

import infra  # noqa: F401  (silences the node banner before cdktf loads)
from infra import package as code_package
from infra.stack import OssbatchStack
from ossbatch.config import PROJECT_ROOT, Environment, load_environment

ENVIRONMENTS = ("local", "dev", "staging", "prod")


@dataclass
class Synthesized:
    env: Environment
    stack: OssbatchStack
    text: str  # Testing.synth output (what the Testing matchers take)

    @property
    def tf(self) -> dict:
        return json.loads(self.text)

    def resources(self, rtype: str) -> dict[str, dict]:
        return self.tf.get("resource", {}).get(rtype, {})


def synth(env: Environment, flows_dir: Path, package) -> Synthesized:
    import cdktf

    app = cdktf.Testing.app()
    stack = OssbatchStack(app, env, package=package, flows_dir=flows_dir)
    return Synthesized(env, stack, cdktf.Testing.synth(stack))


def make_handlers(root: Path) -> Path:
    """A tiny project with a handlers package (the real one is another helper's)."""
    handlers = root / "handlers"
    handlers.mkdir(parents=True)
    (handlers / "__init__.py").write_text('"""tiny handlers for packaging tests"""\n')
    (handlers / "echo.py").write_text(
        "import json\n\n\ndef handler(event, context):\n"
        "    return json.dumps({'echo': json.loads(event)})\n"
    )
    (root / "index.py").write_text(
        "from handlers import echo\n\n\ndef echo_entry(event, context):\n"
        "    return echo.handler(event, context)\n"
    )
    return root


@pytest.fixture(scope="session")
def tiny_package(tmp_path_factory) -> code_package.CodePackage:
    root = make_handlers(tmp_path_factory.mktemp("tiny-project"))
    return code_package.build(root, with_dependencies=False)


@pytest.fixture(scope="session")
def stacks(tiny_package, tmp_path_factory) -> dict[str, Synthesized]:
    flows = PROJECT_ROOT / "flows"
    return {name: synth(load_environment(name), flows, tiny_package) for name in ENVIRONMENTS}


@pytest.fixture(scope="session")
def synth_stack():
    """`synth(env, flows_dir, package)` for tests that need their own variant."""
    return synth


@pytest.fixture(params=ENVIRONMENTS)
def synthesized(request, stacks) -> Synthesized:
    return stacks[request.param]
