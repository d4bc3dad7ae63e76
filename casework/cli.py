"""The `casework` command: dev, api, worker, migrate, reconcile."""

from __future__ import annotations

import argparse
import asyncio
import logging

from casework.config import get_settings


def _dev(_: argparse.Namespace) -> None:
    from casework.dev import run_dev

    asyncio.run(run_dev(get_settings()))


def _api(_: argparse.Namespace) -> None:
    import uvicorn

    from api.app import create_app

    settings = get_settings()
    uvicorn.run(create_app(settings), host=settings.api_host, port=settings.api_port)


def _worker(_: argparse.Namespace) -> None:
    from worker import main

    main()


def _migrate(_: argparse.Namespace) -> None:
    from casework.migrate import upgrade_to_head

    settings = get_settings()
    if settings.effective_database_url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade_to_head(settings.effective_database_url)
    print("database at head")


def _reconcile(args: argparse.Namespace) -> None:
    from casework.db import make_engine, make_session_factory
    from casework.reconcile import reconcile
    from casework.temporal_client import connect

    async def run() -> None:
        settings = get_settings()
        client = await connect(settings)
        engine = make_engine(settings.effective_database_url)
        try:
            report = await reconcile(client, make_session_factory(engine),
                                     repair=not args.dry_run, case_ids=args.case_ids or None)
        finally:
            await engine.dispose()
        if args.dry_run and report.drifted:
            raise SystemExit(1)  # monitoring can alert on drift

    asyncio.run(run())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="casework", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("dev", help="Temporal dev server + worker + API on embedded defaults"
                        ).set_defaults(run=_dev)
    commands.add_parser("api", help="the REST API only").set_defaults(run=_api)
    commands.add_parser("worker", help="the Temporal worker only").set_defaults(run=_worker)
    commands.add_parser("migrate", help="apply database migrations").set_defaults(run=_migrate)
    reconcile = commands.add_parser(
        "reconcile", help="compare the read model with each open case's workflow; repair drift")
    reconcile.add_argument("--dry-run", action="store_true",
                           help="report drift, change nothing; exit 1 if there is any")
    reconcile.add_argument("case_ids", nargs="*", help="only these cases (default: all open)")
    reconcile.set_defaults(run=_reconcile)
    return parser


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    args = build_parser().parse_args(argv)
    args.run(args)


if __name__ == "__main__":
    main()
