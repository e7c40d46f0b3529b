"""The exceptions of geo_p4gn: one small hierarchy, each a ValueError.

Messages name the row, the field and the reason, so that a field team can fix the input.
"""


class P4gnError(ValueError):
    """Base class of every error geo_p4gn raises on purpose."""


class BoundaryDataError(P4gnError):
    """The boundary files are missing, corrupted or do not match the official code list."""


class LocationError(P4gnError):
    """A coordinate cannot be placed in a DKI Jakarta kelurahan."""


class OutsideJakartaError(LocationError):
    """A point lies outside DKI Jakarta (including Kepulauan Seribu)."""


class SwappedCoordinatesError(LocationError):
    """Latitude and longitude were given the wrong way round."""


class ValidationError(P4gnError):
    """A record or a row of an import failed validation."""


class ConflictError(P4gnError):
    """The same id was written twice with different content."""


class NotFoundError(P4gnError, KeyError):
    """No record with that id."""


class PermissionDenied(P4gnError, PermissionError):
    """The current user's role does not allow this action."""
