"""`python -m peer [--sdist PATH] [test_file.py ...]`: oss2's own functional tests against a
fresh localcloud, with the pass rate per file (target: >= 95% of the non-excluded cases).

The sdist is fetched by `make test-peer` (pip download into build/peer-cache); this module
only unpacks its tests/ directory, starts localcloud and runs pytest on it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from importlib.metadata import version
from pathlib import Path

from localcloud import launcher
from peer.exclusions import EXCLUDED, MISSING_FIXTURES, PEER_FILES
from peer.results import FileResult, collect, render_table

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "build" / "peer-cache"
TARGET_RATE = 0.95


def default_sdist() -> Path:
    return CACHE / f"oss2-{version('oss2')}.tar.gz"


def unpack_tests(sdist: Path) -> Path:
    """The sdist's tests/ package, unpacked once beside it (oss2 itself comes from the venv)."""
    where = sdist.parent / (sdist.name.removesuffix(".tar.gz") + "-tests")
    marker = where / ".unpacked"
    if not marker.exists():
        with tarfile.open(sdist) as tar:
            members = [m for m in tar.getmembers() if "/tests/" in m.name and m.isfile()]
            for m in members:
                m.name = m.name.split("/", 1)[1]
            tar.extractall(where, members=members, filter="data")
        for name, size in MISSING_FIXTURES.items():
            (where / name).write_bytes(bytes(range(256)) * (size // 256))
        # an empty ini keeps pytest from reading this project's pyproject.toml options
        (where / "pytest.ini").write_text("[pytest]\n")
        marker.touch()
    return where


def run(sdist: Path, files: list[str], workers: str) -> list[FileResult]:
    suite = unpack_tests(sdist)
    with tempfile.TemporaryDirectory(prefix="peer-") as tmp:
        cloud = launcher.start(Path(tmp) / "localcloud")
        outcomes = Path(tmp) / "outcomes"
        outcomes.mkdir()
        env = dict(
            os.environ,
            OSS_TEST_ENDPOINT=cloud.oss_endpoint,
            OSS_TEST_ACCESS_KEY_ID=cloud.access_key_id,
            OSS_TEST_ACCESS_KEY_SECRET=cloud.access_key_secret,
            OSS_TEST_BUCKET="peer",
            OSS_TEST_REGION=cloud.region,
            # test_bucket_inventory's destination AccountId and RoleArn (stored, not assumed)
            OSS_TEST_RAM_UID=cloud.account_id,
            OSS_TEST_RAM_ROLE_ARN=f"acs:ram::{cloud.account_id}:role/AliyunOSSRole",
            PEER_OUTCOMES_DIR=str(outcomes),
            PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        )
        log_path = CACHE / "peer-pytest.log"
        cmd = [
            sys.executable, "-m", "pytest", "-c", str(suite / "pytest.ini"), "-p", "peer.plugin",
            "-p", "no:cacheprovider", "-q", "--tb=short", "--show-capture=no", "-rfE",
            "--timeout", "300", "-n", workers, *(f"tests/{f}" for f in files),
        ]  # fmt: skip
        try:
            with open(log_path, "w") as log:
                subprocess.run(cmd, cwd=suite, env=env, stdout=log, stderr=subprocess.STDOUT)
        finally:
            cloud.stop()
        print(f"pytest output: {log_path}")
        return collect(outcomes, files, EXCLUDED)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m peer", description=__doc__.split("\n")[0])
    parser.add_argument("--sdist", type=Path, default=None)
    parser.add_argument("--workers", default="2", help="pytest-xdist workers (default 2)")
    parser.add_argument("files", nargs="*", default=list(PEER_FILES))
    args = parser.parse_args(argv)
    sdist = args.sdist or default_sdist()
    if not sdist.exists():
        print(
            f"peer: {sdist} is missing; run `make test-peer`, which downloads it.", file=sys.stderr
        )
        return 2
    results = run(sdist, args.files, args.workers)
    print(render_table(results))
    (CACHE / "peer-results.json").write_text(
        json.dumps([r.as_dict() for r in results], indent=1) + "\n"
    )
    total = FileResult.total(results)
    if total.rate < TARGET_RATE:
        print(f"peer: {total.rate:.1%} of the cases pass, below the {TARGET_RATE:.0%} target.")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
