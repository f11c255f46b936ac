"""An in-memory Tapkey that carries out plans, as the sync would.

It keeps Tapkey's grants (managed and unmanaged), its contacts and the
integration's ledger, refuses any action on a grant outside the ledger, and
answers the question the whole engine exists for: who can open a lock at an
instant.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from custom_components.spacebring_tapkey.access.ical import weekly_schedule_ical
from custom_components.spacebring_tapkey.access.model import (
    AccessGroup,
    AccessWindow,
    LedgerEntry,
    PlanResult,
    WeeklySchedule,
)
from custom_components.spacebring_tapkey.access.planner import plan
from custom_components.spacebring_tapkey.api.models import Grant, GrantState


@dataclass
class SimulatedTapkey:
    """Tapkey state plus the ledger of grants the integration made."""

    grants: dict[str, Grant] = field(default_factory=dict)
    contacts: dict[str, str] = field(default_factory=dict)
    ledger: dict[str, LedgerEntry] = field(default_factory=dict)
    named: list[str] = field(default_factory=list)
    made: int = 0

    def _new_grant_id(self) -> str:
        self.made += 1
        return f"grant-{self.made}"

    def add_unmanaged(
        self,
        email: str,
        target_id: str,
        valid_from: datetime | None,
        valid_before: datetime | None,
    ) -> Grant:
        """A grant someone made in the Tapkey portal."""
        contact_id = self.contacts.setdefault(email, f"contact-{email}")
        grant = Grant(
            self._new_grant_id(),
            contact_id,
            target_id,
            valid_from,
            valid_before,
            contact_identifier=email,
        )
        self.grants[grant.id] = grant
        return grant

    def plan(
        self,
        windows: Iterable[AccessWindow],
        groups: Iterable[AccessGroup],
        *,
        now: datetime,
        horizon: timedelta,
    ) -> PlanResult:
        """Plan against the current Tapkey state and ledger."""
        return plan(
            windows,
            groups,
            self.ledger.values(),
            now=now,
            horizon=horizon,
            tapkey_grants=self.grants.values(),
            contacts=self.contacts,
        )

    def apply(self, result: PlanResult, now: datetime) -> None:
        """Carry out a plan in order; fail on anything touching unmanaged grants."""
        for entry in result.forget:
            assert entry.grant_id in self.ledger, "forgot a grant it never made"
            del self.ledger[entry.grant_id]
        for contact in result.contacts:
            self.contacts.setdefault(contact.email, f"contact-{contact.email}")
        for create in result.creates:
            contact_id = create.contact_id or self.contacts[create.email]
            assert contact_id == self.contacts[create.email]
            assert create.valid_from < create.valid_before
            grant = Grant(
                self._new_grant_id(),
                contact_id,
                create.target.id,
                create.valid_from,
                create.valid_before,
                create.ical,
                contact_identifier=create.email,
            )
            self.grants[grant.id] = grant
            self.ledger[grant.id] = create.to_ledger_entry(
                grant_id=grant.id, contact_id=contact_id, created_at=now
            )
        for revoke in result.revokes:
            grant_id = revoke.entry.grant_id
            self.named.append(grant_id)
            assert grant_id in self.ledger, "revoked a grant outside the ledger"
            self.grants[grant_id] = replace(
                self.grants[grant_id], state=GrantState.REVOKED, active=False
            )
            del self.ledger[grant_id]

    def revoke_in_portal(self, grant_id: str) -> None:
        """Someone revoked a grant in the Tapkey portal."""
        self.grants[grant_id] = replace(
            self.grants[grant_id], state=GrantState.REVOKED, active=False
        )

    def delete_in_portal(self, grant_id: str) -> None:
        """A grant disappeared from Tapkey's list."""
        del self.grants[grant_id]

    def who_can_open(
        self,
        target_id: str,
        instant: datetime,
        schedules: dict[str, WeeklySchedule],
        *,
        managed_only: bool = True,
    ) -> set[str]:
        """E-mails whose live grants open `target_id` at `instant`."""
        openers: set[str] = set()
        for grant in self.grants.values():
            if (
                grant.bound_lock_id != target_id
                or grant.state is not GrantState.OK
                or not grant.active
                or (managed_only and grant.id not in self.ledger)
            ):
                continue
            if grant.valid_from is not None and instant < grant.valid_from:
                continue
            if grant.valid_before is not None and instant >= grant.valid_before:
                continue
            ical = grant.time_restriction_ical
            if ical is not None and not schedules[ical].allows(instant):
                continue
            assert grant.contact_identifier is not None
            openers.add(grant.contact_identifier)
        return openers


def schedules_of(groups: Iterable[AccessGroup]) -> dict[str, WeeklySchedule]:
    """The weekly schedule behind each restriction text the groups produce."""
    return {
        weekly_schedule_ical(group.schedule): group.schedule
        for group in groups
        if group.schedule is not None
    }


def desired_openers(
    windows: Iterable[AccessWindow],
    groups: Iterable[AccessGroup],
    target_id: str,
    instant: datetime,
) -> set[str]:
    """E-mails the desired windows let open `target_id` at `instant`."""
    by_id = {group.id: group for group in groups}
    openers: set[str] = set()
    for window in windows:
        group = by_id.get(window.group_id)
        if group is None or not window.contains(instant):
            continue
        if all(target.id != target_id for target in group.targets):
            continue
        if group.schedule is not None and not group.schedule.allows(instant):
            continue
        openers.add(window.email)
    return openers
