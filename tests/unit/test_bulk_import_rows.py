"""Issue 15: `casework import`'s own parts without the stack -- the command line, the
progress bar (count, rate, time left) and the journal that lets a re-run skip rows
without a request. The real registrations are tests/api/test_bulk_import.py's."""

from __future__ import annotations

import io
import json
from pathlib import Path

import httpx
from tqdm import tqdm

from casework.bulk_import import Journal, import_rows
from casework.cli import build_parser


def test_the_command_line_takes_file_token_rejects_journal_and_concurrency() -> None:
    args = build_parser().parse_args(["import", "c.csv", "--token", "t", "--rejects", "r.csv",
                                      "--journal", "j.csv", "--concurrency", "3"])
    assert (args.file, args.token, args.rejects, args.journal, args.concurrency) == (
        "c.csv", "t", "r.csv", "j.csv", 3)
    assert build_parser().parse_args(["import", "c.csv", "--token", "t"]).concurrency == 8


async def test_progress_counts_rows_and_the_journal_skips_them_on_a_rerun(
        tmp_path: Path) -> None:
    posted: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        case_id = json.loads(request.content)["case_id"]
        posted.append(case_id)
        if case_id == "bad":
            return httpx.Response(422, json={"rule": "C1", "field": "phase",
                                             "detail": "only protection orders"})
        return httpx.Response(201, json={"case_id": case_id})

    rows = [(n + 2, {"case_id": case_id, "phase": "protection_order"})
            for n, case_id in enumerate(["a", "b", "bad"])]
    journal = Journal(tmp_path / "c.imported.csv")
    shown = io.StringIO()
    async with httpx.AsyncClient(transport=httpx.MockTransport(answer),
                                 base_url="http://casework") as client:
        with tqdm(total=len(rows), unit="row", file=shown, mininterval=0) as progress:
            first = await import_rows(client, rows, progress=progress, journal=journal)
        again = await import_rows(client, rows, journal=Journal(journal.path))
    assert (first.created, first.skipped, len(first.rejected)) == (2, 0, 1)
    assert first.rejected[0]["rule"] == "C1" and first.rejected[0]["field"] == "phase"
    bar = shown.getvalue()
    assert "3/3" in bar and "row/s" in bar and "<" in bar  # count, rate, elapsed<left
    # The re-run asked only about the refused row; the registered ones were skipped.
    assert (again.created, again.skipped, len(again.rejected)) == (0, 2, 1)
    assert sorted(posted) == ["a", "b", "bad", "bad"]
    # A row changed since is not the one in the journal: it goes to the API again.
    changed = [(2, {"case_id": "a", "phase": "intake"})]
    async with httpx.AsyncClient(transport=httpx.MockTransport(answer),
                                 base_url="http://casework") as client:
        await import_rows(client, changed, journal=Journal(journal.path))
    assert posted.count("a") == 2
