from flask_babel import lazy_gettext as _l

from erp_core.manifest import ModuleManifest

manifest = ModuleManifest(name="rentals", title=_l("Rentals"), version="0.1.0", category=_l("Front desk rentals"))
