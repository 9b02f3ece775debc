"""The DMN TCK model files the DMN and YAML tests run over (levels 2 and 3)."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TCK_ROOT = PROJECT_ROOT.parent / "shared" / "dmn-tck"
TCK_MODELS = sorted(
    path for level in ("compliance-level-2", "compliance-level-3") for path in (TCK_ROOT / level).glob("*/*.dmn")
)


def tck_id(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


def tck_model(folder: str, name: str | None = None) -> Path:
    """The model file of a TCK folder (by folder name prefix, e.g. '0114-')."""
    for path in TCK_MODELS:
        if path.parent.name.startswith(folder) and (name is None or path.name == name):
            return path
    raise LookupError(f"no TCK model in a folder starting with {folder!r}")
