"""A problem sensor: on while access may not match what Spacebring says."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)

from .access_view import AccessView, access_view
from .entity import SpacebringTapkeyEntity

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from . import SpacebringTapkeyConfigEntry

PARALLEL_UPDATES = 0

ATTR_PROBLEMS: Final = "problems"


class SyncProblem(StrEnum):
    """Why access in Tapkey may differ from what Spacebring says."""

    SYNC_FAILED = "sync_failed"
    PLAN_LIMIT_REACHED = "plan_limit_reached"
    LOCKING_SYSTEM_UNAVAILABLE = "locking_system_unavailable"
    DATA_STALE = "data_stale"


def sync_problems(view: AccessView) -> list[SyncProblem]:
    """Every problem the entry has now."""
    data = view.data
    status = data.sync.status
    tapkey = data.tapkey.data if data.tapkey.last_update_success else None
    checks = {
        SyncProblem.SYNC_FAILED: status.failed > 0,
        SyncProblem.PLAN_LIMIT_REACHED: status.plan_limit_reached,
        SyncProblem.LOCKING_SYSTEM_UNAVAILABLE: (
            tapkey is not None and not tapkey.owner_available
        ),
        SyncProblem.DATA_STALE: not view.fresh,
    }
    return [problem for problem, present in checks.items() if present]


@dataclass(frozen=True, kw_only=True)
class ProblemBinarySensorEntityDescription(BinarySensorEntityDescription):
    """A problem sensor listing the problems it is on for."""

    problems_fn: Callable[[AccessView], list[SyncProblem]]


SYNC_PROBLEM: Final = ProblemBinarySensorEntityDescription(
    key="sync_problem",
    translation_key="sync_problem",
    device_class=BinarySensorDeviceClass.PROBLEM,
    problems_fn=sync_problems,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SpacebringTapkeyConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the entry's problem sensor."""
    async_add_entities([ProblemBinarySensor(access_view(hass, entry), SYNC_PROBLEM)])


class ProblemBinarySensor(SpacebringTapkeyEntity, BinarySensorEntity):
    """On while the sync failed, Tapkey refuses more, or the data is stale.

    It stays available when the data is stale: saying so is its job.
    """

    entity_description: ProblemBinarySensorEntityDescription

    @property
    def is_on(self) -> bool:
        """Whether there is any problem."""
        return bool(self.entity_description.problems_fn(self._view))

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Which problems, as stable codes."""
        return {
            ATTR_PROBLEMS: [
                str(problem)
                for problem in self.entity_description.problems_fn(self._view)
            ]
        }
