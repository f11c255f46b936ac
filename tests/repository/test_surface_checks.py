"""hassfest's checks of actions, translation keys and the quality scale, offline.

Each check runs on the repository's real files and must find nothing; a
broken variant of each shows that it would catch the mistake, and how it
says so.
"""

from __future__ import annotations

import copy
from pathlib import Path
import textwrap
from typing import Any

import pytest

from custom_components.spacebring_tapkey.const import DOMAIN

from .checks import (
    INTEGRATION,
    REPO_ROOT,
    check_issue_translations,
    check_quality_scale,
    check_services,
    check_translation_uses,
    load_json,
    load_yaml,
    quality_scale_evidence,
)
from .code_keys import Package

SERVICES = load_yaml(INTEGRATION / "services.yaml")
TRANSLATIONS = load_json(INTEGRATION / "translations" / "en.json")
ICONS = load_json(INTEGRATION / "icons.json")
QUALITY_SCALE = load_yaml(INTEGRATION / "quality_scale.yaml")


@pytest.fixture(scope="module")
def scanned() -> Package:
    """The integration's source, scanned once for this module."""
    package = Package(INTEGRATION)
    package.scan()
    return package


def registered(package: Package) -> set[str]:
    """The action names the code registers (none left unresolved)."""
    names, unresolved = package.services()
    assert unresolved == []
    return names


def without(tree: dict[str, Any], *path: str) -> dict[str, Any]:
    """A deep copy of `tree` with the key at `path` removed."""
    broken = copy.deepcopy(tree)
    node = broken
    for part in path[:-1]:
        node = node[part]
    del node[path[-1]]
    return broken


# --- actions --------------------------------------------------------------------


def test_actions_are_described_translated_and_have_icons(scanned: Package) -> None:
    """services.yaml, en.json's services and icons.json agree with the code."""
    assert registered(scanned) == set(SERVICES)
    assert check_services(SERVICES, TRANSLATIONS, ICONS, registered(scanned)) == []


def test_action_without_translation_is_reported(scanned: Package) -> None:
    """An action with no name and description in en.json is named."""
    broken = without(TRANSLATIONS, "services", "revoke_all")

    assert check_services(SERVICES, broken, ICONS, registered(scanned)) == [
        "en.json: services.revoke_all is missing"
    ]


def test_field_without_translation_is_reported(scanned: Package) -> None:
    """A field of services.yaml needs its name and description in en.json."""
    broken = without(TRANSLATIONS, "services", "grant_access", "fields", "note")

    assert check_services(SERVICES, broken, ICONS, registered(scanned)) == [
        "en.json: services.grant_access.fields.note is missing"
    ]


def test_translated_field_the_action_lacks_is_reported(scanned: Package) -> None:
    """A translation for a field services.yaml does not have is stale."""
    broken = without(SERVICES, "get_access", "fields", "start")

    assert check_services(broken, TRANSLATIONS, ICONS, registered(scanned)) == [
        "en.json: services.get_access.fields.start has no such field in services.yaml"
    ]


def test_registered_action_missing_from_services_yaml_is_reported(
    scanned: Package,
) -> None:
    """Every action the code registers must be described."""
    broken = without(SERVICES, "sync_now")

    assert check_services(broken, TRANSLATIONS, ICONS, registered(scanned)) == [
        "services.yaml: action 'sync_now' is registered in code but not described",
        "en.json: services.sync_now describes an action services.yaml does not have",
    ]


def test_action_without_icon_is_reported(scanned: Package) -> None:
    """hassfest wants an icon for every action."""
    broken = without(ICONS, "services", "get_access")

    assert check_services(SERVICES, TRANSLATIONS, broken, registered(scanned)) == [
        "icons.json: services.get_access.service is missing"
    ]


# --- translation keys used in code -------------------------------------------------


def test_every_translation_key_in_code_exists(scanned: Package) -> None:
    """Exceptions, issues, entities, selectors and flows all find their text."""
    assert check_translation_uses(scanned.uses, scanned.unresolved, TRANSLATIONS) == []


def test_scan_sees_each_kind_of_use(scanned: Package) -> None:
    """The scan follows constants, helpers and flows to the keys they use."""
    paths = {use.path for use in scanned.uses}

    assert {
        ("exceptions", "spacebring_update_failed", "message"),
        ("exceptions", "unknown_access_group", "message"),
        ("exceptions", "spacebring_unavailable", "message"),
        ("issues", "plan_limit_reached"),
        ("issues", "unmapped_group_ref", "fix_flow", "step", "create_group"),
        ("issues", "unmapped_group_ref", "fix_flow", "error", "name_exists"),
        ("config", "error", "invalid_auth"),
        ("config", "abort", "wrong_account"),
        ("config", "step", "reauth_spacebring"),
        ("config_subentries", "access_group", "abort", "reauth_required"),
        ("config_subentries", "access_group", "error", "schedule_not_supported"),
        ("selector", "weekday"),
    } <= paths


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        (
            ("exceptions", "end_in_past"),
            "custom_components/spacebring_tapkey/services.py:{line}: "
            "en.json has no exceptions.end_in_past.message",
        ),
        (
            ("issues", "members_without_email"),
            "custom_components/spacebring_tapkey/repairs.py:{line}: "
            "en.json has no issues.members_without_email",
        ),
        (
            ("config", "error", "location_not_found"),
            "custom_components/spacebring_tapkey/config_flow.py:{line}: "
            "en.json has no config.error.location_not_found",
        ),
        (
            ("config_subentries", "access_group", "abort", "reauth_required"),
            "custom_components/spacebring_tapkey/access_group_flow.py:{line}: "
            "en.json has no config_subentries.access_group.abort.reauth_required",
        ),
    ],
)
def test_missing_translation_is_reported_where_the_code_uses_it(
    scanned: Package, path: tuple[str, ...], problem: str
) -> None:
    """The problem names the file, the line and the missing key."""
    wanted = path + (("message",) if path[0] == "exceptions" else ())
    line = next(use.where for use in scanned.uses if use.path[: len(wanted)] == wanted)

    problems = check_translation_uses(
        scanned.uses, scanned.unresolved, without(TRANSLATIONS, *path)
    )

    assert problem.format(line=line.rsplit(":", 1)[1]) in problems


