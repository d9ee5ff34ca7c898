#!/usr/bin/env bash
# Regenerate the Python protobuf code of the MEXC schema from our own .proto files.
# Needs the dev extra: pip install -e '.[proto]'  (grpcio-tools, pinned in pyproject.toml).
# The generated *_pb2.py files are committed, so users need only the protobuf runtime.
set -euo pipefail
cd "$(dirname "$0")/.."
PROTO_DIR=src/cexfeed/exchanges/mexc/proto
python -m grpc_tools.protoc -I src --python_out=src --pyi_out=src \
  "$PROTO_DIR/public.proto" "$PROTO_DIR/private.proto" "$PROTO_DIR/push.proto"
echo "generated: $(ls "$PROTO_DIR"/*_pb2.py | tr '\n' ' ')"
