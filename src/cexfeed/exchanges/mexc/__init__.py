"""MEXC spot (``wss://wbs-api.mexc.com/ws``, protobuf pushes; ``mexc-protocol.md``).

- ``proto/``: our own ``.proto`` files (field tables of §2) and the generated ``*_pb2.py``
  (regenerate with ``scripts/gen_proto.sh``; needs the ``proto`` extra);
- ``decode``: frame -> ``Push(number, symbol, ts, body)`` (typed bodies) on upb, or on the optional compiled
  ``_fastpb`` (same values, tested against each other);
- ``public_handler.MexcPublicWebSocketHandler``: frames -> :mod:`cexfeed.models` events;
- ``protocol``: channel names, requests, replies; ``rest``: depth snapshot, exchangeInfo;
- ``spot_protocol.MexcSpotProtocol``: what the network core needs (registry ``mexc-spot``);
- ``encode``: build push frames (simulator, tests, benchmarks);
- ``capture.iter_mexc_frames``: raw frames from ``.bin`` files, folders or hex/JSON lines.
"""
