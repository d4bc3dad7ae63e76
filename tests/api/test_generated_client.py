"""The contract test (issue 12): a typed client generated from this service's own
/openapi.json, by the generator the front-end team would use (openapi-python-client,
from PyPI, in the dev extras; it runs offline), drives a short flow against the real
stack -- register, endorse, submit, assess, read -- and reads a 409 and a 422 as typed
`Problem`s, not as `None` (which is what every error was before: the schema was declared
under application/json, while the server sends application/problem+json).

The client is generated into a temporary folder on each run, so a change to the
document that breaks generated clients fails here, where the change is made.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from casework.processes import venv_binary
from casework.tokens import Role
from tests.api.conftest import (
    ApiClient,
    endorsement,
    new_case_id,
    registration,
    today,
    token_for,
    wait_idle,
)
from tests.api.dates import gap_too_long

PACKAGE = "casework_client"
GENERATOR_CONFIG = {
    "package_name_override": PACKAGE,
    # Formatting the generated code (ruff) is not needed to use it.
    "post_hooks": [],
}


def _generate(document: dict[str, Any], folder: Path) -> None:
    spec, config = folder / "openapi.json", folder / "generator.json"
    spec.write_text(json.dumps(document), encoding="utf-8")
    config.write_text(json.dumps(GENERATOR_CONFIG), encoding="utf-8")
    finished = subprocess.run(
        [str(venv_binary("openapi-python-client")), "generate", "--path", str(spec),
         "--config", str(config), "--meta", "none", "--output-path", str(folder / PACKAGE)],
        capture_output=True, text=True, timeout=300, check=False)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    # Anything it could not type is a warning naming the piece it left out.
    assert "Warning" not in finished.stdout.replace("Warning(s) encountered while generating. "
                                                    "Client was generated, but some pieces "
                                                    "may be missing", ""), finished.stdout
    assert "Unable to" not in finished.stdout, finished.stdout


@pytest.fixture
async def generated(api: ApiClient, tmp_path: Path) -> AsyncIterator[ModuleType]:
    """The generated package, imported from tmp_path (and forgotten afterwards)."""
    document = (await api.with_token(None).get("/openapi.json")).json()
    await asyncio.to_thread(_generate, document, tmp_path)
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def _modules(*names: str) -> Iterator[ModuleType]:
    for name in names:
        yield importlib.import_module(f"{PACKAGE}.{name}")


async def test_a_generated_client_runs_the_flow_and_reads_problems_typed(
        api: ApiClient, generated: ModuleType) -> None:
    client_module, models = _modules("client", "models")
    register, endorse, read = _modules("api.cases.register_case", "api.cases.endorse_contract",
                                       "api.cases.read_case")
    submit, assess = _modules("api.reports.submit_report", "api.reports.assess_report")
    assert api.settings is not None and api.transport is not None

    def as_role(*roles: str, agency: str | None = None, subject: str | None = None) -> Any:
        token = token_for(api.settings, *roles, agency=agency, subject=subject)
        return client_module.AuthenticatedClient(
            base_url="http://casework.test", token=token,
            timeout=httpx.Timeout(60), httpx_args={"transport": api.transport})

    case_id, agency = new_case_id("generated"), "agency-generated"
    async with (as_role(Role.PRACTITIONER) as practitioner,
                as_role(Role.TEAM_MANAGER, subject="tm-1") as team_manager,
                as_role(Role.AGENCY, agency=agency) as agency_client):
        created = await register.asyncio_detailed(client=practitioner, body=(
            models.CaseRegistration.from_dict(registration(case_id, agency))))
        assert created.status_code == 201, created.content
        assert isinstance(created.parsed, models.RegisteredCaseView)
        assert created.parsed.case_id == case_id and created.parsed.duplicate is False

        endorsed = await endorse.asyncio_detailed(
            case_id, client=team_manager, body=models.EndorsementIn.from_dict(endorsement()))
        assert isinstance(endorsed.parsed, models.EndorsementView), endorsed.content
        assert endorsed.parsed.status == "active"
        await wait_idle(api, case_id)

        report = await submit.asyncio_detailed(
            case_id, client=agency_client, body=models.ReportIn(report_id="rep-generated-1"))
        assert isinstance(report.parsed, models.ReportAcceptedView), report.content
        assert report.parsed.on_time is True and report.parsed.period_index == 0
        await wait_idle(api, case_id)

        assessed = await assess.asyncio_detailed(
            case_id, "rep-generated-1", client=practitioner,
            body=models.AssessmentIn(assessment=models.AssessmentInAssessment.ADEQUATE))
        assert isinstance(assessed.parsed, models.AssessmentView), assessed.content
        assert assessed.parsed.outcome == "success"
        await wait_idle(api, case_id)

        case = await read.asyncio_detailed(case_id, client=practitioner)
        assert isinstance(case.parsed, models.CaseView), case.content
        first = case.parsed.periods[0]
        assert (first.report_id, first.assessment, first.outcome) == (
            "rep-generated-1", "adequate", "success")

        # 409: the same case id with other terms, read as a typed Problem.
        other = registration(case_id, "agency-other")
        conflict = await register.asyncio_detailed(
            client=practitioner, body=models.CaseRegistration.from_dict(other))
        assert conflict.status_code == 409
        assert isinstance(conflict.parsed, models.Problem), conflict.content
        assert (conflict.parsed.status, conflict.parsed.field) == (409, "case_id")

        # 422: C5, a gap of more than three months, names the rule and the field.
        gap = gap_too_long(today())
        refused = await register.asyncio_detailed(
            client=practitioner, body=models.CaseRegistration.from_dict(registration(
                new_case_id("generated"), agency,
                schedule={"due_dates": [d.isoformat() for d in gap]},
                contract_end=gap[-1].isoformat())))
        assert refused.status_code == 422
        assert isinstance(refused.parsed, models.Problem), refused.content
        assert (refused.parsed.rule, refused.parsed.field) == ("C5", "schedule.due_dates[1]")
