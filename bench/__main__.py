"""``python -m bench`` (from a checkout) = ``python -m cexfeed.bench``."""

import sys

from cexfeed.bench.run import main

sys.exit(main())
