"""The layers import one way: the core stays pure, and nothing below the API knows the web or the CLI."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# package -> top-level modules it must never import
FORBIDDEN = {
    "decisions": {"fastapi", "starlette", "uvicorn", "sqlmodel", "sqlalchemy", "alembic", "psycopg", "httpx",
                  "requests", "urllib3", "socket", "http", "smtplib", "typer", "registry", "execution",
                  "audit", "api"},
    "registry": {"fastapi", "starlette", "uvicorn", "typer", "api", "execution", "audit"},
    "execution": {"fastapi", "starlette", "typer", "api", "audit"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_layers_import_one_way(package: str) -> None:
    offenders = []
    for path in sorted((ROOT / package).rglob("*.py")):
        bad = _imports(path) & FORBIDDEN[package]
        if bad:
            offenders.append(f"{path.relative_to(ROOT)} imports {', '.join(sorted(bad))}")
    assert not offenders, "\n".join(offenders)


def test_no_eval_or_exec_of_text_anywhere() -> None:
    offenders = []
    for package in ("decisions", "registry", "execution", "api", "audit"):
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("eval", "exec"):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not offenders, offenders
