"""The bodies of the list routes: one page of items and the cursor of the next (registry/pages.py).

Every list answers `{<items>: [...], "next_cursor": ...}`, as GET /v1/records does; the cursor is
opaque and belongs to the filters that gave it.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from api.execution_schemas import ReviewTaskOut
from api.schemas import AliasOut, ModelOut, VersionOut

NEXT_CURSOR = "Pass as `cursor` with the same filters for the next page; null on the last page."


class ModelPageOut(BaseModel):
    models: list[ModelOut]
    next_cursor: str | None = Field(description=NEXT_CURSOR)


class VersionPageOut(BaseModel):
    versions: list[VersionOut]
    next_cursor: str | None = Field(description=NEXT_CURSOR)


class AliasPageOut(BaseModel):
    aliases: list[AliasOut]
    next_cursor: str | None = Field(description=NEXT_CURSOR)


class ReviewTaskPageOut(BaseModel):
    tasks: list[ReviewTaskOut]
    next_cursor: str | None = Field(description=NEXT_CURSOR)
