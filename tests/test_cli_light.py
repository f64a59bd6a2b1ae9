"""Issue 23: commands that only need the database (audit verify/anchor/purge, backup,
restore) and printing start the light app, never the web app (AppBuilder, views, APIs)."""
import pytest
from click.testing import CliRunner

import erp_core.app as app_module
from erp_core.cli import cli


@pytest.fixture
def no_web_app(app, monkeypatch, tmp_path):
    """The test database for a fresh command line, and a create_app that fails if called."""
    monkeypatch.setenv("DATABASE_URL", app.config["SQLALCHEMY_DATABASE_URI"])
    monkeypatch.setenv("HOUQIN_AUDIT_KEY", app.config["HOUQIN_AUDIT_KEY"])
    monkeypatch.setenv("HOUQIN_AUDIT_ANCHOR_FILE", str(tmp_path / "anchors.jsonl"))
    import erp_core.config as config
    monkeypatch.setattr(config.DefaultConfig, "HOUQIN_AUDIT_KEY", app.config["HOUQIN_AUDIT_KEY"])
    monkeypatch.setattr(config.DefaultConfig, "HOUQIN_AUDIT_ANCHOR_FILE", str(tmp_path / "anchors.jsonl"))

    def refuse(*a, **kw):
        raise AssertionError("this command built the web app")
    monkeypatch.setattr(app_module, "create_app", refuse)
    return tmp_path


@pytest.mark.parametrize("args", [["audit", "verify"], ["backup", "{tmp}/b.jsonl"]])
def test_database_commands_do_not_build_the_web_app(no_web_app, args):
    args = [a.format(tmp=no_web_app) for a in args]
    result = CliRunner().invoke(cli, args, obj=None)
    assert "built the web app" not in repr(result.exception), result.output
    assert result.exit_code in (0, 1), (result.output, result.exception)
    assert "rows" in result.output           # "N audit rows checked" / "N rows in M tables"
