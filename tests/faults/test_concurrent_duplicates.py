"""Issue 16.1: twenty concurrent copies of the same registration, endorsement and report
(a front-end or an integration retrying impatiently, or a load balancer replaying)
take effect once each: one answer says it happened, the others say `duplicate`; the
case holds one report, the timeline one entry of each, the outbox one set of C6
notices, and the read model matches the workflow (`casework reconcile --dry-run`)."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import httpx

from casework.config import Settings
from tests.api.conftest import ApiClient, endorsement, new_case_id, registration, wait_idle
from tests.faults.conftest import SCENARIO_SECONDS, reconcile_dry_run

COPIES = 20


async def _copies(api: httpx.AsyncClient, path: str, body: dict[str, Any]
                  ) -> list[httpx.Response]:
    return list(await asyncio.gather(*(api.post(path, json=body) for _ in range(COPIES))))


def _one_took_effect(answers: list[httpx.Response], *, created: bool) -> None:
    """Exactly one answer is the first; every other is a repeat. A creating POST answers
    201 once and 200 (the existing case, `duplicate: true`, issue 12) on repeats; the
    others 200 once and 200 with `duplicate: true` on repeats (README *Retries are
    safe*)."""
    seen = Counter((a.status_code, a.json().get("duplicate")) for a in answers)
    if created:
        assert seen == Counter({(201, False): 1, (200, True): COPIES - 1}), seen
    else:
        assert seen == Counter({(200, False): 1, (200, True): COPIES - 1}), seen


async def test_twenty_concurrent_copies_take_effect_once_each(
    api: ApiClient, api_settings: Settings,
) -> None:
    async with asyncio.timeout(SCENARIO_SECONDS):
        case_id = new_case_id("dup")
        _one_took_effect(await _copies(api, "/cases", registration(case_id)),
                         created=True)
        _one_took_effect(await _copies(api, f"/cases/{case_id}/endorsement",
                                       endorsement()), created=False)
        report = {"report_id": f"rep-{case_id}", "period_index": 0}
        answers = await _copies(api, f"/cases/{case_id}/reports", report)
        # 201 once, 200 `duplicate` on repeats -- or 202 for a copy no worker answered
        # within 5 s, stored as a signal: the same report again (README *Arrival time*).
        seen = Counter(a.status_code for a in answers)
        assert set(seen) <= {200, 201, 202} and seen[201] <= 1, seen
        assert all(a.json()["duplicate"] for a in answers if a.status_code == 200)
        await wait_idle(api, case_id)

        view = (await api.get(f"/cases/{case_id}")).json()
        assert [r["report_id"] for r in view["periods"][0]["reports"]] == [
            report["report_id"]]
        timeline = (await api.get(f"/cases/{case_id}/timeline",
                                  params={"limit": 200})).json()["items"]
        kinds = Counter(entry["kind"] for entry in timeline)
        assert (kinds["contract_registered"], kinds["contract_endorsed"],
                kinds["report_received"]) == (1, 1, 1), kinds
        notices = (await api.get("/notifications", params={"case_id": case_id})).json()
        assert Counter(n["kind"] for n in notices["items"]) == Counter(
            {"contract_copy": 2, "reporting_schedule": 1})
        code, output = await reconcile_dry_run(api_settings, [case_id])
        assert code == 0 and "1 case(s) checked, 0 drifted" in output, output
