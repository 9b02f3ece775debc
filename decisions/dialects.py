"""What models from other tools mean where DMN leaves room, and how to tell whose a model is.

Camunda's engines (7, and 8 with dmn-scala) evaluate a decision against the variables the
caller passes, by the names its expressions read; input data elements are only drawn, and
their names need not match (the Camunda example "Dinner Decisions" draws "Season" and reads
`season`). So in a Camunda model a name no element declares is an input, as in a model that
declares no input data at all. Camunda Modeler (7 and 8) gives every model it creates the
namespace `http://camunda.org/schema/1.0/dmn` (some write `https`): that is how a Camunda model
is told.
"""

from __future__ import annotations

from decisions.model import Definitions

CAMUNDA_NAMESPACE = "http://camunda.org/schema/1.0/dmn"


def is_camunda_model(defs: Definitions) -> bool:
    """Whether the model was written by Camunda Modeler (or for Camunda's engines)."""
    namespace = defs.namespace.strip().rstrip("/")
    return namespace.removeprefix("https://").removeprefix("http://") == CAMUNDA_NAMESPACE.removeprefix("http://")


def reads_undeclared_names(defs: Definitions) -> bool:
    """Whether a name the model does not declare is an input (an implicit one) rather than an
    error: in a model that declares no input data, and in any Camunda model."""
    return not defs.inputs or is_camunda_model(defs)
