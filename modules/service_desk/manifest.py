from flask_babel import lazy_gettext as _l

from erp_core.manifest import ModuleManifest

# No hard dependency on vendor_contracts: a vendor's team names its vendor by credit code and the
# assessment hook is optional, so the desk runs (and migrates) with vendor_contracts disabled.
manifest = ModuleManifest(name="service_desk", title=_l("Service desk"), version="0.1.0",
                          category=_l("Service desk"))
