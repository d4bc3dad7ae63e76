"""Issue 10: `casework send`, the Temporal path for trusted internal systems, does what
the REST endpoint does -- token, role, C7, access log, signed envelope -- and the example
in docs/workflow-messages.md works verbatim against the running stack."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from casework import cli
from casework.config import Settings, get_settings
from casework.send import send
from models.tables import AccessLogRow
from tests.api.conftest import (
    ApiClient,
    active_case,
    assert_problem,
    token_for,
    wait_idle,
)

DOC = Path(__file__).resolve().parents[2] / "docs" / "workflow-messages.md"


async def _rows(sessions: async_sessionmaker[AsyncSession], case_id: str
                ) -> list[AccessLogRow]:
    async with sessions() as session:
        return list(await session.scalars(select(AccessLogRow).where(
            AccessLogRow.case_id == case_id).order_by(AccessLogRow.id)))


async def test_c7_send_applies_for_its_own_agency_and_refuses_others(
    api: ApiClient, api_settings: Settings, sessions: async_sessionmaker[AsyncSession],
) -> None:
    case_id = await active_case(api, "send", agency_id="agency-send")
    system = token_for(api_settings, "integration", agency="agency-send", subject="cms-1")
    sent = await send(api_settings, case_id, "submit_report", '{"report_id": "rep-s1"}',
                      system)
    assert sent.status_code == 201, sent.text
    await wait_idle(api, case_id)
    status = (await api.get(f"/cases/{case_id}")).json()
    assert status["periods"][0]["report_id"] == "rep-s1"

    for token, code in ((token_for(api_settings, "operations"), 403),
                        (token_for(api_settings, "integration", agency="agency-x"), 404)):
        refused = await send(api_settings, case_id, "submit_report",
                             '{"report_id": "rep-s2"}', token)
        assert_problem(refused, code)
    bad = await send(api_settings, case_id, "submit_report",
                     '{"report_id": "rep x / Jane Citizen"}', system)
    assert_problem(bad, 422)

    rows = await _rows(sessions, case_id)
    mine = [(r.subject, r.status_code) for r in rows if r.path.endswith("/reports")]
    assert mine[-4:] == [("cms-1", 201), ("test-operations", 403),
                         ("test-integration", 404), ("cms-1", 422)]


def _documented_send() -> list[str]:
    text = DOC.read_text()
    [line] = [ln for ln in text.splitlines() if ln.startswith(".venv/bin/casework send ")]
    return shlex.split(line)


async def test_the_documented_casework_send_example_works_verbatim(
    api: ApiClient, api_settings: Settings, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = _documented_send()
    case_id, agency = argv[2], re.search(r"--agency (\S+)\)", " ".join(argv)).group(1)  # type: ignore[union-attr]
    from tests.api.conftest import endorsement, registration

    assert (await api.post("/cases", json=registration(case_id, agency))).status_code == 201
    assert (await api.post(f"/cases/{case_id}/endorsement", json=endorsement())
            ).status_code == 200
    await wait_idle(api, case_id)

    for name, value in {"DATA_DIR": str(api_settings.data_dir),
                        "DATABASE_URL": api_settings.effective_database_url,
                        "TEMPORAL_ADDRESS": api_settings.temporal_address or "",
                        "TEMPORAL_TASK_QUEUE": api_settings.temporal_task_queue,
                        "CODEC_KEYS": api_settings.codec_keys or ""}.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        # "$(.venv/bin/casework token ...)" as the shell would expand it.
        token_at = argv.index("--token") + 1
        inner = shlex.split(argv[token_at][2:-1])
        cli.main(inner[1:])
        argv[token_at] = capsys.readouterr().out.strip()
        await _run_in_thread(argv[1:])
    finally:
        get_settings.cache_clear()
    out = capsys.readouterr().out
    assert '"report_id":"rep-2027-q1"' in out.replace(" ", "")
    await wait_idle(api, case_id)
    status = (await api.get(f"/cases/{case_id}")).json()
    assert status["periods"][0]["report_id"] == "rep-2027-q1"


async def _run_in_thread(argv: list[str]) -> None:
    """`casework send` runs its own event loop (asyncio.run), as from a shell."""
    import asyncio

    await asyncio.to_thread(cli.main, argv)
