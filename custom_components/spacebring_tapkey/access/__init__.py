"""Pure access engine: Spacebring data to access windows to Tapkey changes.

- `rules.desired_access(snapshot, groups, settings, adhoc, now=...)` decides
  who should have access to which access group, and when (`DesiredAccess`).
- `planner.plan(windows, groups, ledger, now=..., horizon=..., tapkey_grants=...,
  contacts=..., cache=...)` turns that into ordered Tapkey actions
  (`PlanResult`); a `planner.PlannerCache` kept from run to run spares the
  members with nothing to do.
- `ical.weekly_schedule_ical(schedule)` renders a weekly restriction.
- `model` holds the value objects both take and return.

Nothing here imports Home Assistant or an HTTP client (a test enforces it).
"""
