"""Model versions and their lifecycle.

    draft -> submitted -> approved -> published -> retired
                     \\-> rejected  <-/ (from submitted or approved)

- A draft is numbered when it is created (1, 2, ... per key) and may be replaced by its author.
- From submitted on, content and test cases are immutable (the database refuses it too).
- Maker-checker: the approver must not be the author. Both are identities (registry/keys.py):
  a person with two keys is still one person, and names compare case-insensitively.
- Publishing runs the gates (registry.gates); a failure raises GateFailed listing every reason.
- A version that an alias points at cannot be retired: move the alias first.
- Every move is recorded in the version's history (who, when, from, to, comment).

Every function works inside the caller's session (see registry.db.unit_of_work) and flushes;
the caller's unit of work commits.

The gates run a version's test cases, which can take seconds. `submit_version` and
`publish_version` (the service's path) therefore run them before the write transaction: they read
the version in a read-only transaction, run the gates holding no lock, then in a short write
transaction check that the version is still what was read (state, format, content hash and test
cases; else Conflict, 409) and record the move. So publishing never holds SQLite's write lock
(or a PostgreSQL row lock) while the gates run, and evaluations keep writing their records.
`submit` and `publish` given no `gates=` run them inside the caller's transaction: for a
version made and moved in one unit of work, which nothing else can see yet.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from registry.cases import parse_cases
from registry.content import Format, as_bytes, check_format, content_hash, detect_format
from registry.db import unit_of_work
from registry.errors import Conflict, Forbidden, GateFailed, Invalid, InvalidTransition
from registry.gates import GateReport, run_gates
from registry.keys import same_person
from registry.routing import parse_routing
from registry.rows import model_row, row_id, version_row
from registry.tables import AliasRow, ModelRow, TransitionRow, VersionRow, utcnow
from registry.views import ModelInfo, Transition, Version

KEY_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "draft": ("submitted",),
    "submitted": ("approved", "rejected"),
    "approved": ("published", "rejected"),
    "published": ("retired",),
    "retired": (),
    "rejected": (),
}

_UNCHANGED = object()


def check_key(key: str) -> str:
    if not isinstance(key, str) or not KEY_PATTERN.fullmatch(key):
        raise Invalid(f"invalid model key {key!r}: use 1-100 letters, digits, '.', '_' or '-', "
                      "starting with a letter or digit")
    return key


def check_person(by: str, what: str = "person") -> str:
    if not isinstance(by, str) or not by.strip() or len(by) > 200:
        raise Invalid(f"the {what} must be named (1-200 characters)")
    return by


# --- reading ---------------------------------------------------------------------------


def get_model(session: Session, key: str) -> ModelInfo:
    return ModelInfo.of(model_row(session, key))


def list_models(session: Session) -> list[ModelInfo]:
    rows = session.exec(select(ModelRow).order_by(col(ModelRow.key))).all()
    return [ModelInfo.of(row) for row in rows]


def get_version(session: Session, key: str, number: int) -> Version:
    return Version.of(key, version_row(session, key, number))


def list_versions(session: Session, key: str, *, state: str | None = None) -> list[Version]:
    model = model_row(session, key)
    query = select(VersionRow).where(VersionRow.model_id == model.id)
    if state is not None:
        query = query.where(VersionRow.state == state)
    rows = session.exec(query.order_by(col(VersionRow.number))).all()
    return [Version.of(key, row) for row in rows]


def latest_published(session: Session, key: str) -> Version | None:
    model = model_row(session, key)
    row = session.exec(
        select(VersionRow)
        .where(VersionRow.model_id == model.id, VersionRow.state == "published")
        .order_by(col(VersionRow.number).desc())
        .limit(1)
    ).first()
    return Version.of(key, row) if row is not None else None


def history(session: Session, key: str, number: int) -> list[Transition]:
    """Every lifecycle move of a version, oldest first (creation is None -> draft)."""
    version = version_row(session, key, number)
    rows = session.exec(
        select(TransitionRow).where(TransitionRow.version_id == version.id).order_by(col(TransitionRow.id))
    ).all()
    return [Transition.of(key, number, row) for row in rows]


# --- drafts ----------------------------------------------------------------------------


def create_draft(
    session: Session,
    key: str,
    content: bytes | str,
    *,
    author: str,
    format: str | None = None,
    filename: str | None = None,
    comment: str | None = None,
    test_cases: str | None = None,
) -> Version:
    """A new draft version of `key` (the model is registered on its first version)."""
    check_key(key)
    check_person(author, "author")
    fmt = check_format(format) if format else detect_format(content, filename)
    data = as_bytes(content, fmt)
    if test_cases is not None:
        parse_cases(test_cases)
    model = _lock_or_create_model(session, key, author)
    model.last_number += 1
    digest, method = content_hash(data, fmt)
    row = VersionRow(model_id=row_id(model.id), number=model.last_number, state="draft", format=fmt,
                     content=data, content_hash=digest, hash_method=method, test_cases=test_cases,
                     author=author, comment=comment)
    session.add(model)
    session.add(row)
    session.flush()
    session.add(TransitionRow(version_id=row_id(row.id), from_state=None, to_state="draft", by=author,
                              comment=comment))
    session.flush()
    return Version.of(key, row)


def update_draft(
    session: Session,
    key: str,
    number: int,
    *,
    by: str,
    content: bytes | str | None = None,
    format: str | None = None,
    comment: str | None | object = _UNCHANGED,
    test_cases: str | None | object = _UNCHANGED,
) -> Version:
    """Replace a draft's content, test cases or comment. Only its author may, only while a draft."""
    row = version_row(session, key, number, lock=True)
    _require_draft(key, row, "edited")
    if not same_person(by, row.author):
        raise Forbidden(f"{key} version {number} is {row.author}'s draft: only its author may edit it")
    if content is not None:
        fmt: Format = check_format(format) if format else detect_format(content)
        row.content = as_bytes(content, fmt)
        row.format = fmt
        row.content_hash, row.hash_method = content_hash(row.content, fmt)
    if test_cases is not _UNCHANGED:
        if isinstance(test_cases, str):
            parse_cases(test_cases)
        row.test_cases = test_cases if isinstance(test_cases, str) else None
    if comment is not _UNCHANGED:
        row.comment = comment if isinstance(comment, str) else None
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    return Version.of(key, row)


