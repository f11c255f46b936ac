"""Control routes under `/_sandbox` (no auth; loopback only).

Tests and people use them to move the clock, inject faults, read the traffic
log, dump the world and change bookings the way an operator would in
Spacebring's admin UI (the public API cannot move a booking).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiohttp import web

from .clock import SandboxClock
from .faults import FaultInjector, FaultRule
from .spacebring_records import parse_iso
from .spacebring_state import SpacebringError
from .traffic import TrafficLog
from .world import World


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json() if request.can_read_body else {}
    except ValueError:
        raise web.HTTPBadRequest(text="body is not JSON") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="body must be a JSON object")
    return body


class ControlApi:
    """Handlers over the parts of a running sandbox."""

    def __init__(
        self,
        world: World,
        clock: SandboxClock,
        faults: FaultInjector,
        traffic: TrafficLog,
    ) -> None:
        """Control these parts."""
        self.world = world
        self.clock = clock
        self.faults = faults
        self.traffic = traffic

    def register(self, app: web.Application) -> None:
        """Add the routes to `app`."""
        app.add_routes(
            [
                web.get("/_sandbox/world", self.get_world),
                web.get("/_sandbox/clock", self.get_clock),
                web.post("/_sandbox/clock", self.set_clock),
                web.get("/_sandbox/faults", self.get_faults),
                web.post("/_sandbox/faults", self.set_faults),
                web.delete("/_sandbox/faults", self.clear_faults),
                web.get("/_sandbox/traffic", self.get_traffic),
                web.delete("/_sandbox/traffic", self.clear_traffic),
                web.patch("/_sandbox/spacebring/bookings/{id}", self.update_booking),
            ]
        )

    async def get_world(self, _request: web.Request) -> web.Response:
        """The current world, in the `--world` file format."""
        return web.json_response(self.world.to_world())

    async def get_clock(self, _request: web.Request) -> web.Response:
        """The sandbox time."""
        return web.json_response(self.clock.as_dict())

    async def set_clock(self, request: web.Request) -> web.Response:
        """Body: any of `now` (ISO), `advanceSeconds`, `frozen`, `reset`."""
        body = await _body(request)
        try:
            if body.get("reset"):
                self.clock.reset()
            if body.get("frozen"):  # before setting, so time stops exactly there
                self.clock.freeze()
            if "now" in body:
                self.clock.set(parse_iso(str(body["now"])))
            if "advanceSeconds" in body:
                self.clock.advance(timedelta(seconds=float(body["advanceSeconds"])))
        except (TypeError, ValueError) as err:
            raise web.HTTPBadRequest(text=str(err)) from None
        if body.get("frozen") is False:
            self.clock.resume()
        return web.json_response(self.clock.as_dict())

    async def get_faults(self, _request: web.Request) -> web.Response:
        """Rules in force and what was injected so far."""
        return web.json_response(self.faults.as_dict())

    async def set_faults(self, request: web.Request) -> web.Response:
        """Body: `rules`, `replace`, `timeoutSeconds`, `retryAfterSeconds`."""
        body = await _body(request)
        try:
            rules = [FaultRule.from_dict(raw) for raw in body.get("rules", [])]
            timeout = float(body.get("timeoutSeconds", self.faults.timeout_seconds))
            retry_after = int(
                body.get("retryAfterSeconds", self.faults.retry_after_seconds)
            )
        except (TypeError, ValueError) as err:
            raise web.HTTPBadRequest(text=f"invalid fault rules: {err}") from None
        if body.get("replace"):
            self.faults.clear()
        for rule in rules:
            self.faults.add(rule)
        self.faults.timeout_seconds = timeout
        self.faults.retry_after_seconds = retry_after
        return web.json_response(self.faults.as_dict())

    async def clear_faults(self, _request: web.Request) -> web.Response:
        """Remove every fault rule."""
        self.faults.clear()
        return web.json_response(self.faults.as_dict())

    async def get_traffic(self, request: web.Request) -> web.Response:
        """Requests, peak per second and statuses of one API (default Spacebring)."""
        service = request.query.get("service", "spacebring")
        return web.json_response(self.traffic.summary(service))

    async def clear_traffic(self, _request: web.Request) -> web.Response:
        """Start a new measurement."""
        self.traffic.clear()
        return web.Response(status=204)

    async def update_booking(self, request: web.Request) -> web.Response:
        """Move, shorten or re-status a booking: `{startDate, endDate, status}`."""
        body = await _body(request)
        try:
            booking = self.world.spacebring.update_booking(
                request.match_info["id"],
                self.clock.now(),
                start=parse_iso(body["startDate"]) if "startDate" in body else None,
                end=parse_iso(body["endDate"]) if "endDate" in body else None,
                status=body.get("status"),
            )
        except SpacebringError as err:
            return web.json_response(
                {"message": err.message, "type": err.kind}, status=err.status
            )
        except (TypeError, ValueError) as err:
            raise web.HTTPBadRequest(text=str(err)) from None
        status = self.world.spacebring.booking_status[booking["id"]]
        return web.json_response({"booking": booking, "status": status})
