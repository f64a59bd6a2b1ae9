"""Module registry: discover -> validate -> order -> load (ARCHITECTURE §3).

No database access happens while loading. Every failure is a ``ModuleError`` that names
the module (Flask-AppBuilder's habit of logging and carrying on is not acceptable here:
a half-loaded ERP is worse than one that refuses to start).
"""
import importlib
import importlib.util
import logging
import pkgutil
from dataclasses import replace
from importlib.metadata import entry_points
from pathlib import Path

import pluggy

from . import hookspecs
from .errors import ModuleError
from .manifest import ModuleManifest

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parent.parent
ENTRY_POINT_GROUP = "houqin.modules"
SOURCES = ("modules", "plugins")


def _manifest_from(package, source):
    try:
        mod = importlib.import_module(f"{package}.manifest")
    except Exception as exc:  # a broken manifest must name its module
        raise ModuleError(f"module {package}: cannot import its manifest: {exc}") from exc
    manifest = getattr(mod, "manifest", None)
    if not isinstance(manifest, ModuleManifest):
        raise ModuleError(f"module {package}: manifest.py must define `manifest = ModuleManifest(...)`")
    path = str(Path(importlib.import_module(package).__file__).parent)
    return replace(manifest, package=package, source=source, path=path)


def discover(extra=()):
    """All manifests found, in discovery order: modules/, plugins/, entry points, then
    packages named in config ``HOUQIN_EXTRA_MODULES`` (tests, site-specific code)."""
    found = []
    for source in SOURCES:
        folder = ROOT / source
        if not folder.is_dir():
            continue
        for info in sorted(pkgutil.iter_modules([str(folder)]), key=lambda i: i.name):
            if info.ispkg and (folder / info.name / "manifest.py").exists():
                found.append(_manifest_from(f"{source}.{info.name}", source))
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        package = ep.value.split(":")[0]
        if any(m.package == package for m in found):
            continue  # an in-tree package installed in develop mode is the same module
        found.append(_manifest_from(package, "entry point"))
    for package in extra:
        found.append(_manifest_from(package, "config"))
    return found


def validate(manifests, disabled=()):
    """Return the enabled manifests; raise ModuleError on duplicates, missing or disabled
    dependencies, and cycles."""
    seen = {}
    for m in manifests:
        if m.name in seen:
            raise ModuleError(
                f"module {m.name}: duplicate name ({seen[m.name].package} and {m.package})")
        seen[m.name] = m
    disabled = set(disabled)
    unknown = disabled - set(seen)
    if unknown:
        raise ModuleError(f"HOUQIN_DISABLED_MODULES names unknown module(s): {', '.join(sorted(unknown))}")
    enabled = [m for m in manifests if m.name not in disabled]
    names = {m.name for m in enabled}
    for m in enabled:
        for dep in m.depends:
            if dep in disabled:
                raise ModuleError(f"module {m.name}: depends on {dep}, which is disabled")
            if dep not in names:
                raise ModuleError(f"module {m.name}: depends on {dep}, which is not installed")
    return order(enabled)


def order(manifests):
    """Stable topological sort: dependencies first, otherwise discovery order."""
    by_name = {m.name: m for m in manifests}
    result, state = [], {}

    def visit(m, path):
        if state.get(m.name) == "done":
            return
        if state.get(m.name) == "visiting":
            cycle = " -> ".join(path[path.index(m.name):] + [m.name])
            raise ModuleError(f"module {m.name}: dependency cycle {cycle}")
        state[m.name] = "visiting"
        for dep in m.depends:
            visit(by_name[dep], path + [m.name])
        state[m.name] = "done"
        result.append(m)

    for m in manifests:
        visit(m, [])
    return result


class Registry:
    """The loaded modules of one app, plus its pluggy manager."""

    def __init__(self, manifests):
        self.modules = list(manifests)
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)

    @classmethod
    def load(cls, disabled=(), extra=()):
        reg = cls(validate(discover(extra), disabled))
        reg._import("models")
        reg._register_hooks()
        return reg

    def _import(self, submodule):
        for m in self.modules:
            name = f"{m.package}.{submodule}"
            if importlib.util.find_spec(name) is None:
                continue
            try:
                importlib.import_module(name)
            except Exception as exc:
                raise ModuleError(f"module {m.name}: importing {submodule} failed: {exc}") from exc

    def _register_hooks(self):
        # Specs first (a module may implement a hook that a later module publishes).
        for m in self.modules:
            if importlib.util.find_spec(f"{m.package}.hookspecs"):
                self.pm.add_hookspecs(importlib.import_module(f"{m.package}.hookspecs"))
        for m in self.modules:
            if importlib.util.find_spec(f"{m.package}.hooks") is None:
                continue
            try:
                self.pm.register(importlib.import_module(f"{m.package}.hooks"), name=m.name)
            except Exception as exc:
                raise ModuleError(f"module {m.name}: registering hooks failed: {exc}") from exc
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            raise ModuleError(f"module {exc.plugin_name if hasattr(exc, 'plugin_name') else '?'}: {exc}") from exc

    def call(self, hook, **kwargs):
        """Call ``hook`` module by module, in load order, returning ``[(name, result)]``.

        A module whose hook raises stops startup with an error naming it. (pluggy alone
        would call in reverse registration order and lose which module failed.)
        """
        results = []
        impls = {i.plugin_name: i for i in getattr(self.pm.hook, hook).get_hookimpls()}
        for m in self.modules:
            impl = impls.get(m.name)
            if impl is None:
                continue
            try:
                results.append((m.name, impl.function(**{a: kwargs[a] for a in impl.argnames})))
            except ModuleError:
                raise
            except Exception as exc:
                raise ModuleError(f"module {m.name}: hook {hook} failed: {exc}") from exc
        return results

    def collect(self, hook, **kwargs):
        """Flatten list results of ``hook`` across modules."""
        out = []
        for _name, result in self.call(hook, **kwargs):
            out.extend(result or [])
        return out

    def get(self, name):
        return next((m for m in self.modules if m.name == name), None)

    def module_of(self, obj):
        """The manifest a class or python module belongs to (by package prefix)."""
        modname = obj if isinstance(obj, str) else obj.__module__
        for m in self.modules:
            if modname == m.package or modname.startswith(m.package + "."):
                return m
        return None