def attach_test_cases(session: Session, key: str, number: int, test_cases: str, *, by: str) -> Version:
    """Attach (replace) a draft's test cases: a YAML list of {inputs, expect} (registry.cases)."""
    return update_draft(session, key, number, by=by, test_cases=test_cases)


# --- lifecycle -------------------------------------------------------------------------


@dataclass(frozen=True)
class GateRun:
    """The gates' report on a version, and the version as it was when they ran (`fingerprint`)."""

    key: str
    number: int
    fingerprint: str
    report: GateReport


def run_version_gates(engine: Engine, key: str, number: int, *, by: str | None = None,
                      to_state: str | None = None) -> GateRun:
    """Read a version in a read-only transaction and run its gates after that transaction ends.

    With `to_state` (and `by`), the move is checked first, so a refused move costs no gate run."""
    with unit_of_work(engine, read_only=True) as session:
        row = version_row(session, key, number)
        if to_state == "submitted" and by is not None:
            _check_submitter(key, row, by)
        if to_state is not None:
            _require_move(key, row, to_state)
        fingerprint = _fingerprint(row)
        content, fmt, test_cases = row.content, check_format(row.format), row.test_cases
    return GateRun(key, number, fingerprint, run_gates(content, fmt, test_cases, key=key))


def submit_version(engine: Engine, key: str, number: int, *, by: str, comment: str | None = None) -> Version:
    """`submit` in its own units of work, with the gates run outside the write transaction."""
    gates = run_version_gates(engine, key, number, by=by, to_state="submitted")
    with unit_of_work(engine) as session:
        return submit(session, key, number, by=by, comment=comment, gates=gates)


def publish_version(engine: Engine, key: str, number: int, *, by: str, comment: str | None = None) -> Version:
    """`publish` in its own units of work, with the gates run outside the write transaction."""
    gates = run_version_gates(engine, key, number, to_state="published")
    with unit_of_work(engine) as session:
        return publish(session, key, number, by=by, comment=comment, gates=gates)


def submit(session: Session, key: str, number: int, *, by: str, comment: str | None = None,
           gates: GateRun | None = None) -> Version:
    """Submit a draft for review; from now on its content is immutable. Author only.

    The gates run first and their report is kept on the version for its approver. A model with
    errors cannot be submitted: when it does not load or check ("load") or its tables have
    verification errors ("verify"), GateFailed and nothing changes. Failing test cases are
    shown to the approver, and publishing refuses them. `gates`: a report from
    `run_version_gates`, used if the version has not changed since (Conflict otherwise)."""
    row = version_row(session, key, number, lock=True)
    _check_unchanged(key, row, gates)
    _check_submitter(key, row, by)
    _require_move(key, row, "submitted")
    report = _gate_report(key, row, gates)
    model_errors = [f for f in report.failures if f.gate in ("load", "verify")]
    if model_errors:
        raise GateFailed(key, number, model_errors, step="submit")
    row.gates = {**report.to_json(), "step": "submit", "at": utcnow().isoformat()}
    return _move(session, key, row, "submitted", by, comment)


def approve(session: Session, key: str, number: int, *, by: str, comment: str | None = None) -> Version:
    """Approve a submitted version. Maker-checker: the approver must not be the author (the same
    identity, whichever of its keys each used)."""
    row = version_row(session, key, number, lock=True)
    if same_person(by, row.author):
        raise Forbidden(f"{by} wrote {key} version {number} and cannot approve it: "
                        "a second person must approve (maker-checker)")
    return _move(session, key, row, "approved", by, comment)


