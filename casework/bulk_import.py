"""`casework import FILE.csv --token TOKEN`: register an agency's existing contracts in
bulk (issue 15).

Each row goes through `POST /cases` of the API running in this process (as `casework
send` does), so a row meets exactly the validation, permission check, access log and
signed envelope of a registration by hand -- there is no second set of rules to drift.
Re-running is safe: the rows registered are kept in a journal beside the file
(`Journal`, `contracts.imported.csv`), so a re-run skips them without a request; and
without it the endpoint answers 200 for a case already registered with the same terms,
which counts as *skipped* too. A row that differs from what is registered answers 409
and is rejected. Refused rows go to a rejects file (CSV) naming the row,
the case, the HTTP status, the rule and the field of the problem+json answer.

Columns: case_id, agency_id, phase, total_case_management, aboriginal_child,
child_birth_date, contract_start, contract_end, order_expiry, due_dates (`;`-separated
ISO dates), functions (`;`-separated codes, may be empty), and prior_outcomes (may be
empty, or the column absent): for a contract already part-way through, the outcome of
each period due before today, in order (`success;late;missing;inadequate`, R5). Those
periods are settled as the file says (workflows/prior_outcomes.py): casework chases no
report of theirs and recommends no audit for a streak among them.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from casework.config import Settings

COLUMNS = ("case_id", "agency_id", "phase", "total_case_management", "aboriginal_child",
           "child_birth_date", "contract_start", "contract_end", "order_expiry",
           "due_dates", "functions", "prior_outcomes")
LIST_COLUMNS = ("due_dates", "functions", "prior_outcomes")
REJECT_COLUMNS = ("line", "case_id", "status", "rule", "field", "detail")
RETRY_PAUSES_SECONDS = (1.0, 2.0, 4.0, 8.0)


def _list(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(";") if item.strip()]


BOOLEAN_COLUMNS = ("total_case_management", "aboriginal_child")
_TRUE, _FALSE = {"true", "yes", "y", "1"}, {"false", "no", "n", "0"}


def _boolean(value: str) -> bool | str:
    """A spreadsheet's yes/no as JSON true/false; anything else stays text, so the
    endpoint refuses it naming the field."""
    lowered = value.lower()
    return True if lowered in _TRUE else False if lowered in _FALSE else value


def registration_from_row(row: Mapping[str, str | None]) -> dict[str, Any]:
    """The `POST /cases` body of one CSV row. Values stay text (yes/no columns become
    booleans): the endpoint parses and validates them and names the field it refuses."""
    body: dict[str, Any] = {name: (row.get(name) or "").strip() for name in COLUMNS
                            if name not in LIST_COLUMNS}
    for name in BOOLEAN_COLUMNS:
        body[name] = _boolean(body[name])
    body["schedule"] = {"due_dates": _list(row.get("due_dates"))}
    body["functions"] = _list(row.get("functions"))
    prior_outcomes = _list(row.get("prior_outcomes"))
    if prior_outcomes:  # a contract part-way through (R5)
        body["prior_outcomes"] = prior_outcomes
    return body


@dataclass
class ImportSummary:
    created: int = 0
    skipped: int = 0
    rejected: list[dict[str, str]] = field(default_factory=list)


def rejection(line: int, case_id: str, response: httpx.Response) -> dict[str, str]:
    """One rejects-file row: the problem's rule and field, or the first validation
    error's location for a 422 from the request schema."""
    try:
        problem = response.json()
    except ValueError:
        problem = {}
    if not isinstance(problem, dict):
        problem = {}
    field_name = problem.get("field") or ""
    errors = problem.get("errors")
    if not field_name and isinstance(errors, list) and errors and isinstance(errors[0], dict):
        field_name = ".".join(str(p) for p in errors[0].get("loc", []) if p != "body")
    return {"line": str(line), "case_id": case_id, "status": str(response.status_code),
            "rule": str(problem.get("rule") or ""), "field": str(field_name),
            "detail": str(problem.get("detail") or response.text)[:500]}


DEFAULT_CONCURRENCY = 8
"""Rows registered at once: a registration mostly waits (Temporal, the database)."""


