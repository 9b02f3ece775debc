"""Finding imported models, to turn `namespace#id` hrefs into `<import name>.<element name>`.

A DMN file refers to an element of an imported model by the model's namespace and the
element's id. The names are what the FEEL text and the compiler use, so the reader looks the
id up in the imported model: among models the caller already has, else among the `.dmn` files
of the importing file's folder (and extra search folders). Files are matched by the
`namespace` attribute of their root, read from the first few kilobytes, so only the imported
file itself is parsed.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from decisions.dmn.safe_xml import parse_xml
from decisions.dmn.xml_scope import attribute_name, local_name
from decisions.errors import ModelError
from decisions.model import Definitions

DRG_ELEMENTS = frozenset({"decision", "inputData", "businessKnowledgeModel", "decisionService", "knowledgeSource"})
_HEAD_BYTES = 64 * 1024
_ROOT_NAMESPACE = re.compile(
    rb"<(?:[\w.-]+:)?definitions\b[^>]*?(?<![\w:.-])namespace\s*=\s*(?:\"([^\"]*)\"|'([^']*)')", re.DOTALL
)


def element_ids(defs: Definitions) -> dict[str, str]:
    """Id -> name of the DRG elements of a parsed model (elements without id are left out)."""
    ids: dict[str, str] = {}
    for group in (defs.inputs, defs.decisions, defs.knowledge_models, defs.services):
        for element in group:
            if element.id:
                ids[element.id] = element.name
    return ids


class ImportIndex:
    """Id -> name maps of imported models, found by namespace and read lazily."""

    def __init__(self, *, given: Iterable[Definitions] = (), folders: Sequence[Path] = (),
                 exclude: Path | None = None) -> None:
        self._by_namespace: dict[str, dict[str, str] | None] = {
            defs.namespace: element_ids(defs) for defs in given if defs.namespace
        }
        self._folders = list(folders)
        self._exclude = exclude.resolve() if exclude is not None else None
        self._files: dict[str, Path] | None = None

    def names(self, namespace: str) -> Mapping[str, str] | None:
        if namespace not in self._by_namespace:
            path = self._model_files().get(namespace)
            self._by_namespace[namespace] = _ids_in_file(path) if path is not None else None
        return self._by_namespace[namespace]

    def _model_files(self) -> dict[str, Path]:
        if self._files is None:
            self._files = {}
            for folder in self._folders:
                for path in sorted(folder.glob("*.dmn")):
                    if self._exclude is not None and path.resolve() == self._exclude:
                        continue
                    namespace = _root_namespace(path)
                    if namespace is not None:
                        self._files.setdefault(namespace, path)
        return self._files


def _root_namespace(path: Path) -> str | None:
    try:
        with path.open("rb") as handle:
            head = handle.read(_HEAD_BYTES)
    except OSError:
        return None
    match = _ROOT_NAMESPACE.search(head)
    if match is None:
        return None
    raw = match.group(1) if match.group(1) is not None else match.group(2)
    return html.unescape(raw.decode("utf-8", "replace")).strip()


def _ids_in_file(path: Path) -> dict[str, str] | None:
    try:
        doc = parse_xml(path.read_bytes(), file=str(path))
    except (OSError, ModelError):
        return None
    ids: dict[str, str] = {}
    for child in doc.root:
        if not isinstance(child.tag, str):
            continue
        identifier, name = child.get("id"), attribute_name(child)
        if local_name(child.tag)[1] in DRG_ELEMENTS and identifier and name:
            ids[identifier] = name
    return ids


def find_model_file(namespace: str, folders: Sequence[Path], exclude: Path | None = None) -> Path | None:
    """The first `.dmn` file in `folders` whose root declares `namespace`."""
    skip = exclude.resolve() if exclude is not None else None
    for folder in folders:
        for path in sorted(folder.glob("*.dmn")):
            if skip is not None and path.resolve() == skip:
                continue
            if _root_namespace(path) == namespace:
                return path
    return None
