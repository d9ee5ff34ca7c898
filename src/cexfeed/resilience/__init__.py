"""The fault matrix of issue #13 (item 2): faults x venue streams over real sockets, through a
fault-injecting proxy (:mod:`cexfeed.sim.faultproxy`) and the simulator's fault switches, with
the book or account state checked against the simulator after each recovery, and the results
as data a report renders (:mod:`cexfeed.resilience.results`).

::

    from cexfeed.resilience import run_matrix, render_markdown
    run = run_matrix(repeats=3, parallel=4)
    print(render_markdown(run))
"""

from .matrix import ACCOUNT_VENUES, COLUMNS, FAULTS, cells, not_run, run_cell, run_matrix, settings
from .results import FaultResult, MatrixRun, from_json, render_markdown, to_json

__all__ = ["ACCOUNT_VENUES", "COLUMNS", "FAULTS", "FaultResult", "MatrixRun", "cells", "from_json", "not_run", "render_markdown", "run_cell",
           "run_matrix", "settings", "to_json"]
