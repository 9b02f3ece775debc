"""The list routes: models, versions and aliases, filtered and read a page at a time with an
opaque cursor bound to its filters (registry/pages.py, as GET /v1/records pages)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.api.conftest import SHIPPING_YAML, Live


def pages(client: httpx.Client, path: str, items: str, **params: Any) -> list[list[dict[str, Any]]]:
    """Every page of a list, following `next_cursor` until it is null."""
    found, cursor = [], None
    for _ in range(50):
        response = client.get(path, params={**params, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {items, "next_cursor"}
        found.append(body[items])
        cursor = body["next_cursor"]
        if cursor is None:
            return found
    raise AssertionError("the pages never ended")


def registry_with_three_models(live: Live) -> None:
    """ship-a (versions 1 published+production, 2 submitted), ship-b (1 draft), zone (1 published)."""
    live.publish("ship-a", SHIPPING_YAML, "shipping.yaml")
    assert live.upload("ship-a", SHIPPING_YAML.replace("9\"]", "10\"]"), "shipping.yaml").status_code == 201
    assert live.client("author").post("/v1/models/ship-a/versions/2/submit").status_code == 200
    assert live.upload("ship-b", SHIPPING_YAML, "shipping.yaml").status_code == 201
    live.publish("zone", SHIPPING_YAML, "shipping.yaml", alias="staging")


def test_models_page_by_key_with_filters(live: Live) -> None:
    registry_with_three_models(live)
    viewer = live.client("viewer")
    assert [[m["key"] for m in page] for page in pages(viewer, "/v1/models", "models", limit=2)] == \
        [["ship-a", "ship-b"], ["zone"]]
    assert [m["key"] for page in pages(viewer, "/v1/models", "models", key_prefix="ship") for m in page] == \
        ["ship-a", "ship-b"]
    assert [m["key"] for m in viewer.get("/v1/models", params={"alias": "production"}).json()["models"]] == ["ship-a"]
    assert [m["key"] for m in viewer.get("/v1/models", params={"state": "draft"}).json()["models"]] == ["ship-b"]
    assert [m["key"] for m in viewer.get("/v1/models", params={"state": "submitted"}).json()["models"]] == ["ship-a"]
    assert viewer.get("/v1/models", params={"created_by": "nobody"}).json() == {"models": [], "next_cursor": None}
    assert len(viewer.get("/v1/models", params={"start": "2000-01-01", "end": "2999-01-01"}).json()["models"]) == 3
    assert viewer.get("/v1/models", params={"end": "2000-01-01"}).json()["models"] == []
    # A key prefix is text, not a LIKE pattern: `_` matches only itself.
    assert viewer.get("/v1/models", params={"key_prefix": "ship_"}).json()["models"] == []


def test_a_cursor_belongs_to_its_filters(live: Live) -> None:
    registry_with_three_models(live)
    viewer = live.client("viewer")
    first = viewer.get("/v1/models", params={"limit": 1, "key_prefix": "ship"}).json()
    assert first["next_cursor"]
    other = viewer.get("/v1/models", params={"limit": 1, "key_prefix": "zo", "cursor": first["next_cursor"]})
    assert other.status_code == 422 and other.json()["errors"][0]["parameter"] == "cursor"
    assert "other filters" in other.json()["detail"]
    for bad in ("nonsense", "eyJhIjoxfQ", "A" * 300):
        response = viewer.get("/v1/models", params={"cursor": bad})
        assert response.status_code == 422, (bad, response.text)
    # A models cursor is not a versions cursor, even though both are lists of the registry.
    versions = viewer.get("/v1/versions", params={"limit": 1}).json()
    assert viewer.get("/v1/models", params={"cursor": versions["next_cursor"]}).status_code == 422
    assert viewer.get("/v1/models", params={"start": "yesterday"}).json()["errors"][0]["parameter"] == "start"
    assert viewer.get("/v1/models", params={"start": "2026-01-02", "end": "2026-01-01"}).status_code == 422


def test_versions_of_every_model_and_of_one(live: Live) -> None:
    registry_with_three_models(live)
    viewer = live.client("viewer")
    everything = [(v["key"], v["number"]) for page in pages(viewer, "/v1/versions", "versions", limit=2)
                  for v in page]
    assert everything == [("ship-a", 1), ("ship-a", 2), ("ship-b", 1), ("zone", 1)]  # as they were made
    queue = viewer.get("/v1/versions", params={"state": "submitted"}).json()["versions"]
    assert [(v["key"], v["number"], v["state"]) for v in queue] == [("ship-a", 2, "submitted")]
    assert [(v["key"], v["number"]) for v in viewer.get("/v1/versions", params={"key_prefix": "zo"}).json()[
        "versions"]] == [("zone", 1)]
    one = pages(viewer, "/v1/models/ship-a/versions", "versions", limit=1)
    assert [[v["number"] for v in page] for page in one] == [[1], [2]]
    assert [v["number"] for v in viewer.get("/v1/models/ship-a/versions", params={"state": "published"})
            .json()["versions"]] == [1]
    assert viewer.get("/v1/models/ship-a/versions", params={"created_by": "author-person"}).json()["versions"]
    assert viewer.get("/v1/models/ship-a/versions", params={"created_by": "someone"}).json()["versions"] == []
    assert viewer.get("/v1/models/nothing/versions").status_code == 404
    assert viewer.get("/v1/versions", params={"state": "lost"}).status_code == 422


def test_aliases_of_every_model_and_of_one(live: Live) -> None:
    registry_with_three_models(live)
    approver = live.client("approver")
    assert approver.put("/v1/models/ship-a/aliases/staging", json={"version": 1}).status_code == 200
    viewer = live.client("viewer")
    listed = [(a["key"], a["alias"], a["number"]) for page in pages(viewer, "/v1/aliases", "aliases", limit=1)
              for a in page]
    assert listed == [("ship-a", "production", 1), ("ship-a", "staging", 1), ("zone", "staging", 1)]
    staging = viewer.get("/v1/aliases", params={"alias": "staging"}).json()["aliases"]
    assert [a["key"] for a in staging] == ["ship-a", "zone"]
    assert [a["alias"] for a in viewer.get("/v1/models/ship-a/aliases").json()["aliases"]] == ["production", "staging"]
    assert viewer.get("/v1/models/ship-a/aliases", params={"version": 2}).json()["aliases"] == []
    assert viewer.get("/v1/models/nothing/aliases").status_code == 404


def test_the_lists_admit_the_readers_as_the_other_reads_do(live: Live) -> None:
    for path in ("/v1/models", "/v1/versions", "/v1/aliases"):
        for role in ("viewer", "author", "approver", "reviewer", "admin"):
            assert live.client(role).get(path).status_code == 200, (path, role)
        assert live.client("caller").get(path).status_code == 403, path
        assert live.client().get(path).status_code == 401, path
