"""Zips made by real producers on Linux: Info-ZIP ``zip`` and 7-Zip (``7z``), from a tree of
files with non-ASCII names written by this process (UTF-8, as Linux file systems hold them).

``make test`` installs ``zip`` and ``p7zip-full`` when missing; where a binary is still
absent (no apt, no root) the tests that need it skip with the reason.
"""

from __future__ import annotations

import pathlib
import shutil
import subprocess

import pytest

# names a Linux user makes: CJK directories, spaces, accents, an emoji, a deep path
TREE = {
    "中文目录/报告 2024.csv": b"id,value\n1,2\n" * 50,
    "中文目录/子目录/数据.bin": bytes(range(256)) * 40,
    "café/naïve résumé.txt": "naïve\n".encode() * 100,
    "日本語/ファイル.txt": "テスト".encode() * 30,
    "emoji 🎉/party.txt": b"party\n",
    "plain/ascii.txt": b"plain ascii\n" * 10,
}


def binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (make test installs it with apt when it can)")
    return path


def write_tree(root: pathlib.Path, tree: dict[str, bytes] = TREE) -> pathlib.Path:
    for name, body in tree.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
    return root


def _run(args: list[str], cwd: pathlib.Path, env_lang: str) -> None:
    # the locale decides how zip 3.0 sees the names: C.UTF-8 is what Linux desktops run
    subprocess.run(
        args,
        cwd=cwd,
        check=True,
        capture_output=True,
        env={"PATH": "/usr/bin:/bin", "LANG": env_lang, "LC_ALL": env_lang},
        timeout=120,
    )


def info_zip(tmp: pathlib.Path, *extra: str, lang: str = "C.UTF-8") -> bytes:
    """``zip -r`` from inside the tree (names relative, as users run it)."""
    src = write_tree(tmp / "src")
    out = tmp / "infozip.zip"
    _run([binary("zip"), "-q", "-r", *extra, str(out), "."], src, lang)
    return out.read_bytes()


def seven_zip(tmp: pathlib.Path, *switches: str, password: str | None = None) -> bytes:
    """``7z a -tzip`` with the given switches (-mm=Deflate64, -mm=BZip2, -mem=AES256 ...)."""
    src = write_tree(tmp / "src")
    out = tmp / f"7z{abs(hash(switches))}.zip"
    pw = [f"-p{password}"] if password is not None else []
    _run(
        [binary("7z"), "a", "-tzip", "-bso0", "-bsp0", *switches, *pw, str(out), "."],
        src,
        "C.UTF-8",
    )
    return out.read_bytes()
