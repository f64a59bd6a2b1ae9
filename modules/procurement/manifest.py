from flask_babel import lazy_gettext as _l

from erp_core.manifest import ModuleManifest

manifest = ModuleManifest(name="procurement", title=_l("Procurement"), version="0.1.0",
                          category=_l("Procurement"), depends=("vendor_contracts",))
