"""The code package: deterministic bytes, content-hash name, and it runs a handler in a clean venv."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from infra import package as code_package
from ossbatch.config import PROJECT_ROOT

# through the handler string `index.echo`, as FC loads it from the code root
RUN_ECHO = "import json, index; print(index.echo(json.dumps({'n': 1}).encode(), None))"


def make_project(root: Path) -> Path:
    handlers = root / "handlers"
    (handlers / "__pycache__").mkdir(parents=True)
    (handlers / "__init__.py").write_text("")
    (handlers / "echo.py").write_text(
        "import json\n\n\ndef handler(event, context):\n"
        "    return json.dumps({'echo': json.loads(event)})\n"
    )
    (handlers / "__pycache__" / "echo.cpython-311.pyc").write_bytes(b"\x00junk")
    (root / "index.py").write_text(
        "from handlers import echo as _echo\n\n\ndef echo(event, context):\n"
        "    return _echo.handler(event, context)\n"
    )
    return root


def clean_venv(python: str, where: Path) -> Path:
    """A venv with nothing installed (not even pip): only the zip's contents are importable."""
    subprocess.run([python, "-m", "venv", "--without-pip", str(where)], check=True)
    return where / "bin" / "python"


def test_same_source_gives_the_same_bytes_and_name(tmp_path):
    root = make_project(tmp_path / "p")
    first = code_package.build(root, tmp_path / "out1", with_dependencies=False)
    second = code_package.build(root, tmp_path / "out2", with_dependencies=False)
    assert Path(first.path).read_bytes() == Path(second.path).read_bytes()
    assert (
        Path(first.path).name == Path(second.path).name == f"ossbatch-code-{first.sha256[:16]}.zip"
    )


def test_a_changed_handler_changes_the_hash(tmp_path):
    root = make_project(tmp_path / "p")
    before = code_package.build(root, tmp_path / "out", with_dependencies=False)
    (root / "handlers" / "echo.py").write_text("def handler(event, context):\n    return event\n")
    after = code_package.build(root, tmp_path / "out", with_dependencies=False)
    assert before.sha256 != after.sha256 and before.object_key != after.object_key


def test_entries_are_sorted_dated_1980_and_free_of_bytecode(tmp_path):
    root = make_project(tmp_path / "p")
    built = code_package.build(root, tmp_path / "out", with_dependencies=False)
    with zipfile.ZipFile(built.path) as archive:
        infos = archive.infolist()
    names = [i.filename for i in infos]
    assert names == sorted(names) == ["handlers/__init__.py", "handlers/echo.py", "index.py"]
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {i.external_attr >> 16 for i in infos} == {0o100644}


def test_entry_order_of_the_input_does_not_matter():
    a = code_package.deterministic_zip({"b.py": b"2", "a.py": b"1"})
    b = code_package.deterministic_zip({"a.py": b"1", "b.py": b"2"})
    assert a == b


def test_checksum_is_the_crc64_oss_and_fc_use(tmp_path):
    import oss2

    root = make_project(tmp_path / "p")
    built = code_package.build(root, tmp_path / "out", with_dependencies=False)
    crc = oss2.utils.Crc64(0)
    crc.update(Path(built.path).read_bytes())
    assert built.crc64 == str(crc.crc)


def test_manifest_records_the_last_build(tmp_path):
    root = make_project(tmp_path / "p")
    built = code_package.build(root, with_dependencies=False)
    assert code_package.current(root) == built


def test_missing_handlers_is_a_clear_error(tmp_path):
    with pytest.raises(code_package.PackageError, match="handlers/__init__.py"):
        code_package.build(tmp_path, with_dependencies=False)


def test_a_package_without_the_root_entry_module_is_a_clear_error(tmp_path):
    root = make_project(tmp_path / "p")
    (root / "index.py").unlink()
    with pytest.raises(code_package.PackageError, match=r"index\.py: no entry module"):
        code_package.build(root, tmp_path / "out", with_dependencies=False)


