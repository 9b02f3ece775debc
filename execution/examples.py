"""Bindings for the example models, for the dev server (`make run`).

An example model `examples/<name>.dmn|yaml` may have bindings in `examples/bindings/<name>.yaml`;
they point at the example receiver on 127.0.0.1:8001 (`decisionary example-receiver`).
"""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session

from execution.bindings_store import AttachedBindings, attach_bindings


def example_bindings(model_path: Path) -> Path | None:
    """The bindings file of an example model, if it has one."""
    candidate = model_path.parent / "bindings" / f"{model_path.stem}.yaml"
    return candidate if candidate.is_file() else None


def attach_example_bindings(session: Session, key: str, number: int, model_path: Path, *,
                            by: str) -> AttachedBindings | None:
    """Attach an example's bindings to its draft (by its author), if it has any."""
    path = example_bindings(model_path)
    if path is None:
        return None
    return attach_bindings(session, key, number, path.read_text(encoding="utf-8"), by=by)
