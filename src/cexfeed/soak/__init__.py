"""The integration and resilience suite (issue #13), run by ``cexfeed soak`` and, in short
versions, by the tests:

- :mod:`.integration`: every venue in one process against the simulator (mixed architecture,
  accounts), faults one venue at a time with cross-talk checked; forced reconnects in a row;
- :mod:`.loadgen` (its frames: :mod:`.loadgen_frames`) / :mod:`.load`: a multi-venue load
  endpoint in another process, load and soak runs, the consumer hand-off ceiling;
- :mod:`.fuzz` (:mod:`.fuzzref`, :mod:`.mutate`): the capture fuzz through every handler;
- :mod:`.probe`: per-stream figures and process resources; :mod:`.matrix`: the fault matrix
  input; :mod:`.report` / :mod:`.run`: the Markdown report.
"""
