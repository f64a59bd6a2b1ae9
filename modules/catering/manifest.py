from flask_babel import lazy_gettext as _l

from erp_core.manifest import ModuleManifest

manifest = ModuleManifest(name="catering", title=_l("Catering"), version="0.1.0", category=_l("Catering"))
