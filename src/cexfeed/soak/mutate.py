"""Damage for fuzzing: structure and byte mutations of JSON (Gate.io) and protobuf (MEXC) frames.

Used by the capture fuzz (:mod:`cexfeed.soak.fuzz`) and the cross-path differential fuzz
(``tests/test_differential_fuzz.py``). The edge values are the shapes that once split the
paths or broke a reader: numbers as odd text, out-of-range integers, times in every unit."""

from __future__ import annotations

import json
import random
import re

from ..exchanges.mexc.proto.push_pb2 import PushDataV3ApiWrapper

# values that once made the direct and the compat path disagree, and other edge shapes
EDGE_VALUES = [
    "00012", "-000135", "+1", "1_000", " 5", "5 ", ".5", "5.", "\uff11\uff12", "\u0661", "-0", "0", "00", "0.0", "-0.0",
    "1e-999", "1e400", "1e300", "nan", "inf", "", "abc", "1.0", "1e3", "764.9", "true",
    True, False, None, 0, -1, 1.5, 1e300, 2**53 + 1, 2**63 - 1, 2**63, 2**64, -(2**63), [], {}, [1], ["1", "2"],
    1700000000, 1700000000123, 1700000000123456, 1700000000123456789, "1700000000123.456",
]
ALPHABET = b'0123456789.-eE+"{}[],: \\\tnulltrue\xff'


def _compact(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def _leaves(obj, path=()):
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield from _leaves(value, path + (key,))
        if path:
            yield path, obj
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            yield from _leaves(value, path + (i,))
        if path:
            yield path, obj
    else:
        yield path, obj


def _set(obj, path, value):
    for key in path[:-1]:
        obj = obj[key]
    obj[path[-1]] = value


def _delete(obj, path):
    for key in path[:-1]:
        obj = obj[key]
    del obj[path[-1]]


def mutate_json(rng: random.Random, frame: bytes, channels: list[str]) -> bytes:
    """One structural change to a JSON frame (the frame as it is when it does not parse)."""
    try:
        obj = json.loads(frame)
    except ValueError:
        return frame
    if not isinstance(obj, dict):
        return frame
    roll = rng.random()
    leaves = [(p, v) for p, v in _leaves(obj) if p]
    if roll < 0.5 and leaves:
        path, _ = rng.choice(leaves)
        _set(obj, path, rng.choice(EDGE_VALUES))
        return _compact(obj)
    if roll < 0.65 and leaves:
        path, _ = rng.choice(leaves)
        _delete(obj, path)
        return _compact(obj)
    if roll < 0.75 and "result" in obj:
        result = obj["result"]
        obj["result"] = rng.choice([[result], [[result]], result[0] if isinstance(result, list) and result else [result, result]])
        return _compact(obj)
    if roll < 0.85 and channels:
        obj["channel"] = rng.choice(channels)
        return _compact(obj)
    # a duplicate key: the text keeps both, the last one wins on every JSON path
    text = _compact(obj).decode()
    keys = re.findall(r'"([A-Za-z_]+)":', text)
    if not keys:
        return frame
    key = rng.choice(keys)
    value = json.dumps(rng.choice(EDGE_VALUES))
    return text.replace(f'"{key}":', f'"{key}":{value},"{key}":', 1).encode()


def mutate_text(rng: random.Random, frame: bytes) -> bytes:
    """1-3 byte changes (flip, delete, insert) drawn from JSON's own characters."""
    data = bytearray(frame)
    for _ in range(rng.randint(1, 3)):
        if not data:
            break
        at = rng.randrange(len(data))
        roll = rng.random()
        if roll < 0.4:
            data[at] = rng.choice(ALPHABET)
        elif roll < 0.7:
            del data[at]
        else:
            data.insert(at, rng.choice(ALPHABET))
    return bytes(data)


EDGE_TEXT = [
    "00012", "-000135", "+1", "1_000", " 5", "5 ", ".5", "5.", "\uff11\uff12", "\u0661", "-0", "0", "00", "0.0",
    "-0.0", "1e-999", "1e400", "1e300", "nan", "inf", "", "abc", "1.0", "1e3", "9223372036854775808", "-1",
    "18446744073709551616", "1700000000123",
]
EDGE_INT = [0, 1, 2, 3, -1, 2**31, 2**53 + 1, 2**63 - 1, -(2**63), 10**14, 1700000000, 1700000000123, 1700000000123456]


def _string_fields(message, prefix=()):
    """``(message, field name)`` of every set string / integer field, nested bodies included."""
    for field, value in message.ListFields():
        if field.type == field.TYPE_MESSAGE:
            if field.is_repeated:
                for item in value:
                    yield from _string_fields(item)
            else:
                yield from _string_fields(value)
        elif not field.is_repeated:
            yield message, field


def mutate_protobuf(rng: random.Random, frame: bytes) -> bytes:
    """One structural change to a MEXC push (the frame as it is when it does not parse): a
    string or number field set to an edge shape, a field cleared, or the body put under
    another channel."""
    try:
        wrapper = PushDataV3ApiWrapper.FromString(frame)
    except Exception:
        return frame
    fields = list(_string_fields(wrapper))
    roll = rng.random()
    if roll < 0.6 and fields:
        message, field = rng.choice(fields)
        try:
            if field.type == field.TYPE_STRING:
                setattr(message, field.name, rng.choice(EDGE_TEXT))
            else:
                setattr(message, field.name, rng.choice(EDGE_INT))
        except (ValueError, TypeError):
            return frame
        return wrapper.SerializeToString()
    if roll < 0.8 and fields:
        message, field = rng.choice(fields)
        message.ClearField(field.name)
        return wrapper.SerializeToString()
    # the body of one channel under another channel's name
    wrapper.channel = rng.choice(
        ["spot@public.kline.v3.api.pb@BTCUSDT@Min1", "spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT",
         "spot@public.aggre.depth.v3.api.pb@100ms@ETHUSDT", "spot@public.nope.v3.api.pb@BTCUSDT", ""]
    )
    return wrapper.SerializeToString()


def mutate_binary(rng: random.Random, frame: bytes) -> bytes:
    """1-3 byte changes (any byte: flip, delete, insert) or a cut at a random point."""
    data = bytearray(frame)
    for _ in range(rng.randint(1, 3)):
        if not data:
            break
        at = rng.randrange(len(data))
        roll = rng.random()
        if roll < 0.35:
            data[at] = rng.randrange(256)
        elif roll < 0.6:
            del data[at]
        elif roll < 0.85:
            data.insert(at, rng.randrange(256))
        else:
            del data[at:]
    return bytes(data)

