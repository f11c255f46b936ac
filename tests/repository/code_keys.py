"""Find the translation keys the integration's code uses, by reading its source.

hassfest checks this for core integrations with Home Assistant's own tooling;
here the integration's modules are parsed (never imported) and every place
that names a translation is turned into a `KeyUse`: the dotted path it needs
in translations/en.json, and where in the code it comes from.

What counts as a use:

- a call with `translation_domain=` and `translation_key=` (a translated
  exception) needs `exceptions.<key>.message`, whose placeholders must be
  the ones the call passes;
- `translation_key=` of an `...EntityDescription(...)`, or a class attribute
  `_attr_translation_key`, needs `entity.<platform>.<key>`;
- `translation_key=` of `async_create_issue` needs `issues.<key>`;
- `translation_key=` of a `...SelectorConfig(...)` (or set on one by
  subscript) needs `selector.<key>`;
- in a config, options, subentry or repair flow: abort reasons, form errors
  and `step_id`s need `<flow section>.abort|error|step.<key>`.

A value may be a literal, a constant (of the module or imported from the
package), a variable assigned literals in the same function, a parameter
(resolved at every call of the function in the module), an attribute set
from a constructor parameter, or a call of a package function that returns
literals. Anything else is reported as unresolved, so that the check never
passes by not looking.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
import string

PLATFORMS = frozenset(
    {
        "binary_sensor",
        "button",
        "calendar",
        "event",
        "sensor",
        "switch",
        "select",
        "number",
        "lock",
        "text",
        "time",
        "date",
        "datetime",
        "todo",
    }
)
FLOW_BASES = {
    "ConfigFlow": "config",
    "AbstractOAuth2FlowHandler": "config",
    "OptionsFlow": "options",
    "OptionsFlowWithReload": "options",
}


@dataclass(frozen=True, slots=True)
class KeyUse:
    """A translation the code needs; `placeholders` when the code passes them."""

    path: tuple[str, ...]
    where: str
    placeholders: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class Unresolved:
    """A translation key the scanner could not follow to its values."""

    where: str
    what: str


def placeholders_of(text: str) -> frozenset[str]:
    """The `{name}` placeholders of a translated string."""
    return frozenset(
        name for _, name, _, _ in string.Formatter().parse(text) if name is not None
    )


class Package:
    """Every module of the integration, parsed."""

    def __init__(self, root: Path) -> None:
        """Parse each Python file under `root`."""
        self.root = root
        self.modules = {
            path: ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for path in sorted(root.rglob("*.py"))
        }
        self.uses: list[KeyUse] = []
        self.unresolved: list[Unresolved] = []
        self._scopes: dict[Path, _Module] = {}
        self.subentry_types: dict[str, str] = {}

    def scan(self) -> tuple[list[KeyUse], list[Unresolved]]:
        """Every translation use of the package, and what could not be followed."""
        self.subentry_types = self._subentry_types()
        for path in self.modules:
            self.module(path).scan()
        return self.uses, self.unresolved

    def module(self, path: Path) -> _Module:
        """The scanner of one module (built once)."""
        if path not in self._scopes:
            self._scopes[path] = _Module(self, path, self.modules[path])
        return self._scopes[path]

    def services(self) -> tuple[set[str], list[Unresolved]]:
        """The action names the package registers with `async_register`."""
        names: set[str] = set()
        unresolved: list[Unresolved] = []
        for path in self.modules:
            module = self.module(path)
            for call in module._calls_named("async_register"):
                if len(call.args) < 2:
                    continue
                resolved = module._resolve(call.args[1], call, 0)
                if resolved is None:
                    unresolved.append(
                        Unresolved(module.where(call), "cannot follow the action name")
                    )
                else:
                    names |= resolved
        return names, unresolved

    def module_named(
        self, dotted: str, importer: Path
    ) -> tuple[Path, ast.Module] | None:
        """The package module a relative import names."""
        level = len(dotted) - len(dotted.lstrip("."))
        base = importer.parent
        for _ in range(level - 1):
            base = base.parent
        parts = [part for part in dotted.lstrip(".").split(".") if part]
        candidate = base.joinpath(*parts)
        for path in (candidate.with_suffix(".py"), candidate / "__init__.py"):
            if path in self.modules:
                return self.module(path)
        return None

    def _subentry_types(self) -> dict[str, str]:
        """Subentry flow class name → subentry type, from `{TYPE: Class}` maps."""
        found: dict[str, str] = {}
        for path, tree in self.modules.items():
            module = self.module(path)
            for node in ast.walk(tree):
                if isinstance(node, ast.FunctionDef) and (
                    node.name == "async_get_supported_subentry_types"
                ):
                    for inner in ast.walk(node):
                        if isinstance(inner, ast.Dict):
                            for key, value in zip(
                                inner.keys, inner.values, strict=True
                            ):
                                if key is not None and isinstance(value, ast.Name):
                                    for resolved in module.values(key, None):
                                        found[value.id] = resolved
        return found


class _Module:
    """One module: its constants, functions, classes and translation uses."""

    def __init__(self, package: Package, path: Path, tree: ast.Module) -> None:
        self.package = package
        self.path = path
        self.tree = tree
        self.functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
        self.classes: dict[str, ast.ClassDef] = {}
        self.parents: dict[ast.AST, ast.AST] = {}
        for node in ast.walk(tree):
            for child in ast.iter_child_nodes(node):
                self.parents[child] = node
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                self.functions.setdefault(node.name, node)
            elif isinstance(node, ast.ClassDef):
                self.classes[node.name] = node

    @property
    def relative(self) -> str:
        return str(self.path.relative_to(self.package.root.parent.parent))

    def where(self, node: ast.AST) -> str:
        return f"{self.relative}:{getattr(node, 'lineno', 0)}"

    # --- scanning ---------------------------------------------------------------

    def scan(self) -> None:
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Call):
                self._call(node)
            elif isinstance(node, ast.Assign):
                self._assign(node)
        for cls in self.classes.values():
            section = self._flow_section(cls)
            if section is not None:
                self._flow(cls, section)

    def _call(self, call: ast.Call) -> None:
        keywords = {kw.arg: kw.value for kw in call.keywords if kw.arg}
        value = keywords.get("translation_key")
        if value is None:
            return
        name = _callee(call)
        if "translation_domain" in keywords:
            placeholders = _dict_keys(keywords.get("translation_placeholders"), self)
            for key in self.values(value, call):
                self._use(("exceptions", key, "message"), call, placeholders)
        elif name.endswith("EntityDescription"):
            for key in self.values(value, call):
                self._use(("entity", self._platform(call), key), call)
        elif name == "async_create_issue":
            for key in self.values(value, call):
                self._use(("issues", key), call)
        elif name.endswith("SelectorConfig"):
            for key in self.values(value, call):
                self._use(("selector", key), call)
        elif name not in self.functions and name not in self.classes:
            self.package.unresolved.append(
                Unresolved(self.where(call), f"translation_key passed to {name}()")
            )
        # A call of a local helper forwards the key: its use inside is scanned.

    def _assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            if _name(target) == "_attr_translation_key":
                for key in self.values(node.value, node):
                    self._use(("entity", self._platform(node), key), node)
            elif (
                isinstance(target, ast.Subscript)
                and isinstance(target.slice, ast.Constant)
                and target.slice.value == "translation_key"
            ):
                if self._assigned_from(target.value, node).endswith("SelectorConfig"):
                    for key in self.values(node.value, node):
                        self._use(("selector", key), node)
                else:
                    self.package.unresolved.append(
                        Unresolved(self.where(node), "translation_key set by subscript")
                    )

    def _platform(self, node: ast.AST) -> str:
        if self.path.stem in PLATFORMS:
            return self.path.stem
        self.package.unresolved.append(
            Unresolved(self.where(node), "entity translation outside a platform module")
        )
        return self.path.stem

    def _use(
        self,
        path: tuple[str, ...],
        node: ast.AST,
        placeholders: frozenset[str] | None = None,
    ) -> None:
        self.package.uses.append(KeyUse(path, self.where(node), placeholders))

    # --- flows ------------------------------------------------------------------

    def _flow_section(self, cls: ast.ClassDef) -> list[tuple[str, ...]] | None:
        bases = {_name(base) for base in cls.bases}
        for base, section in FLOW_BASES.items():
            if base in bases:
                return [(section,)]
        if "ConfigSubentryFlow" in bases:
            kind = self.package.subentry_types.get(cls.name)
            if kind is None:
                self.package.unresolved.append(
                    Unresolved(self.where(cls), f"no subentry type maps {cls.name}")
                )
                return None
            return [("config_subentries", kind)]
        if "RepairsFlow" in bases:
            return [("issues", key, "fix_flow") for key in self._fixable_issues()]
        return None

    def _fixable_issues(self) -> list[str]:
        keys: list[str] = []
        for call in self._calls_named("async_create_issue"):
            kw = {k.arg: k.value for k in call.keywords if k.arg}
            fixable = kw.get("is_fixable")
            if isinstance(fixable, ast.Constant) and fixable.value is True:
                keys.extend(self.values(kw["translation_key"], call))
        return keys

    def _flow(self, cls: ast.ClassDef, sections: list[tuple[str, ...]]) -> None:
        scopes: list[ast.AST] = [cls]
        # Module-level helpers of a flow module (validators) report errors too.
        scopes.extend(
            node
            for node in self.tree.body
            if isinstance(node, ast.FunctionDef) and node.name.startswith("validate")
        )
        for scope in scopes:
            for node in ast.walk(scope):
                for kind, value, origin in self._flow_keys(node):
                    for key in self.values(value, origin):
                        for section in sections:
                            self._use((*section, *kind.split("."), key), origin)

    def _flow_keys(self, node: ast.AST) -> Iterator[tuple[str, ast.expr, ast.AST]]:
        if isinstance(node, ast.Call):
            name = _callee(node)
            kw = {k.arg: k.value for k in node.keywords if k.arg}
            if name == "async_abort" and "reason" in kw:
                yield "abort", kw["reason"], node
            if name in {"async_show_form", "async_show_menu"}:
                # Without `step_id` (deprecated) the step is the method's.
                step = kw.get("step_id") or self._step_of(node)
                if step is None:
                    self.package.unresolved.append(
                        Unresolved(self.where(node), f"{name} outside a step")
                    )
                    return
                yield "step", step, node
                options = kw.get("menu_options")
                if isinstance(options, ast.List | ast.Tuple):
                    for step_id in self.values(step, node):
                        for option in options.elts:
                            yield f"step.{step_id}.menu_options", option, node
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if (
                    isinstance(target, ast.Subscript)
                    and _name(target.value) == "errors"
                ):
                    yield "error", node.value, node
                if isinstance(target, ast.Name) and target.id == "errors":
                    yield from _dict_values("error", node.value, node)
        elif isinstance(node, ast.AnnAssign) and _name(node.target) == "errors":
            if node.value is not None:
                yield from _dict_values("error", node.value, node)
        elif isinstance(node, ast.Dict) and any(
            isinstance(key, ast.Constant) and key.value == "base" for key in node.keys
        ):
            yield from _dict_values("error", node, node)
        elif isinstance(node, ast.Return) and node.value is not None:
            function = self._enclosing_function(node)
            if function is not None and function.name.startswith("validate"):
                first = (
                    node.value.elts[0]
                    if isinstance(node.value, ast.Tuple)
                    else node.value
                )
                yield from _dict_values("error", first, node)

    def _step_of(self, node: ast.AST) -> ast.expr | None:
        """The step a form belongs to: its `async_step_<id>` method, as a literal."""
        function = self._enclosing_function(node)
        if function is None or not function.name.startswith("async_step_"):
            return None
        return ast.Constant(function.name.removeprefix("async_step_"))

    # --- resolving values ---------------------------------------------------------

    def values(self, expr: ast.expr, origin: ast.AST | None) -> list[str]:
        """Every string `expr` can be, or an unresolved report."""
        found = self._resolve(expr, origin, depth=0)
        if found is None:
            self.package.unresolved.append(
                Unresolved(
                    self.where(origin or expr), f"cannot follow {ast.unparse(expr)}"
                )
            )
            return []
        return sorted(found)

    def _resolve(
        self, expr: ast.expr, origin: ast.AST | None, depth: int
    ) -> set[str] | None:
        if depth > 5:
            return None
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            return {expr.value}
        if isinstance(expr, ast.Name):
            return self._resolve_name(expr.id, origin, depth)
        if isinstance(expr, ast.Attribute):
            return self._resolve_attribute(expr.attr, depth)
        if isinstance(expr, ast.Call):
            return self._resolve_call(expr, depth)
        return None

    def _resolve_name(
        self, name: str, origin: ast.AST | None, depth: int
    ) -> set[str] | None:
        function = self._enclosing_function(origin) if origin is not None else None
        if function is not None:
            local = self._assigned_literals(function, name)
            if local:
                return local
            if name in _parameters(function):
                return self._forwarded(function, name, depth)
        return self._constant(name)

    def _constant(self, name: str) -> set[str] | None:
        for node in self.tree.body:
            if isinstance(node, ast.Assign | ast.AnnAssign):
                targets = (
                    node.targets if isinstance(node, ast.Assign) else [node.target]
                )
                if any(_name(t) == name for t in targets) and isinstance(
                    node.value, ast.Constant
                ):
                    return {str(node.value.value)}
        if (imported := self._importing(name)) is not None:
            return imported._constant(self._imported_name(name))
        return None

    def _importing(self, name: str) -> _Module | None:
        """The package module that `name` is imported from here."""
        for node in self.tree.body:
            if (
                isinstance(node, ast.ImportFrom)
                and node.level > 0
                and any((alias.asname or alias.name) == name for alias in node.names)
            ):
                return self.package.module_named(
                    "." * node.level + (node.module or ""), self.path
                )
        return None

    def _imported_name(self, name: str) -> str:
        for node in self.tree.body:
            if isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    if (alias.asname or alias.name) == name:
                        return alias.name
        return name

    def _forwarded(
        self,
        function: ast.FunctionDef | ast.AsyncFunctionDef,
        name: str,
        depth: int,
    ) -> set[str] | None:
        """The values a parameter gets at every call of its function here."""
        params = _parameters(function)
        index = params.index(name)
        if params and params[0] in {"self", "cls"}:
            index -= 1
        found: set[str] = set()
        calls = list(self._calls_named(function.name))
        if not calls:
            return None
        for call in calls:
            argument = next(
                (kw.value for kw in call.keywords if kw.arg == name),
                call.args[index] if 0 <= index < len(call.args) else None,
            )
            if argument is None:
                default = _default(function, name)
                if default is None:
                    continue
                argument = default
            if isinstance(argument, ast.Constant) and argument.value is None:
                continue
            resolved = self._resolve(argument, call, depth + 1)
            if resolved is None:
                return None
            found |= resolved
        return found

    def _resolve_attribute(self, attr: str, depth: int) -> set[str] | None:
        """`err.reason`: the constructor argument of a local class that sets it."""
        for cls in self.classes.values():
            init = next(
                (
                    node
                    for node in cls.body
                    if isinstance(node, ast.FunctionDef) and node.name == "__init__"
                ),
                None,
            )
            if init is not None and attr in _parameters(init):
                index = _parameters(init).index(attr) - 1
                found: set[str] = set()
                for call in self._calls_named(cls.name):
                    if index < len(call.args):
                        resolved = self._resolve(call.args[index], call, depth + 1)
                        if resolved is None:
                            return None
                        found |= resolved
                return found or None
        return None

    def _resolve_call(self, call: ast.Call, depth: int) -> set[str] | None:
        """A call of a package function that only returns literals."""
        name = _callee(call)
        function = self.functions.get(name)
        module = self
        if function is None and (imported := self._importing(name)) is not None:
            module = imported
            function = module.functions.get(name)
        if function is None:
            return None
        values: set[str] = set()
        for node in ast.walk(function):
            if isinstance(node, ast.Return) and node.value is not None:
                resolved = module._resolve(node.value, node, depth + 1)
                if resolved is None:
                    return None
                values |= resolved
        return values or None

    # --- helpers ------------------------------------------------------------------

    def _enclosing_function(
        self, node: ast.AST
    ) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
        current = self.parents.get(node)
        while current is not None:
            if isinstance(current, ast.FunctionDef | ast.AsyncFunctionDef):
                return current
            current = self.parents.get(current)
        return None

    def _assigned_literals(
        self, function: ast.FunctionDef | ast.AsyncFunctionDef, name: str
    ) -> set[str]:
        found: set[str] = set()
        for node in ast.walk(function):
            if (
                isinstance(node, ast.Assign)
                and any(_name(t) == name for t in node.targets)
                and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)
            ):
                found.add(node.value.value)
        return found

    def _assigned_from(self, target: ast.expr, origin: ast.AST) -> str:
        function = self._enclosing_function(origin)
        for node in ast.walk(function or self.tree):
            if (
                isinstance(node, ast.Assign)
                and any(_name(t) == _name(target) for t in node.targets)
                and isinstance(node.value, ast.Call)
            ):
                return _callee(node.value)
        return ""

    def _calls_named(self, name: str) -> Iterator[ast.Call]:
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Call) and _callee(node) == name:
                yield node


def _callee(call: ast.Call) -> str:
    return _name(call.func)


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Subscript):
        return _name(node.value)
    return ""


def _parameters(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    args = function.args
    return [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)]


def _default(
    function: ast.FunctionDef | ast.AsyncFunctionDef, name: str
) -> ast.expr | None:
    args = function.args
    positional = [*args.posonlyargs, *args.args]
    offset = len(positional) - len(args.defaults)
    for i, arg in enumerate(positional):
        if arg.arg == name and i >= offset:
            return args.defaults[i - offset]
    for arg, default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        if arg.arg == name:
            return default
    return None


def _dict_keys(expr: ast.expr | None, module: _Module) -> frozenset[str] | None:
    """The keys of a literal placeholders dict (None when not a literal)."""
    if expr is None:
        return frozenset()
    if not isinstance(expr, ast.Dict):
        return None
    keys: set[str] = set()
    for key in expr.keys:
        resolved = module._resolve(key, None, 0) if key is not None else None
        if resolved is None:
            return None
        keys |= resolved
    return frozenset(keys)


def _dict_values(
    kind: str, expr: ast.expr, origin: ast.AST
) -> Iterable[tuple[str, ast.expr, ast.AST]]:
    if isinstance(expr, ast.Dict):
        for value in expr.values:
            yield kind, value, origin
