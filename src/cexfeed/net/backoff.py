"""Capped exponential backoff with jitter, shared by reconnects and REST retries."""

from __future__ import annotations

import random


class Backoff:
    """Delays ``initial * factor**n`` seconds, capped at ``cap``, each scaled by a random factor
    in ``[1 - jitter, 1]`` so that many clients dropped together do not reconnect in lockstep.

    ``next()`` returns the delay for the next attempt and advances; ``reset()`` after a success.
    """

    __slots__ = ("initial", "factor", "cap", "jitter", "attempt", "_rng")

    def __init__(self, initial: float = 0.25, factor: float = 2.0, cap: float = 30.0, jitter: float = 0.5, rng: random.Random | None = None) -> None:
        if initial <= 0 or factor < 1 or cap < initial or not 0 <= jitter <= 1:
            raise ValueError("backoff needs 0 < initial <= cap, factor >= 1, 0 <= jitter <= 1")
        self.initial = initial
        self.factor = factor
        self.cap = cap
        self.jitter = jitter
        self.attempt = 0
        self._rng = rng or random.Random()

    def next(self) -> float:
        base = min(self.cap, self.initial * self.factor ** min(self.attempt, 64))
        self.attempt += 1
        return base * (1.0 - self.jitter * self._rng.random())

    def reset(self) -> None:
        self.attempt = 0
