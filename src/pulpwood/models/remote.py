"""Remote: where and how to fetch content for a repository."""

from __future__ import annotations

from sqlalchemy import Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pulpwood.db.base import Base, PulpModel

POLICIES = ("immediate", "on_demand", "streamed")
SECRET_FIELDS = ("client_key", "proxy_username", "proxy_password", "username", "password")


class Remote(PulpModel, Base):
    __tablename__ = "core_remote"
    __mapper_args__ = {"polymorphic_on": "pulp_type", "polymorphic_abstract": True}
    __href_path__ = "remotes/"

    pulp_type: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    url: Mapped[str] = mapped_column(Text)
    pulp_labels: Mapped[dict] = mapped_column(default=dict)
    policy: Mapped[str] = mapped_column(String(16), default="immediate")
    ca_cert: Mapped[str | None] = mapped_column(Text)
    client_cert: Mapped[str | None] = mapped_column(Text)
    client_key: Mapped[str | None] = mapped_column(Text)
    tls_validation: Mapped[bool] = mapped_column(default=True)
    proxy_url: Mapped[str | None] = mapped_column(Text)
    proxy_username: Mapped[str | None] = mapped_column(Text)
    proxy_password: Mapped[str | None] = mapped_column(Text)
    username: Mapped[str | None] = mapped_column(Text)
    password: Mapped[str | None] = mapped_column(Text)
    max_retries: Mapped[int | None] = mapped_column(Integer)
    total_timeout: Mapped[float | None] = mapped_column(Float)
    connect_timeout: Mapped[float | None] = mapped_column(Float)
    sock_connect_timeout: Mapped[float | None] = mapped_column(Float)
    sock_read_timeout: Mapped[float | None] = mapped_column(Float)
    headers: Mapped[list | None] = mapped_column()
    download_concurrency: Mapped[int | None] = mapped_column(Integer)
    rate_limit: Mapped[int | None] = mapped_column(Integer)
