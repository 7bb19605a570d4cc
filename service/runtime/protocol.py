"""The protocol between sockpitd, its Zygotes and its instances (docs/ARCHITECTURE.md, "Protocol"): every
message defined once here and once in TypeScript (service/src/protocol/), both checked against the same encoded
messages (service/test/fixtures/protocol-messages.json). Pure: no I/O; zygote.py and instance.py read and write.

Every channel carries frames: a 4-byte big-endian length, then the payload.

A Zygote's control socket (zygote.py): payloads are JSON objects.
  fork     {"op": "fork", "id", "kind": "instance" | "zygote" | "spare", "paths", "imports"? (zygote),
            "env"? (instance), "uid", "gid", "hostname", "netns": 0 | 1, "cgroups": n}
           sent in one sendmsg with its fds [channel, output, root, a network namespace (netns 1), n cgroup join
           files], so they arrive with its first bytes
  answers, each with its request's id; its fields say which it is:
  pid      {"id", "pid"}                        from the Zygote, once it forked (the pid in its namespace)
  joined   {"id", "joined": true}               from the new process, once it is in its cgroups
  ready    {"id", "ready": true, "import_ms"?}  from the new process, set up ("start": the first Zygote's)
  failed   {"id", "ready": false, "error"}      from the new process (or the Zygote, when fork failed)
  refused  {"id", "ok": false, "error"}         from the Zygote, for a request it refuses

An instance's channel (instance.py): a request's first byte says what it is.
  call     b"C" + the request id + b"\\n" + the JSON event
  setup    b"S" + the function's environment as one line of JSON + b"\\n" + f.py's .pyc (or nothing): the first
           frame a spare gets, right before its first call; no answer comes
  reply    a one-line flat JSON header {"id", "status": "ok" | "error" | "load_error", "load_ms", "exec_ms"},
           b"\\n", then the body: the JSON result, or {"type", "message", "traceback"}

In Python a message is a dict with a "type" ("fork", "pid", ..., "call", "setup", "reply"); bytes fields
(event, bytecode, body) are bytes. JSON is written compact and ASCII only, as the TypeScript side writes it,
so a message encodes to the same bytes in both.

An instance imports this at its start, which is the cold tier's cost: only built-in modules here (json would
add milliseconds), and JSON through the C accelerator of the json module directly.
"""

MAX_FRAME = 1 << 30
MAX_FORK_REQUEST = 1 << 20
FORK_KINDS = ("instance", "zygote", "spare")
CALL = b"C"
SETUP = b"S"
REPLY_STATUSES = ("ok", "error", "load_error")


class ProtocolError(ValueError):
    """A frame or message that breaks the protocol; request_id: the id of the request it refuses, when known."""

    def __init__(self, message, request_id=""):
        super().__init__(message)
        self.request_id = request_id


def _json_codec():
    """(loads, dumps) built on _json; the same behaviour as json.loads and
    json.dumps(allow_nan=False, separators=(",", ":")) (ASCII only)."""
    try:
        import _json
    except ImportError:  # an interpreter without the accelerator
        import json

        return json.loads, lambda obj: json.dumps(obj, allow_nan=False, separators=(",", ":"))

    class Context:
        strict = True
        object_hook = None
        object_pairs_hook = None
        parse_float = float
        parse_int = int
        parse_constant = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}.__getitem__
        memo = {}

    scan = _json.make_scanner(Context())

    def loads(data):
        text = data.decode("utf-8") if isinstance(data, (bytes, bytearray, memoryview)) else data
        start = len(text) - len(text.lstrip(" \t\n\r"))
        try:
            value, end = scan(text, start)
        except StopIteration as stop:
            raise ValueError(f"invalid JSON at character {stop.value}") from None
        if text[end:].strip(" \t\n\r"):
            raise ValueError(f"extra data after JSON at character {end}")
        return value

    def default(obj):
        raise TypeError(f"Object of type {obj.__class__.__name__} is not JSON serializable")

    def dumps(obj):
        encode = _json.make_encoder({}, default, _json.encode_basestring_ascii, None, ":", ",", False, False, False)
        return "".join(encode(obj, 0))

    return loads, dumps


loads, dumps = _json_codec()


# Framing


def encode_frame(payload):
    return len(payload).to_bytes(4, "big") + payload


def frame_size(head, limit=MAX_FRAME):
    """The payload size a frame's 4-byte head announces; ProtocolError above limit."""
    size = int.from_bytes(head, "big")
    if size > limit:
        raise ProtocolError(f"frame of {size} bytes exceeds the {limit}-byte limit")
    return size


# An instance's channel


def encode_call(request_id, event):
    return encode_frame(CALL + request_id.encode() + b"\n" + event)


def encode_setup(env, bytecode):
    return encode_frame(SETUP + dumps(env).encode() + b"\n" + (bytecode or b""))


def decode_call(payload):
    """(request id, event) of a call's payload (its kind byte checked by the caller)."""
    request_id, _, event = payload[1:].partition(b"\n")
    return request_id.decode("ascii", "replace"), event


def decode_setup(payload):
    """(environment, .pyc or b"") of a set-up frame's payload."""
    if payload[:1] != SETUP:
        raise ProtocolError(f"a spare's first frame is its set-up, not {payload[:1]!r}")
    environment, _, pyc = payload[1:].partition(b"\n")
    try:
        env = loads(environment)
    except ValueError:
        raise ProtocolError("a set-up environment is not JSON") from None
    if not isinstance(env, dict):
        raise ProtocolError("a set-up environment is a JSON object")
    return env, pyc


