"""Issue 16.1: the API process (`casework api`, uvicorn) killed with SIGKILL and started
again while clients that retry submit reports. A client retries on a broken
connection or a 5xx until it gets 200 or 202 -- the README's promise is that the same
request again is always safe. Every report is then on its case exactly once (none
lost, none duplicated), and the read model matches every workflow."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import httpx

from casework.config import Settings
from casework.tokens import Role
from tests.api.conftest import ApiClient, token_for, wait_idle
from tests.faults.conftest import SCENARIO_SECONDS, reconcile_dry_run
from tests.faults.stack import api_process, register_cases, start_api

CASES = 10
KILL_AFTER_ANSWERS = CASES // 3


async def _submit(base_url: str, token: str, case_id: str, answered: list[str],
                  enough: asyncio.Event, stagger_seconds: float) -> Counter[str]:
    """POST one report until it is accepted (201, 200 on a repeat, 202 when stored for
    a worker); returns what each attempt met."""
    met: Counter[str] = Counter()
    await asyncio.sleep(stagger_seconds)
    body = {"report_id": f"rep-{case_id}", "period_index": 0}
    async with httpx.AsyncClient(base_url=base_url, timeout=20,
                                 headers={"Authorization": f"Bearer {token}"}) as client:
        while True:
            try:
                answer = await client.post(f"/cases/{case_id}/reports", json=body)
            except httpx.TransportError:
                met["connection"] += 1
            else:
                met[str(answer.status_code)] += 1
                if answer.status_code in (200, 201, 202):
                    answered.append(case_id)
                    if len(answered) >= KILL_AFTER_ANSWERS:
                        enough.set()
                    return met
                assert answer.status_code >= 500, answer.text
            await asyncio.sleep(0.3)


async def test_api_killed_under_retrying_clients_loses_and_doubles_no_report(
    api: ApiClient, api_settings: Settings, tmp_path: Path,
) -> None:
    async with asyncio.timeout(SCENARIO_SECONDS):
        case_ids = await register_cases(api, CASES, "fault-api")
        token = token_for(api_settings, Role.ADMIN, subject="retrying-integration")
        async with api_process(api_settings,
                               tmp_path / "api.log") as (child, port):
            answered: list[str] = []
            enough = asyncio.Event()
            clients = [asyncio.create_task(_submit(
                f"http://127.0.0.1:{port}", token, case_id, answered, enough, 0.25 * i))
                for i, case_id in enumerate(case_ids)]
            await asyncio.wait_for(enough.wait(), 60)
            child.kill()  # mid-run: some answered, some in flight, some not yet sent
            killed_after = len(answered)
            await asyncio.sleep(1)
            await start_api(child, port)
            met = sum((await asyncio.gather(*clients)), Counter())
        assert killed_after < CASES and met["connection"] > 0, met
        assert sorted(answered) == sorted(case_ids)
        for case_id in case_ids:
            await wait_idle(api, case_id)
            view = (await api.get(f"/cases/{case_id}")).json()
            assert [r["report_id"] for r in view["periods"][0]["reports"]] == [
                f"rep-{case_id}"], view["periods"][0]
            timeline = (await api.get(f"/cases/{case_id}/timeline",
                                      params={"limit": 200})).json()["items"]
            assert Counter(e["kind"] for e in timeline)["report_received"] == 1
        code, output = await reconcile_dry_run(api_settings, case_ids)
        assert code == 0, output
        assert f"{CASES} case(s) checked, 0 drifted" in output, output
