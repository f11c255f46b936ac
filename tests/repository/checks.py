"""Checks that hassfest and the HACS action would make, runnable offline.

Each check returns a list of human-readable problems (empty when all is well),
so a failing test says exactly what is wrong and where.
"""

from __future__ import annotations

from collections.abc import Mapping
import json
from pathlib import Path
import re
from typing import Any

from awesomeversion import AwesomeVersion, AwesomeVersionStrategy
from PIL import Image

REPO_ROOT = Path(__file__).resolve().parents[2]
INTEGRATION = REPO_ROOT / "custom_components" / "spacebring_tapkey"

# The keys the HACS action's schema for hacs.json accepts.
HACS_KEYS = frozenset(
    {
        "content_in_root",
        "country",
        "filename",
        "hacs",
        "hide_default_branch",
        "homeassistant",
        "name",
        "persistent_directory",
        "render_readme",
        "zip_release",
    }
)

# Keys hassfest accepts in a custom integration's manifest.
MANIFEST_KEYS = frozenset(
    {
        "after_dependencies",
        "bluetooth",
        "codeowners",
        "config_flow",
        "dependencies",
        "dhcp",
        "disabled",
        "documentation",
        "domain",
        "homekit",
        "import_executor",
        "integration_type",
        "iot_class",
        "issue_tracker",
        "loggers",
        "mqtt",
        "name",
        "quality_scale",
        "requirements",
        "single_config_entry",
        "ssdp",
        "usb",
        "version",
        "zeroconf",
    }
)
MANIFEST_REQUIRED = (
    "domain",
    "name",
    "codeowners",
    "documentation",
    "issue_tracker",
    "iot_class",
    "version",
)
IOT_CLASSES = frozenset(
    {
        "assumed_state",
        "calculated",
        "cloud_polling",
        "cloud_push",
        "local_polling",
        "local_push",
    }
)
INTEGRATION_TYPES = frozenset(
    {"device", "entity", "hardware", "helper", "hub", "service", "system", "virtual"}
)
BRAND_SIZES = {"icon.png": (256, 256), "icon@2x.png": (512, 512)}


def load_json(path: Path) -> Any:
    """Read a JSON file, keeping key order."""
    return json.loads(path.read_text(encoding="utf-8"))


def check_hacs(hacs: Mapping[str, Any]) -> list[str]:
    """Problems in hacs.json as the HACS action would report them."""
    problems = [
        f"hacs.json: unknown key '{key}' (HACS accepts {sorted(HACS_KEYS)})"
        for key in hacs
        if key not in HACS_KEYS
    ]
    if not isinstance(hacs.get("name"), str) or not hacs.get("name"):
        problems.append("hacs.json: 'name' is required and must be a string")
    minimum = hacs.get("homeassistant")
    if minimum is not None and not _is_calver(str(minimum)):
        problems.append(
            f"hacs.json: 'homeassistant' must be a Home Assistant version, "
            f"got {minimum!r}"
        )
    return problems


def check_manifest(manifest: Mapping[str, Any], domain: str) -> list[str]:
    """Problems in manifest.json as hassfest would report them."""
    problems = [
        f"manifest.json: unknown key '{key}'"
        for key in manifest
        if key not in MANIFEST_KEYS
    ]
    problems.extend(
        f"manifest.json: missing required key '{key}'"
        for key in MANIFEST_REQUIRED
        if key not in manifest
    )
    keys = list(manifest)
    expected = [k for k in ("domain", "name") if k in manifest] + sorted(
        k for k in keys if k not in ("domain", "name")
    )
    if keys != expected:
        problems.append(
            "manifest.json: keys must be domain, name, then alphabetical; "
            f"expected order {expected}, found {keys}"
        )
    if manifest.get("domain") != domain:
        problems.append(
            f"manifest.json: domain {manifest.get('domain')!r} does not match "
            f"the folder name {domain!r}"
        )
    version = manifest.get("version")
    if version is not None and not _is_valid_version(str(version)):
        problems.append(
            f"manifest.json: version {version!r} is not a valid "
            "SemVer/CalVer/SimpleVer/PEP 440 version"
        )
    if "iot_class" in manifest and manifest["iot_class"] not in IOT_CLASSES:
        problems.append(f"manifest.json: unknown iot_class {manifest['iot_class']!r}")
    integration_type = manifest.get("integration_type", "hub")
    if integration_type not in INTEGRATION_TYPES:
        problems.append(f"manifest.json: unknown integration_type {integration_type!r}")
    codeowners = manifest.get("codeowners", [])
    if not isinstance(codeowners, list) or not all(
        isinstance(owner, str) and owner.startswith("@") for owner in codeowners
    ):
        problems.append("manifest.json: codeowners must be a list of '@handles'")
    for key in ("documentation", "issue_tracker"):
        url = manifest.get(key)
        if url is not None and not str(url).startswith("https://"):
            problems.append(f"manifest.json: {key} must be an https URL")
    return problems


def check_brand(brand_dir: Path) -> list[str]:
    """Problems with the brand images a custom integration ships."""
    problems = []
    for name, size in BRAND_SIZES.items():
        path = brand_dir / name
        if not path.is_file():
            problems.append(f"brand/{name}: missing")
            continue
        with Image.open(path) as image:
            if image.format != "PNG":
                problems.append(f"brand/{name}: must be a PNG, is {image.format}")
            if image.size != size:
                problems.append(
                    f"brand/{name}: must be {size[0]}x{size[1]}, "
                    f"is {image.size[0]}x{image.size[1]}"
                )
    return problems


def check_translations_parse(path: Path) -> list[str]:
    """Problems reading translations/en.json."""
    try:
        data = load_json(path)
    except (OSError, json.JSONDecodeError) as err:
        return [f"{path.name}: cannot be read as JSON: {err}"]
    if not isinstance(data, dict):
        return [f"{path.name}: top level must be an object"]
    return [
        f"{path.name}: empty string at {key}"
        for key, value in flatten(data).items()
        if isinstance(value, str) and not value.strip()
    ]


def flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Flatten nested mappings to dotted keys."""
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{dotted}."))
        else:
            flat[dotted] = value
    return flat


def _is_valid_version(version: str) -> bool:
    return AwesomeVersion(version).strategy in (
        AwesomeVersionStrategy.CALVER,
        AwesomeVersionStrategy.SEMVER,
        AwesomeVersionStrategy.SIMPLEVER,
        AwesomeVersionStrategy.BUILDVER,
        AwesomeVersionStrategy.PEP440,
    )


def _is_calver(version: str) -> bool:
    return re.fullmatch(r"20\d\d\.\d{1,2}\.\d+(b\d+)?", version) is not None
