"""Local MNS: queues over the MNS data-plane wire protocol (aliyun-mns-sdk works against it).

`service` holds the queue semantics (SQLite-backed), `api` the HTTP routing and XML.
"""

from .service import MnsService

__all__ = ["MnsService"]
