"""`python -m bench` (`make bench`): run every benchmark."""

from __future__ import annotations

from bench import (
    api_vs_raw,
    db_round_trips,
    deadline_burst,
    history_per_period,
    list_cases,
    list_cases_http,
    open_cases,
    period_kinds,
    type_adapters,
)

BENCHMARKS = [type_adapters.main, list_cases.main, list_cases_http.main, db_round_trips.main,
              history_per_period.main, period_kinds.main, deadline_burst.main,
              open_cases.main, api_vs_raw.main]


def main() -> None:
    for benchmark in BENCHMARKS:
        benchmark()


if __name__ == "__main__":
    main()
