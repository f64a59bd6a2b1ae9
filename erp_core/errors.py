"""User-facing errors: each carries a translated message and the HTTP status it maps to.

Services raise these; the web layer turns them into a flash + 4xx page (UI) or a JSON
body + 4xx (API). Anything else is a bug and may 500.
"""


class UserError(Exception):
    status = 400

    def __init__(self, message, status=None):
        super().__init__(str(message))
        self.message = message
        if status is not None:
            self.status = status

    def __str__(self):
        return str(self.message)


class ValidationError(UserError):
    status = 422


class PermissionDenied(UserError):
    status = 403


class NotFound(UserError):
    status = 404


class Conflict(UserError):
    """A stale edit, a duplicate, a resource that someone else just took."""
    status = 409


class ModuleError(RuntimeError):
    """A module cannot be loaded; raised at startup, always naming the module."""
