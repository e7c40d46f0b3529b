"""geo_p4gn: map P4GN interventions in DKI Jakarta's drug-prone areas.

The core never imports streamlit; the app (``app.py``) and the CLI (``geo-p4gn``) are thin entry points.
"""

from ._errors import (
    BoundaryDataError,
    ConflictError,
    LocationError,
    NotFoundError,
    OutsideJakartaError,
    P4gnError,
    PermissionDenied,
    SwappedCoordinatesError,
    ValidationError,
)
from .boundaries import Boundaries, load_boundaries
from .records import Intervention, new_id, validate_record
from .taxonomy import Taxonomy, load_taxonomy

__version__ = "0.1.0"

__all__ = [
    "Boundaries",
    "BoundaryDataError",
    "ConflictError",
    "Intervention",
    "LocationError",
    "NotFoundError",
    "OutsideJakartaError",
    "P4gnError",
    "PermissionDenied",
    "SwappedCoordinatesError",
    "Taxonomy",
    "ValidationError",
    "load_boundaries",
    "load_taxonomy",
    "new_id",
    "validate_record",
]
