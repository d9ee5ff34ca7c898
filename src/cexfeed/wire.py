"""Constrained number types for venue decoders.

A price must be positive and finite, a size non-negative and finite (0 removes a book level), a
signed quantity finite, a time neither negative nor absurdly far; ``NaN``/``inf`` strings or a
negative price fail the typed decode, so the frame is counted as malformed and skipped instead of
reaching a book or a consumer. So is an empty pair or contract name.
"""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta

_FINITE = 1e300

Price = Annotated[float, Meta(gt=0, lt=_FINITE)]
Size = Annotated[float, Meta(ge=0, lt=_FINITE)]
Signed = Annotated[float, Meta(gt=-_FINITE, lt=_FINITE)]
Side = Literal["buy", "sell"]
# venue times since the epoch, before the year 5138 (so that s * 1000 stays an exact ms count)
Seconds = Annotated[int, Meta(ge=0, lt=10**11)]
Millis = Annotated[int, Meta(ge=0, lt=10**14)]
# ms sent with a fraction (Gate spot trades: "create_time_ms": "1700000000123.456")
FractionalMillis = Annotated[float, Meta(ge=0, lt=1e14)]
MAX_MILLIS = 10**14
# a pair / contract name: never empty
Name = Annotated[str, Meta(min_length=1)]