def test_native_parts_of_locally_built_sdists_are_dropped(tmp_path):
    wheel = tmp_path / "crcmod-1.7-cp311-cp311-linux_x86_64.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("crcmod/__init__.py", "")
        archive.writestr("crcmod/_crcfunext.cpython-311-x86_64-linux-gnu.so", b"\x7fELF")
    kept = code_package._wheel_entries(wheel, drop_native=True)
    assert sorted(kept) == ["crcmod/__init__.py"]
    assert len(code_package._wheel_entries(wheel, drop_native=False)) == 2


def test_lock_file_pins_every_dependency_exactly(tmp_path):
    pins = code_package.read_lock()
    names = {p.name for p in pins}
    assert {"oss2", "tenacity", "stream-unzip", "pydantic", "alibabacloud-fnf20190315"} <= names
    assert all(p.version and "*" not in p.version for p in pins)
    # the KMS SDK's pure-Python helpers (gateway-pop's) publish no wheels either
    assert {p.name for p in pins if p.sdist_only} == {
        "oss2",
        "crcmod",
        "alibabacloud-tea",
        "alibabacloud-endpoint-util",
        "alibabacloud-darabonba-string",
        "alibabacloud-darabonba-map",
        "alibabacloud-darabonba-array",
        "alibabacloud-darabonba-signature-util",
        "alibabacloud-tea-xml",
    }
    assert "alibabacloud-kms20160120" in names
    bad = tmp_path / "lock.txt"
    bad.write_text("oss2>=2\n")
    with pytest.raises(code_package.PackageError, match=r"lock.txt:1"):
        code_package.read_lock(bad)


def test_handlers_only_zip_imports_and_runs_in_a_clean_venv(tmp_path):
    root = make_project(tmp_path / "p")
    built = code_package.build(root, tmp_path / "out", with_dependencies=False)
    code = tmp_path / "code"
    zipfile.ZipFile(built.path).extractall(code)
    python = clean_venv(sys.executable, tmp_path / "venv")
    done = subprocess.run(
        [str(python), "-c", RUN_ECHO], cwd=code, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"echo": {"n": 1}}


def _fc_python() -> tuple[str, str]:
    """The FC runtime's interpreter if installed here, else this one (same packaging path)."""
    found = shutil.which(f"python{code_package.FC_PYTHON_VERSION}")
    if found:
        probe = subprocess.run([found, "-c", "print(1)"], capture_output=True)
        if probe.returncode == 0:
            return found, code_package.FC_PYTHON_VERSION
    return sys.executable, f"{sys.version_info.major}.{sys.version_info.minor}"


# each function's handler string, run from the extracted zip in a clean venv with the
# variables the deployment gives it (endpoints: a localcloud) and a real small event
HANDLER_RUN = """
import json, sys, types, importlib
handler, event, key_id, secret = sys.argv[1:5]
module, _, method = handler.partition(".")
fn = getattr(importlib.import_module(module), method)
ctx = types.SimpleNamespace(request_id="r-1", region="cn-hangzhou", account_id="1",
    credentials=types.SimpleNamespace(access_key_id=key_id, access_key_secret=secret,
    security_token=None), function=types.SimpleNamespace(name="f", memory=512, timeout=60))
print(fn(event.encode(), ctx))
"""


def _events(bucket: str) -> dict[str, dict]:
    listing = {"bucket": bucket, "prefix": "empty/"}
    return {
        "copy": {"job_id": "p1", "listing": listing, "dest": {"bucket": bucket, "prefix": "c/"}},
        "restore": {"job_id": "p2", "listing": listing},
        "verify": {"job_id": "p4", "listing": listing, "dest": {"bucket": bucket, "prefix": "c/"}},
        "unzip": {"job_id": "p3", "package": {"bucket": bucket, "key": "incoming/p.zip"}},
        "trigger": {
            "events": [
                {
                    "eventName": "ObjectCreated:PutObject",
                    "oss": {
                        "bucket": {"name": bucket},
                        "object": {"key": "elsewhere/x", "eTag": "e"},
                    },
                }
            ]
        },
    }