class Journal:
    """The rows of a file already registered (by this run or an earlier one), one line
    `case_id,digest` each, appended as each answer comes. A re-run -- after a crash at
    row 9,000 as well -- skips them without a request. The digest is of the row's
    registration body: a row changed since goes to the API again, which refuses other
    terms under a registered case id (409). Lost or deleted, nothing is lost: the API
    answers 200 to a row already registered, which counts as skipped too."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._seen: set[tuple[str, str]] = set()
        if path.exists():
            with path.open(newline="", encoding="utf-8") as handle:
                self._seen = {(r[0], r[1]) for r in csv.reader(handle) if len(r) == 2}

    @staticmethod
    def entry(body: Mapping[str, Any]) -> tuple[str, str]:
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
        return str(body.get("case_id", "")), hashlib.sha256(canonical.encode()).hexdigest()

    def has(self, body: Mapping[str, Any]) -> bool:
        return self.entry(body) in self._seen

    def add(self, body: Mapping[str, Any]) -> None:
        entry = self.entry(body)
        if entry in self._seen:
            return
        self._seen.add(entry)
        with self.path.open("a", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerow(entry)


async def import_rows(client: httpx.AsyncClient, rows: Iterable[tuple[int, dict[str, str]]],
                      *, concurrency: int = DEFAULT_CONCURRENCY, progress: Any = None,
                      journal: Journal | None = None) -> ImportSummary:
    """Register each (line, row) through `client`, `concurrency` at a time; rows in
    `journal` are skipped without a request, and each row registered is added to it."""
    summary = ImportSummary()
    gate = asyncio.Semaphore(concurrency)

    async def one(line: int, row: dict[str, str]) -> None:
        body = registration_from_row(row)
        if journal is not None and journal.has(body):
            summary.skipped += 1
            if progress is not None:
                progress.update(1)
            return
        async with gate:
            answer = await client.post("/cases", json=body)
            # A busy database or Temporal answers 503: wait and try again (the endpoint
            # is idempotent), so a load spike is not a rejected contract.
            for pause_seconds in RETRY_PAUSES_SECONDS:
                if answer.status_code < 500:
                    break
                await asyncio.sleep(pause_seconds)
                answer = await client.post("/cases", json=body)
        if answer.status_code in (200, 201) and journal is not None:
            journal.add(body)
        if answer.status_code == 201:
            summary.created += 1
        elif answer.status_code == 200:
            summary.skipped += 1
        else:
            summary.rejected.append(rejection(line, (row.get("case_id") or "").strip(),
                                              answer))
        if progress is not None:
            progress.update(1)

    await asyncio.gather(*(one(line, row) for line, row in rows))
    summary.rejected.sort(key=lambda r: int(r["line"]))
    return summary


def read_rows(path: Path) -> list[tuple[int, dict[str, str]]]:
    """(line number, row) of each data row; the header is line 1."""
    with path.open(newline="", encoding="utf-8") as handle:
        return [(index + 2, row) for index, row in enumerate(csv.DictReader(handle))]


def write_rejects(path: Path, rejected: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=REJECT_COLUMNS)
        writer.writeheader()
        writer.writerows(rejected)


def journal_path(source: Path) -> Path:
    """`contracts.csv` -> `contracts.imported.csv` (Journal)."""
    return source.with_suffix(".imported.csv")


async def import_file(settings: Settings, path: Path, token: str, rejects: Path, *,
                      show_progress: bool = True, concurrency: int = DEFAULT_CONCURRENCY,
                      journal: Path | None = None) -> ImportSummary:
    """Import `path` through the in-process API; write the refused rows to `rejects`,
    and keep the registered ones in `journal` (default `journal_path(path)`). The
    progress bar (tqdm, on stderr) shows the count, the rate and the time left."""
    from tqdm import tqdm

    from api.in_process import in_process_client

    rows = read_rows(path)
    async with in_process_client(settings, token, "import") as client:
        with tqdm(total=len(rows), unit="row", desc="import",
                  disable=not show_progress) as progress:
            summary = await import_rows(
                client, rows, concurrency=concurrency, progress=progress,
                journal=Journal(journal or journal_path(path)))
    write_rejects(rejects, summary.rejected)
    return summary
