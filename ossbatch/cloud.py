"""Where the services are and who we are: endpoints + credentials for one environment.

Locally they come from the state file `ossbatch local up` wrote (localcloud's ready
line); in the cloud from the environment file plus the standard Alibaba Cloud
credential chain (env vars, ~/.alibabacloud/credentials, ECS RAM role, ...).
Every client the CLI uses is built here, always through the real SDKs.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

DEFAULT_DATA_DIR = Path(".localcloud")
STATE_FILE_NAME = "ossbatch-local.json"


class ConfigError(Exception):
    """Bad or missing configuration the user can fix (exit code 2)."""


@dataclass(frozen=True)
class Connection:
    """Endpoints, credentials and names of one environment's resources."""

    region: str
    account_id: str
    access_key_id: str
    access_key_secret: str
    security_token: str = ""
    oss_endpoint: str = ""
    mns_endpoint: str = ""
    fc_endpoint: str = ""
    fnf_endpoint: str = ""
    admin_endpoint: str = ""
    ram_endpoint: str = ""
    kms_endpoint: str = ""
    # logical name -> real name: buckets ("data", "reports"...), queues, flows, functions
    buckets: dict = field(default_factory=dict)
    queues: dict = field(default_factory=dict)
    flows: dict = field(default_factory=dict)
    functions: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)

    # --- clients (imported lazily: `ossbatch --help` stays fast) --------------
    def oss_bucket(self, name: str):
        import oss2

        if self.security_token:
            auth = oss2.StsAuth(self.access_key_id, self.access_key_secret, self.security_token)
        else:
            auth = oss2.Auth(self.access_key_id, self.access_key_secret)
        return oss2.Bucket(auth, self.oss_endpoint, name, connect_timeout=30)

    def oss_service(self):
        import oss2

        auth = oss2.Auth(self.access_key_id, self.access_key_secret)
        return oss2.Service(auth, self.oss_endpoint)

    def _openapi_config(self, endpoint: str):
        from alibabacloud_tea_openapi.models import Config

        parsed = urlparse(endpoint if "://" in endpoint else f"https://{endpoint}")
        return Config(
            access_key_id=self.access_key_id,
            access_key_secret=self.access_key_secret,
            security_token=self.security_token or None,
            endpoint=parsed.netloc,
            protocol=parsed.scheme,
            region_id=self.region,
            read_timeout=60_000,
            connect_timeout=10_000,
        )

    def fnf(self):
        from alibabacloud_fnf20190315.client import Client

        return Client(self._openapi_config(self.fnf_endpoint))

    def fc(self):
        from alibabacloud_fc20230330.client import Client

        return Client(self._openapi_config(self.fc_endpoint))

    def ram(self):
        from alibabacloud_ram20150501.client import Client

        return Client(self._openapi_config(self.ram_endpoint))

    def kms(self):
        from alibabacloud_kms20160120.client import Client

        return Client(self._openapi_config(self.kms_endpoint))

    def mns(self):
        from mns.account import Account

        return Account(
            self.mns_endpoint, self.access_key_id, self.access_key_secret, self.security_token
        )

    def flow_name(self, kind: str) -> str:
        return self.flows.get(kind, kind)

    def public(self) -> dict:
        """What `local status --json` prints (scripts use it)."""
        return {
            "region": self.region,
            "account_id": self.account_id,
            "oss_endpoint": self.oss_endpoint,
            "mns_endpoint": self.mns_endpoint,
            "fc_endpoint": self.fc_endpoint,
            "fnf_endpoint": self.fnf_endpoint,
            "admin_endpoint": self.admin_endpoint,
            "ram_endpoint": self.ram_endpoint,
            "kms_endpoint": self.kms_endpoint,
            "access_key_id": self.access_key_id,
            "access_key_secret": self.access_key_secret,
            "security_token": self.security_token,
            "buckets": self.buckets,
            "queues": self.queues,
            "flows": self.flows,
            "functions": self.functions,
        }


def state_path(data_dir: Path | str | None = None) -> Path:
    return Path(data_dir or DEFAULT_DATA_DIR) / STATE_FILE_NAME


def read_state(data_dir: Path | str | None = None) -> dict:
    path = state_path(data_dir)
    if not path.exists():
        raise ConfigError(
            f"no local cloud is running for data dir {path.parent} (no {path.name}); "
            "start one with `ossbatch local up`"
        )
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{path} is not valid JSON ({exc}); run `ossbatch local down` and `up`"
        ) from exc


def write_state(state: dict, data_dir: Path | str | None = None) -> Path:
    path = state_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2, sort_keys=True))
    tmp.replace(path)
    return path


def from_local_state(state: dict) -> Connection:
    info = state["localcloud"]
    names = state.get("names", {})
    return Connection(
        region=info["region"],
        account_id=str(info["account_id"]),
        access_key_id=info["access_key_id"],
        access_key_secret=info["access_key_secret"],
        security_token=info.get("security_token") or "",
        oss_endpoint=info["oss_endpoint"],
        mns_endpoint=info["mns_endpoint"],
        fc_endpoint=info["fc_endpoint"],
        fnf_endpoint=info["fnf_endpoint"],
        admin_endpoint=info.get("admin_endpoint", ""),
        ram_endpoint=info.get("ram_endpoint", ""),
        kms_endpoint=info.get("kms_endpoint", ""),
        buckets=names.get("buckets", {}),
        queues=names.get("queues", {}),
        flows=names.get("flows", {}),
        functions=names.get("functions", {}),
        settings=state.get("settings", {}),
    )


def from_cloud_environment(names: dict, region: str, account_id: str, settings: dict) -> Connection:
    """Cloud: public endpoints of the region + the default credential chain."""
    from alibabacloud_credentials.client import Client as CredentialClient

    logging.disable(logging.ERROR)  # the chain logs a traceback per provider it tries
    try:
        cred = CredentialClient().get_credential()
    except Exception as exc:  # the chain raises plain exceptions with a readable text
        raise ConfigError(
            f"no Alibaba Cloud credentials found ({exc}); set ALIBABA_CLOUD_ACCESS_KEY_ID/"
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET or configure ~/.alibabacloud/credentials"
        ) from exc
    finally:
        logging.disable(logging.NOTSET)
    return Connection(
        region=region,
        account_id=str(account_id),
        access_key_id=cred.access_key_id,
        access_key_secret=cred.access_key_secret,
        security_token=cred.security_token or "",
        oss_endpoint=f"https://oss-{region}.aliyuncs.com",
        mns_endpoint=f"https://{account_id}.mns.{region}.aliyuncs.com",
        fc_endpoint=f"https://{account_id}.{region}.fc.aliyuncs.com",
        fnf_endpoint=f"https://{region}.fnf.aliyuncs.com",
        kms_endpoint=f"https://kms.{region}.aliyuncs.com",
        buckets=names.get("buckets", {}),
        queues=names.get("queues", {}),
        flows=names.get("flows", {}),
        functions=names.get("functions", {}),
        settings=settings,
    )
