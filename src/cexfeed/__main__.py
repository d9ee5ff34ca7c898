"""``python -m cexfeed ...``: the ``cexfeed`` command (the supervisor starts workers this way)."""

from .cli import main

main()
