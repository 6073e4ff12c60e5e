"""`python -m infra <synth|hcl|review|package|plan|deploy|destroy> --env X` (the Makefile's targets).

Exit codes: 0 done, 1 terraform failed, 2 configuration/precondition error,
3 refused for safety (prod destroy without FORCE=1, unconfirmed prod deploy).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from infra import package as code_package
from infra import terraform
from infra.package import PackageError
from ossbatch.config import PROJECT_ROOT, EnvironmentFileError, load_environment

DEFAULT_OUTDIR = PROJECT_ROOT / "cdktf.out"


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m infra", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("synth", "hcl", "review", "plan", "deploy", "destroy"):
        cmd = sub.add_parser(name)
        cmd.add_argument("--env", default=os.environ.get("ENV", "local"))
        cmd.add_argument("--outdir", type=Path, default=DEFAULT_OUTDIR)
        cmd.add_argument("--flows-dir", type=Path, default=PROJECT_ROOT / "flows")
        cmd.add_argument(
            "--package-manifest",
            type=Path,
            help="use an already built code package (its manifest.json) instead of the last one",
        )
        if name == "review":
            cmd.add_argument("--base", default=os.environ.get("BASE") or None)
            cmd.add_argument("--output", type=Path, help="also write the Markdown here")
        if name in ("deploy", "destroy"):
            cmd.add_argument(
                "--auto-approve",
                action="store_true",
                default=_truthy(os.environ.get("AUTO_APPROVE")),
            )
        if name == "destroy":
            cmd.add_argument(
                "--force", action="store_true", default=_truthy(os.environ.get("FORCE"))
            )
    pkg = sub.add_parser("package")
    pkg.add_argument("--no-deps", action="store_true", help="handlers/ only (no downloads)")
    pkg.add_argument("--python-version", default=code_package.FC_PYTHON_VERSION)
    pkg.add_argument("--out-dir", type=Path, default=PROJECT_ROOT / "build" / "package")
    pkg.add_argument("--project-root", type=Path, default=PROJECT_ROOT, help="where handlers/ is")
    pkg.add_argument("--cache-dir", type=Path, default=code_package.CACHE_DIR)
    return parser


def _package_from(args) -> code_package.CodePackage | None:
    if getattr(args, "package_manifest", None):
        data = json.loads(args.package_manifest.read_text())
        return code_package.CodePackage(**data)
    return code_package.current(PROJECT_ROOT)


def _synth(args, package=None):
    from infra.main import build_app

    app, stacks = build_app(
        [args.env],
        outdir=args.outdir,
        flows_dir=args.flows_dir,
        package=package or _package_from(args),
    )
    app.synth()
    stack = next(iter(stacks.values()))
    stack_dir = args.outdir / "stacks" / stack.node.id
    return stack, stack_dir


def cmd_synth(args) -> int:
    _, stack_dir = _synth(args)
    print(f"synthesized {stack_dir / 'cdk.tf.json'}")
    return 0


def cmd_hcl(args) -> int:
    from infra import hcl

    stack, _ = _synth(args)
    path = hcl.write(stack, args.outdir)
    print(f"wrote {path} (plain Terraform; `terraform init` in {path.parent})")
    return 0


def cmd_review(args) -> int:
    from infra import review

    stack, stack_dir = _synth(args)
    head = json.loads((stack_dir / "cdk.tf.json").read_text())
    name = stack.env.name  # BASE is synthesized from its own environments/<name>.yaml
    base = review.synth_at_ref(PROJECT_ROOT, args.base, name) if args.base else None
    markdown = review.render(head, stack.node.id, base, args.base)
    target = args.output or args.outdir / "review" / f"{stack.node.id}.md"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(markdown, encoding="utf-8")
    print(markdown)
    print(f"(written to {target})", file=sys.stderr)
    return 0


def cmd_package(args) -> int:
    built = code_package.build(
        args.project_root,
        args.out_dir,
        args.cache_dir,
        python_version=args.python_version,
        with_dependencies=not args.no_deps,
    )
    print(f"{built.path}\n  sha256 {built.sha256}\n  crc64 {built.crc64}\n  {built.size} bytes")
    return 0


def _prepare(args, env):
    """Preconditions first (fail fast), then package + synth; returns the runner."""
    if env.state is None:
        raise terraform.PreconditionError(
            f"environment {env.name!r} has no state backend (state:), so it is not deployed "
            "with terraform; local is provisioned on localcloud by `ossbatch local up`"
        )
    stack_dir = args.outdir / "stacks" / f"ossbatch-{env.name}"
    binary = terraform.check_preconditions(stack_dir)
    package = _package_from(args) if args.package_manifest else code_package.build(PROJECT_ROOT)
    _, stack_dir = _synth(args, package)
    runner = terraform.Terraform(binary, stack_dir)
    runner.init()
    return runner


def cmd_plan(args) -> int:
    runner = _prepare(args, load_environment(args.env))
    print(runner.plan())
    return 0


def cmd_deploy(args) -> int:
    env = load_environment(args.env)  # protection follows the environment's name, not the path
    runner = _prepare(args, env)
    print(runner.plan())
    if env.name in terraform.PROTECTED_ENVIRONMENTS:
        terraform.confirm(env.name, args.auto_approve, "apply")
    runner.apply_saved_plan()
    return 0


def cmd_destroy(args) -> int:
    env = load_environment(args.env)
    protected = env.name in terraform.PROTECTED_ENVIRONMENTS
    if protected and not args.force:
        raise terraform.SafetyRefusal(
            f"destroy {env.name}: refused. Destroying {env.name} needs FORCE=1 "
            "(its buckets are also protected by prevent_destroy)."
        )
    runner = _prepare(args, env)
    stack = json.loads((runner.stack_dir / "cdk.tf.json").read_text())
    # prod buckets carry prevent_destroy: destroy the rest and keep the data
    print(
        runner.plan(destroy=True, targets=terraform.destroy_targets(stack) if protected else None)
    )
    terraform.confirm(env.name, args.auto_approve, "destroy")
    runner.apply_saved_plan()
    return 0


COMMANDS = {
    "synth": cmd_synth,
    "hcl": cmd_hcl,
    "review": cmd_review,
    "package": cmd_package,
    "plan": cmd_plan,
    "deploy": cmd_deploy,
    "destroy": cmd_destroy,
}


def main(argv: list[str] | None = None) -> int:
    from infra.review import ReviewError
    from infra.validation import StackValidationError

    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (
        EnvironmentFileError,
        StackValidationError,
        terraform.PreconditionError,
        PackageError,
        ReviewError,
    ) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except terraform.SafetyRefusal as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 3
    except terraform.TerraformFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
