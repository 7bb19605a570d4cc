"""The function instance host: runs inside a sandbox as PID 1, loads /handler/f.py, serves calls.

sockpitd talks to it over fd 3, one end of a socketpair it made before the spawn (so there is no socket file
to bind and nothing to poll for). Frames both ways are a 4-byte big-endian length and a payload.
  request payload:  one kind byte, then its data: b"C" + a request id + "\n" + the JSON event (a call); any
                    other kind is refused
                    (a fork request, say, belongs to a Zygote), except b"S" + a JSON environment + "\n" +
                    f.py's .pyc (or nothing), the first frame a spare gets (serve)
  response payload: a one-line JSON header, "\n", then the body
    header {"id": the call's request id, "status": "ok" | "error" | "load_error", "load_ms": float,
            "exec_ms": float}: one flat object (sockpitd refuses nesting, other ids, timings out of range)
    body   ok: the JSON result; otherwise {"type", "message", "traceback"}
f.py is imported when the first request arrives: by then sockpitd has moved this process into the sandbox's
cgroups, so no function code runs outside its limits. The instance serves calls one at a time until sockpitd
closes the socket.

Start-up time is the cold tier's cost, so this file imports only what is built in (json, socket, struct and
traceback would add ~20 ms here): it frames with int.to_bytes, reads and writes the fd with os.read/os.write,
and uses the C accelerator of the json module directly, falling back to json where it is missing.
"""

import _imp
import marshal
import os
import sys
import time

CONTROL_FD = 3
HANDLER_DIR = "/handler"
MAX_FRAME = 1 << 30


def _json_codec():
    """(loads, dumps) built on _json; the same behaviour as json.loads/json.dumps(allow_nan=False)."""
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
        text = data.decode("utf-8") if isinstance(data, (bytes, bytearray)) else data
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


