"""Versions and their lifecycle: every transition, refusals, maker-checker, immutability."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from registry_samples import APPROVER, AUTHOR, KEY, LOAN_CASES, loan_dmn, published_version
from sqlalchemy.engine import Engine

from registry import (
    Conflict,
    Forbidden,
    Invalid,
    InvalidTransition,
    NotFound,
    approve,
    attach_test_cases,
    create_draft,
    get_model,
    get_version,
    history,
    list_versions,
    reject,
    retire,
    set_alias,
    submit,
    unit_of_work,
    update_draft,
)


def _draft(engine: Engine, content: str | None = None, key: str = KEY) -> int:
    with unit_of_work(engine) as session:
        return create_draft(session, key, content or loan_dmn(), author=AUTHOR, comment="first cut").number


def test_drafts_are_numbered_per_key_from_one(engine: Engine) -> None:
    assert [_draft(engine), _draft(engine), _draft(engine, key="other")] == [1, 2, 1]
    with unit_of_work(engine) as session:
        version = get_version(session, KEY, 2)
        assert (version.state, version.format, version.author) == ("draft", "dmn", AUTHOR)
        assert version.text == loan_dmn()
        assert len(version.content_hash) == 64
        assert get_model(session, KEY).latest_number == 2
        assert [v.number for v in list_versions(session, KEY)] == [1, 2]


def test_the_whole_lifecycle_is_recorded(engine: Engine) -> None:
    published = published_version(engine, test_cases=LOAN_CASES)
    assert published.state == "published"
    with unit_of_work(engine) as session:
        retire(session, KEY, published.number, by="carol", comment="superseded")
        moves = history(session, KEY, published.number)
    assert [(m.from_state, m.to_state, m.by) for m in moves] == [
        (None, "draft", AUTHOR),
        ("draft", "submitted", AUTHOR),
        ("submitted", "approved", APPROVER),
        ("approved", "published", APPROVER),
        ("published", "retired", "carol"),
    ]
    assert moves[-1].comment == "superseded"
    assert all(a.at <= b.at for a, b in zip(moves, moves[1:], strict=False))
    assert moves[0].at.tzinfo is not None


@pytest.mark.parametrize(
    ("steps", "refused"),
    [
        ([], "approve"),  # a draft cannot be approved before it is submitted
        ([], "publish"),
        ([], "retire"),
        ([], "reject"),
        (["submit"], "submit"),
        (["submit"], "publish"),  # approval comes first
        (["submit"], "retire"),
        (["submit", "approve"], "approve"),
        (["submit", "approve"], "submit"),
        (["submit", "reject"], "approve"),
        (["submit", "reject"], "submit"),
    ],
)
def test_invalid_transitions_are_refused(engine: Engine, steps: list[str], refused: str) -> None:
    import registry

    number = _draft(engine)
    people = {"submit": AUTHOR, "approve": APPROVER, "reject": APPROVER, "publish": APPROVER,
              "retire": APPROVER}
    with unit_of_work(engine) as session:
        for step in steps:
            getattr(registry, step)(session, KEY, number, by=people[step])
        state = get_version(session, KEY, number).state
    with pytest.raises(InvalidTransition, match=f"is {state}: it cannot become"):
        with unit_of_work(engine) as session:
            getattr(registry, refused)(session, KEY, number, by=people[refused])
    with unit_of_work(engine) as session:
        assert get_version(session, KEY, number).state == state
        assert len(history(session, KEY, number)) == len(steps) + 1


def test_retired_is_final(engine: Engine) -> None:
    version = published_version(engine)
    with unit_of_work(engine) as session:
        retire(session, KEY, version.number, by=APPROVER)
    for step in ("submit", "approve", "publish", "retire", "reject"):
        import registry

        with pytest.raises(InvalidTransition, match="final state"):
            with unit_of_work(engine) as session:
                getattr(registry, step)(session, KEY, version.number, by="zoe")


def test_approver_must_not_be_the_author(engine: Engine) -> None:
    number = _draft(engine)
    with unit_of_work(engine) as session:
        submit(session, KEY, number, by=AUTHOR)
    with pytest.raises(Forbidden, match="maker-checker"):
        with unit_of_work(engine) as session:
            approve(session, KEY, number, by=AUTHOR)
    with unit_of_work(engine) as session:
        assert get_version(session, KEY, number).state == "submitted"
        assert approve(session, KEY, number, by=APPROVER).state == "approved"


def test_reject_is_terminal_and_recorded(engine: Engine) -> None:
    number = _draft(engine)
    with unit_of_work(engine) as session:
        submit(session, KEY, number, by=AUTHOR)
        rejected = reject(session, KEY, number, by=APPROVER, comment="rule 3 overlaps rule 2")
        assert rejected.state == "rejected"
        assert history(session, KEY, number)[-1].comment == "rule 3 overlaps rule 2"


def test_only_the_author_edits_and_submits_a_draft(engine: Engine) -> None:
    number = _draft(engine)
    with pytest.raises(Forbidden, match="only its author may edit"):
        with unit_of_work(engine) as session:
            update_draft(session, KEY, number, by="mallory", content=loan_dmn(limit="1"))
    with pytest.raises(Forbidden, match="only its author may submit"):
        with unit_of_work(engine) as session:
            submit(session, KEY, number, by="mallory")
    with unit_of_work(engine) as session:
        before = get_version(session, KEY, number)
        after = update_draft(session, KEY, number, by=AUTHOR, content=loan_dmn(limit="1"), comment=None)
    assert after.text == loan_dmn(limit="1")
    assert after.content_hash != before.content_hash
    assert after.comment is None
    assert after.updated_at >= before.updated_at


def test_content_is_immutable_once_submitted(engine: Engine) -> None:
    number = _draft(engine)
    with unit_of_work(engine) as session:
        submit(session, KEY, number, by=AUTHOR)
    with pytest.raises(Conflict, match="immutable"):
        with unit_of_work(engine) as session:
            update_draft(session, KEY, number, by=AUTHOR, content=loan_dmn(limit="1"))
    with pytest.raises(Conflict, match="immutable"):
        with unit_of_work(engine) as session:
            attach_test_cases(session, KEY, number, LOAN_CASES, by=AUTHOR)
    with unit_of_work(engine) as session:
        assert get_version(session, KEY, number).text == loan_dmn()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE versions SET content = :blob WHERE number = 1",
        "UPDATE versions SET content_hash = 'x' WHERE number = 1",
        "UPDATE versions SET test_cases = 'x' WHERE number = 1",
        "UPDATE versions SET state = 'draft' WHERE number = 1",
        "DELETE FROM versions WHERE number = 1",
        "UPDATE transitions SET by = 'someone else'",
        "DELETE FROM transitions",
    ],
)
def test_the_database_itself_refuses_to_rewrite_submitted_versions(engine: Engine, statement: str) -> None:
    number = _draft(engine)
    with unit_of_work(engine) as session:
        submit(session, KEY, number, by=AUTHOR)
    with pytest.raises(sa.exc.DBAPIError, match="immutable|cannot go back|only draft|append-only"):
        with engine.begin() as connection:
            connection.execute(sa.text(statement), {"blob": b"tampered"} if ":blob" in statement else {})
    with unit_of_work(engine) as session:
        version = get_version(session, KEY, number)
        assert (version.state, version.text) == ("submitted", loan_dmn())
        assert len(history(session, KEY, number)) == 2


def test_a_draft_can_still_be_changed_in_the_database(engine: Engine) -> None:
    # The triggers guard submitted content only: the draft workflow is not hindered.
    number = _draft(engine)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE versions SET comment = 'x', content = :b WHERE number = :n"),
                           {"b": b"a: 1", "n": number})
    with unit_of_work(engine) as session:
        assert get_version(session, KEY, number).text == "a: 1"


def test_test_cases_are_validated_and_stored(engine: Engine) -> None:
    number = _draft(engine)
    with pytest.raises(Invalid, match="test case 1: 'expect' must be a non-empty mapping"):
        with unit_of_work(engine) as session:
            attach_test_cases(session, KEY, number, "- inputs: {a: 1}\n", by=AUTHOR)
    with pytest.raises(Invalid, match="not valid YAML at line 2"):
        with unit_of_work(engine) as session:
            attach_test_cases(session, KEY, number, "- inputs: {a: 1}\n\texpect: {b: 2}\n", by=AUTHOR)
    with unit_of_work(engine) as session:
        attach_test_cases(session, KEY, number, LOAN_CASES, by=AUTHOR)
        assert get_version(session, KEY, number).test_cases == LOAN_CASES


@pytest.mark.parametrize(
    ("key", "content", "fmt", "message"),
    [
        ("bad key!", "a: 1", "yaml", "invalid model key"),
        ("", "a: 1", "yaml", "invalid model key"),
        ("k@1", "a: 1", "yaml", "invalid model key"),
        ("ok", "   \n", "yaml", "empty"),
        ("ok", b"\xff\xfe\x00", "yaml", "not valid UTF-8"),
        ("ok", "a: 1", "pdf", "unknown model format"),
    ],
)
def test_bad_drafts_are_refused_clearly(engine: Engine, key: str, content: str | bytes, fmt: str,
                                        message: str) -> None:
    with pytest.raises(Invalid, match=message):
        with unit_of_work(engine) as session:
            create_draft(session, key, content, author=AUTHOR, format=fmt)
    with unit_of_work(engine) as session:
        with pytest.raises(NotFound):
            get_model(session, key or "missing")


def test_unknown_model_and_version_say_which(engine: Engine) -> None:
    _draft(engine)
    with unit_of_work(engine) as session:
        with pytest.raises(NotFound, match="no model registered under the key 'nope'"):
            get_version(session, "nope", 1)
        with pytest.raises(NotFound, match="loan-approval has no version 9"):
            get_version(session, KEY, 9)


def test_a_version_an_alias_points_at_cannot_be_retired(engine: Engine) -> None:
    version = published_version(engine)
    with unit_of_work(engine) as session:
        set_alias(session, KEY, "production", version.number, by=APPROVER)
    with pytest.raises(Conflict, match="alias\\(es\\) production point at it"):
        with unit_of_work(engine) as session:
            retire(session, KEY, version.number, by=APPROVER)
