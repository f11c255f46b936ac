"""The sandbox's notion of "now": real time unless a test or person moves it.

The world (subscription status, token expiry, booking placement) reads the
time only through `SandboxClock.now()`, so a scenario can jump to tomorrow
without waiting. Rate limits and injected timeouts stay on real time: they
are about how fast requests physically arrive.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta


def _real_now() -> datetime:
    return datetime.now(UTC)


class SandboxClock:
    """Real time shifted by an offset, or frozen at one instant."""

    def __init__(self, source: Callable[[], datetime] = _real_now) -> None:
        """Start at real time; `source` replaces the wall clock in tests."""
        self._source = source
        self._offset = timedelta()
        self._frozen_at: datetime | None = None

    def now(self) -> datetime:
        """The current sandbox time, timezone-aware UTC."""
        if self._frozen_at is not None:
            return self._frozen_at
        return self._source() + self._offset

    @property
    def frozen(self) -> bool:
        """Whether time stands still."""
        return self._frozen_at is not None

    def set(self, when: datetime) -> None:
        """Jump to `when` (aware); keeps running unless frozen."""
        if when.tzinfo is None:
            raise ValueError("the sandbox clock needs a timezone-aware datetime")
        when = when.astimezone(UTC)
        if self._frozen_at is not None:
            self._frozen_at = when
        else:
            self._offset = when - self._source()

    def advance(self, delta: timedelta) -> None:
        """Move time forward (or back, with a negative delta)."""
        self.set(self.now() + delta)

    def freeze(self) -> None:
        """Stop time at the current instant."""
        self._frozen_at = self.now()

    def resume(self) -> None:
        """Let time run again from where it stands."""
        if self._frozen_at is not None:
            self._offset = self._frozen_at - self._source()
            self._frozen_at = None

    def reset(self) -> None:
        """Back to real, running time."""
        self._offset = timedelta()
        self._frozen_at = None

    def as_dict(self) -> dict[str, object]:
        """State for the control endpoint."""
        return {
            "now": self.now().isoformat().replace("+00:00", "Z"),
            "frozen": self.frozen,
            "offsetSeconds": self._offset.total_seconds(),
        }
