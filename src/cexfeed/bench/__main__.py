"""``python -m cexfeed.bench``: see :mod:`cexfeed.bench.run`."""

import sys

from .run import main

sys.exit(main())
