"""Errors the domain raises; views turn them into a message and a status code."""


class DomainError(Exception):
    """A request the domain refuses.  ``message`` is for the user (translatable);
    ``status`` is the HTTP status a view should answer with; ``field`` names the
    input at fault, when there is one."""

    status = 400

    def __init__(self, message, field=None, status=None):
        super().__init__(message)
        self.message = message
        self.field = field
        if status is not None:
            self.status = status

    def __str__(self):
        """The message in English with its values filled in (for logs and the console)."""
        interpolate = getattr(self.message, 'interpolate', None)
        return interpolate() if interpolate is not None else str(self.message)


class Conflict(DomainError):
    """The request clashes with the current state (a name taken, a transition
    not allowed now)."""

    status = 409


class NotFound(DomainError):
    status = 404
