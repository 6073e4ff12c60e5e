"""The cdktf app: `python -m infra.main [ENV ...]` synthesizes `cdktf.out/stacks/ossbatch-<env>/`.

`python -m infra synth --env X` is the usual entry (see infra/cli.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

import cdktf

from infra import package as code_package
from infra.stack import OssbatchStack
from ossbatch.config import PROJECT_ROOT, load_environment

DEFAULT_OUTDIR = PROJECT_ROOT / "cdktf.out"


def build_app(
    env_names: list[str],
    *,
    outdir: Path = DEFAULT_OUTDIR,
    flows_dir: Path = PROJECT_ROOT / "flows",
    package: code_package.CodePackage | None = None,
    environments_dir: Path | None = None,
) -> tuple[cdktf.App, dict[str, OssbatchStack]]:
    app = cdktf.App(outdir=str(outdir))
    package = package or code_package.current(PROJECT_ROOT)
    stacks = {}
    for name in env_names:
        env = load_environment(name, environments_dir)
        stacks[env.name] = OssbatchStack(
            app,
            env,
            package=package,
            flows_dir=flows_dir,
        )
    return app, stacks


def main(argv: list[str]) -> int:
    app, _ = build_app(argv or ["local", "dev", "staging", "prod"])
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
