"""Checks that hassfest and the HACS action would make, runnable offline.

Each check returns a list of human-readable problems (empty when all is well),
so a failing test says exactly what is wrong and where.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
import json
from pathlib import Path
import re
from typing import Any

from awesomeversion import AwesomeVersion, AwesomeVersionStrategy
from PIL import Image
import yaml

from .code_keys import PLATFORMS, KeyUse, Unresolved, placeholders_of

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


# --- actions, translation keys, quality scale --------------------------------------


def check_services(
    services: Mapping[str, Any],
    translations: Mapping[str, Any],
    icons: Mapping[str, Any],
    registered: set[str],
) -> list[str]:
    """services.yaml against the code, en.json's services and icons.json."""
    problems: list[str] = []
    declared = set(services)
    problems.extend(
        f"services.yaml: action '{name}' is registered in code but not described"
        for name in sorted(registered - declared)
    )
    problems.extend(
        f"services.yaml: action '{name}' is described but never registered"
        for name in sorted(declared - registered)
    )
    texts = translations.get("services", {})
    for name in sorted(declared):
        fields = set((services[name] or {}).get("fields") or {})
        text = texts.get(name)
        if not isinstance(text, Mapping):
            problems.append(f"en.json: services.{name} is missing")
            continue
        problems.extend(
            f"en.json: services.{name}.{key} is missing"
            for key in ("name", "description")
            if not text.get(key)
        )
        translated = set(text.get("fields") or {})
        problems.extend(
            f"en.json: services.{name}.fields.{field} is missing"
            for field in sorted(fields - translated)
        )
        problems.extend(
            f"en.json: services.{name}.fields.{field} has no such field "
            "in services.yaml"
            for field in sorted(translated - fields)
        )
        for field in sorted(fields & translated):
            problems.extend(
                f"en.json: services.{name}.fields.{field}.{key} is missing"
                for key in ("name", "description")
                if not text["fields"][field].get(key)
            )
        if not (icons.get("services", {}).get(name) or {}).get("service"):
            problems.append(f"icons.json: services.{name}.service is missing")
    problems.extend(
        f"en.json: services.{name} describes an action services.yaml does not have"
        for name in sorted(set(texts) - declared)
    )
    return problems


def check_translation_uses(
    uses: Iterable[KeyUse],
    unresolved: Iterable[Unresolved],
    translations: Mapping[str, Any],
) -> list[str]:
    """Every translation the code needs exists, with the placeholders it passes."""
    problems = {f"{miss.where}: {miss.what}" for miss in unresolved}
    for use in uses:
        dotted = ".".join(use.path)
        node = _lookup(translations, use.path)
        if node is None:
            problems.add(f"{use.where}: en.json has no {dotted}")
        elif use.placeholders is not None and isinstance(node, str):
            expected = placeholders_of(node)
            if expected != use.placeholders:
                problems.add(
                    f"{use.where}: {dotted} has placeholders {sorted(expected)} "
                    f"but the code passes {sorted(use.placeholders)}"
                )
    return sorted(problems)


def check_issue_translations(translations: Mapping[str, Any]) -> list[str]:
    """Each issue has a title and either a description or a fix flow."""
    problems: list[str] = []
    for key, issue in translations.get("issues", {}).items():
        if not issue.get("title"):
            problems.append(f"en.json: issues.{key}.title is missing")
        if ("description" in issue) == ("fix_flow" in issue):
            problems.append(
                f"en.json: issues.{key} needs exactly one of description and fix_flow"
            )
    return problems