def reject(session: Session, key: str, number: int, *, by: str, comment: str | None = None) -> Version:
    """Turn down a submitted or approved version (terminal: fix it in a new draft)."""
    row = version_row(session, key, number, lock=True)
    return _move(session, key, row, "rejected", by, comment)


def check_gates(session: Session, key: str, number: int) -> GateReport:
    """Run the publish gates on a version without changing anything."""
    row = version_row(session, key, number)
    return run_gates(row.content, check_format(row.format), row.test_cases, key=key)


def publish(session: Session, key: str, number: int, *, by: str, comment: str | None = None,
            gates: GateRun | None = None) -> Version:
    """Publish an approved version after its gates pass; GateFailed lists every failed gate.
    `gates`: as for `submit`."""
    row = version_row(session, key, number, lock=True)
    _check_unchanged(key, row, gates)
    _require_move(key, row, "published")
    report = _gate_report(key, row, gates)
    if not report.ok:
        raise GateFailed(key, number, report.failures)
    row.gates = {**report.to_json(), "step": "publish", "at": utcnow().isoformat()}
    return _move(session, key, row, "published", by, comment)


def retire(session: Session, key: str, number: int, *, by: str, comment: str | None = None) -> Version:
    """Retire a published version that no alias points at any more."""
    row = version_row(session, key, number, lock=True)
    _require_move(key, row, "retired")
    aliases = session.exec(select(AliasRow.name).where(AliasRow.version_id == row.id)).all()
    if aliases:
        names = ", ".join(sorted(aliases))
        raise Conflict(f"cannot retire {key} version {number}: alias(es) {names} point at it; move them first")
    routed = session.exec(select(AliasRow.name, AliasRow.routing).where(AliasRow.model_id == row.model_id)).all()
    routing = sorted(name for name, data in routed if data is not None and number in parse_routing(data).versions)
    if routing:
        raise Conflict(f"cannot retire {key} version {number}: the routing of alias(es) {', '.join(routing)} "
                       "sends calls to it; change or clear it first")
    return _move(session, key, row, "retired", by, comment)


# --- internals -------------------------------------------------------------------------


def _check_submitter(key: str, row: VersionRow, by: str) -> None:
    if row.state == "draft" and not same_person(by, row.author):
        raise Forbidden(f"{key} version {row.number} is {row.author}'s draft: only its author may submit it")


def _fingerprint(row: VersionRow) -> str:
    """What a gate report depends on, and the state it was made in."""
    digest = hashlib.sha256()
    for part in (row.state, row.format, row.content_hash, row.test_cases or ""):
        digest.update(part.encode("utf-8"))
        digest.update(b"\x00")
    return digest.hexdigest()


def _check_unchanged(key: str, row: VersionRow, gates: GateRun | None) -> None:
    """Conflict if `gates` were run on another version, or on this one before it changed."""
    if gates is None:
        return
    if (gates.key, gates.number) != (key, row.number) or gates.fingerprint != _fingerprint(row):
        raise Conflict(f"{key} version {row.number} changed while its gates ran (it is now {row.state}); "
                       "try again")


def _gate_report(key: str, row: VersionRow, gates: GateRun | None) -> GateReport:
    """The gates' report on `row`: `gates` (checked by `_check_unchanged`); without one, the gates
    run here, inside the caller's transaction."""
    if gates is None:
        return run_gates(row.content, check_format(row.format), row.test_cases, key=key)
    return gates.report


def _move(session: Session, key: str, row: VersionRow, to_state: str, by: str, comment: str | None) -> Version:
    check_person(by)
    _require_move(key, row, to_state)
    from_state = row.state
    row.state = to_state
    row.updated_at = utcnow()
    session.add(row)
    session.add(TransitionRow(version_id=row_id(row.id), from_state=from_state, to_state=to_state, by=by,
                              comment=comment))
    session.flush()
    return Version.of(key, row)


def _require_move(key: str, row: VersionRow, to_state: str) -> None:
    allowed = TRANSITIONS.get(row.state, ())
    if to_state not in allowed:
        options = ", ".join(allowed) or "nothing (final state)"
        raise InvalidTransition(f"{key} version {row.number} is {row.state}: it cannot become {to_state} "
                                f"(from {row.state} it can become: {options})")


def _require_draft(key: str, row: VersionRow, what: str) -> None:
    if row.state != "draft":
        raise Conflict(f"{key} version {row.number} is {row.state}: its content is immutable and cannot be "
                       f"{what}; create a new draft instead")


def _lock_or_create_model(session: Session, key: str, by: str) -> ModelRow:
    """The model row for `key`, locked for the version number it is about to hand out."""
    query = select(ModelRow).where(ModelRow.key == key).with_for_update()
    row = session.exec(query).first()
    if row is not None:
        return row
    try:
        with session.begin_nested():
            session.add(ModelRow(key=key, created_by=by))
    except IntegrityError:
        pass  # registered by a concurrent transaction that committed first: use its row
    row = session.exec(query).first()
    if row is None:  # pragma: no cover - the insert or the concurrent one must have succeeded
        raise Conflict(f"could not register the model {key!r}; try again")
    return row