def decode_request(payload):
    """A request to an instance as a message: a call or a set-up."""
    kind = payload[:1]
    if kind == CALL:
        request_id, event = decode_call(payload)
        return {"type": "call", "id": request_id, "event": event}
    if kind == SETUP:
        env, pyc = decode_setup(payload)
        return {"type": "setup", "env": env, "bytecode": pyc or None}
    raise ProtocolError(not_served(kind))


def not_served(kind):
    """Why an instance refuses a request of this kind byte (it answers that in an error reply)."""
    return f"this is a function instance: it serves calls only, not {kind!r} requests (fork requests go to a Zygote)"


def encode_reply(request_id, status, load_ms, exec_ms, body):
    """A reply frame, built with one copy of the body."""
    header = dumps({"id": request_id, "status": status, "load_ms": load_ms, "exec_ms": exec_ms}).encode()
    return b"".join((int.to_bytes(len(header) + 1 + len(body), 4, "big"), header, b"\n", body))


def decode_reply(payload):
    header, newline, body = payload.partition(b"\n")
    if not newline:
        raise ProtocolError("reply has no header line")
    try:
        fields = loads(header)
    except ValueError:
        raise ProtocolError("a reply header is not JSON") from None
    if not isinstance(fields, dict) or sorted(fields) != ["exec_ms", "id", "load_ms", "status"]:
        raise ProtocolError("a reply header is {id, status, load_ms, exec_ms}")
    if fields["status"] not in REPLY_STATUSES:
        raise ProtocolError(f"reply has an unknown status {fields['status']!r}")
    return {"type": "reply", "id": fields["id"], "status": fields["status"], "load_ms": fields["load_ms"],
            "exec_ms": fields["exec_ms"], "body": body}


def encode_error_body(type_name, message, traceback_text):
    return dumps({"type": type_name, "message": message, "traceback": traceback_text}).encode()


def encode(message):
    """Any message, as its frame."""
    kind = message["type"]
    if kind == "call":
        return encode_call(message["id"], message["event"])
    if kind == "setup":
        return encode_setup(message["env"], message["bytecode"])
    if kind == "reply":
        return encode_reply(message["id"], message["status"], message["load_ms"], message["exec_ms"], message["body"])
    if kind == "fork":
        return encode_fork_request(message)
    return encode_answer(message)


# A Zygote's control socket


_FORK_FIELDS = ("id", "kind", "paths", "imports", "env", "uid", "gid", "hostname", "netns", "cgroups")


def encode_fork_request(message):
    wire = {"op": "fork"}
    for key in _FORK_FIELDS:
        if message.get(key) is not None:
            wire[key] = message[key]
    return encode_frame(dumps(wire).encode())


def decode_fork_request(payload):
    """A fork request as a message; the fields sockpitd left out stay out (zygote.py has their defaults).
    ProtocolError (with the request's id when it has one) for what is not a fork request."""
    try:
        header = loads(payload)
    except ValueError:
        raise ProtocolError("a Zygote serves fork requests only: this message is not one") from None
    if not isinstance(header, dict):
        raise ProtocolError("a fork request is a JSON object")
    request_id = str(header.get("id", ""))
    if header.get("op") != "fork":
        raise ProtocolError(f"a Zygote serves fork requests only, not {header.get('op')!r}", request_id)
    if header.get("kind") not in FORK_KINDS:
        raise ProtocolError(f"unknown fork kind {header.get('kind')!r}", request_id)
    if header.get("netns", 0) not in (0, 1):
        raise ProtocolError(f"netns is 0 or 1, not {header.get('netns')}", request_id)
    message = {"type": "fork", "id": request_id}
    for key, valid in (("kind", str), ("paths", list), ("imports", list), ("env", dict), ("uid", int),
                       ("gid", int), ("hostname", str), ("netns", int), ("cgroups", int)):
        if key in header:
            if not isinstance(header[key], valid):
                raise ProtocolError(f"{key}: not a {valid.__name__}", request_id)
            message[key] = header[key]
    return message


# the wire fields of each answer, in the order they are written: (name, value) pairs, value None when the
# message's own field of that name goes there
_ANSWERS = {
    "pid": (("pid", None),),
    "joined": (("joined", True),),
    "ready": (("ready", True), ("import_ms", None)),
    "failed": (("ready", False), ("error", None)),
    "refused": (("ok", False), ("error", None)),
}


def encode_answer(message):
    wire = {"id": message["id"]}
    for key, value in _ANSWERS[message["type"]]:
        if value is not None:
            wire[key] = value
        elif message.get(key) is not None:
            wire[key] = message[key]
    return encode_frame(dumps(wire).encode())


def decode_answer(payload):
    try:
        wire = loads(payload)
    except ValueError:
        raise ProtocolError("an answer is not JSON") from None
    if not isinstance(wire, dict) or not isinstance(wire.get("id"), str):
        raise ProtocolError("an answer is a JSON object with a request id")
    if "pid" in wire:
        kind = "pid"
    elif wire.get("joined") is True:
        kind = "joined"
    elif wire.get("ready") is True:
        kind = "ready"
    elif wire.get("ready") is False:
        kind = "failed"
    elif wire.get("ok") is False:
        kind = "refused"
    else:
        raise ProtocolError("an answer says neither pid, joined, ready nor a refusal")
    fields = _ANSWERS[kind]
    known = {"id"} | {key for key, _ in fields}
    if not known.issuperset(wire):
        raise ProtocolError(f"a {kind} answer has no field {sorted(set(wire) - known)[0]!r}")
    message = {"type": kind, "id": wire["id"]}
    for key, value in fields:
        if value is None and key in wire:
            message[key] = wire[key]
    if kind in ("failed", "refused") and not isinstance(message.get("error"), str):
        raise ProtocolError(f"a {kind} answer needs an error")
    return message
