from flask_babel import lazy_gettext as _l

from erp_core.manifest import ModuleManifest

manifest = ModuleManifest(name="convenience", title=_l("Convenience services"), version="0.1.0",
                          category=_l("Front desk services"))
