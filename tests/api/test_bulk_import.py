"""Issue 15: `casework import FILE.csv` registers existing contracts through the same
validation as POST /cases, can be re-run (rows already imported are skipped: by the
journal beside the file, or by the API's 200 without it), takes
contracts already part-way through (the periods due before today settled with the
outcome the file gives) and writes a rejects file naming the rule and field of each
refused row. A generated file of 1,000 rows.

Each row is made cheap, not fewer: one reporting period per ordinary contract (the
least a contract can have), so each workflow's schedule and first records are small;
every date is a fixed number of days from today (tests/api/dates.py), so the file is
valid on any day."""

from __future__ import annotations

import csv
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio.worker import Worker

from casework.bulk_import import COLUMNS, import_file, journal_path, registration_from_row
from casework.config import Settings
from casework.tokens import Role
from tests.api.conftest import ApiClient, endorsement, registration, today, token_for, wait_idle
from tests.api.dates import registration_body
from tests.polling import eventually

ROWS = 1_000
CONCURRENCY = 16
"""Rows in flight at once: each waits on Temporal and the database far more than it
computes, so more at once finish sooner (four took twice as long here)."""
PART_WAY_START_DAYS = 200
"""A contract that started 200 days ago, reports every 84 days: its first two due dates
(116 and 32 days ago) are before today, the other two to come."""


def csv_row(body: dict[str, Any]) -> dict[str, str]:
    """A registration body as the agency's spreadsheet has it."""
    row = {name: str(body.get(name, "")) for name in COLUMNS}
    row["total_case_management"] = str(body["total_case_management"]).lower()
    row["aboriginal_child"] = str(body["aboriginal_child"]).lower()
    row["due_dates"] = ";".join(body["schedule"]["due_dates"])
    row["functions"] = ";".join(body["functions"])
    row["prior_outcomes"] = ";".join(body.get("prior_outcomes", []))
    return row


def part_way(case_id: str, outcomes: list[str]) -> dict[str, str]:
    body = registration_body(case_id, today() - timedelta(days=PART_WAY_START_DAYS),
                             "agency-import", prior_outcomes=outcomes)
    return csv_row(body)


def test_a_row_becomes_the_registration_body() -> None:
    body = registration("case-row-1")
    assert registration_from_row(csv_row(body)) == body
    assert registration_from_row({**csv_row(body), "aboriginal_child": "Yes"})[
        "aboriginal_child"] is True
    assert registration_from_row({**csv_row(body), "aboriginal_child": "maybe"})[
        "aboriginal_child"] == "maybe"  # refused by the endpoint, naming the field
    assert registration_from_row({**csv_row(body), "prior_outcomes": "success; late"})[
        "prior_outcomes"] == ["success", "late"]


async def test_import_registers_rows_rerun_skips_and_rejects_name_rule_and_field(
        api: ApiClient, api_settings: Settings, api_worker: Worker, tmp_path: Path) -> None:
    batch = uuid.uuid4().hex[:6]
    rows = [csv_row(registration(f"imp-{batch}-{i:04d}", "agency-import", periods=1))
            for i in range(ROWS)]
    rows[10]["phase"] = "intake"  # C1: only protection orders can be contracted
    rows[20]["child_birth_date"] = "2026-13-01"  # not a date
    rows[30]["functions"] = "case_planning_decision"  # C2: never contracted
    rows[40] = part_way(rows[40]["case_id"], ["success", "late"])
    rows[50] = part_way(rows[50]["case_id"], ["success"])  # R5: two periods are past
    source = tmp_path / "contracts.csv"
    with source.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    token = token_for(api_settings, Role.PRACTITIONER, subject="importer")
    rejects = tmp_path / "rejects.csv"

    started = time.monotonic()
    first = await import_file(api_settings, source, token, rejects, show_progress=False,
                              concurrency=CONCURRENCY)
    took = time.monotonic() - started
    assert (first.created, first.skipped, len(first.rejected)) == (ROWS - 4, 0, 4), (
        took, [(r["field"], r["detail"]) for r in first.rejected[:4]])
    with rejects.open(newline="", encoding="utf-8") as handle:
        by_line = {int(r["line"]): r for r in csv.DictReader(handle)}
    assert {r["case_id"] for r in by_line.values()} == {
        rows[i]["case_id"] for i in (10, 20, 30, 50)}
    assert by_line[12]["rule"] == "C1" and by_line[12]["field"] == "phase"
    assert by_line[22]["status"] == "422" and by_line[22]["field"] == "child_birth_date"
    assert by_line[32]["rule"] == "C2" and by_line[32]["field"] == "functions"
    assert by_line[52]["rule"] == "R5" and by_line[52]["field"] == "prior_outcomes"

    # Registered exactly as by hand: readable through the API, with its schedule.
    async def readable() -> None:
        # A thousand new cases keep the worker busy: its status query may need a moment.
        answer = await api.get(f"/cases/{rows[-1]['case_id']}")
        assert answer.status_code == 200, answer.text
        case = answer.json()
        assert case["agency_id"] == "agency-import"
        assert case["status"] == "awaiting_endorsement"

    await eventually(readable)

    # Part-way through: the two past periods settled as the file says, the rest to come;
    # once endorsed, nothing chases the past periods' reports (R1-R3).
    part_way_id = rows[40]["case_id"]
    endorsed = await api.post(f"/cases/{part_way_id}/endorsement", json=endorsement(
        today() - timedelta(days=PART_WAY_START_DAYS)))
    assert endorsed.status_code == 200, endorsed.text
    await wait_idle(api, part_way_id)
    case = (await api.get(f"/cases/{part_way_id}")).json()
    assert [p["outcome"] for p in case["periods"]] == ["success", "late", "pending",
                                                        "pending"]
    assert case["consecutive_failures"] == 1  # the late period counts towards R6
    notices = (await api.get("/notifications", params={"case_id": part_way_id})).json()
    assert not [n for n in notices["items"]
                if n["kind"] in ("follow_up", "overdue_request", "escalation")], notices

    # Re-run: the journal beside the file skips every registered row without a request;
    # the refused ones are tried (and refused) again.
    assert journal_path(source).exists()
    again = await import_file(api_settings, source, token, rejects, show_progress=False,
                              concurrency=CONCURRENCY)
    assert (again.created, again.skipped, len(again.rejected)) == (0, ROWS - 4, 4)
    # Without the journal the API itself knows them: the same terms again answer 200.
    journal_path(source).unlink()
    few = tmp_path / "few.csv"
    with few.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows([*rows[:5], rows[40], rows[10]])
    lost = await import_file(api_settings, few, token, tmp_path / "few.rejects.csv",
                             show_progress=False)
    assert (lost.created, lost.skipped, len(lost.rejected)) == (0, 6, 1)
    print(f"{ROWS} rows imported in {took:.1f}s")
