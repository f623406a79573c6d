"""DownloadConfig: everything a remote says about how to fetch from it, detached from the ORM."""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field

DEFAULT_CONCURRENCY = 10
DEFAULT_RETRIES = 3


@dataclass(frozen=True)
class DownloadConfig:
    url: str
    ca_cert: str | None = None
    client_cert: str | None = None
    client_key: str | None = None
    tls_validation: bool = True
    proxy_url: str | None = None
    proxy_username: str | None = None
    proxy_password: str | None = None
    username: str | None = None
    password: str | None = None
    max_retries: int | None = None
    total_timeout: float | None = None
    connect_timeout: float | None = None
    sock_connect_timeout: float | None = None
    sock_read_timeout: float | None = None
    headers: list = field(default_factory=list)
    download_concurrency: int | None = None
    rate_limit: int | None = None

    @classmethod
    def from_remote(cls, remote) -> DownloadConfig:
        names = cls.__dataclass_fields__
        return cls(**{name: getattr(remote, name) for name in names if hasattr(remote, name)
                      and getattr(remote, name) is not None})

    @property
    def concurrency(self) -> int:
        return self.download_concurrency or DEFAULT_CONCURRENCY

    @property
    def retries(self) -> int:
        return DEFAULT_RETRIES if self.max_retries is None else self.max_retries

    def ssl_context(self) -> ssl.SSLContext | bool:
        if not self.url.startswith("https"):
            return False
        context = ssl.create_default_context()
        if self.ca_cert:
            context.load_verify_locations(cadata=self.ca_cert)
        if not self.tls_validation:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if self.client_cert:
            import os
            import tempfile

            # ssl only loads client certificates from files.
            with tempfile.TemporaryDirectory() as tmp:
                cert = os.path.join(tmp, "cert.pem")
                with open(cert, "w") as handle:
                    handle.write(self.client_cert)
                    if self.client_key:
                        handle.write("\n" + self.client_key)
                context.load_cert_chain(cert)
        return context

    def header_dict(self) -> dict[str, str]:
        merged: dict[str, str] = {}
        for item in self.headers or []:
            merged.update(item)
        return merged
