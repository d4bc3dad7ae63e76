"""`python -m bench` (`make bench`): run every benchmark."""

from __future__ import annotations

from bench import (
    api_vs_raw,
    deadline_burst,
    history_per_period,
    list_cases,
    open_cases,
    period_kinds,
    type_adapters,
)

BENCHMARKS = [type_adapters.main, list_cases.main, history_per_period.main, period_kinds.main,
              deadline_burst.main, open_cases.main, api_vs_raw.main]


def main() -> None:
    for benchmark in BENCHMARKS:
        benchmark()


if __name__ == "__main__":
    main()
