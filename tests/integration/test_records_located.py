"""Record validation against the real boundaries: the row prefix and the location check.

Moved from tests/unit/test_records.py (it needs the real boundaries); the field rules stay there.
"""

from __future__ import annotations

import pytest

from geo_p4gn import OutsideJakartaError, ValidationError
from geo_p4gn.records import validate_record
from tests.unit.test_records import BASE


def test_row_prefix_and_location_check(taxonomy, boundaries):
    with pytest.raises(ValidationError, match="^row 7: participants: "):
        validate_record(dict(BASE, participants=-2), taxonomy=taxonomy, row="row 7")
    with pytest.raises(OutsideJakartaError, match="^row 3: point: .*outside DKI Jakarta"):
        validate_record(dict(BASE, lon=106.70, lat=-5.95), taxonomy=taxonomy, row="row 3",
                        locate=lambda g: boundaries.locate(g, "point"))
    r = validate_record(BASE, taxonomy=taxonomy, locate=boundaries.locate)
    assert r.kelurahan_code == "31.73.01.1004"


