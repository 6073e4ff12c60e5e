"""localcloud listens on loopback for any local process: the admin listener wants the data
dir's token and refuses browsers; every listener caps request headers (431, nothing large is
buffered) and drops slow-loris clients (408). Raw sockets, every wait bounded."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest
import requests

LISTENERS = (
    "oss_endpoint",
    "mns_endpoint",
    "fc_endpoint",
    "fnf_endpoint",
    "ram_endpoint",
    "admin_endpoint",
)


def admin_base(cloud) -> str:
    url = urlparse(cloud.admin_endpoint)
    return f"http://{url.hostname}:{url.port}"


def raw_exchange(endpoint: str, chunks, timeout: float = 10.0) -> bytes:
    """Send chunks (stopping early if the server closes), half-close, read the whole answer."""
    url = urlparse(endpoint)
    with socket.create_connection((url.hostname, url.port), timeout=timeout) as sock:
        try:
            for chunk in chunks:
                sock.sendall(chunk)
            sock.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = b""
        try:
            while data := sock.recv(65536):
                answer += data
        except ConnectionResetError:
            pass
        return answer


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_admin_requests_without_the_token_are_refused(localcloud):
    base = admin_base(localcloud)
    assert requests.get(base + "/counters", timeout=5).status_code == 401
    wrong = {"X-LocalCloud-Admin-Token": "guess"}
    assert requests.get(base + "/counters", headers=wrong, timeout=5).status_code == 401
    assert requests.post(base + "/faults", json={"fault_rate": 1}, timeout=5).status_code == 401
    assert requests.get(localcloud.admin_endpoint + "/counters", timeout=5).status_code == 200
    right = {"X-LocalCloud-Admin-Token": localcloud.admin_token}
    assert requests.get(base + "/counters", headers=right, timeout=5).status_code == 200


def test_admin_token_is_random_per_data_dir_and_survives_a_restart(localcloud_factory, tmp_path):
    first = localcloud_factory(data_dir=tmp_path / "a")
    other = localcloud_factory(data_dir=tmp_path / "b")
    token = first.admin_token
    assert len(token) >= 24 and token != other.admin_token
    assert (tmp_path / "a" / "admin-token").stat().st_mode & 0o077 == 0
    first.stop()
    again = localcloud_factory(data_dir=tmp_path / "a")
    assert again.admin_token == token


def test_admin_refuses_browser_pages_and_rebound_host_names(localcloud):
    url = localcloud.admin_endpoint + "/faults"
    page = {"Origin": "http://evil.example"}
    assert requests.post(url, json={"fault_rate": 1}, headers=page, timeout=5).status_code == 403
    rebound = {"Host": "evil.example"}
    assert requests.get(url, headers=rebound, timeout=5).status_code == 403
    assert requests.get(url, timeout=5).json()["oss"]["fault_rate"] == 0.0


@pytest.mark.parametrize("step", [-1, 1e12, "NaN", True, "soon"])
def test_clock_advances_are_bounded(localcloud, step):
    url = localcloud.admin_endpoint + "/clock"
    before = requests.get(url, timeout=5).json()["oss"]["offset_seconds"]
    body = '{"advance_seconds": NaN}' if step == "NaN" else json.dumps({"advance_seconds": step})
    answer = requests.post(url, data=body, timeout=5)
    assert answer.status_code == 400 and "advance_seconds" in answer.json()["error"]
    assert requests.get(url, timeout=5).json()["oss"]["offset_seconds"] == before


@pytest.mark.parametrize("listener", LISTENERS)
def test_an_oversized_header_set_gets_431_without_being_buffered(localcloud, listener):
    endpoint = getattr(localcloud, listener)
    rss_before = rss_kib(localcloud.process.pid)
    head = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: "
    filler = b"a" * (1024 * 1024)
    started = time.monotonic()
    answer = raw_exchange(endpoint, [head, *([filler] * 64)])  # a 64 MiB header value
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
    assert time.monotonic() - started < 10
    assert rss_kib(localcloud.process.pid) - rss_before < 16 * 1024  # far below 64 MiB
    assert requests.get(localcloud.admin_endpoint + "/health", timeout=5).status_code == 200


def test_a_request_with_ordinary_headers_is_served(localcloud):
    padding = {f"X-Pad-{i}": "v" * 200 for i in range(40)}  # 8 KB, as large OSS metadata is
    answer = requests.get(localcloud.admin_endpoint + "/health", headers=padding, timeout=5)
    assert answer.status_code == 200


def test_slow_loris_headers_are_cut_off_by_the_header_timeout(localcloud_factory):
    cloud = localcloud_factory("--header-timeout", "0.5")
    for listener in LISTENERS:
        url = urlparse(getattr(cloud, listener))
        with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
            started = time.monotonic()
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            answer = b""
            while data := sock.recv(4096):  # the server ends it: 408, then EOF
                answer += data
            assert answer.startswith(b"HTTP/1.1 408 "), (listener, answer[:100])
            assert time.monotonic() - started < 5


def test_a_silent_connection_is_closed_by_the_header_timeout(localcloud_factory):
    cloud = localcloud_factory("--header-timeout", "0.5")
    url = urlparse(cloud.oss_endpoint)
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        started = time.monotonic()
        assert sock.recv(4096) == b""
        assert time.monotonic() - started < 5
