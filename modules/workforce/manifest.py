from flask_babel import lazy_gettext as _l

from erp_core.manifest import ModuleManifest

manifest = ModuleManifest(name="workforce", title=_l("Outsourced workforce"), version="0.1.0",
                          depends=("vendor_contracts",), category=_l("Outsourced workforce"))
