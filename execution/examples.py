"""Bindings for the example models, for the dev server (`make run`).

An example model `examples/<name>.dmn|yaml` may have bindings in `examples/bindings/<name>.yaml`;
they point at the example receiver on 127.0.0.1:8001 (`decisionary example-receiver`). When the
receiver listens elsewhere, the dev server attaches the bindings with that address instead: the
bindings are then different, and so is the model version that carries them.
"""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session

from execution.bindings import bindings_hash
from execution.bindings_store import AttachedBindings, attach_bindings
from execution.config import ExecutionConfig

EXAMPLE_RECEIVER = "http://127.0.0.1:8001"


def example_bindings(model_path: Path) -> Path | None:
    """The bindings file of an example model, if it has one."""
    candidate = model_path.parent / "bindings" / f"{model_path.stem}.yaml"
    return candidate if candidate.is_file() else None


def example_bindings_text(model_path: Path, receiver_url: str = EXAMPLE_RECEIVER) -> str | None:
    """The bindings an example model is published with: its file, calling `receiver_url`."""
    path = example_bindings(model_path)
    if path is None:
        return None
    text = path.read_text(encoding="utf-8")
    receiver_url = receiver_url.rstrip("/")
    return text if receiver_url == EXAMPLE_RECEIVER else text.replace(EXAMPLE_RECEIVER, receiver_url)


def example_bindings_hash(model_path: Path, receiver_url: str = EXAMPLE_RECEIVER) -> str | None:
    """The hash the bindings of `example_bindings_text` have once attached (None: no bindings)."""
    text = example_bindings_text(model_path, receiver_url)
    return bindings_hash(text) if text is not None else None


def attach_example_bindings(session: Session, key: str, number: int, model_path: Path, *, by: str,
                            receiver_url: str = EXAMPLE_RECEIVER,
                            config: ExecutionConfig | None = None) -> AttachedBindings | None:
    """Attach an example's bindings to its draft (by its author), if it has any.

    `config`: when given, the bindings' URLs are checked against its allow-list too.
    """
    text = example_bindings_text(model_path, receiver_url)
    if text is None:
        return None
    return attach_bindings(session, key, number, text, by=by, config=config)
