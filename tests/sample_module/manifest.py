from erp_core.manifest import ModuleManifest

manifest = ModuleManifest(name="sample", title="Sample", version="1.2.3")
