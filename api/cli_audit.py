"""The `decisionary` commands of the decision log and its hash chains.

    records [filters] [--json]         the decision log, newest first (local database, or --url)
    audit verify                       walk every record chain; exit 1 naming the first broken link
    audit export --out DIR             records to Parquet, one folder per day (date=YYYY-MM-DD)
    audit retain --older-than 365d     remove old records; each chain keeps verifying (--dry-run)
    audit drift KEY [--alert]          PSI per input and output against a reference period; with
                                       --alert, each crossing starts the model's drift workflow
    report KEY --out report.html       the self-contained HTML report of a period
    replay KEY VERSION                 what the version would change on logged decisions or a file
                                       (--dask for data larger than memory; --attach to the version)

Local commands take --data-dir / --database-url like the other registry commands.
`register(app)` adds them to the CLI.
"""

from __future__ import annotations

import getpass
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from api.cli_execution import _engine
from api.cli_service import (
    ApiKey,
    DatabaseUrl,
    DataDir,
    _client,
    _remote,
    fail,
    format_table,
    reports_errors,
    to_json_text,
)

EXIT_BROKEN = 1

OptionalUrl = Annotated[str | None, typer.Option("--url", envvar="DECISIONARY_URL",
                                                 help="Ask this service instead of the local database.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]
# query_records' parameters -> the options that give them, for error messages
_FLAGS = {"start": "--from", "end": "--to", "workflow_state": "--workflow-state",
          "review_outcome": "--review-outcome", "business_key": "--business-key"}


def _flag(parameter: str) -> str:
    return _FLAGS.get(parameter, f"--{parameter.replace('_', '-')}")


# --- the decision log ------------------------------------------------------------------------------


@reports_errors
def records_command(
    key: Annotated[str | None, typer.Option("--key", help="Only this model's records.")] = None,
    version: Annotated[int | None, typer.Option("--version", help="Only this version's.")] = None,
    alias: Annotated[str | None, typer.Option("--alias", help="Only records answered through this alias.")] = None,
    arm: Annotated[str | None, typer.Option("--arm", help="Only this arm of a split (e.g. challenger).")] = None,
    start: Annotated[str | None, typer.Option("--from", help="From this date or time on (ISO 8601, UTC "
                                              "without a zone).")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Before this date or time.")] = None,
    output: Annotated[str | None, typer.Option("--output", help="DECISION:VALUE, e.g. Decision:Reject.")] = None,
    fired: Annotated[str | None, typer.Option("--fired", help="DECISION:RULE, a rule id or position, e.g. "
                                              "'Risk Category:rule-7'.")] = None,
    caller: Annotated[str | None, typer.Option("--caller", help="Only this caller's records.")] = None,
    business_key: Annotated[str | None, typer.Option("--business-key", help="Only this business key's.")] = None,
    workflow_state: Annotated[str | None, typer.Option("--workflow-state", help="With a workflow run in this "
                                                       "state (ready, waiting, done, dead, cancelled).")] = None,
    review_outcome: Annotated[str | None, typer.Option("--review-outcome", help="With a decided review: approve, "
                                                       "reject or override.")] = None,
    include_shadow: Annotated[bool, typer.Option("--include-shadow", help="Shadow versions' records too.")] = False,
    limit: Annotated[int, typer.Option("--limit", help="Records per page (1 to 1000).")] = 20,
    cursor: Annotated[str | None, typer.Option("--cursor", help="Continue after a page (its next cursor).")] = None,
    url: OptionalUrl = None,
    api_key: ApiKey = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """The decision log, newest first, filtered; prints the cursor of the next page."""
    filters: dict[str, Any] = {"key": key, "version": version, "alias": alias, "arm": arm, "start": start,
                               "end": end, "output": output, "fired": fired, "caller": caller,
                               "business_key": business_key, "workflow_state": workflow_state,
                               "review_outcome": review_outcome}
    if url:
        page = _remote_records(url, api_key, filters, include_shadow, limit, cursor)
    else:
        page = _local_records(data_dir, database_url, filters, include_shadow, limit, cursor)
    if as_json:
        typer.echo(to_json_text(page))
        return
    records = page["records"]
    rows = [[r["id"], str(r["created_at"])[:19], f"{r['key']}@{r['version']}", r.get("alias") or "-",
             r.get("arm") or "-", r.get("caller") or "-", r.get("business_key") or "-", _outputs(r["outputs"])]
            for r in records]
    typer.echo(format_table(["record", "created (UTC)", "version", "alias", "arm", "caller", "business key",
                             "outputs"], rows) if rows else "no records match")
    if page.get("next_cursor"):
        typer.echo(f"more: --cursor {page['next_cursor']}", err=True)


def _local_records(data_dir: Path | None, database_url: str | None, filters: dict[str, Any], include_shadow: bool,
                   limit: int, cursor: str | None) -> dict[str, Any]:
    from audit.log import QueryError, parse_fired, parse_output, parse_time, query_records

    engine = _engine(data_dir, database_url)
    try:
        parsed = dict(filters)
        for name in ("start", "end"):
            if parsed[name] is not None:
                parsed[name] = parse_time(parsed[name], name)
        if parsed["output"] is not None:
            parsed["output"] = parse_output(parsed["output"])
        if parsed["fired"] is not None:
            parsed["fired"] = parse_fired(parsed["fired"])
        page = query_records(engine, **parsed, include_shadow=include_shadow, limit=limit, cursor=cursor)
    except QueryError as exc:
        fail(f"{_flag(exc.parameter)}: {exc.message}")
    finally:
        engine.dispose()
    return {"records": [r.to_dict() for r in page.records], "next_cursor": page.next_cursor}


def _remote_records(url: str, api_key: str | None, filters: dict[str, Any], include_shadow: bool, limit: int,
                    cursor: str | None) -> dict[str, Any]:
    params: dict[str, Any] = {name: value for name, value in filters.items() if value is not None}
    params.update(limit=limit, include_shadow=str(include_shadow).lower())
    if cursor:
        params["cursor"] = cursor
    with _client(url, api_key) as client:
        page: dict[str, Any] = _remote(lambda: client.request("GET", "/v1/records", params=params)).json()
    return page


def _outputs(outputs: Any) -> str:
    if not isinstance(outputs, dict):
        return str(outputs)
    text = ", ".join(f"{name}={value}" for name, value in outputs.items() if not isinstance(value, (dict, list)))
    return text if len(text) <= 60 else text[:57] + "..."


# --- audit ---------------------------------------------------------------------------------------

audit_app = typer.Typer(help="The decision records' hash chains: verify, export, retention.", no_args_is_help=True)


@audit_app.command("verify")
@reports_errors
def audit_verify(url: OptionalUrl = None, api_key: ApiKey = None, data_dir: DataDir = None,
                 database_url: DatabaseUrl = None, as_json: AsJson = False) -> None:
    """Walk every chain of decision records; exit 1 naming the first broken link."""
    if url:
        with _client(url, api_key) as client:
            result: dict[str, Any] = _remote(lambda: client.request("GET", "/v1/audit/verify")).json()
    else:
        result = _local_verify(data_dir, database_url)
    if as_json:
        typer.echo(to_json_text(result))
    elif result["ok"]:
        unchained = f", {result['unchained']:,} records without a chain" if result["unchained"] else ""
        typer.echo(f"ok: {result['records']:,} records in {result['chains']:,} chains{unchained}")
    else:
        broken = result["first_broken"]
        where = f"record {broken['record_id']}" if broken.get("record_id") else "no record"
        typer.echo(f"broken: chain {broken['chain_id']}, place {broken['seq']} ({where}): {broken['problem']}")
    if not result["ok"]:
        raise typer.Exit(EXIT_BROKEN)


def _local_verify(data_dir: Path | None, database_url: str | None) -> dict[str, Any]:
    from registry.chain import verify

    engine = _engine(data_dir, database_url)
    try:
        result = verify(engine, progress=lambda n: typer.echo(f"{n:,} records verified...", err=True))
    finally:
        engine.dispose()
    broken = result.first_broken
    return {"ok": result.ok, "chains": result.chains, "records": result.records, "unchained": result.unchained,
            "first_broken": None if broken is None else {"chain_id": broken.chain_id, "seq": broken.seq,
                                                         "record_id": broken.record_id, "problem": broken.problem},
            "heads": {chain: {"seq": seq, "hash": hashed} for chain, (seq, hashed) in result.heads.items()}}


@audit_app.command("export")
@reports_errors
def audit_export(
    out: Annotated[Path, typer.Option("--out", help="Folder to write date=YYYY-MM-DD/part-N.parquet into.")],
    key: Annotated[str | None, typer.Option("--key", help="Only this model's records.")] = None,
    start: Annotated[str | None, typer.Option("--from", help="From this day (ISO 8601).")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Up to this day or time (whole days are written).")] = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Export decision records to Parquet by day; a day exported again replaces its files."""
    from audit.export import export_records
    from audit.log import QueryError, parse_time

    try:
        first = parse_time(start, "start") if start else None
        last = parse_time(end, "end") if end else None
    except QueryError as exc:
        fail(f"{_flag(exc.parameter)}: {exc.message}")
    if first is not None and last is not None and first >= last:
        fail("--to must be after --from")
    if out.exists() and not out.is_dir():
        fail(f"--out is not a folder: {out}")
    engine = _engine(data_dir, database_url)
    try:
        summary = export_records(engine, out, key=key, start=first, end=last)
    except OSError as exc:
        fail(f"cannot write to {out}: {exc}")
    finally:
        engine.dispose()
    typer.echo(str(summary))


_AGE = re.compile(r"^\s*(\d{1,6})\s*([dhw])\s*$")


def parse_age(text: str) -> timedelta:
    """`365d`, `12h`, `52w` -> a timedelta."""
    found = _AGE.match(text)
    if found is None:
        fail(f"--older-than: expected a number of days, hours or weeks such as 365d, 12h or 52w, got {text!r}")
    amount, unit = int(found.group(1)), found.group(2)
    return {"d": timedelta(days=amount), "h": timedelta(hours=amount), "w": timedelta(weeks=amount)}[unit]


@audit_app.command("retain")
@reports_errors
def audit_retain(
    older_than: Annotated[str, typer.Option("--older-than", help="Remove records older than this: 365d, 12h, 52w.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only say what would be removed.")] = False,
    by: Annotated[str | None, typer.Option("--by", help="Who runs it (default: your user name).")] = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Remove decision records older than a cutoff, with what depends on them; chains keep verifying.

    Records still in use (an active workflow run, an open review task) are kept, with every record
    after them in their chain."""
    from datetime import UTC

    from registry.retention import remove_older_than

    cutoff = datetime.now(UTC) - parse_age(older_than)
    engine = _engine(data_dir, database_url)
    try:
        summary = remove_older_than(engine, cutoff, by=by or getpass.getuser(), dry_run=dry_run)
    finally:
        engine.dispose()
    typer.echo(str(summary))
    for chain in summary.chains:
        if chain.removed or chain.kept_from is not None:
            typer.echo(f"  chain {chain.chain_id}: {chain.removed:,} removed, starts after place "
                       f"{chain.up_to_seq}; {chain.reason}")
    if summary.kept_in_use:
        typer.echo(f"  {summary.kept_in_use:,} records without a chain are kept: still in use")


@audit_app.command("drift")
@reports_errors
def audit_drift(
    key: Annotated[str, typer.Argument(help="The model's key.")],
    start: Annotated[str | None, typer.Option("--from", help="The current period's start (default: 30 days "
                                              "before --to).")] = None,
    end: Annotated[str | None, typer.Option("--to", help="The current period's end (default: now).")] = None,
    reference_from: Annotated[str | None, typer.Option("--reference-from", help="The reference period's start "
                                                       "(default: as long before --from as the current "
                                                       "period lasts).")] = None,
    reference_to: Annotated[str | None, typer.Option("--reference-to", help="The reference period's end "
                                                     "(default: --from).")] = None,
    watch: Annotated[float, typer.Option("--watch", help="PSI from which a shift is worth watching.")] = 0.1,
    threshold: Annotated[float, typer.Option("--threshold", help="PSI from which a shift is drift.")] = 0.25,
    alert: Annotated[bool, typer.Option("--alert", help="Record an alert for each drift and start the workflows "
                                        "the production version's bindings name under `monitors: drift`.")] = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """The population stability index of every input and output, current period against reference."""
    from datetime import UTC

    from audit.drift import check_drift, population_stability
    from audit.log import QueryError, parse_time
    from execution.config import ExecutionConfig
    from execution.monitors import start_monitor_runs

    if not 0 < watch <= threshold:
        fail("--watch must be above 0 and at most --threshold")
    try:
        last = parse_time(end, "end") if end else datetime.now(UTC)
        first = parse_time(start, "start") if start else last - timedelta(days=30)
        reference_end = parse_time(reference_to, "reference_to") if reference_to else first
        reference_start = (parse_time(reference_from, "reference_from") if reference_from
                           else reference_end - (last - first))
    except QueryError as exc:
        fail(f"{_flag(exc.parameter)}: {exc.message}")
    if first >= last or reference_start >= reference_end:
        fail("each period must end after it starts")
    engine = _engine(data_dir, database_url)
    try:
        table = population_stability(engine, key, reference=(reference_start, reference_end),
                                     current=(first, last), thresholds=(watch, threshold))
        findings = []
        if alert:
            config = ExecutionConfig.from_env()
            findings = check_drift(
                engine, key, reference=(reference_start, reference_end), current=(first, last),
                thresholds=(watch, threshold),
                start_workflow=lambda finding: start_monitor_runs(engine, key, "drift", finding.as_dict(),
                                                                  config=config))
    except QueryError as exc:
        fail(f"{_flag(exc.parameter)}: {exc.message}")
    finally:
        engine.dispose()
    rows = table.to_dict("records")
    if as_json:
        typer.echo(to_json_text({"drift": rows, "alerts": [
            {"name": f.name, "kind": f.kind, "psi": f.psi, "alert_id": f.alert_id, "run_ids": list(f.run_ids),
             "error": f.error} for f in findings]}))
        return
    typer.echo(f"{key}: {first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M} against {reference_start:%Y-%m-%d %H:%M} "
               f"to {reference_end:%Y-%m-%d %H:%M} (watch at {watch}, drift at {threshold})")
    typer.echo(format_table(["kind", "name", "PSI", "status", "reference n", "current n"],
                            [[r["kind"], r["name"], "-" if r["psi"] != r["psi"] else f"{r['psi']:.3f}", r["status"],
                              f"{r['reference_n']:,}", f"{r['current_n']:,}"] for r in rows]))
    for finding in findings:
        started = (f"started run(s) {', '.join(finding.run_ids)}" if finding.run_ids
                   else "no workflow started" + (f" ({finding.error})" if finding.error else
                                                 ": the bindings name none under `monitors: drift`"))
        typer.echo(f"alert {finding.alert_id}: {finding.kind} {finding.name} PSI {finding.psi:.3f}; {started}")


@reports_errors
def replay_command(
    key: Annotated[str, typer.Argument(help="The model's key.")],
    version: Annotated[int, typer.Argument(help="The version to replay (any state).")],
    start: Annotated[str | None, typer.Option("--from", help="Logged decisions from this time.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="... up to this time.")] = None,
    alias: Annotated[str, typer.Option("--alias", help="Decisions answered through this alias.")] = "production",
    file: Annotated[Path | None, typer.Option("--file", help="Replay on this CSV or Parquet file instead "
                                              "(inputs, decided.<decision>, label.<name>).")] = None,
    dask: Annotated[bool, typer.Option("--dask", help="Replay --file (Parquet files, a folder or a glob) on "
                                       "Dask: a local cluster of 2 workers, or --scheduler.")] = False,
    scheduler: Annotated[str | None, typer.Option("--scheduler", help="A Dask scheduler's address.")] = None,
    bad_label: Annotated[str | None, typer.Option("--bad-label", help="The outcome label that means bad.")] = None,
    attach: Annotated[bool, typer.Option("--attach", help="Attach the summary to the version.")] = False,
    by: Annotated[str | None, typer.Option("--by", help="Who replays (default: your user name).")] = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Replay a version on what was decided: how many decisions change, the swap set, bad rates."""
    from audit.log import QueryError, parse_time
    from audit.outcomes import read_table
    from audit.replay import replay_dask, replay_version
    from registry import get_version, unit_of_work

    if dask and file is None:
        fail("--dask replays a file (--file): export the log with `decisionary audit export` first")
    try:
        first = parse_time(start, "start") if start else None
        last = parse_time(end, "end") if end else None
    except QueryError as exc:
        fail(f"{_flag(exc.parameter)}: {exc.message}")
    engine = _engine(data_dir, database_url)
    try:
        with unit_of_work(engine, read_only=True) as session:
            text = get_version(session, key, version).content.decode("utf-8")
        if dask:
            summary = replay_dask(text, str(file), bad_label=bad_label, scheduler=scheduler).to_dict()
        else:
            frame = read_table(file.read_bytes(), filename=file.name) if file is not None else None
            summary = replay_version(engine, key, version, by=by or getpass.getuser(), start=first, end=last,
                                     alias=alias, frame=frame, source=f"file {file.name}" if file else None,
                                     bad_label=bad_label, attach=attach)["summary"]
    except OSError as exc:
        fail(f"cannot read {file}: {exc}")
    except ValueError as exc:
        fail(str(exc))
    finally:
        engine.dispose()
    if as_json:
        typer.echo(to_json_text(summary))
        return
    typer.echo(f"{key} version {version} on {summary['rows']:,} decisions:")
    for name, item in summary["decisions"].items():
        typer.echo(f"  {name}: {item['changed']:,} change ({item['changed_share']:.1%})")
        for swap in item.get("swaps", [])[:10]:
            examples = ", ".join(str(e) for e in swap["examples"][:3])
            typer.echo(f"    {swap['from']} -> {swap['to']}: {swap['count']:,} (e.g. {examples})")
        for rate in item.get("bad_rate", []):
            if rate["decided_known"] or rate["candidate_known"]:
                def pct(value: Any) -> str:
                    return "-" if value is None else f"{value:.2%}"
                typer.echo(f"    bad rate of {rate['value']}: decided {pct(rate['decided_bad_rate'])} "
                           f"({rate['decided_known']:,} known), candidate {pct(rate['candidate_bad_rate'])} "
                           f"({rate['candidate_known']:,} known, {rate['candidate_unknown']:,} unknown)")


@reports_errors
def report_command(
    key: Annotated[str, typer.Argument(help="The model's key.")],
    out: Annotated[Path, typer.Option("--out", help="The HTML file to write.")] = Path("report.html"),
    start: Annotated[str | None, typer.Option("--from", help="From this date or time (default: 90 days "
                                              "before --to).")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Up to this date or time (default: now).")] = None,
    label: Annotated[str | None, typer.Option("--label", help="The outcome label meaning bad (e.g. defaulted): "
                                              "adds performance against outcomes.")] = None,
    score: Annotated[str | None, typer.Option("--score", help="A numeric input or output to band and rank "
                                              "(e.g. Credit Score).")] = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Write the self-contained HTML report of a model over a period (charts inline, no network)."""
    from datetime import UTC

    from audit.log import QueryError, parse_time
    from audit.report import report_from_database

    try:
        last = parse_time(end, "end") if end else datetime.now(UTC)
        first = parse_time(start, "start") if start else last - timedelta(days=90)
    except QueryError as exc:
        fail(f"{_flag(exc.parameter)}: {exc.message}")
    if first >= last:
        fail("--to must be after --from")
    engine = _engine(data_dir, database_url)
    try:
        html = report_from_database(engine, key, start=first, end=last, label=label, score=score)
    finally:
        engine.dispose()
    try:
        out.write_text(html, encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {out}: {exc}")
    typer.echo(f"wrote {out} ({len(html) // 1024:,} KiB): {key}, {first:%Y-%m-%d} to {last:%Y-%m-%d}")


def register(app: typer.Typer) -> None:
    """Add the decision log and audit commands to the `decisionary` CLI."""
    app.command("records")(records_command)
    app.command("report")(report_command)
    app.command("replay")(replay_command)
    app.add_typer(audit_app, name="audit")
