"""The execution configuration: allow-list matching, secrets by target or host, limits, the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from execution.config import ExecutionConfig, HostLimit
from execution.errors import TargetRefused


def test_allow_list_matches_hosts_ports_and_subdomains() -> None:
    config = ExecutionConfig.from_env({"DECISIONARY_ALLOWED_HOSTS": "partner.example.com, 127.0.0.1:8001, "
                                                                    "*.hooks.test, [::1]"})
    assert config.host_allowed("partner.example.com", 443) and config.host_allowed("PARTNER.example.com", None)
    assert config.host_allowed("127.0.0.1", 8001) and not config.host_allowed("127.0.0.1", 8002)
    assert config.host_allowed("a.hooks.test", 80) and config.host_allowed("x.y.hooks.test", 80)
    assert not config.host_allowed("hooks.test", 80) and not config.host_allowed("evilhooks.test", 80)
    assert config.host_allowed("::1", 80)
    assert not config.host_allowed("example.com", 443)
    with pytest.raises(TargetRefused, match="not in the allow-list"):
        config.check_host("example.com", 443, "https://example.com/")
    with pytest.raises(TargetRefused, match="no host is allowed"):
        ExecutionConfig.from_env({}).check_host("127.0.0.1", 80, "http://127.0.0.1/")


def test_secrets_by_target_then_host_then_default() -> None:
    config = ExecutionConfig.from_env({"DECISIONARY_SECRET_LENDER_CORE": "s1", "DECISIONARY_WEBHOOK_SECRET": "d"})
    assert config.secret_for("lender-core", "lender.example.com") == "s1"
    assert config.secret_for("other", "lender.example.com") == "d"
    assert ExecutionConfig.from_env({}).secret_for("x", "y") is None


def test_the_file_and_the_environment_combine(tmp_path: Path) -> None:
    path = tmp_path / "execution.yaml"
    path.write_text("""
allowed_hosts: [a.example.com]
secrets: {hooks.example.com: from-file}
callback_url: https://lender.example.com/cb
smtp: {host: mail.example.com, port: 587, from: d@example.com, starttls: true}
limits:
  default: {concurrency: 4}
  hosts: {slow.example.com: {concurrency: 1, rate: 2, burst: 3}}
lease_seconds: 12
""")
    config = ExecutionConfig.from_env({"DECISIONARY_EXECUTION_CONFIG": str(path), "DECISIONARY_ALLOWED_HOSTS": "b.test",
                                       "DECISIONARY_SMTP_PORT": "2525"})
    assert config.allowed_hosts == ("a.example.com", "b.test")
    assert config.secret_for("t", "hooks.example.com") == "from-file"
    assert config.callback_url == "https://lender.example.com/cb" and config.lease_seconds == 12
    assert config.smtp is not None and (config.smtp.port, config.smtp.starttls) == (2525, True)
    assert config.limit_for("slow.example.com") == HostLimit(1, 2.0, 3)
    assert config.limit_for("other.example.com") == HostLimit(4, None, 1)
    path.write_text("- not a mapping\n")
    with pytest.raises(ValueError, match="must be a mapping"):
        ExecutionConfig.from_env({"DECISIONARY_EXECUTION_CONFIG": str(path)})


def test_batch_files_over_the_api_must_be_in_the_batch_folder(tmp_path: Path) -> None:
    inside = tmp_path / "drop" / "rows.csv"
    config = ExecutionConfig.from_env({"DECISIONARY_BATCH_DIR": str(tmp_path / "drop")})
    assert config.check_batch_source(str(inside)) == str(inside.resolve())
    with pytest.raises(TargetRefused, match="not inside"):
        config.check_batch_source(str(tmp_path / "drop" / ".." / "secret.csv"))
    with pytest.raises(TargetRefused, match="DECISIONARY_BATCH_DIR"):
        ExecutionConfig.from_env({}).check_batch_source(str(inside))
