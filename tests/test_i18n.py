"""Every msgid has a zh_CN translation; the UI speaks Chinese by default and switches to English."""
from erp_core import i18n


def test_every_msgid_has_a_zh_cn_translation():
    missing = i18n.missing("zh_CN")
    assert not missing, "untranslated (run `run.py i18n update`, then translate):\n" + \
        "\n".join(f"{po}: {msgid}" for po, msgid in missing[:50])


def test_chinese_is_the_default_and_english_switches(client, login_as):
    login_as("Sample Clerk")
    zh = client.get("/sample/sample_request/list/").get_data(as_text=True)
    assert "导出" in zh                     # "Export CSV" in Chinese
    client.get("/lang/en")
    en = client.get("/sample/sample_request/list/").get_data(as_text=True)
    assert "Export CSV" in en


def test_pgettext_disambiguates(app):
    from flask_babel import force_locale
    with app.test_request_context():
        with force_locale("zh_CN"):
            assert i18n.pgettext("document status", "Draft") == "草稿"
