"""Where workflows may send, with which secrets, how fast: the execution configuration.

Read from the environment, optionally completed by a YAML file (`DECISIONARY_EXECUTION_CONFIG`).
Secrets never live in the bindings (which every viewer of a model can read): a binding names a
target, the configuration holds its secret.

    DECISIONARY_ALLOWED_HOSTS   comma-separated hosts that outgoing calls may reach:
                                `partner.example.com` (any port), `127.0.0.1:8001` (that port),
                                `*.example.com` (any subdomain). Empty: nothing may be called.
    DECISIONARY_WEBHOOK_SECRET  the signing secret of targets without their own
    DECISIONARY_SECRET_<NAME>   the secret of target NAME (upper case, other characters as `_`)
    DECISIONARY_CALLBACK_URL    where approve/reject go when the request named no callback_url
    DECISIONARY_SMTP_HOST / _PORT / _FROM / _USER / _PASSWORD / _STARTTLS   email delivery
    DECISIONARY_LEASE_SECONDS   how long a worker holds a claimed step before others may take it
    DECISIONARY_HOST_CONCURRENCY / DECISIONARY_HOST_RATE   default per-host limits
    DECISIONARY_BATCH_DIR       folder(s) (os.pathsep-separated) batch files submitted over the API
                                must be in; none: the API accepts no batch files (the CLI does)

The file has the same settings in YAML:

    allowed_hosts: [partner.example.com, "127.0.0.1:8001"]
    secrets: {lender: "...", hooks.slack.com: "..."}
    callback_url: https://lender.example.com/decisions
    smtp: {host: mail.example.com, port: 587, from: decisions@example.com, starttls: true}
    limits:
      default: {concurrency: 16}
      hosts: {slow-partner.example.com: {concurrency: 2, rate: 5, burst: 5}}
    lease_seconds: 30
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from decisions.safe_yaml import load_yaml
from execution.errors import TargetRefused

CONFIG_ENV = "DECISIONARY_EXECUTION_CONFIG"
DEFAULT_LEASE_SECONDS = 30.0
DEFAULT_HOST_CONCURRENCY = 16


@dataclass(frozen=True)
class HostLimit:
    """Per-host limits, enforced across every worker process (execution/limiter.py).

    `concurrency`: calls in flight at once; `rate`: calls per second on average, with bursts of
    up to `burst` calls. None: no limit of that kind.
    """

    concurrency: int | None = DEFAULT_HOST_CONCURRENCY
    rate: float | None = None
    burst: int = 1

    @property
    def limited(self) -> bool:
        return self.concurrency is not None or self.rate is not None


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int = 25
    sender: str = "decisionary@localhost"
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout: float = 30.0


@dataclass(frozen=True)
class ExecutionConfig:
    allowed_hosts: tuple[str, ...] = ()
    secrets: Mapping[str, str] = field(default_factory=dict)
    default_secret: str | None = None
    callback_url: str | None = None
    smtp: SmtpConfig | None = None
    default_limit: HostLimit = HostLimit()
    host_limits: Mapping[str, HostLimit] = field(default_factory=dict)
    lease_seconds: float = DEFAULT_LEASE_SECONDS
    batch_dirs: tuple[str, ...] = ()

    # --- reading -----------------------------------------------------------------------------

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ExecutionConfig:
        env = os.environ if env is None else env
        data: dict[str, Any] = {}
        path = env.get(CONFIG_ENV, "").strip()
        if path:
            try:
                loaded = load_yaml(Path(path).read_text(encoding="utf-8")) or {}
            except (OSError, yaml.YAMLError) as exc:
                raise ValueError(f"cannot read the execution configuration {path}: {exc}") from None
            if not isinstance(loaded, dict):
                raise ValueError(f"the execution configuration {path} must be a mapping")
            data = loaded
        hosts = [h for h in _list(data.get("allowed_hosts"))]
        hosts += [h.strip() for h in env.get("DECISIONARY_ALLOWED_HOSTS", "").split(",") if h.strip()]
        secrets = {str(k): str(v) for k, v in (data.get("secrets") or {}).items()}
        prefix = "DECISIONARY_SECRET_"
        secrets.update({k[len(prefix):]: v for k, v in env.items() if k.startswith(prefix) and v})
        smtp_data = dict(data.get("smtp") or {})
        for key in ("host", "port", "from", "user", "password", "starttls"):
            value = env.get(f"DECISIONARY_SMTP_{key.upper()}")
            if value:
                smtp_data["username" if key == "user" else key] = value
        limits = data.get("limits") or {}
        default_limit = _limit(limits.get("default") or {}, HostLimit())
        if env.get("DECISIONARY_HOST_CONCURRENCY"):
            raw = env["DECISIONARY_HOST_CONCURRENCY"].strip().lower()
            default_limit = HostLimit(None if raw in ("0", "none") else int(raw), default_limit.rate,
                                      default_limit.burst)
        if env.get("DECISIONARY_HOST_RATE"):
            default_limit = HostLimit(default_limit.concurrency, float(env["DECISIONARY_HOST_RATE"]),
                                      max(1, default_limit.burst))
        return cls(
            allowed_hosts=tuple(h.lower() for h in hosts),
            secrets=secrets,
            default_secret=env.get("DECISIONARY_WEBHOOK_SECRET") or data.get("default_secret"),
            callback_url=env.get("DECISIONARY_CALLBACK_URL") or data.get("callback_url"),
            smtp=_smtp(smtp_data) if smtp_data.get("host") else None,
            default_limit=default_limit,
            host_limits={str(h).lower(): _limit(v or {}, default_limit)
                         for h, v in (limits.get("hosts") or {}).items()},
            lease_seconds=float(env.get("DECISIONARY_LEASE_SECONDS") or data.get("lease_seconds")
                                or DEFAULT_LEASE_SECONDS),
            batch_dirs=tuple([*_list(data.get("batch_dirs")),
                              *[d for d in env.get("DECISIONARY_BATCH_DIR", "").split(os.pathsep) if d.strip()]]),
        )

    # --- questions ---------------------------------------------------------------------------

    def host_allowed(self, host: str, port: int | None) -> bool:
        host = host.lower().strip("[]")
        for entry in self.allowed_hosts:
            name, _, entry_port = entry.rpartition(":") if _has_port(entry) else (entry, "", "")
            if entry_port and (port is None or str(port) != entry_port):
                continue
            if name.startswith("*."):
                if host.endswith(name[1:]) and host != name[2:]:
                    return True
            elif host == name.strip("[]"):
                return True
        return False

    def check_host(self, host: str | None, port: int | None, url: str) -> None:
        """Refuse (TargetRefused) a host outside the allow-list, saying how to allow it."""
        if not host:
            raise TargetRefused(f"{url!r} has no host")
        if not self.host_allowed(host, port):
            where = f"{host}:{port}" if port else host
            if not self.allowed_hosts:
                raise TargetRefused(f"calls to {where} are refused: no host is allowed; list the hosts "
                                    "workflows may call in DECISIONARY_ALLOWED_HOSTS")
            raise TargetRefused(f"calls to {where} are refused: the host is not in the allow-list "
                                f"({', '.join(self.allowed_hosts)}); add it to DECISIONARY_ALLOWED_HOSTS")

    def secret_for(self, target: str, host: str) -> str | None:
        """The signing secret of a target: by its name, by its host, then the default."""
        for name in (target, host):
            if name in self.secrets:
                return self.secrets[name]
            env_name = re.sub(r"[^A-Za-z0-9]", "_", name).upper()
            if env_name in self.secrets:
                return self.secrets[env_name]
        return self.default_secret

    def check_batch_source(self, source: str) -> str:
        """The resolved path of a batch file submitted remotely; refused outside DECISIONARY_BATCH_DIR."""
        if not self.batch_dirs:
            raise TargetRefused("batch files cannot be submitted over the API until DECISIONARY_BATCH_DIR names "
                                "the folder they are dropped in")
        path = Path(source).resolve()
        for folder in self.batch_dirs:
            if path.is_relative_to(Path(folder).resolve()):
                return str(path)
        raise TargetRefused(f"{source!r} is not inside DECISIONARY_BATCH_DIR ({os.pathsep.join(self.batch_dirs)})")

    def limit_for(self, host: str) -> HostLimit:
        return self.host_limits.get(host.lower(), self.default_limit)


def _has_port(entry: str) -> bool:
    head, sep, tail = entry.rpartition(":")
    return bool(sep) and tail.isdigit() and not head.endswith(":")


def _list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v).strip() for v in value if str(v).strip()]


def _limit(data: Mapping[str, Any], base: HostLimit) -> HostLimit:
    concurrency = data.get("concurrency", base.concurrency)
    rate = data.get("rate", base.rate)
    return HostLimit(int(concurrency) if concurrency not in (None, 0, "none") else None,
                     float(rate) if rate not in (None, 0, "none") else None,
                     max(1, int(data.get("burst", base.burst))))


def _smtp(data: Mapping[str, Any]) -> SmtpConfig:
    starttls = data.get("starttls", False)
    if isinstance(starttls, str):
        starttls = starttls.strip().lower() in ("1", "true", "yes", "on")
    return SmtpConfig(host=str(data["host"]), port=int(data.get("port", 25)),
                      sender=str(data.get("from", "decisionary@localhost")),
                      username=data.get("username"), password=data.get("password"), starttls=bool(starttls),
                      timeout=float(data.get("timeout", 30)))
