"""Packages the dev instance's built-in integrations need beyond .venv.

Home Assistant installs an integration's requirements when it first sets it
up. The dev instance runs it with --skip-pip instead: .venv belongs to uv,
whose exact sync removes what it did not install. The venv holds Home
Assistant's core (pytest-homeassistant-custom-component pins it) but not what
the integrations it sets up by default need: the frontend on every release,
and more on newer ones (hassil for conversation, for example). Those are
installed here into a directory of their own, pinned to the venv's versions
of whatever they share with it, which Home Assistant gets on PYTHONPATH.
Working that out imports much of Home Assistant, so a stamp file remembers
for which configuration it was done.
"""

from __future__ import annotations

from collections.abc import Iterable
import hashlib
import importlib.metadata
import json
from pathlib import Path
import shutil
import subprocess
import sys
import tempfile
from typing import Any, Final

from homeassistant import components
from homeassistant.const import __version__ as ha_version
from packaging.requirements import Requirement

REPO: Final = Path(__file__).resolve().parents[1]
CUSTOM_COMPONENTS: Final = REPO / "custom_components"
BUILT_IN: Final = Path(components.__file__).parent
# One directory per Home Assistant release, inside the venv it belongs to.
DEPS_ROOT: Final = Path(sys.prefix) / "home-assistant-deps"


def deps_dir() -> Path:
    """Where this Home Assistant release's extra packages live."""
    return DEPS_ROOT / ha_version


def manifest(domain: str) -> dict[str, Any]:
    """An integration's manifest: a custom integration's, else the built-in one."""
    for base in (CUSTOM_COMPONENTS, BUILT_IN):
        path = base / domain / "manifest.json"
        if path.is_file():
            return dict(json.loads(path.read_text(encoding="utf-8")))
    raise FileNotFoundError(f"no integration {domain!r}")


def configured_domains(configuration: Path) -> set[str]:
    """The integrations configuration.yaml sets up."""
    from homeassistant.helpers import config_validation as cv
    from homeassistant.util.yaml import load_yaml_dict

    return {cv.domain_key(key) for key in load_yaml_dict(configuration)}


def integrations_to_set_up(domains: Iterable[str]) -> set[str]:
    """`domains`, Home Assistant's own defaults, and all their dependencies."""
    from homeassistant import bootstrap

    pending = {
        *domains,
        *bootstrap.CORE_INTEGRATIONS,
        *bootstrap.DEFAULT_INTEGRATIONS,
    }
    found: set[str] = set()
    while pending:
        domain = pending.pop()
        found.add(domain)
        pending.update(set(manifest(domain).get("dependencies", ())) - found)
    return found


def missing_requirements(domains: Iterable[str], search_path: list[str]) -> list[str]:
    """Requirements of `domains` that no distribution on `search_path` meets."""
    missing: set[str] = set()
    for domain in domains:
        for line in manifest(domain).get("requirements", ()):
            requirement = Requirement(line)
            installed = next(
                iter(
                    importlib.metadata.distributions(
                        name=requirement.name, path=search_path
                    )
                ),
                None,
            )
            if installed is None or installed.version not in requirement.specifier:
                missing.add(line)
    return sorted(missing)


def _venv_pins() -> str:
    """The venv's distributions as pins (constraints for the install)."""
    return "\n".join(
        sorted(
            f"{dist.metadata['Name']}=={dist.version}"
            for dist in importlib.metadata.distributions()
        )
    )


def install(requirements: list[str], target: Path) -> None:
    """Install into `target`, keeping every package the venv has at its version."""
    from homeassistant import bootstrap

    uv = shutil.which("uv") or str(Path.home() / ".local" / "bin" / "uv")
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as pins:
        pins.write(_venv_pins())
        pins.flush()
        subprocess.run(  # noqa: S603 - arguments built here
            [
                uv,
                "pip",
                "install",
                "--quiet",
                "--python",
                sys.executable,
                "--target",
                str(target),
                "--constraint",
                pins.name,
                "--constraint",
                str(Path(bootstrap.__file__).with_name("package_constraints.txt")),
                *requirements,
            ],
            check=True,
        )


def fingerprint(configuration: Path) -> str:
    """What decides the requirements: the release, configuration, manifests."""
    digest = hashlib.sha256(ha_version.encode())
    for path in (configuration, *sorted(CUSTOM_COMPONENTS.glob("*/manifest.json"))):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def ensure_requirements(configuration: Path) -> Path:
    """Install what the instance's integrations lack; the directory for PYTHONPATH."""
    target = deps_dir()
    stamp = target / "checked-for"
    wanted = fingerprint(configuration)
    if stamp.is_file() and stamp.read_text(encoding="utf-8") == wanted:
        return target
    for other in DEPS_ROOT.glob("*"):
        if other != target:  # another release's packages
            shutil.rmtree(other)
    custom = {path.parent.name for path in CUSTOM_COMPONENTS.glob("*/manifest.json")}
    domains = integrations_to_set_up(configured_domains(configuration) | custom)
    if missing := missing_requirements(domains, [str(target), *sys.path]):
        names = ", ".join(Requirement(line).name for line in missing)
        print(f"Installing into {target}: {names} ...", flush=True)
        install(missing, target)
    target.mkdir(parents=True, exist_ok=True)
    stamp.write_text(wanted, encoding="utf-8")
    return target
