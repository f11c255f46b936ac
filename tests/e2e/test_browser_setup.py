"""An operator sets up access in a real browser, from log-in to the calendar.

One walk through the product as README describes it, against the sandbox:
log in to Home Assistant, add the integration from Settings → Devices &
services, approve the Tapkey sign-in on the sandbox's page, pick the locking
system, enter the Spacebring credentials, pick the location, add an access
group for the meeting rooms, then find the devices, the entities and the
access windows in the calendar panel. Each step leaves a screenshot in
artifacts/e2e/.
"""

from __future__ import annotations

import os
from pathlib import Path
import re

import pytest

from custom_components.spacebring_tapkey.const import DOMAIN
from sandbox.const import SPACEBRING_CLIENT_ID, SPACEBRING_CLIENT_SECRET
from sandbox.spacebring_demo import MAIN_LOCATION_TITLE
from sandbox.tapkey_generate import DEMO_OWNER_NAME
from scripts.dev_onboard import DEV_PASSWORD, DEV_USERNAME

from .conftest import E2E_ENV, DevInstance

if not os.environ.get(E2E_ENV):
    pytest.skip(
        f"browser test: run scripts/e2e (or set {E2E_ENV}=1)", allow_module_level=True
    )

# Only installed with the e2e dependency group, which scripts/e2e syncs.
from playwright.sync_api import (
    Locator,
    Page,
    TimeoutError as PlaywrightTimeoutError,
    expect,
)

pytestmark = pytest.mark.e2e

ENTRY_TITLE = f"{MAIN_LOCATION_TITLE} · {DEMO_OWNER_NAME}"
GROUP_NAME = "Meeting rooms"
# The demo space's meeting rooms: their resource types, and the Tapkey lock
# group of their doors.
ROOM_TYPES = ("Room", "Meeting room", "Conference room")
LOCK_GROUP = "Meeting rooms"
# The demo's showcase booking runs now in this room, so today has a window.
BOOKED_ROOM = "Meeting Room Danube"
PICK_ATTEMPTS = 3
PICK_TIMEOUT_MS = 3_000


class Screenshots:
    """Numbered screenshots of the steps, in order."""

    def __init__(self, directory: Path) -> None:
        """Save into `directory`."""
        self._directory = directory
        self._count = 0

    def take(self, page: Page, name: str) -> None:
        """Save what `page` shows now as NN-name.png."""
        self._count += 1
        # Transitions finished: a radio button shows the state it has.
        page.screenshot(
            path=self._directory / f"{self._count:02d}-{name}.png",
            animations="disabled",
        )


def action(page: Page, name: str) -> Locator:
    """A dialog's action: a button, a link, or a button in a link."""
    return (
        page.get_by_role("button", name=name)
        .or_(page.get_by_role("link", name=name))
        .first
    )


def log_in(page: Page, shots: Screenshots, url: str) -> None:
    """Log in with the dev login scripts/develop prints."""
    page.goto(url)
    page.get_by_role("textbox", name="Username").fill(DEV_USERNAME)
    page.get_by_role("textbox", name="Password").fill(DEV_PASSWORD)
    shots.take(page, "login")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("ha-sidebar")).to_be_visible()


def add_integration(page: Page, shots: Screenshots, url: str) -> None:
    """Settings → Devices & services → Add integration → Spacebring."""
    page.goto(f"{url}/config/integrations/dashboard")
    page.get_by_role("button", name="Add integration").click()
    search = "Search for a brand name"
    # A labelled field in Home Assistant 2025.4, a placeholder in 2026.10.
    page.get_by_role("textbox", name=search).or_(page.get_by_placeholder(search)).fill(
        "Spacebring"
    )
    integration = page.get_by_text("Spacebring Tapkey Access")
    expect(integration).to_be_visible()
    shots.take(page, "add-integration")
    integration.click()


def approve_tapkey_sign_in(page: Page, shots: Screenshots) -> None:
    """The sign-in opens in a new tab; approving it returns to Home Assistant."""
    with page.expect_popup() as popup_opened:
        action(page, "Open website").click()
    sign_in = popup_opened.value
    expect(sign_in.get_by_text("asks to manage your locking systems")).to_be_visible()
    shots.take(sign_in, "tapkey-sign-in")
    with sign_in.expect_event("close"):
        sign_in.get_by_role("button", name="Approve").click()


def choose(page: Page, shots: Screenshots, title: str, option: str, shot: str) -> None:
    """Pick a radio button of a form, and submit it."""
    expect(page.get_by_text(title)).to_be_visible()
    checked = page.get_by_role("radio", checked=True)
    # The form preselects an option: wait for it, or it may undo the pick.
    expect(checked).to_have_count(1)
    page.get_by_role("radio", name=option, exact=True).check()
    expect(checked).to_have_count(1)
    expect(page.get_by_role("radio", name=option, exact=True)).to_be_checked()
    shots.take(page, shot)
    action(page, "Submit").click()


def enter_spacebring_credentials(page: Page, shots: Screenshots) -> None:
    """The sandbox's demo API credentials."""
    expect(page.get_by_text("Connect Spacebring")).to_be_visible()
    page.get_by_role("textbox", name="Client ID").fill(SPACEBRING_CLIENT_ID)
    page.get_by_role("textbox", name="Client secret").fill(SPACEBRING_CLIENT_SECRET)
    shots.take(page, "spacebring-credentials")
    action(page, "Submit").click()