# Every rule of Home Assistant's integration quality scale, by tier.
QUALITY_SCALE_RULES: dict[str, tuple[str, ...]] = {
    "bronze": (
        "action-setup",
        "appropriate-polling",
        "brands",
        "common-modules",
        "config-flow",
        "config-flow-test-coverage",
        "dependency-transparency",
        "docs-actions",
        "docs-conditions",
        "docs-high-level-description",
        "docs-installation-instructions",
        "docs-removal-instructions",
        "docs-triggers",
        "entity-event-setup",
        "entity-unique-id",
        "has-entity-name",
        "runtime-data",
        "test-before-configure",
        "test-before-setup",
        "unique-config-entry",
    ),
    "silver": (
        "action-exceptions",
        "config-entry-unloading",
        "docs-configuration-parameters",
        "docs-installation-parameters",
        "entity-unavailable",
        "integration-owner",
        "log-when-unavailable",
        "parallel-updates",
        "reauthentication-flow",
        "test-coverage",
    ),
    "gold": (
        "devices",
        "diagnostics",
        "discovery",
        "discovery-update-info",
        "docs-data-update",
        "docs-examples",
        "docs-known-limitations",
        "docs-supported-devices",
        "docs-supported-functions",
        "docs-troubleshooting",
        "docs-use-cases",
        "dynamic-devices",
        "entity-category",
        "entity-device-class",
        "entity-disabled-by-default",
        "entity-translations",
        "exception-translations",
        "icon-translations",
        "reconfiguration-flow",
        "repair-issues",
        "stale-devices",
    ),
    "platinum": ("async-dependency", "inject-websession", "strict-typing"),
}
QUALITY_SCALE_STATUSES = frozenset({"done", "todo", "exempt"})


def check_quality_scale(data: Any, evidence: Mapping[str, str | None]) -> list[str]:
    """Every rule is there with a status and a reason; `done` has its evidence.

    `evidence` maps a rule to what contradicts `done` (None when the code
    backs it up); rules without an entry cannot be checked mechanically.
    """
    if not isinstance(data, Mapping) or not isinstance(data.get("rules"), Mapping):
        return ["quality_scale.yaml: needs a top-level 'rules' mapping"]
    rules: Mapping[str, Any] = data["rules"]
    known = {rule for tier in QUALITY_SCALE_RULES.values() for rule in tier}
    problems = [
        f"quality_scale.yaml: unknown rule '{rule}'"
        for rule in rules
        if rule not in known
    ]
    for tier, names in QUALITY_SCALE_RULES.items():
        for rule in names:
            entry = rules.get(rule)
            if entry is None:
                problems.append(f"quality_scale.yaml: {tier} rule '{rule}' is missing")
                continue
            if not isinstance(entry, Mapping):
                problems.append(
                    f"quality_scale.yaml: '{rule}' needs a status and a comment"
                )
                continue
            status = entry.get("status")
            if status not in QUALITY_SCALE_STATUSES:
                problems.append(
                    f"quality_scale.yaml: '{rule}' has status {status!r}; "
                    "use done, todo or exempt"
                )
            comment = entry.get("comment")
            if not isinstance(comment, str) or not comment.strip():
                problems.append(f"quality_scale.yaml: '{rule}' needs a comment (why)")
            if status == "done" and (contradiction := evidence.get(rule)):
                problems.append(
                    f"quality_scale.yaml: '{rule}' is marked done but {contradiction}"
                )
    return problems


