"""The benchmarks under bench/ import and run at a trivial size (issue 13): `make bench`
is not part of `make test`, so this keeps them from rotting. Figures are not checked."""

from __future__ import annotations

import pytest

from bench import type_adapters


def test_type_adapter_bench_runs_at_a_trivial_size(capsys: pytest.CaptureFixture[str]) -> None:
    type_adapters.main(instances=2)
    assert "CaseworkPayloadConverter" in capsys.readouterr().out
