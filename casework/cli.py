"""The `casework` command: dev, api, worker, migrate, register-search-attributes,
reconcile, token, send."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import traceback
from collections.abc import Sequence

from casework.codec import MissingEncryptionKeys
from casework.config import Settings, get_settings
from casework.logs import configure_logging
from casework.private_files import make_private, use_private_umask
from casework.tokens import (
    AGENCY_SCOPED_ROLES,
    LocalSigningKeyRefused,
    Role,
    local_signing_key,
    mint_token,
)
from models.ids import is_id

DEV_TOKEN_MINUTES = 8 * 60
"""A working day: long enough not to get in the way, short enough to expire unused."""


def _dev(_: argparse.Namespace) -> None:
    from casework.dev import run_dev

    asyncio.run(run_dev(get_settings()))


def _api(_: argparse.Namespace) -> None:
    import uvicorn

    from api.app import create_app

    settings = get_settings()
    if settings.data_dir.exists():
        make_private(settings.data_dir)
    # Issue 15: uvicorn logs through our root handler (JSON lines); our middleware
    # writes the one line per request.
    uvicorn.run(create_app(settings, freeze_heap=True), host=settings.api_host,
                port=settings.api_port, log_config=None, access_log=False)


def _worker(_: argparse.Namespace) -> None:
    from worker import main

    settings = get_settings()
    if settings.data_dir.exists():
        make_private(settings.data_dir)
    main()


def _migrate(_: argparse.Namespace) -> None:
    from casework.migrate import upgrade_to_head

    settings = get_settings()
    if settings.effective_database_url.startswith("sqlite"):
        make_private(settings.data_dir)
    upgrade_to_head(settings.effective_database_url)
    print("database at head")


def _register_search_attributes(_: argparse.Namespace) -> None:
    """DESIGN decision 5 on a real cluster: `casework dev` does this itself; elsewhere it
    is a one-off job per namespace (deploy/compose.yaml runs it). Idempotent."""
    from temporalio.client import Client

    from casework.temporal_client import ensure_search_attributes

    async def run() -> None:
        settings = get_settings()
        # Registering needs no payloads, so no codec keys are needed for this job.
        client = await Client.connect(settings.effective_temporal_address,
                                      namespace=settings.temporal_namespace)
        added = await ensure_search_attributes(client, settings.temporal_namespace)
        print(f"search attributes added: {', '.join(added)}" if added
              else "search attributes already registered")

    asyncio.run(run())


def _reconcile(args: argparse.Namespace) -> None:
    from casework.db import engine_for, make_session_factory
    from casework.reconcile import reconcile
    from casework.reconcile_requests import reconcile_requests
    from casework.temporal_client import connect

    async def run() -> None:
        settings = get_settings()
        client = await connect(settings)
        engine = engine_for(settings)
        sessions = make_session_factory(engine)
        try:
            report = await reconcile(client, sessions, repair=not args.dry_run,
                                     case_ids=args.case_ids or None)
            # T1-T4: the requests between districts too, when every case was checked.
            requests = ([] if args.case_ids else
                        await reconcile_requests(client, sessions, repair=not args.dry_run))
        finally:
            await engine.dispose()
        if args.dry_run and (report.drifted or report.ended or requests):
            raise SystemExit(1)  # monitoring can alert on drift, and on ended workflows

    asyncio.run(run())


def issue_dev_token(settings: Settings, roles: Sequence[str], *, agency: str | None = None,
                    subject: str | None = None, minutes: int = DEV_TOKEN_MINUTES,
                    district: str | None = None) -> str:
    """A bearer token signed with the local key, for trying the API by hand.

    Embedded default only: raises `LocalSigningKeyRefused` in production or when a JWKS
    URL is configured. Agency and integration tokens must name their agency (C7).
    `district` is the optional `district_id` claim (T1-T4): such a token sees and acts on
    its district's requests between districts only; without it, every district's.
    """
    if minutes <= 0:
        raise ValueError("--minutes must be positive")
    wanted = [Role(role) for role in roles]
    if agency is None and any(role in AGENCY_SCOPED_ROLES for role in wanted):
        raise ValueError("agency and integration tokens need --agency AGENCY_ID (C7)")
    return mint_token(
        local_signing_key(settings), subject=subject or f"dev-{wanted[0].value}",
        roles=[role.value for role in wanted], agency_id=agency, issuer=settings.auth_issuer,
        audience=settings.auth_audience, ttl_seconds=minutes * 60, district_id=district,
    )


def _district_id(value: str) -> str:
    """A district id is an id like any other (models/ids.py), since the API compares it
    with the districts of requests; anything else would make a token that sees nothing."""
    if not is_id(value):
        raise argparse.ArgumentTypeError(
            f"{value!r} is not an id (1-64 letters, digits, '.', '_', ':', '-')")
    return value


def _token(args: argparse.Namespace) -> None:
    try:
        token = issue_dev_token(get_settings(), args.role, agency=args.agency,
                                subject=args.subject, minutes=args.minutes,
                                district=args.district)
    except ValueError as exc:
        raise SystemExit(f"casework token: {exc}") from exc
    print(token)


def _send(args: argparse.Namespace) -> None:
    """Issue 10: the Temporal path for trusted internal systems (casework/send.py)."""
    from casework.send import SendRefused, send

    try:
        response = asyncio.run(send(get_settings(), args.case_id, args.message, args.json,
                                    args.token))
    except SendRefused as exc:
        raise SystemExit(f"casework send: {exc}") from exc
    print(response.text)
    if response.status_code >= 400:
        raise SystemExit(1)


def _import(args: argparse.Namespace) -> None:
    """Issue 15: register existing contracts from a CSV file (casework/bulk_import.py)."""
    from pathlib import Path

    from casework.bulk_import import import_file, journal_path

    source = Path(args.file)
    rejects = Path(args.rejects) if args.rejects else source.with_suffix(".rejects.csv")
    journal = Path(args.journal) if args.journal else journal_path(source)
    summary = asyncio.run(import_file(get_settings(), source, args.token, rejects,
                                      show_progress=not args.no_progress,
                                      concurrency=args.concurrency, journal=journal))
    print(f"created {summary.created}, already there {summary.skipped}, "
          f"rejected {len(summary.rejected)} (see {rejects}; registered rows are kept "
          f"in {journal})")
    if summary.rejected:
        raise SystemExit(1)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="casework", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("dev", help="Temporal dev server + worker + API on embedded defaults"
                        ).set_defaults(run=_dev)
    commands.add_parser("api", help="the REST API only").set_defaults(run=_api)
    commands.add_parser("worker", help="the Temporal worker only").set_defaults(run=_worker)
    commands.add_parser("migrate", help="apply database migrations").set_defaults(run=_migrate)
    commands.add_parser(
        "register-search-attributes",
        help="register the custom search attributes on the configured namespace",
    ).set_defaults(run=_register_search_attributes)
    reconcile = commands.add_parser(
        "reconcile", help="compare the read model with each open case's workflow; repair drift")
    reconcile.add_argument("--dry-run", action="store_true",
                           help="report drift, change nothing; exit 1 if there is any")
    reconcile.add_argument("case_ids", nargs="*", help="only these cases (default: all open)")
    reconcile.set_defaults(run=_reconcile)
    token = commands.add_parser(
        "token", help="print a development bearer token signed with the local key "
        "(embedded default only)")
    token.add_argument("--role", action="append", required=True,
                       choices=[role.value for role in Role],
                       help="a role of the token; repeat for several")
    token.add_argument("--agency", help="agency id; required for agency and integration")
    token.add_argument("--district", type=_district_id,
                       help="district id (T1-T4): the token sees its district's requests "
                       "between districts only; default: every district's")
    token.add_argument("--subject", help="who the token is for (default: dev-<role>)")
    token.add_argument("--minutes", type=int, default=DEV_TOKEN_MINUTES,
                       help=f"lifetime (default {DEV_TOKEN_MINUTES})")
    token.set_defaults(run=_token)
    sender = commands.add_parser(
        "send", help="send a case a message as the REST API would (token, role, C7, "
        "access log, signed envelope)")
    sender.add_argument("case_id")
    sender.add_argument("message", help="the message name (docs/workflow-messages.md)")
    sender.add_argument("--json", required=True,
                        help="the REST endpoint's request body (path ids included)")
    sender.add_argument("--token", required=True, help="a bearer token")
    sender.set_defaults(run=_send)

    importer = commands.add_parser(
        "import", help="register existing contracts from a CSV file through POST /cases "
        "(re-runnable; refused rows to a rejects file)")
    importer.add_argument("file", help="the CSV file (columns: casework/bulk_import.py)")
    importer.add_argument("--token", required=True,
                          help="a bearer token allowed to register cases")
    importer.add_argument("--rejects", help="where refused rows go (default "
                          "FILE.rejects.csv)")
    importer.add_argument("--no-progress", action="store_true", help="no progress bar")
    importer.add_argument("--journal", help="where registered rows are kept, so a "
                          "re-run skips them (default FILE.imported.csv)")
    importer.add_argument("--concurrency", type=int, default=8,
                          help="rows registered at once (default 8)")
    importer.set_defaults(run=_import)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    configure_logging(get_settings().log_format)  # issue 15: JSON lines by default
    # Issue 9.6: whatever a command creates (SQLite and its journals, Temporal's file,
    # logs, keys) is readable by the service's user only.
    previous_umask = use_private_umask()
    try:
        args.run(args)
    except (LocalSigningKeyRefused, MissingEncryptionKeys) as exc:
        # An unsafe configuration: say what to set, without a traceback.
        raise SystemExit(f"casework {args.command}: {exc}") from exc
    finally:
        os.umask(previous_umask)  # tests call main() in-process


def exit_code_of(exit: SystemExit) -> int:
    """The status the interpreter would give this `SystemExit`: a message means 1 (and is
    printed to stderr, as the interpreter would), `None` means 0."""
    if exit.code is None:
        return 0
    if isinstance(exit.code, int):
        return exit.code
    print(exit.code, file=sys.stderr)
    return 1


def entry() -> None:
    """The console script: `main`, then leave without interpreter teardown.

    Every command loads the Temporal SDK's native runtime (the codec module imports it),
    and its background threads can take the GIL while CPython finalizes and abort a command
    that had already succeeded (SIGABRT, "PyGILState_Release: thread state ... must be
    current", temporalio/sdk-python#300): about one run in twenty of
    `register-search-attributes` on a busy machine, which made CI flaky. Output is
    flushed first; nothing else is left to tear down by then (servers and connections
    are closed by the commands themselves). Tests call `main` in-process instead.
    """
    try:
        main()
        code = 0
    except SystemExit as exit:
        code = exit_code_of(exit)
    except KeyboardInterrupt:
        code = 130  # the shell's convention for SIGINT
    except Exception:  # printed here: the teardown that would print it is skipped below
        traceback.print_exc()
        code = 1
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    entry()
