"""The typed seam between the Gate book-update readers and the book: one ``order_book_update``
push (gateio-protocol.md §6.6 spot, §7.6 futures) as the compiled reader
(``_fastpush.PushReader.read``) and the msgspec path both hand it to
:meth:`~cexfeed.exchanges.gateio.common.GateioPublicHandler._apply_book_update`."""

from __future__ import annotations

from typing import NamedTuple

Level = tuple[float, float]


class BookPush(NamedTuple):
    """``symbol`` pair / contract; ``t`` the result's ms (0 when absent); ``first``/``last`` the
    ``U``/``u`` ids (``first`` ``None`` when the push has no ``U``: allowed only on a ``full``
    push); ``full`` the push replaces the book; ``bids``/``asks`` ``[(price quote ccy, size base
    ccy)]`` (size 0 removes the level); ``time_s``/``time_ms`` the envelope's times."""

    symbol: str
    t: int
    first: int | None
    last: int
    full: bool
    bids: list[Level]
    asks: list[Level]
    time_s: int
    time_ms: int
