"""The repository passes the checks of hassfest and the HACS action."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from PIL import Image
import pytest

from custom_components.spacebring_tapkey.const import DOMAIN

from .checks import (
    INTEGRATION,
    REPO_ROOT,
    check_brand,
    check_hacs,
    check_manifest,
    check_translations_parse,
    load_json,
)

MANIFEST = load_json(INTEGRATION / "manifest.json")
HACS = load_json(REPO_ROOT / "hacs.json")


def test_hacs_json_is_valid() -> None:
    """hacs.json has only keys HACS accepts and names the minimum release."""
    assert check_hacs(HACS) == []
    assert HACS["homeassistant"] == "2025.4.0"


def test_hacs_json_unknown_key_is_reported() -> None:
    """An unknown key in hacs.json is named in the failure."""
    broken = {**HACS, "minimum_version": "1"}

    assert check_hacs(broken) == [
        "hacs.json: unknown key 'minimum_version' (HACS accepts "
        "['content_in_root', 'country', 'filename', 'hacs', 'hide_default_branch', "
        "'homeassistant', 'name', 'persistent_directory', 'render_readme', "
        "'zip_release'])"
    ]


def test_hacs_json_bad_minimum_release_is_reported() -> None:
    """The minimum Home Assistant release must look like one."""
    assert check_hacs({**HACS, "homeassistant": "latest"}) == [
        "hacs.json: 'homeassistant' must be a Home Assistant version, got 'latest'"
    ]


def test_manifest_is_valid() -> None:
    """manifest.json passes hassfest's rules for custom integrations."""
    assert check_manifest(MANIFEST, INTEGRATION.name) == []


def test_manifest_declares_what_the_integration_needs() -> None:
    """The manifest wires the OAuth dependency and a cloud polling class."""
    assert MANIFEST["domain"] == DOMAIN
    assert MANIFEST["config_flow"] is True
    assert MANIFEST["dependencies"] == ["application_credentials"]
    assert MANIFEST["iot_class"] == "cloud_polling"
    assert MANIFEST["requirements"] == []


def test_manifest_unsorted_keys_are_reported() -> None:
    """Keys out of hassfest's order are reported with the expected order."""
    items = list(MANIFEST.items())
    swapped = dict([items[0], items[1], items[3], items[2], *items[4:]])

    problems = check_manifest(swapped, INTEGRATION.name)

    assert len(problems) == 1
    assert problems[0].startswith(
        "manifest.json: keys must be domain, name, then alphabetical"
    )


def test_manifest_missing_version_is_reported() -> None:
    """A custom integration without a version is rejected."""
    broken = copy.deepcopy(MANIFEST)
    del broken["version"]

    assert check_manifest(broken, INTEGRATION.name) == [
        "manifest.json: missing required key 'version'"
    ]


def test_manifest_invalid_version_is_reported() -> None:
    """A version Home Assistant cannot parse is rejected."""
    broken = {**MANIFEST, "version": "not a version"}

    assert check_manifest(broken, INTEGRATION.name) == [
        "manifest.json: version 'not a version' is not a valid "
        "SemVer/CalVer/SimpleVer/PEP 440 version"
    ]


def test_manifest_domain_must_match_folder() -> None:
    """The domain is the folder's name."""
    assert check_manifest(MANIFEST, "other") == [
        "manifest.json: domain 'spacebring_tapkey' does not match the folder "
        "name 'other'"
    ]


def test_brand_images_have_the_required_sizes() -> None:
    """brand/icon.png is 256x256 and icon@2x.png 512x512."""
    assert check_brand(INTEGRATION / "brand") == []


def test_brand_wrong_size_is_reported(tmp_path: Path) -> None:
    """An icon of the wrong size is named with both sizes."""
    Image.new("RGBA", (100, 100)).save(tmp_path / "icon.png")
    Image.new("RGBA", (512, 512)).save(tmp_path / "icon@2x.png")

    assert check_brand(tmp_path) == ["brand/icon.png: must be 256x256, is 100x100"]


def test_translations_parse() -> None:
    """translations/en.json is valid JSON without empty strings."""
    assert check_translations_parse(INTEGRATION / "translations" / "en.json") == []


@pytest.mark.parametrize(
    ("content", "problem_start"),
    [
        ("{not json", "en.json: cannot be read as JSON"),
        (json.dumps({"config": {"step": {"user": {"title": " "}}}}), "en.json: empty"),
    ],
)
def test_translation_problems_are_reported(
    tmp_path: Path, content: str, problem_start: str
) -> None:
    """Unreadable JSON and empty strings are reported."""
    path = tmp_path / "en.json"
    path.write_text(content, encoding="utf-8")

    problems = check_translations_parse(path)

    assert len(problems) == 1
    assert problems[0].startswith(problem_start)