def finish(page: Page, shots: Screenshots, created: str, shot: str) -> None:
    """The flow's last dialog names what it created; finish it.

    Home Assistant 2025.4 says "Created configuration for ..."; 2026.10 asks
    to name and place the device it made, named after it.
    """
    message = page.get_by_text(f"Created configuration for {created}")
    device_name = page.get_by_role("textbox", name="Device name")
    expect(message.or_(device_name)).to_be_visible()
    if device_name.is_visible():
        expect(device_name).to_have_value(created)
    shots.take(page, shot)
    action(page, "Finish").click()


def pick(page: Page, field: str, option: str) -> None:
    """Add an option to a multiple-choice field.

    Home Assistant 2025.4 shows a drop-down; 2026.10 a button that opens a
    list.
    """
    # 2025.4's drop-down has a toggle button of the same name: either opens.
    opener = (
        page.get_by_role("combobox", name=field)
        .or_(page.get_by_role("button", name=field))
        .first
    )
    # Lists opened before stay in the page, hidden.
    item = page.get_by_role("option", name=option, exact=True).or_(
        page.locator("ha-combo-box-item")
        .filter(visible=True)
        .filter(has=page.get_by_text(option, exact=True))
    )
    chip = page.locator("ha-input-chip").get_by_text(option, exact=True)
    # 2026.10's list may close on a click that comes while it is still
    # opening; the chip of the chosen option shows when the pick counted.
    for attempt in range(1, PICK_ATTEMPTS + 1):
        if not item.is_visible():
            opener.click()
        # A pointer click scrolls the form to the item, and scrolling closes
        # 2026.10's list: the item is clicked where it is.
        item.evaluate("item => item.click()")
        try:
            chip.wait_for(timeout=PICK_TIMEOUT_MS)
        except PlaywrightTimeoutError:
            if attempt == PICK_ATTEMPTS:
                raise
        else:
            return


def add_access_group(page: Page, shots: Screenshots, url: str) -> None:
    """The entry's menu → Add access group: the meeting rooms and their doors."""
    page.goto(f"{url}/config/integrations/integration/{DOMAIN}")
    expect(page.get_by_text(ENTRY_TITLE).first).to_be_visible()
    add_group = page.get_by_role("button", name="Add access group")
    if not add_group.is_visible():  # Home Assistant 2025.4: in the entry's menu
        page.get_by_role("button", name="Menu").click()
        add_group = page.get_by_role("menuitem", name="Add access group")
    add_group.click()
    page.get_by_role("textbox", name="Name").fill(GROUP_NAME)
    for room_type in ROOM_TYPES:
        pick(page, "Resource types", room_type)
    pick(page, "Lock groups", LOCK_GROUP)
    shots.take(page, "access-group")
    action(page, "Submit").click()
    finish(page, shots, GROUP_NAME, "access-group-created")


def see_devices_and_entities(page: Page, shots: Screenshots, url: str) -> None:
    """A hub device, a device for the group, and the group's calendar."""
    expect(page.get_by_text(GROUP_NAME).first).to_be_visible()
    shots.take(page, "integration")
    page.goto(f"{url}/config/devices/dashboard?domain={DOMAIN}")
    # A row is named after its cells, the device's name first.
    for device in (ENTRY_TITLE, GROUP_NAME):
        named = re.compile(rf"^\s*{re.escape(device)}\b")
        expect(page.get_by_role("row", name=named)).to_be_visible()
    shots.take(page, "devices")
    page.goto(f"{url}/config/entities?domain={DOMAIN}")
    expect(page.get_by_text(f"{GROUP_NAME} Access windows")).to_be_visible()
    shots.take(page, "entities")


def see_access_windows(page: Page, shots: Screenshots, url: str) -> None:
    """The calendar panel lists the group's windows, today's booking among them."""
    page.goto(f"{url}/calendar")
    expect(page.locator(".fc-event").filter(has_text=BOOKED_ROOM).first).to_be_visible()
    # The list shows whole titles. Home Assistant 2025.4's view buttons have
    # no names (month, week, day, list); 2026.10's stay on the month.
    views = page.locator("ha-button-toggle-group ha-icon-button")
    if views.count():
        views.last.click()
        expect(
            page.locator(".fc-list-event").filter(has_text=BOOKED_ROOM).first
        ).to_be_visible()
    shots.take(page, "calendar")


def test_operator_sets_up_access_and_sees_the_windows(
    page: Page, dev_instance: DevInstance, artifacts: Path
) -> None:
    """From log-in to the access windows in the calendar, as README says."""
    shots = Screenshots(artifacts)
    url = dev_instance.url

    log_in(page, shots, url)
    add_integration(page, shots, url)
    approve_tapkey_sign_in(page, shots)
    choose(
        page,
        shots,
        "Choose the Tapkey locking system",
        DEMO_OWNER_NAME,
        "locking-system",
    )
    enter_spacebring_credentials(page, shots)
    choose(
        page, shots, "Choose the Spacebring location", MAIN_LOCATION_TITLE, "location"
    )
    finish(page, shots, ENTRY_TITLE, "entry-created")
    add_access_group(page, shots, url)
    see_devices_and_entities(page, shots, url)
    see_access_windows(page, shots, url)
