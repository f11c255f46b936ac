"""Fixed demo credentials of the sandbox (documented in README.md)."""

from typing import Final

SPACEBRING_CLIENT_ID: Final = "sandbox-spacebring-client"
SPACEBRING_CLIENT_SECRET: Final = "sandbox-spacebring-secret"
TAPKEY_CLIENT_ID: Final = "sandbox-tapkey-client"
TAPKEY_CLIENT_SECRET: Final = "sandbox-tapkey-secret"
