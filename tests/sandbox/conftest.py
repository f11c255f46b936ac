"""The sandbox fixtures of tests/api, for the sandbox's own tests."""

from __future__ import annotations

from tests.api.conftest import sandbox, sandbox_factory, sandbox_session

__all__ = ["sandbox", "sandbox_factory", "sandbox_session"]
