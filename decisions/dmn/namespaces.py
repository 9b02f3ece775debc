"""XML namespaces of the DMN versions, and the FEEL namespaces their typeRefs may use.

DMN files name their version only through the namespace of the `<definitions>` root. Tools
disagree on `http` vs `https` and on the trailing slash, so lookups normalise both.
"""

from __future__ import annotations

# Model namespace per DMN version, as the OMG publishes it (what the writer emits).
DMN_NAMESPACES: dict[str, str] = {
    "1.1": "http://www.omg.org/spec/DMN/20151101/dmn.xsd",
    "1.2": "http://www.omg.org/spec/DMN/20180521/MODEL/",
    "1.3": "https://www.omg.org/spec/DMN/20191111/MODEL/",
    "1.4": "https://www.omg.org/spec/DMN/20211108/MODEL/",
    "1.5": "https://www.omg.org/spec/DMN/20230324/MODEL/",
    "1.6": "https://www.omg.org/spec/DMN/20240513/MODEL/",
}

# FEEL namespace per DMN version: DMN 1.1 typeRefs are QNames such as `feel:string`.
FEEL_NAMESPACES: dict[str, str] = {
    "1.1": "http://www.omg.org/spec/FEEL/20140401",
    "1.2": "http://www.omg.org/spec/DMN/20180521/FEEL/",
    "1.3": "https://www.omg.org/spec/DMN/20191111/FEEL/",
    "1.4": "https://www.omg.org/spec/DMN/20211108/FEEL/",
    "1.5": "https://www.omg.org/spec/DMN/20230324/FEEL/",
    "1.6": "https://www.omg.org/spec/DMN/20240513/FEEL/",
}

# Drools' extension attributes of DMN 1.1, which has no import names: `drools:name` names an import.
DROOLS_DMN11_NAMESPACE = "http://www.drools.org/kie/dmn/1.1"

# Extension namespace for what DMN has no place for (the registry key of a model).
DECISIONARY_NAMESPACE = "https://decisionary.dev/schema/dmn"
# Namespace of Decisionary's elements inside <extensionElements> (the model's business key).
DECISIONARY_EXTENSIONS_NAMESPACE = "https://decisionary.dev/dmn/extensions"

SUPPORTED_VERSIONS: tuple[str, ...] = tuple(DMN_NAMESPACES)


def _normalise(uri: str) -> str:
    uri = uri.strip()
    if uri.startswith("https://"):
        uri = "http://" + uri[len("https://"):]
    return uri.rstrip("/").lower()


_VERSION_BY_URI = {_normalise(uri): version for version, uri in DMN_NAMESPACES.items()}
_FEEL_URIS = frozenset(_normalise(uri) for uri in FEEL_NAMESPACES.values())


def dmn_version_of(namespace: str) -> str | None:
    """The DMN version a model namespace denotes, or None when it is not a DMN namespace."""
    return _VERSION_BY_URI.get(_normalise(namespace))


def is_feel_namespace(namespace: str) -> bool:
    return _normalise(namespace) in _FEEL_URIS

