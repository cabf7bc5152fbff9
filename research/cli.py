"""``mentor-research``: the researchers' command line.

export    the cases event log, one row per event, anonymized (pseudonymous ids, scrubbed text),
          streamed page by page in constant memory. Texts sealed for a person since erased read
          "[erased]", and the row names them (``erased_fields``: dotted paths into ``data``); opening
          the others needs the cases service's CASES_PERSON_KEYS_MASTER_KEY in the environment.
timeline  one case's full history (and its state at a version): NOT anonymized, a moderator's
          or operator's tool.
surveys   every survey answer from the library (research/surveys.py), anonymous as stored.
"""

import argparse
import csv
import datetime
import json
import os
import sys
import warnings

# The services' shared modules import nameko, which imports eventlet: its deprecation notice is
# noise on a researcher's terminal.
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

from research.anonymize import Pseudonymizer, anonymize_data  # noqa: E402

KEY_ENV = "RESEARCH_PSEUDONYM_KEY"
PAGE_SIZE = 1000
COLUMNS = ("event_id", "case", "version", "type", "occurred_at", "data", "erased_fields")
SKIPPED_FIELDS = (
    "originator_id",
    "originator_version",
    "timestamp",
    "originator_topic",
    "contract_version",
)  # services/cases/outgoing.py: the relay's, not the case's
MODERATOR = {"user_id": "research-cli", "role": "moderator"}


class CliError(Exception):
    """A refusal with a clear message and an exit code."""

    def __init__(self, message, code=2):
        super().__init__(message)
        self.code = code


# ---- opening the event store (read-only) --------------------------------------------------


def open_store(database_url):
    """The cases application without creating tables (a research account may be read-only)."""
    import psycopg2
    from eventsourcing.persistence import PersistenceError

    from services.cases.application import CasesApplication, postgres_env

    env = {**postgres_env(database_url, pool_size=1), "CREATE_TABLE": "n"}
    try:
        app = CasesApplication(env=env)
        app.recorder.max_notification_id()
    except (psycopg2.Error, PersistenceError) as error:
        raise CliError(f"cannot read the cases event store at that database: {error}".strip(), code=1) from None
    return app


def iter_events(app, page_size=PAGE_SIZE):
    """Every domain event in log order, page by page, up to the last one when the export began."""
    for page in app.log_pages(page_size):
        yield from app.mapper.to_domain_events(page)  # a page's sealed texts opened with one key query


# ---- export --------------------------------------------------------------------------------


def _parse_time(text, option):
    try:
        value = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise CliError(f"{option}: not an ISO 8601 date or time: {text!r}") from None
    return value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)


def event_fields(domain_event):
    from services.cases.views import jsonable

    return jsonable({k: v for k, v in domain_event.__dict__.items() if k not in SKIPPED_FIELDS})


def export_rows(app, pseudonym, since=None, until=None, rubric=None, types=None, drop_text=False):
    from services.cases.application import event_id
    from services.cases.sealing import erased_fields

    rubrics_of = {}  # case id -> rubrics of its current form (only while --rubric is given)
    for e in iter_events(app):
        kind = type(e).__name__
        if rubric is not None and kind in ("Created", "CaseRedefined"):
            rubrics_of[e.originator_id] = frozenset(e.form.get("rubrics") or ())
        if since is not None and e.timestamp < since:
            continue
        if until is not None and e.timestamp >= until:
            continue
        if types and kind not in types:
            continue
        if rubric is not None and rubric not in rubrics_of.get(e.originator_id, ()):
            continue
        yield {
            "event_id": str(event_id(e.originator_id, e.originator_version)),
            "case": pseudonym(str(e.originator_id)),
            "version": e.originator_version,
            "type": kind,
            "occurred_at": e.timestamp.isoformat(),
            "data": anonymize_data(event_fields(e), pseudonym, drop_text=drop_text),
            "erased_fields": erased_fields(kind, e.__dict__),
        }


def _key(args):
    key = args.key or os.environ.get(KEY_ENV)
    if not key:
        raise CliError(
            f"a pseudonym key is required: pass --key or set {KEY_ENV} (keep it secret; the same "
            f"key gives the same pseudonyms, so exports made with it can be joined)"
        )
    return key


def run_surveys(args, stdout):
    from research import surveys

    return surveys.run(args, stdout, Pseudonymizer(_key(args)))


