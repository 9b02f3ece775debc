"""A version's content: its format and its content hash.

The content hash is the SHA-256 (hex) of a canonical form of the model, so that edits which do
not change the model do not change the hash:

- "model-yaml" (preferred): the model is loaded with `decisions.load` and re-serialised with
  `decisions.yaml_format.canonical_yaml(model.definitions)`. Whitespace, comments, key order, XML
  prefixes and even the file format (DMN or YAML of the same model) do not matter; neither do
  the diagram, knowledge sources and vendor extensions, which do not change what the model
  decides. The canonical form is fixed: what the engine learns to read later stays out of it,
  so a stored version's hash verifies against its content for good.
  Anyone can recompute it: sha256(canonical_yaml(decisions.load(text).definitions).encode()).
- "text" (fallback, when the model does not load, e.g. an import that is not available, or the
  engine is not installed): a normalised text. YAML is parsed and dumped as sorted JSON
  (whitespace and comments do not matter); DMN XML is parsed (defusedxml) and written back with
  sorted attributes and stripped text; xlsx workbooks are hashed as their bytes.

The method is stored with the version, so the hash can always be recomputed the same way.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

import yaml
from defusedxml import ElementTree as SafeET

from registry.errors import Invalid

Format = Literal["dmn", "yaml", "xlsx"]
HashMethod = Literal["model-yaml", "text"]
FORMATS: tuple[Format, ...] = ("dmn", "yaml", "xlsx")
_ZIP_MAGIC = b"PK\x03\x04"
_SUFFIXES: tuple[tuple[str, Format], ...] = (
    (".dmn", "dmn"), (".xml", "dmn"), (".yaml", "yaml"), (".yml", "yaml"), (".xlsx", "xlsx"),
)


def detect_format(content: bytes | str, filename: str | None = None) -> Format:
    """The format of `content`, from the file name's extension if given, else from the content."""
    if filename:
        lower = filename.lower()
        for suffix, fmt in _SUFFIXES:
            if lower.endswith(suffix):
                return fmt
    data = content.encode("utf-8") if isinstance(content, str) else content
    if data.startswith(_ZIP_MAGIC):
        return "xlsx"
    if data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        return "dmn"
    return "yaml"


def check_format(fmt: str) -> Format:
    if fmt not in FORMATS:
        raise Invalid(f"unknown model format {fmt!r}: expected one of {', '.join(FORMATS)}")
    return fmt


def as_bytes(content: bytes | str, fmt: Format) -> bytes:
    """Content as stored: text formats must be UTF-8, and must not be empty."""
    data = content.encode("utf-8") if isinstance(content, str) else bytes(content)
    if not data.strip():
        raise Invalid("the model content is empty")
    if fmt != "xlsx":
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as err:
            raise Invalid(f"{fmt} content is not valid UTF-8 (byte {err.start})") from None
    return data


def content_hash(content: bytes, fmt: Format) -> tuple[str, HashMethod]:
    """(hex SHA-256 of the canonical form, the method used). Never raises on bad content."""
    canonical = model_canonical_form(content, fmt)
    if canonical is not None:
        return _sha256(canonical.encode("utf-8")), "model-yaml"
    return _sha256(normalised_text(content, fmt)), "text"


def load_model(content: bytes, fmt: Format) -> Any:
    """The compiled model (`decisions.Model`) of stored content; raises decisions' ModelError.

    Content is passed as bytes, so the loader never mistakes it for a file path.
    """
    import decisions

    loader: Any = decisions.load  # xlsx support depends on the engine's version
    return loader(content, format=fmt)


def model_canonical_form(content: bytes, fmt: Format) -> str | None:
    """The model re-serialised as YAML, or None when it does not load (or no engine is present)."""
    try:
        from decisions.yaml_format import canonical_yaml

        return str(canonical_yaml(load_model(content, fmt).definitions))
    except Exception:  # noqa: BLE001 - a model that does not load is hashed by its text instead
        return None


def normalised_text(content: bytes, fmt: Format) -> bytes:
    """The fallback canonical form (see the module docstring)."""
    if fmt == "xlsx":
        return content
    text = content.decode("utf-8", errors="replace")
    if fmt == "yaml":
        try:
            from decisions.safe_yaml import load_yaml  # the shared loader: aliases bounded

            data = load_yaml(text)
            return json.dumps(data, sort_keys=True, ensure_ascii=False, default=str,
                              separators=(",", ":")).encode("utf-8")
        except yaml.YAMLError:
            pass
    else:
        try:
            root = SafeET.fromstring(text.lstrip("\ufeff"), forbid_dtd=True)
            return _xml_canonical(root).encode("utf-8")
        except Exception:  # noqa: BLE001 - not well-formed (or hostile) XML: hash its text
            pass
    lines = [line.rstrip() for line in text.lstrip("\ufeff").replace("\r\n", "\n").split("\n")]
    return "\n".join(lines).strip("\n").encode("utf-8")


def _xml_canonical(element: Any) -> str:
    attributes = "".join(f" {k}={json.dumps(v)}" for k, v in sorted(element.attrib.items()))
    text = (element.text or "").strip()
    children = "".join(_xml_canonical(child) + _tail(child) for child in element)
    return f"<{element.tag}{attributes}>{json.dumps(text) if text else ''}{children}</{element.tag}>"


def _tail(element: Any) -> str:
    tail = (element.tail or "").strip()
    return json.dumps(tail) if tail else ""


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
