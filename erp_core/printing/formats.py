"""Print formats: ``<module>.<document>`` -> template (+ model, extra context, permission)."""
from dataclasses import dataclass
from typing import Callable

PAPERS = ("a4", "receipt80", "label")     # A4, an 80 mm receipt roll, a 90 × 60 mm label


@dataclass(frozen=True)
class PrintFormat:
    name: str                     # "<module>.<document>", e.g. "rentals.receipt"
    title: object                 # translatable label
    template: str                 # e.g. "rentals/print/receipt.html"
    model: type | None = None     # None: a blank form or a keyed one; the URL's name is handed to context()
    context: Callable | None = None   # context(doc_or_key) -> dict of extra template variables
    permission: str | None = None     # permission name for the 'print' action (default: the model's)
    landscape: bool = False
    papers: tuple = ("a4",)       # paper layouts the template supports; the first is the default
    key: str | None = None        # keyed formats (model None): "date" (YYYY-MM-DD…) or "period" (YYYY-MM…)
    keys: Callable | None = None  # keys() -> every key that can be printed now (run.py print --all, tests)

    def paper_for(self, settings):
        """The paper chosen for this format in the hospital settings (per counter), else the default."""
        chosen = ((getattr(settings, "papers", None) or {}) if settings is not None else {}).get(self.name)
        return chosen if chosen in self.papers else self.papers[0]


class PrintRegistry:
    def __init__(self):
        self._formats = {}

    def register(self, fmt):
        if fmt.name in self._formats:
            raise ValueError(f"print format {fmt.name} is registered twice")
        self._formats[fmt.name] = fmt

    def get(self, name):
        return self._formats[name]

    def for_model(self, model):
        return [f for f in self._formats.values() if f.model is model]

    def __iter__(self):
        return iter(self._formats.values())

    def __len__(self):
        return len(self._formats)
