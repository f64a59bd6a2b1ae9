from flask_babel import lazy_gettext as _l

from erp_core.manifest import ModuleManifest

# wards and their nurses come from catering (Ward.nurses), so the ward nurse's record rule is
# the same one her meal orders use; care workers, their certificates and conduct from workforce
manifest = ModuleManifest(name="care", title=_l("Patient care"), version="0.1.0", depends=("workforce", "catering"),
                          category=_l("Patient care"))
