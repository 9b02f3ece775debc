"""`load`: text or file in any supported format -> parsed model -> compiled `Model`.

The format is told by the file's suffix, else sniffed from the content (XML starts with `<`,
an xlsx workbook is a zip package: `PK\x03\x04`).
Imported models are found by namespace among the `.dmn` files beside the importing file
(and in `search_paths`), read and compiled first, and handed to the compiler by import name.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from decisions.compiled import Model
from decisions.compiler import compile_model
from decisions.dmn.imports import find_model_file
from decisions.errors import Location, ModelError, Problem
from decisions.gc_thresholds import fewer_collections
from decisions.limits import MAX_MODEL_BYTES
from decisions.model import Definitions

Format = Literal["auto", "dmn", "yaml", "xlsx"]
_SUFFIXES = {".dmn": "dmn", ".xml": "dmn", ".yaml": "yaml", ".yml": "yaml", ".xlsx": "xlsx"}
_ZIP_MAGIC = b"PK\x03\x04"


def _looks_like_path(text: str) -> bool:
    return "\n" not in text and len(text) < 4096 and not text.lstrip().startswith(("<", "{"))


def read_definitions(source: str | Path | bytes, *, format: Format = "auto",
                     search_paths: Sequence[str | Path] = ()) -> Definitions:
    """Read a model without compiling it."""
    from decisions.dmn import read_dmn
    from decisions.xlsx_format import read_xlsx
    from decisions.yaml_format import read_yaml

    file: str | None = None
    data: bytes | str
    if isinstance(source, Path) or (isinstance(source, str) and _looks_like_path(source)):
        path = Path(source)
        file = str(path)
        if not path.is_file():
            raise ModelError(Problem("no such model file", Location(file=file), code="io"))
        if path.stat().st_size > MAX_MODEL_BYTES:
            raise ModelError(Problem(f"the file is larger than {MAX_MODEL_BYTES // 2**20} MiB",
                                     Location(file=file), code="too-large"))
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ModelError(Problem(f"cannot read the file: {exc.strerror or exc}", Location(file=file),
                                     code="io")) from None
        if format == "auto":
            format = _SUFFIXES.get(path.suffix.lower(), "auto")  # type: ignore[assignment]
    else:
        data = source
        if len(data) > MAX_MODEL_BYTES:
            raise ModelError(Problem(f"the model is larger than {MAX_MODEL_BYTES // 2**20} MiB",
                                     code="too-large"))
    if format == "auto":
        head = data[:64].lstrip() if isinstance(data, bytes) else data[:64].lstrip().encode()
        format = "xlsx" if head.startswith(_ZIP_MAGIC) else \
            "dmn" if head.startswith((b"<", b"\xef\xbb\xbf<")) else "yaml"
    if format == "xlsx":
        if isinstance(data, str):
            raise ModelError(Problem("an xlsx workbook must be given as bytes or a file path, not text",
                                     Location(file=file), code="xlsx"))
        return read_xlsx(data, file=file)
    if format == "dmn":
        return read_dmn(data, file=file, search_paths=search_paths)
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    return read_yaml(text, file=file)


def load(source: str | Path | bytes, *, format: Format = "auto",
         search_paths: Sequence[str | Path] = (), _loading: frozenset[str] = frozenset()) -> Model:
    """Load and compile a model from a file path or from its content (DMN XML, YAML, or xlsx bytes)."""
    with fewer_collections():  # a large model is millions of objects that all stay alive
        return _load(source, format, search_paths, _loading)


def _load(source: str | Path | bytes, format: Format, search_paths: Sequence[str | Path],
          _loading: frozenset[str]) -> Model:
    defs = read_definitions(source, format=format, search_paths=search_paths)
    imported: dict[str, Model] = {}
    if defs.imports:
        folders = [Path(p) for p in search_paths]
        if defs.source.file:
            folders.insert(0, Path(defs.source.file).parent)
        for imp in defs.imports:
            if imp.namespace in _loading or imp.namespace == defs.namespace:
                raise ModelError(Problem(f"import '{imp.name}' forms an import cycle",
                                         Location(file=defs.source.file), code="import-cycle"))
            path = find_model_file(imp.namespace, folders,
                                   Path(defs.source.file) if defs.source.file else None)
            if path is None:
                raise ModelError(Problem(
                    f"imported model '{imp.name}' (namespace {imp.namespace}) was not found beside the model",
                    Location(file=defs.source.file), code="import-missing"))
            imported[imp.name] = load(path, search_paths=search_paths,
                                      _loading=_loading | {defs.namespace})
    return compile_model(defs, imported)