@pytest.mark.slow
def test_make_package_twice_is_byte_identical_and_runs_every_handler_string(
    tmp_path, localcloud, oss_auth
):
    """Full package with pinned wheels (downloaded once into build/package-cache)."""
    import oss2

    from ossbatch.config import load_environment
    from ossbatch.deployment import deployment, local_target

    python, version = _fc_python()
    source = tmp_path / "source"  # a snapshot: handlers/ may be edited while this runs
    shutil.copytree(PROJECT_ROOT / "handlers", source / "handlers")
    shutil.copy(PROJECT_ROOT / "index.py", source / "index.py")
    outs = []
    for n in (1, 2):
        done = subprocess.run(
            [
                sys.executable, "-m", "infra", "package", "--python-version", version,
                "--out-dir", str(tmp_path / f"out{n}"), "--project-root", str(source),
            ],
            cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=900,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        (zip_path,) = (tmp_path / f"out{n}").glob("ossbatch-code-*.zip")
        outs.append(zip_path)
    assert outs[0].name == outs[1].name
    assert outs[0].read_bytes() == outs[1].read_bytes()

    code = tmp_path / "code"
    zipfile.ZipFile(io.BytesIO(outs[0].read_bytes())).extractall(code)
    venv_python = clean_venv(python, tmp_path / "venv")
    env = load_environment("local")
    plan = deployment(
        env, local_target(localcloud.account_id, localcloud.oss_endpoint, localcloud.fnf_endpoint)
    )
    for spec in plan.buckets:
        try:
            oss2.Bucket(oss_auth, localcloud.oss_endpoint, spec.name).create_bucket()
        except oss2.exceptions.BucketAlreadyExists:
            pass
    packages = oss2.Bucket(oss_auth, localcloud.oss_endpoint, env.buckets.packages.name)
    packages.put_object("incoming/p.zip", _one_entry_zip())
    events = _events(env.buckets.packages.name)
    results = {}
    for fn in plan.functions:
        done = subprocess.run(
            [str(venv_python), "-c", HANDLER_RUN, fn.handler, json.dumps(events[fn.kind]),
             localcloud.access_key_id, localcloud.access_key_secret],
            cwd=code, env={"PATH": "/usr/bin:/bin", **fn.environment}, capture_output=True,
            text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, (fn.handler, done.stderr[-3000:])
        results[fn.kind] = json.loads(done.stdout.strip().splitlines()[-1])
    assert results["copy"]["done"] and results["restore"]["done"] and results["verify"]["done"]
    assert results["unzip"]["all_succeeded"] and results["unzip"]["entries_total"] == 1
    assert not results["trigger"]["started"] and results["trigger"]["ignored"]
    extraction = oss2.Bucket(oss_auth, localcloud.oss_endpoint, env.buckets.extraction.name)
    assert extraction.get_object("extracted/p/hello.txt").read() == b"hello\n"


def _one_entry_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("hello.txt", b"hello\n")
    return buffer.getvalue()


def _third_party_imports(folder: Path) -> set[str]:
    """Top-level modules the code under ``folder`` imports that are neither stdlib nor its own."""
    import ast

    found = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return {m for m in found if m not in sys.stdlib_module_names and m not in ("handlers",)}


def test_every_module_the_handlers_import_is_pinned_in_the_code_package():
    # the slow test above runs the real zip; this one says at once which pin is missing
    from importlib.metadata import packages_distributions

    def normal(name: str) -> str:
        return name.lower().replace("_", "-").replace(".", "-")

    pinned = {normal(p.name) for p in code_package.read_lock()}
    owners = packages_distributions()
    imports = _third_party_imports(PROJECT_ROOT / "handlers")
    assert {"oss2", "fastcrc", "stream_unzip"} <= imports  # the walk sees the handlers
    missing = {
        module: owners.get(module)
        for module in imports
        if not owners.get(module) or not {normal(d) for d in owners[module]} & pinned
    }
    assert missing == {}, f"add to infra/package-lock.txt: {missing}"
