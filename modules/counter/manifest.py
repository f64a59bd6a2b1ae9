from flask_babel import lazy_gettext as _l

from erp_core.manifest import ModuleManifest

manifest = ModuleManifest(name="counter", title=_l("Counter"), version="0.1.0", depends=("rentals", "convenience"),
                          category=_l("Front desk rentals"))
