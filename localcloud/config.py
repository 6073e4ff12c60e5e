"""Configuration of one localcloud process, shared by every service it runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from localcloud.oss.faults import FaultConfig
from localcloud.oss.restore import DEFAULT_SECONDS

# documented defaults (docs/localcloud.md): local-only credentials, never valid in the cloud
DEFAULT_ACCESS_KEY_ID = "LOCALCLOUDACCESSKEYID"
DEFAULT_ACCESS_KEY_SECRET = "localcloud-access-key-secret"
DEFAULT_SECURITY_TOKEN = "localcloud-sts-token"
DEFAULT_REGION = "cn-hangzhou"
DEFAULT_ACCOUNT_ID = "1000000000000001"


@dataclass
class LocalCloudConfig:
    data_dir: Path
    host: str = "127.0.0.1"
    oss_port: int = 0
    mns_port: int = 0
    fc_port: int = 0
    fnf_port: int = 0
    admin_port: int = 0
    ram_port: int = 0
    kms_port: int = 0
    access_key_id: str = DEFAULT_ACCESS_KEY_ID
    access_key_secret: str = DEFAULT_ACCESS_KEY_SECRET
    security_token: str = DEFAULT_SECURITY_TOKEN
    region: str = DEFAULT_REGION
    account_id: str = DEFAULT_ACCOUNT_ID
    restore_seconds: dict = field(default_factory=lambda: dict(DEFAULT_SECONDS))
    day_seconds: float = 86400.0
    faults: FaultConfig = field(default_factory=FaultConfig)
    # RAM: authorize every role-signed request (off only via `serve --no-enforce-ram`)
    enforce_ram: bool = True
    # every listener: request line + headers above this get 431; headers must arrive in time
    max_header_bytes: int = 64 * 1024
    header_timeout_s: float = 10.0
    # free-form settings for services that need more than the above (e.g. FC concurrency)
    options: dict = field(default_factory=dict)