def run_export(args, stdout):
    key = _key(args)
    since = _parse_time(args.since, "--since") if args.since else None
    until = _parse_time(args.until, "--until") if args.until else None
    if args.format == "parquet":
        _check_parquet(args.output)
    app = open_store(args.database_url)
    rows = export_rows(
        app,
        Pseudonymizer(key),
        since=since,
        until=until,
        rubric=args.rubric,
        types=set(args.type or ()),
        drop_text=args.drop_text,
    )
    if args.format == "parquet":
        return _export_parquet(app, rows, args.output)
    try:
        count = write_rows(rows, args.format, args.output, stdout, COLUMNS)
    finally:
        app.close()
    print(f"exported {count} events", file=sys.stderr)
    return 0


def write_rows(rows, fmt, output, stdout, columns):
    """Write dict rows as JSON lines or CSV (``columns``; a list or dict cell as JSON text) to ``output``
    (a file, or standard output for ``-``): how many."""
    out = stdout if output in (None, "-") else open(output, "w", encoding="utf-8", newline="")
    count = 0
    try:
        if fmt == "csv":
            writer = csv.writer(out)
            writer.writerow(columns)
            for row in rows:
                writer.writerow(
                    [
                        json.dumps(row[c], ensure_ascii=False) if isinstance(row[c], (list, dict)) else row[c]
                        for c in columns
                    ]
                )
                count += 1
        else:
            for row in rows:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
                count += 1
        out.flush()
    finally:
        if out is not stdout:
            out.close()
    return count


def _check_parquet(output):
    try:
        import pyarrow  # noqa: F401
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        raise CliError(
            "--format parquet needs pyarrow, which is not installed: pip install -c constraints.txt "
            '".[research]" (or use --format csv / jsonl)'
        ) from None
    if output in (None, "-"):
        raise CliError("--format parquet needs --output FILE (parquet is not written to standard output)")


