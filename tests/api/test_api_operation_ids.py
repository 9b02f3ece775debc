"""Every operation has a readable camelCase operationId, unique, and the set is the one listed in
tests/api/operation_ids.txt: renaming one (which renames a generated client's method) is a
deliberate change to that file, never a side effect of renaming a handler or moving a path."""

from __future__ import annotations

from pathlib import Path

from fastapi.routing import APIRoute

from api.app import create_app
from api.operation_ids import CAMEL_CASE, OPERATION_IDS, camel_case, typed_operation_id
from api.settings import Settings
from registry import upgrade

GOLDEN = Path(__file__).with_name("operation_ids.txt")


def documented(tmp_path: Path) -> list[tuple[str, str, str]]:
    """(operationId, method, path) of every operation in the service's OpenAPI document."""
    url = f"sqlite:///{tmp_path / 'ids.db'}"
    upgrade(url)
    app = create_app(Settings(database_url=url))
    document = app.openapi()
    return sorted((operation["operationId"], method.upper(), path)
                  for path, operations in document["paths"].items() for method, operation in operations.items())


def test_every_operation_id_is_camel_case_unique_and_listed(tmp_path: Path) -> None:
    operations = documented(tmp_path)
    ids = [op_id for op_id, _, _ in operations]
    assert not [op_id for op_id in ids if not CAMEL_CASE.match(op_id)]
    assert len(ids) == len(set(ids)), sorted(op_id for op_id in ids if ids.count(op_id) > 1)
    listed = [tuple(line.split()) for line in GOLDEN.read_text(encoding="utf-8").splitlines()
              if line.strip() and not line.startswith("#")]
    assert [" ".join(op) for op in operations] == [" ".join(op) for op in listed], (
        "the operation ids changed; if that is meant, update tests/api/operation_ids.txt:\n"
        + "\n".join(" ".join(op) for op in operations))


def test_every_route_is_named_in_the_table(tmp_path: Path) -> None:
    # A route missing from api/operation_ids.py would get its handler's name: a choice nobody made.
    url = f"sqlite:///{tmp_path / 'ids.db'}"
    upgrade(url)
    app = create_app(Settings(database_url=url))
    app.openapi()
    named = set(OPERATION_IDS.values())
    unnamed = [(route.path, route.operation_id or route.unique_id) for route in app.routes
               if isinstance(route, APIRoute) and route.include_in_schema
               and (route.operation_id or route.unique_id) not in named]
    assert unnamed == []


def test_names_made_from_handlers_and_keys() -> None:
    assert camel_case("models_list") == "modelsList" and camel_case("x") == "x"
    assert typed_operation_id("loan-approval") == "evaluateTypedLoanApproval"
    assert typed_operation_id("2fa.check") == "evaluateTypedM2faCheck"
    assert CAMEL_CASE.match(typed_operation_id("loan_approval-v2"))