def test_placeholder_mismatch_is_reported(scanned: Package) -> None:
    """A message must use exactly the placeholders the code passes."""
    broken = copy.deepcopy(TRANSLATIONS)
    broken["exceptions"]["revoke_failed"]["message"] = "Revocations failed."

    problems = check_translation_uses(scanned.uses, scanned.unresolved, broken)

    assert len(problems) == 1
    assert problems[0].endswith(
        "exceptions.revoke_failed.message has placeholders [] "
        "but the code passes ['count']"
    )


def test_key_the_scan_cannot_follow_is_reported(tmp_path: Path) -> None:
    """A key computed at runtime fails the check instead of passing unseen."""
    package_dir = tmp_path / "custom_components" / DOMAIN
    package_dir.mkdir(parents=True)
    (package_dir / "services.py").write_text(
        textwrap.dedent(
            """
            from homeassistant.exceptions import HomeAssistantError

            def fail(kind: str) -> None:
                raise HomeAssistantError(
                    translation_domain="x", translation_key=f"{kind}_failed"
                )

            def reject(thing: object) -> None:
                thing.show(translation_key="odd")
            """
        ),
        encoding="utf-8",
    )
    uses, unresolved = Package(package_dir).scan()

    assert set(check_translation_uses(uses, unresolved, {})) == {
        "custom_components/spacebring_tapkey/services.py:5: "
        "cannot follow f'{kind}_failed'",
        "custom_components/spacebring_tapkey/services.py:10: "
        "translation_key passed to show()",
    }


def test_issue_translations_have_a_title_and_one_text() -> None:
    """hassfest: a title, and either a description or a fix flow."""
    assert check_issue_translations(TRANSLATIONS) == []
    broken = copy.deepcopy(TRANSLATIONS)
    broken["issues"]["plan_limit_reached"]["fix_flow"] = {"step": {}}

    assert check_issue_translations(broken) == [
        "en.json: issues.plan_limit_reached needs exactly one of "
        "description and fix_flow"
    ]


# --- quality scale --------------------------------------------------------------


def test_quality_scale_is_complete_and_backed_by_the_code() -> None:
    """Every rule of Bronze to Platinum has a status and a reason."""
    evidence = quality_scale_evidence(INTEGRATION, REPO_ROOT)

    assert check_quality_scale(QUALITY_SCALE, evidence) == []


def test_missing_rule_is_reported() -> None:
    """A rule left out is named with its tier."""
    broken = without(QUALITY_SCALE, "rules", "repair-issues")

    assert check_quality_scale(broken, {}) == [
        "quality_scale.yaml: gold rule 'repair-issues' is missing"
    ]


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        (
            "done",
            "quality_scale.yaml: 'diagnostics' needs a status and a comment",
        ),
        (
            {"status": "exempt"},
            "quality_scale.yaml: 'diagnostics' needs a comment (why)",
        ),
        (
            {"status": "finished", "comment": "diagnostics.py"},
            "quality_scale.yaml: 'diagnostics' has status 'finished'; "
            "use done, todo or exempt",
        ),
    ],
)
def test_rule_without_status_or_reason_is_reported(entry: Any, problem: str) -> None:
    """Each rule needs one of the three statuses and a comment saying why."""
    broken = copy.deepcopy(QUALITY_SCALE)
    broken["rules"]["diagnostics"] = entry

    assert check_quality_scale(broken, {}) == [problem]


def test_unknown_rule_is_reported() -> None:
    """A misspelt rule is not silently ignored."""
    broken = copy.deepcopy(QUALITY_SCALE)
    broken["rules"]["diagnostic"] = {"status": "done", "comment": "typo"}

    assert check_quality_scale(broken, {}) == [
        "quality_scale.yaml: unknown rule 'diagnostic'"
    ]


def test_done_rule_the_code_contradicts_is_reported() -> None:
    """Claiming discovery for a cloud service without discovery is caught."""
    broken = copy.deepcopy(QUALITY_SCALE)
    broken["rules"]["discovery"] = {"status": "done", "comment": "zeroconf"}

    assert check_quality_scale(
        broken, quality_scale_evidence(INTEGRATION, REPO_ROOT)
    ) == [
        "quality_scale.yaml: 'discovery' is marked done but manifest.json "
        "declares no discovery"
    ]


def test_readme_backs_the_documentation_rules(tmp_path: Path) -> None:
    """A documentation rule marked done needs its README section."""
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    (repo / "scripts" / "lint").write_text("mypy --strict", encoding="utf-8")
    (repo / "README.md").write_text(
        "# Title\n\n## Actions\n\n<!-- to do -->\n\n## Removal\n\nDelete it.\n",
        encoding="utf-8",
    )

    evidence = quality_scale_evidence(INTEGRATION, repo)

    assert evidence["docs-actions"] == (
        "the README's Actions section does not name every action"
    )
    assert evidence["docs-removal-instructions"] is None
    assert evidence["docs-troubleshooting"] == (
        "the README has no Troubleshooting section"
    )
