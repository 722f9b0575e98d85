"""The JSON schemas of request bodies agree with the store's own value checks."""

from __future__ import annotations

import re

import pytest

from ryu_midonet.nsdb.errors import InvalidInput
from ryu_midonet.nsdb.fields import Field, check_value
from ryu_midonet.rest.schemas import int_text

RANGES = [(0, 32), (0, 255), (1, 65535), (0, 4095), (-1, 65535), (-32768, 65535),
          (0, 2147483647), (0, 4294967295), (5, 5), (-10, -3)]


@pytest.mark.parametrize(("lo", "hi"), RANGES)
def test_integer_text_pattern_is_the_range_the_store_accepts(lo: int, hi: int) -> None:
    pattern = re.compile(int_text(lo, hi))
    field = Field("int", lo=lo, hi=hi)
    near = {*range(lo - 250, lo + 250), *range(hi - 250, hi + 250), 0, 1, -1, 10 ** 12}
    for value in near:
        text = str(value)
        try:
            check_value("n", field, text)
            accepted = True
        except InvalidInput:
            accepted = False
        assert bool(pattern.fullmatch(text)) == accepted == (lo <= value <= hi), text
    for text in ("01", "-0", "+1", " 1", "1 ", "1_0", "", "-", "1.0"):
        assert not pattern.fullmatch(text), text
        with pytest.raises(InvalidInput):
            check_value("n", field, text)