def quality_scale_evidence(integration: Path, repo_root: Path) -> dict[str, str | None]:
    """What the repository says about the rules that can be checked mechanically."""

    def source(name: str) -> str:
        path = integration / name
        return path.read_text(encoding="utf-8") if path.is_file() else ""

    def unless(holds: bool, contradiction: str) -> str | None:
        return None if holds else contradiction

    readme = (repo_root / "README.md").read_text(encoding="utf-8")
    actions = set(load_yaml(integration / "services.yaml") or {})
    code = {
        path.name: path.read_text(encoding="utf-8") for path in integration.glob("*.py")
    }
    platforms = [name for name in code if name.removesuffix(".py") in PLATFORMS]
    manifest = load_json(integration / "manifest.json")
    translations = load_json(integration / "translations" / "en.json")
    discovery_keys = {"bluetooth", "dhcp", "homekit", "mqtt", "ssdp", "usb", "zeroconf"}
    return {
        "docs-actions": unless(
            all(f"`{name}`" in readme_section(readme, "Actions") for name in actions),
            "the README's Actions section does not name every action",
        ),
        "docs-examples": unless(
            "```yaml" in readme_section(readme, "Examples"),
            "the README's Examples section has no YAML example",
        ),
        "docs-supported-functions": unless(
            bool(readme_section(readme, "Entities"))
            and bool(readme_section(readme, "Actions")),
            "the README does not describe the entities and actions",
        ),
        "docs-installation-instructions": unless(
            bool(readme_section(readme, "Installation")),
            "the README has no Installation section",
        ),
        "docs-removal-instructions": unless(
            bool(readme_section(readme, "Removal")), "the README has no Removal section"
        ),
        "docs-troubleshooting": unless(
            bool(readme_section(readme, "Troubleshooting")),
            "the README has no Troubleshooting section",
        ),
        "docs-known-limitations": unless(
            bool(readme_section(readme, "Limits")), "the README has no Limits section"
        ),
        "action-setup": unless(
            "async def async_setup(" in source("__init__.py")
            and (integration / "services.yaml").is_file(),
            "__init__.py registers no actions in async_setup",
        ),
        "brands": unless(
            (integration / "brand" / "icon.png").is_file(), "brand/icon.png is missing"
        ),
        "config-flow": unless(
            manifest.get("config_flow") is True and "config_flow.py" in code,
            "there is no config flow",
        ),
        "runtime-data": unless(
            "runtime_data" in source("__init__.py"), "__init__.py sets no runtime_data"
        ),
        "unique-config-entry": unless(
            "async_set_unique_id" in source("config_flow.py"),
            "the config flow sets no unique id",
        ),
        "config-entry-unloading": unless(
            "async def async_unload_entry(" in source("__init__.py"),
            "__init__.py has no async_unload_entry",
        ),
        "reauthentication-flow": unless(
            "async_step_reauth" in source("config_flow.py"),
            "the config flow has no reauth step",
        ),
        "parallel-updates": unless(
            bool(platforms)
            and all("PARALLEL_UPDATES" in code[name] for name in platforms),
            "a platform module does not set PARALLEL_UPDATES",
        ),
        "has-entity-name": unless(
            any("_attr_has_entity_name = True" in text for text in code.values()),
            "no entity sets _attr_has_entity_name",
        ),
        "devices": unless(
            any("DeviceInfo(" in text for text in code.values()),
            "no entity has a device",
        ),
        "diagnostics": unless(
            "async_get_config_entry_diagnostics" in source("diagnostics.py"),
            "diagnostics.py does not provide config entry diagnostics",
        ),
        "discovery": unless(
            bool(discovery_keys & set(manifest)), "manifest.json declares no discovery"
        ),
        "entity-translations": unless(
            "entity" in translations, "en.json has no entity translations"
        ),
        "exception-translations": unless(
            "exceptions" in translations, "en.json has no exception translations"
        ),
        "icon-translations": unless(
            (integration / "icons.json").is_file(), "icons.json is missing"
        ),
        "reconfiguration-flow": unless(
            "async_step_reconfigure" in source("config_flow.py"),
            "the config flow has no reconfigure step",
        ),
        "repair-issues": unless(
            "async_create_issue" in source("repairs.py"), "no repair issue is raised"
        ),
        "inject-websession": unless(
            "async_get_clientsession" in source("__init__.py"),
            "the clients do not get Home Assistant's session",
        ),
        "strict-typing": unless(
            "mypy --strict"
            in (repo_root / "scripts" / "lint").read_text(encoding="utf-8"),
            "scripts/lint does not run mypy --strict",
        ),
    }


def load_yaml(path: Path) -> Any:
    """Read a YAML file (anchors allowed, as Home Assistant's loader does)."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def readme_section(readme: str, title: str) -> str:
    """The text of a `##` section, without HTML comments (empty when absent)."""
    match = re.search(
        rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", readme, re.MULTILINE | re.DOTALL
    )
    if match is None:
        return ""
    return re.sub(r"<!--.*?-->", "", match.group(1), flags=re.DOTALL).strip()


def _lookup(tree: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = tree
    for part in path:
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node
