"""ModuleManifest: what a module *is* (data only, importable without side effects)."""
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ModuleManifest:
    name: str                      # snake_case, used for package, URL prefix, templates, pluggy
    title: object                  # translatable label
    version: str = "0.1.0"
    depends: tuple = field(default_factory=tuple)
    category: object = None        # menu category label; defaults to title
    description: object = ""
    # Filled by the registry, not by modules
    package: str = ""              # importable package name, e.g. "modules.rentals"
    source: str = ""               # "modules", "plugins" or "entry point"
    path: str = ""                 # folder of the package

    def __post_init__(self):
        if not self.name.isidentifier() or self.name != self.name.lower():
            raise ValueError(f"module name {self.name!r} must be a snake_case identifier")
        object.__setattr__(self, "depends", tuple(self.depends))
