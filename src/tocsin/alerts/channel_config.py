"""The settings of one delivery channel (``[[tocsin.channels]]``), checked on load.

Apart from the channels themselves (``channels.py``) so that reading the settings, which
every command does, loads no HTTP or e-mail client.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_QUEUED = {"timeout", "retries", "backoff", "queue_size"}
_APPLIES = {"terminal": set(), "jsonl": {"path"}, "atom": {"path", "feed_url", "alert_url"},
            "webhook": {"url", "secret", "secret_env"} | _QUEUED,
            "smtp": {"host", "port", "sender", "recipients", "starttls", "username",
                     "password_env"} | _QUEUED}
_NEEDS = {"jsonl": ["path"], "atom": ["path"], "webhook": ["url"],
          "smtp": ["sender", "recipients"]}


class ChannelConfig(BaseModel):
    """One delivery channel; a setting that does not apply to ``kind`` is refused."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["terminal", "jsonl", "webhook", "smtp", "atom"]
    watch: str = "*"
    path: Path | None = None
    url: str | None = None
    secret: str | None = Field(default=None, repr=False)
    secret_env: str | None = None
    host: str = "localhost"
    port: int = Field(default=25, ge=1, le=65535)
    sender: str | None = None
    recipients: list[str] = Field(default_factory=list)
    starttls: bool = False
    username: str | None = None
    password_env: str | None = None
    feed_url: str | None = None  # atom: where the feed is served (its rel="self" link)
    alert_url: str | None = None  # atom: each entry's link, "{id}" replaced by the alert id
    timeout: float = Field(default=10.0, gt=0)
    retries: int = Field(default=8, ge=0)
    backoff: float = Field(default=30.0, ge=0)  # seconds before the first retry, doubling
    queue_size: int = Field(default=1000, ge=1)  # no longer used (the outbox has no limit)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        import httpx  # here: the settings load at every start, httpx only when needed

        try:
            url = httpx.URL(value or "")
        except httpx.InvalidURL as exc:
            raise ValueError(f"url is not a valid URL: {exc}") from None
        if value is not None and (url.scheme not in ("http", "https") or not url.host):
            raise ValueError("url must be an http:// or https:// URL with a host")
        return value

    @field_validator("feed_url", "alert_url")
    @classmethod
    def _link(cls, value: str | None, info: Any) -> str | None:
        if value is None:
            return value
        if not re.match(r"https?://[^\s/]+\S*\Z", value, re.IGNORECASE):
            raise ValueError(f"{info.field_name} must be an http:// or https:// URL")
        if info.field_name == "alert_url" and "{id}" not in value:
            raise ValueError("alert_url needs {id} where the alert id goes")
        return value

    @model_validator(mode="after")
    def _complete(self) -> ChannelConfig:
        stray = self.model_fields_set - {"kind", "watch"} - _APPLIES[self.kind]
        if stray:
            raise ValueError(f"{', '.join(sorted(stray))} does not apply to a {self.kind} channel")
        for name in _NEEDS.get(self.kind, []):
            if not getattr(self, name):
                raise ValueError(f"a {self.kind} channel needs {name}")
        if self.secret and self.secret_env:
            raise ValueError("give either secret or secret_env, not both")
        if bool(self.username) != bool(self.password_env):
            raise ValueError("username and password_env go together")
        return self
