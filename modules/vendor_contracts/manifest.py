from flask_babel import lazy_gettext as _l

from erp_core.manifest import ModuleManifest

manifest = ModuleManifest(name="vendor_contracts", title=_l("Vendor contracts"), version="0.1.0",
                          category=_l("Vendors & contracts"))
