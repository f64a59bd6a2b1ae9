"""Flask-AppBuilder's own UI strings that its small zh catalogue lacks, as they appear on
the pages Houqin uses (security pages, list/show/edit widgets, confirmations). Listed here
so that ``run.py i18n update`` extracts them into erp_core's catalogue, where they are
translated; nothing imports this module. tests/test_ui_language.py finds missing ones."""
from flask_babel import lazy_gettext as _l

FAB_STRINGS = (
    _l("Add"), _l("Edit"), _l("Delete"), _l("Cancel"), _l("OK"),
    _l("Name"), _l("Label"), _l("Description"), _l("Role"), _l("Roles"), _l("User"), _l("Users"),
    _l("Groups"), _l("List Groups"), _l("Show Group"), _l("Add Group"), _l("Edit Group"),
    _l("It's not a good policy to remove a user, just make it inactive"),
    _l("The user group on the application, this will associate with a list of roles associated with the group"),
    _l("The user's password for authentication"),
)