def _export_parquet(app, rows, output):
    """Same columns as CSV (data as JSON text); one row group per page, so memory stays constant."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema(
        [
            ("event_id", pa.string()),
            ("case", pa.string()),
            ("version", pa.int64()),
            ("type", pa.string()),
            ("occurred_at", pa.string()),
            ("data", pa.string()),
            ("erased_fields", pa.string()),
        ]
    )
    count = 0
    try:
        with pq.ParquetWriter(output, schema) as writer:
            batch = []
            for row in rows:
                batch.append(
                    {
                        **row,
                        "data": json.dumps(row["data"], ensure_ascii=False),
                        "erased_fields": json.dumps(row["erased_fields"]),
                    }
                )
                if len(batch) >= PAGE_SIZE:
                    writer.write_batch(pa.RecordBatch.from_pylist(batch, schema=schema))
                    count, batch = count + len(batch), []
            if batch or not count:
                writer.write_batch(pa.RecordBatch.from_pylist(batch, schema=schema))
                count += len(batch)
    finally:
        app.close()
    print(f"exported {count} events", file=sys.stderr)
    return 0


# ---- timeline ------------------------------------------------------------------------------


def run_timeline(args, stdout):
    from contracts.errors import NotFound
    from services.cases.views import case_view, history_view

    app = open_store(args.database_url)
    try:
        try:
            events = app.history(args.case_id)
        except NotFound as error:
            raise CliError(str(error), code=1) from None
        stdout.write(f"case {args.case_id}: {len(events)} events\n")
        stdout.write(f"{'ver':>4}  {'time':<32}  {'type':<24}  {'actor':<10}  rev  changes\n")
        for item in history_view(events):
            changes = json.dumps(item["changes"], ensure_ascii=False) if item["changes"] else ""
            stdout.write(
                f"{item['version']:>4}  {item['occurred_at']:<32}  {item['type']:<24}  "
                f"{item['actor_role']:<10}  {item['revision']:>3}  {changes}\n"
            )
        if args.version is not None:
            last = events[-1].originator_version
            if not 1 <= args.version <= last:
                raise CliError(f"--version must be between 1 and {last} for this case")
            case = app.get_case_as_of(args.case_id, version=args.version)
            stdout.write(f"\nstate at version {args.version}:\n")
            stdout.write(json.dumps(case_view(case, MODERATOR), ensure_ascii=False, indent=2) + "\n")
    finally:
        app.close()
    return 0


# ---- report --------------------------------------------------------------------------------


def run_report(args, stdout):
    """Stream the log through the statistics fold; write report.csv, PNG plots and report.html."""
    from research.replay import fold_statistics
    from research.report import write_report

    app = open_store(args.database_url)
    try:
        stats = fold_statistics(app)  # one server-side cursor; decodes only what the fold reads
    finally:
        app.close()
    for path in write_report(stats, args.out):
        stdout.write(path + "\n")
    print(f"report: {len(stats.cases)} cases, {stats.events} events", file=sys.stderr)
    return 0


# ---- the command line ----------------------------------------------------------------------


def build_parser():
    parser = argparse.ArgumentParser(
        prog="mentor-research", description="Replay the cases event log to study how cases evolve."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    export = commands.add_parser(
        "export",
        help="every case event, anonymized (jsonl or csv)",
        description="Export every case event in log order, one row per event, ANONYMIZED: the case id and "
        "every person id become stable pseudonyms (hmac-sha256 with your key, 16 hex digits), "
        "free text is scrubbed of names, places, e-mails, phones, schools, street addresses, dates, "
        "profile links and handles "
        "(or dropped with --drop-text), case numbers are removed. Streams in constant memory.",
    )
    export.add_argument("--database-url", required=True, help="the cases service's PostgreSQL URL")
    export.add_argument(
        "--format", choices=("jsonl", "csv", "parquet"), default="jsonl", help="parquet needs pyarrow and --output FILE"
    )
    export.add_argument("--output", default="-", help="a file, or - for standard output (default)")
    export.add_argument("--since", help="only events at or after this ISO time (UTC if no offset)")
    export.add_argument("--until", help="only events before this ISO time (UTC if no offset)")
    export.add_argument("--rubric", help="only events of cases whose form (as of that event) has this rubric")
    export.add_argument(
        "--type",
        nargs="+",
        action="extend",
        metavar="EVENT_TYPE",
        help="only these event types (Created, MentorChosen, CaseRedefined, ...)",
    )
    export.add_argument("--key", help=f"pseudonym key (default: ${KEY_ENV}); required")
    export.add_argument("--drop-text", action="store_true", help="remove free text instead of scrubbing it")
    export.set_defaults(run=run_export)

    timeline = commands.add_parser(
        "timeline",
        help="one case's full history (NOT anonymized)",
        description="Print one case's full history: version, time, event type, actor role, revision and "
        "what a redefinition changed; with --version, the case as it was then (JSON). NOT "
        "anonymized: it shows the case as a moderator sees it. For moderators and operators; "
        "do not hand its output to researchers, use `export` for them.",
    )
    timeline.add_argument("--database-url", required=True, help="the cases service's PostgreSQL URL")
    timeline.add_argument("case_id", metavar="CASE_ID")
    timeline.add_argument("--version", type=int, help="also print the case's state at this version")
    timeline.set_defaults(run=run_timeline)

    report = commands.add_parser(
        "report",
        help="statistics of the cases (CSV, PNG plots, HTML)",
        description="Replay the whole log into statistics per case and overall (iterations, times to "
        "acceptance and first solution, decline and second-opinion rates, cases by rubric "
        "over time, reflection outcomes; by rubric and urgency). Writes report.csv, PNG plots "
        "and report.html (plots embedded) into --out and prints their paths. Aggregates only.",
    )
    report.add_argument("--database-url", required=True, help="the cases service's PostgreSQL URL")
    report.add_argument("--out", required=True, help="the output directory (created if missing)")
    report.set_defaults(run=run_report)

    surveys = commands.add_parser(
        "surveys",
        help="every survey answer, anonymous (jsonl or csv)",
        description="Export every survey's answers from the library's database, one row per answered "
        "question: the survey (id, title, audience, rubrics, period, its author as a pseudonym), "
        "the answer's number in its survey, the question and the answer. Nothing links an answer "
        "to a person; free-text answers are scrubbed (or dropped with --drop-text).",
    )
    surveys.add_argument("--library-url", required=True, help="the library service's PostgreSQL URL")
    surveys.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    surveys.add_argument("--output", default="-", help="a file, or - for standard output (default)")
    surveys.add_argument("--key", help=f"pseudonym key (default: ${KEY_ENV}); required")
    surveys.add_argument("--drop-text", action="store_true", help="leave out free-text answers")
    surveys.set_defaults(run=run_surveys)

    from research.rebuild import add_commands as add_rebuild_commands

    add_rebuild_commands(commands)  # rebuild, verify
    return parser


def main(argv=None, stdout=None):
    args = build_parser().parse_args(argv)
    try:
        return args.run(args, stdout or sys.stdout)
    except CliError as error:
        print(f"mentor-research {args.command}: {error}", file=sys.stderr)
        return error.code
    except BrokenPipeError:  # e.g. piped into head
        return 0


if __name__ == "__main__":
    sys.exit(main())
