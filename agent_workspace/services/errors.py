"""Errors a service raises; the state layer turns them into clear messages."""


class ServiceError(Exception):
    """Base class: ``str(error)`` is a message fit to show to the person who asked."""


class ValidationError(ServiceError):
    """The input is wrong; nothing was changed."""


class NotFound(ServiceError):
    """No such thing, or not one the caller may see (same answer on purpose)."""


class Forbidden(ServiceError):
    """The caller may not do this."""


class Conflict(ServiceError):
    """The thing changed under us (already claimed, already closed, ...)."""
