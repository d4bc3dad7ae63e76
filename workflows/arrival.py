"""When a report arrived (R5): the instant the service received it, not the instant the
workflow got round to processing it (issue 9.3).

R5 calls a report on time when it arrived by the end of its due date. The workflow
processes a message only when a worker runs it; with the worker down or backlogged
around midnight, the processing time is later than the truth and an on-time report
would count as late (and could start an R6 streak). The REST API therefore stamps
`received_at` when it accepts a report and passes it in the message; the workflow takes
that instant, bounded on both sides so that a sender can neither date a report in the
future nor back-date it beyond what Temporal itself proves:

- never later than the processing time (`now`): a report cannot have arrived after it
  was processed, and a sender's clock running fast changes nothing;
- never earlier than `floor` minus SERVICE_LATENCY_BOUND. `floor` is the time of the
  workflow's previous activation: a message processed in workflow task N+1 reached
  Temporal after task N started (had it been there earlier, task N would have carried
  it). The service stamps `received_at` *before* the message reaches Temporal -- it
  still looks the case up and sends the update (or, with no worker, the signal) -- so
  a true stamp can precede the floor by up to that latency: a report accepted at
  23:59:59.5 whose update reaches Temporal at 00:00:01, after the R2 timer's
  activation at 00:00:00.05, arrived on time. Since issue 10 every message the
  workflow admits carries a verified envelope from the service itself, which keeps to
  the bound (api/case_gateway.py `vouched_received_at`), so a stamp within it stands;
- a stamp earlier than that is one the service's own bound proves false: it is not
  believed, and the report arrived no earlier than the floor, as Temporal proves. So a
  late report still cannot be dated back past a deadline the workflow had acted on.

Before the `arrival-service-latency` patch the bound was zero (the floor itself):
histories recorded then replay with `latency_bound` 0.

Pure, no I/O: imported by the workflow (through the sandbox) and tested directly.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

SERVICE_LATENCY_BOUND = timedelta(seconds=60)
"""R5 (issue 9.3): the longest the service may take between stamping a report's
`received_at` (api/routes/reports.py, first thing on arrival) and Temporal holding
the message. What the API spends in that window is bounded by its own timeouts: the
case lookup (database pool wait + connect + one statement, casework/config.py: 2 + 2
+ 5 s by default), the update's acceptance wait (api/case_gateway.py
UPDATE_ACCEPT_SECONDS, 5 s, + 1 s) and, with no worker, the signal's RPC (10 s):
about 25 s. The bound leaves room for clock skew between the API and Temporal; a
lookup slower than its share re-stamps the report (`vouched_received_at`), so the
bound holds whatever the settings (tests/unit/test_arrival.py checks the sum)."""


def report_arrival(received_at: datetime, floor: datetime, now: datetime,
                   latency_bound: timedelta = SERVICE_LATENCY_BOUND) -> datetime:
    """R5: the arrival instant that counts -- `received_at` when it lies in
    [floor - latency_bound, now]; the floor when it is earlier (a stamp the bound
    proves false); `now` when it is later.

    A naive `received_at` (a caller of the Temporal door that left out the offset) is
    read as UTC, the convention of every instant in the messages; it is then bounded
    like any other, so the guess can never make a report earlier than Temporal allows.
    """
    if received_at.tzinfo is None:
        received_at = received_at.replace(tzinfo=UTC)
    floor = min(floor, now)  # a floor past `now` would be a clock oddity: now wins
    if received_at < floor - latency_bound:
        return floor
    return min(received_at, now)
