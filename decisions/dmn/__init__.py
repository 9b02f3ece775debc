"""DMN XML: read any DMN 1.1-1.5 document into the parsed model, write it back as DMN 1.x."""

from decisions.dmn.namespaces import DMN_NAMESPACES, SUPPORTED_VERSIONS, dmn_version_of
from decisions.dmn.reader import read_dmn, read_dmn_file
from decisions.dmn.writer import write_dmn

__all__ = ["DMN_NAMESPACES", "SUPPORTED_VERSIONS", "dmn_version_of", "read_dmn", "read_dmn_file", "write_dmn"]