def read_exact(size):
    chunks = []
    while size > 0:
        chunk = os.read(CONTROL_FD, min(size, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def read_frame():
    head = read_exact(4)
    if head is None:
        return None
    size = int.from_bytes(head, "big")
    if size > MAX_FRAME:
        raise ValueError("frame too large")
    return read_exact(size) if size else b""


def send_frame(header, body):
    payload = dumps(header).encode() + b"\n" + body
    data = memoryview(len(payload).to_bytes(4, "big") + payload)
    while data:
        data = data[os.write(CONTROL_FD, data):]


def describe(exc):
    import traceback  # only on the error path: it costs milliseconds to import

    return dumps({
        "type": type(exc).__name__,
        "message": str(exc),
        "traceback": "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
    }).encode()


def import_file(name, path, pyc=None):
    """`import name` of the module at path, minus the search along sys.path: importlib's own loader, which
    checks and uses the .pyc deploy wrote. The search is most of an import's cost in a forked instance (0.4 ms
    of 0.8 here: the finders' first use), and importlib's public API would cost another 0.4 ms to import.

    With pyc (that .pyc, as sockpitd read it: a spare gets it with its function), no file is read and none of
    the loader's path work is done: 0.1 ms instead of 0.4 in a spare here. The module gets what it would get
    from the file (__file__, __cached__, __loader__, __spec__). A .pyc of another Python version is not used."""
    external = sys.modules["_frozen_importlib_external"]  # importlib._bootstrap_external, always loaded
    if pyc and pyc[:4] == external.MAGIC_NUMBER:
        code = marshal.loads(memoryview(pyc)[16:])  # after the header: magic, flags, source mtime and size
        _imp._fix_co_filename(code, path)  # the file's name in the sandbox, not where deploy compiled it
        loader = external.SourceFileLoader(name, path)
        spec = sys.modules["_frozen_importlib"].ModuleSpec(name, loader, origin=path)
        spec.has_location = True
        directory, _, filename = path.rpartition("/")
        spec.cached = f"{directory}/__pycache__/{filename.rpartition('.')[0]}.{sys.implementation.cache_tag}.pyc"
        module = type(sys)(name)
        module.__file__, module.__cached__, module.__loader__, module.__spec__ = path, spec.cached, loader, spec
        module.__package__ = ""
        run = lambda: exec(code, module.__dict__)  # noqa: E731
    else:
        spec = external.spec_from_file_location(name, path)
        module = sys.modules["_frozen_importlib"].module_from_spec(spec)
        run = lambda: spec.loader.exec_module(module)  # noqa: E731
    sys.modules[name] = module
    try:
        run()
    except BaseException:
        del sys.modules[name]
        raise
    return module


def warm_up():
    """Runs, once and ahead, what a first call runs in a process just forked from a Zygote: a handler loaded
    and called (warmup.py's) with a JSON event. Each page of the Zygote's that a call writes to (a reference
    count is enough) is copied at its first write; a spare (zygote.py) takes those copies before its call
    comes: f.py then loads in ~0.1 ms instead of 0.4-0.9 here. warmup.py is loaded from bytecode, as sockpitd
    sends f.py's."""
    path = list(sys.path)
    directory = os.path.dirname(os.path.abspath(__file__))
    try:
        with open(f"{directory}/warmup.py", "rb") as source:
            code = compile(source.read(), f"{directory}/warmup.py", "exec")
        pyc = sys.modules["_frozen_importlib_external"].MAGIC_NUMBER + bytes(12) + marshal.dumps(code)
        handler, error = load_handler(directory, "warmup.py", pyc)
        if error is None:
            dumps(handler(loads('{"warm": [1, 2.5, "x", null, true, {}]}'))).encode()
    finally:
        sys.modules.pop("f", None)
        sys.path[:] = path


def load_handler(directory=HANDLER_DIR, filename="f.py", pyc=None):
    """Imports f.py (from pyc, its bytecode, when given) and returns (f, None) or (None, error body)."""
    # packages first, in the order sockpitd resolved them; the function's own folder before them all
    for path in reversed(os.environ.get("SOCKPIT_PATHS", "").split(":")):
        if path and path not in sys.path:
            sys.path.insert(0, path)
    sys.path.insert(0, directory)
    try:
        module = import_file("f", f"{directory}/{filename}", pyc)  # named f by the OpenLambda format
    except BaseException as exc:  # a broken f.py (even sys.exit) must not kill the host
        return None, describe(exc)
    handler = getattr(module, "f", None)
    if not callable(handler):
        return None, dumps({"type": "LoadError", "message": "f.py defines no callable f(event)", "traceback": ""}).encode()
    return handler, None


def serve(spare=False):
    """Serves calls until the channel closes. A spare (zygote.py) first gets its function's environment and
    f.py's bytecode, in a frame b"S" + the JSON object + "\n" + the .pyc, sent right before its first call."""
    host_pid = os.getpid()
    handler = load_error = pyc = None
    loaded = False
    if spare:
        setup = read_frame()
        if setup is None or setup[:1] != b"S":
            os._exit(1)  # sockpitd let it go (or broke the protocol): there is no call to answer
        environment, _, pyc = setup[1:].partition(b"\n")
        os.environ.update({str(k): str(v) for k, v in loads(environment).items()})
    while True:
        request = read_frame()
        if request is None:
            return
        if request[:1] != b"C":
            error = {"type": "ProtocolError", "traceback": "",
                     "message": f"this is a function instance: it serves calls only, not {request[:1]!r} requests "
                                "(fork requests go to a Zygote)"}
            send_frame({"id": "", "status": "error", "load_ms": 0.0, "exec_ms": 0.0}, dumps(error).encode())
            continue
        request_id, _, request = request[1:].partition(b"\n")
        request_id = request_id.decode("ascii", "replace")
        load_ms = 0.0
        if not loaded:
            started = time.perf_counter()
            handler, load_error = load_handler(pyc=pyc)
            load_ms = (time.perf_counter() - started) * 1000
            loaded, pyc = True, None
        if load_error is not None:
            send_frame({"id": request_id, "status": "load_error", "load_ms": load_ms, "exec_ms": 0.0}, load_error)
            continue
        started = time.perf_counter()
        try:
            body = dumps(handler(loads(request))).encode()
            status = "ok"
        except BaseException as exc:  # includes SystemExit and KeyboardInterrupt raised by function code
            status, body = "error", describe(exc)
        if os.getpid() != host_pid:
            os._exit(0)  # a process the function forked returned from f: only the host answers
        exec_ms = (time.perf_counter() - started) * 1000
        send_frame({"id": request_id, "status": status, "load_ms": load_ms, "exec_ms": exec_ms}, body)


if __name__ == "__main__":
    os.chdir("/tmp")
    serve()
