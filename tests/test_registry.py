"""Module registry: discovery, validation errors that name the module, order, hooks."""
import sys
import textwrap

import pytest

from erp_core.errors import ModuleError
from erp_core.manifest import ModuleManifest
from erp_core.registry import Registry, discover, order, validate


def m(name, *depends):
    return ModuleManifest(name=name, title=name, depends=depends)


def test_order_puts_dependencies_first_and_is_stable():
    mods = [m("procurement", "vendor_contracts"), m("catering"), m("vendor_contracts")]
    assert [x.name for x in order(mods)] == ["vendor_contracts", "procurement", "catering"]


def test_duplicate_name_is_refused():
    with pytest.raises(ModuleError, match="module rentals: duplicate"):
        validate([m("rentals"), m("rentals")])


def test_missing_dependency_names_the_module():
    with pytest.raises(ModuleError, match="module procurement: depends on vendor_contracts, which is not installed"):
        validate([m("procurement", "vendor_contracts")])


def test_disabled_dependency_names_the_module():
    with pytest.raises(ModuleError, match="module procurement: depends on vendor_contracts, which is disabled"):
        validate([m("procurement", "vendor_contracts"), m("vendor_contracts")], disabled=["vendor_contracts"])


def test_cycle_is_refused_with_the_path():
    with pytest.raises(ModuleError, match="dependency cycle a -> b -> a"):
        validate([m("a", "b"), m("b", "a")])


def test_unknown_disabled_module_is_refused():
    with pytest.raises(ModuleError, match="unknown module"):
        validate([m("a")], disabled=["nope"])


def test_bad_manifest_name():
    with pytest.raises(ValueError):
        ModuleManifest(name="Bad-Name", title="x")


@pytest.fixture
def make_pkg(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    made = []

    def _make(name, hooks="", manifest_extra=""):
        pkg = tmp_path / name
        pkg.mkdir()
        (pkg / "__init__.py").write_text("")
        (pkg / "manifest.py").write_text(
            "from erp_core.manifest import ModuleManifest\n"
            f"manifest = ModuleManifest(name={name!r}, title={name!r}{manifest_extra})\n")
        if hooks:
            (pkg / "hooks.py").write_text("from erp_core.hookspecs import hookimpl\n" + textwrap.dedent(hooks))
        made.append(name)
        return name
    yield _make
    for name in made:
        for key in [k for k in sys.modules if k == name or k.startswith(name + ".")]:
            del sys.modules[key]


def test_misspelt_hook_is_a_startup_error(make_pkg):
    pkg = make_pkg("typo_mod", hooks="""
        @hookimpl
        def houqin_rolez():
            return {}
    """)
    with pytest.raises(ModuleError, match="typo_mod"):
        Registry.load(extra=[pkg])


def test_exception_inside_a_hook_names_the_module(make_pkg):
    pkg = make_pkg("boom_mod", hooks="""
        @hookimpl
        def houqin_roles():
            raise RuntimeError("kaput")
    """)
    reg = Registry.load(extra=[pkg])
    with pytest.raises(ModuleError, match="module boom_mod: hook houqin_roles failed: kaput"):
        reg.call("houqin_roles")


def test_hooks_are_called_in_load_order(make_pkg):
    first = make_pkg("zz_base", hooks="""
        @hookimpl
        def houqin_roles():
            return {"R": {"zz": ["read"]}}
    """)
    second = make_pkg("aa_child", manifest_extra=", depends=('zz_base',)", hooks="""
        @hookimpl
        def houqin_roles():
            return {"R": {"aa": ["read"]}}
    """)
    reg = Registry.load(extra=[second, first])
    called = [name for name, _ in reg.call("houqin_roles")]
    assert [n for n in called if n in ("zz_base", "aa_child")] == ["zz_base", "aa_child"]


def test_broken_manifest_names_the_package(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    pkg = tmp_path / "broken_manifest"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "manifest.py").write_text("raise ImportError('oops')\n")
    with pytest.raises(ModuleError, match="broken_manifest"):
        discover(extra=["broken_manifest"])


def test_disabled_module_is_not_loaded(make_pkg):
    pkg = make_pkg("off_mod")
    reg = Registry.load(extra=[pkg], disabled=["off_mod"])
    assert reg.get("off_mod") is None


def test_modules_command_lists_modules(app):
    from click.testing import CliRunner
    from erp_core.cli import cli
    result = CliRunner().invoke(cli, ["modules"], obj=app)
    assert result.exit_code == 0, result.output
    assert "sample" in result.output and "1.2.3" in result.output and "enabled" in result.output
