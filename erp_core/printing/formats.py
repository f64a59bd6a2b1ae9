"""Print formats: ``<module>.<document>`` -> template (+ model, extra context, permission)."""
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class PrintFormat:
    name: str                     # "<module>.<document>", e.g. "rentals.receipt"
    title: object                 # translatable label
    template: str                 # e.g. "rentals/print/receipt.html"
    model: type | None = None     # None: a blank form; the URL's name is handed to context() as key
    context: Callable | None = None   # context(doc_or_key) -> dict of extra template variables
    permission: str | None = None     # permission name for the 'print' action (default: the model's)
    landscape: bool = False


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
