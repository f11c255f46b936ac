"""Errors raised by the Spacebring and Tapkey clients.

One hierarchy for both services so that coordinators map failures the same
way: authentication problems start a reauth, a plan limit raises a repair,
everything else is a transient failure retried later.
"""

from __future__ import annotations


class ApiError(Exception):
    """Base class of every client error."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        """Keep the HTTP status (when there was a response) beside the message."""
        super().__init__(message)
        self.status = status


class ApiConnectionError(ApiError):
    """The service could not be reached (DNS, refused, reset, timeout)."""


class ApiInvalidResponseError(ApiError):
    """The service answered with a body this client cannot read."""


class ApiAuthError(ApiError):
    """HTTP 401: credentials or token rejected."""


class ApiPlanLimitError(ApiError):
    """HTTP 402: the Tapkey plan's limit is reached; an operator must act."""


class ApiForbiddenError(ApiError):
    """HTTP 403: authenticated but not allowed."""


class ApiNotFoundError(ApiError):
    """HTTP 404."""


class ApiConflictError(ApiError):
    """HTTP 409: duplicate or concurrent change."""


class ApiRateLimitedError(ApiError):
    """HTTP 429 that outlasted the client's retries."""

    def __init__(
        self, message: str, *, status: int | None = 429, retry_after: float | None
    ) -> None:
        """Remember how long the service asked us to wait, when it said."""
        super().__init__(message, status=status)
        self.retry_after = retry_after


class ApiServerError(ApiError):
    """HTTP 5xx that outlasted the client's retries."""


class ApiRequestError(ApiError):
    """Any other 4xx: the request itself was wrong."""
