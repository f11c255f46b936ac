"""Diagnostics: what an entry sees and does, without secrets or personal data.

Tokens and credentials are redacted by key. Members are only counted, and a
final pass replaces anything that looks like an e-mail address wherever it
appears (error messages from the services can quote one).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime
import re
from typing import TYPE_CHECKING, Any, Final

from homeassistant.components.diagnostics import REDACTED, async_redact_data

from .api.models import SkippedRecord
from .const import CONF_SPACEBRING_CLIENT_ID, CONF_SPACEBRING_CLIENT_SECRET
from .options import entry_options

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from . import SpacebringTapkeyConfigEntry
    from .coordinator import SpacebringCoordinator, TapkeyCoordinator
    from .ledger import Ledger
    from .sync import SyncEngine

TO_REDACT: Final = frozenset(
    {
        "token",
        "access_token",
        "refresh_token",
        "id_token",
        CONF_SPACEBRING_CLIENT_ID,
        CONF_SPACEBRING_CLIENT_SECRET,
    }
)

_EMAIL: Final = re.compile(r"[^\s@\"'<>(),;:]+@[^\s@\"'<>(),;:]+")


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: SpacebringTapkeyConfigEntry
) -> dict[str, Any]:
    """Diagnostics of one entry."""
    data = entry.runtime_data
    diagnostics = {
        "entry": {
            "title": entry.title,
            "data": async_redact_data(dict(entry.data), TO_REDACT),
            "options": dict(entry.options),
            "dry_run": entry_options(entry).dry_run,
            "subentries": [
                {
                    "subentry_id": subentry.subentry_id,
                    "subentry_type": subentry.subentry_type,
                    "title": subentry.title,
                    "data": dict(subentry.data),
                }
                for subentry in entry.subentries.values()
            ],
        },
        "spacebring": _spacebring(data.spacebring),
        "tapkey": _tapkey(data.tapkey),
        "sync": _sync(
            data.sync, {s.subentry_id: s.title for s in entry.subentries.values()}
        ),
        "ledger": _ledger(data.sync.ledger_store.ledger),
    }
    scrubbed: dict[str, Any] = scrub_emails(diagnostics)
    return scrubbed


def _spacebring(coordinator: SpacebringCoordinator) -> dict[str, Any]:
    # A loaded entry passed its first refresh: `data` is the last good snapshot.
    snapshot = coordinator.data
    return {
        "last_update_success": coordinator.last_update_success,
        "last_exception": _error(coordinator.last_exception),
        "location": {
            "title": snapshot.location.title,
            "timezone": snapshot.location.timezone,
        },
        "plans": len(snapshot.plans),
        "resources": len(snapshot.resources),
        "companies": len(snapshot.companies),
        "memberships": len(snapshot.memberships),
        "subscriptions": _counted(str(s.status) for s in snapshot.subscriptions),
        "bookings": _counted(str(b.status) for b in snapshot.bookings),
        "skipped": _skipped(snapshot.skipped),
    }


def _tapkey(coordinator: TapkeyCoordinator) -> dict[str, Any]:
    state = coordinator.data
    return {
        "last_update_success": coordinator.last_update_success,
        "last_exception": _error(coordinator.last_exception),
        "owner_available": state.owner_available,
        "locks": len(state.locks),
        "lock_groups": len(state.lock_groups),
        "active_grants": len(state.grants),
        "skipped": _skipped(state.skipped),
    }


def _sync(sync: SyncEngine, group_names: Mapping[str, str]) -> dict[str, Any]:
    status = sync.status
    summary: dict[str, Any] = {
        "last_attempt": _time(status.last_attempt),
        "last_success": _time(status.last_success),
        "next_run": _time(status.next_run),
        "pending": status.pending,
        "failed": status.failed,
        "plan_limit_reached": status.plan_limit_reached,
        "desired": None,
        "planned": None,
        "recent_failures": [
            {
                "at": _time(failure.at),
                "action": failure.action,
                "group_ids": list(failure.group_ids),
                "target_id": failure.target_id,
                "error": failure.error,
                "message": failure.message,
            }
            for failure in status.recent_failures
        ],
    }
    if (desired := status.desired) is not None:
        summary["desired"] = {
            "windows": len(desired.windows),
            "members": len({window.email for window in desired.windows}),
            "windows_per_group": _counted(
                group_names.get(window.group_id, window.group_id)
                for window in desired.windows
            ),
            "skipped": _skipped(desired.skipped),
            "unmapped_group_refs": sorted(desired.unmapped_group_refs),
        }
    if (planned := status.planned) is not None:
        summary["planned"] = {
            "contacts": len(planned.contacts),
            "creates": len(planned.creates),
            "revokes": len(planned.revokes),
            "forget": len(planned.forget),
            "next_replan_at": _time(planned.next_replan_at),
        }
    return summary


def _ledger(ledger: Ledger) -> dict[str, Any]:
    return {
        "grants": len(ledger.grants),
        "pending_revocations": len(ledger.pending_revocations),
        "adhoc": len(ledger.adhoc),
        "contacts": len(ledger.contacts),
        "blocked_members": len(ledger.blocked),
    }


def scrub_emails(value: Any) -> Any:
    """Replace anything that looks like an e-mail, in keys and values, anywhere."""
    if isinstance(value, str):
        return _EMAIL.sub(REDACTED, value)
    if isinstance(value, Mapping):
        return {scrub_emails(key): scrub_emails(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [scrub_emails(item) for item in value]
    return value


def _skipped(records: Iterable[SkippedRecord]) -> dict[str, int]:
    """How many records were left out, per kind and reason."""
    return _counted(f"{record.kind}:{record.reason}" for record in records)


def _counted(values: Iterable[str]) -> dict[str, int]:
    return dict(sorted(Counter(values).items()))


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _error(err: BaseException | None) -> str | None:
    return f"{type(err).__name__}: {err}" if err is not None else None
