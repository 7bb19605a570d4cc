"""The function instance host: runs inside a sandbox as PID 1, loads /handler/f.py, serves calls.

sockpitd talks to it over fd 3, one end of a socketpair it made before the spawn (so there is no socket file
to bind and nothing to poll for). The messages (calls, a spare's set-up, replies) are protocol.py's; any other
request is refused with an error reply (a fork request, say, belongs to a Zygote). A reply's header is one flat
object: sockpitd refuses nesting, other ids, timings out of range.
f.py is imported when the first request arrives: by then sockpitd has moved this process into the sandbox's
cgroups, so no function code runs outside its limits. The instance serves calls one at a time until sockpitd
closes the socket.

Start-up time is the cold tier's cost, so this file imports only what is built in (json, socket, struct and
traceback would add ~20 ms here): protocol.py frames with int.to_bytes and uses the C accelerator of the json
module directly (falling back to json where it is missing), and this file reads and writes the fd with
os.read/os.write.
"""

import _imp
import marshal
import os
import sys
import time

CONTROL_FD = 3
HANDLER_DIR = "/handler"


def _load_protocol():
    """protocol.py, from beside this file, as the module _sockpit_protocol: sys.path stays as it was (it is the
    function's), and a function's own module named protocol is not shadowed. Loaded once: an instance forked
    from a Zygote finds it in sys.modules (zygote.py imported this file). A cold instance loads the bytecode
    `npm run build` compiled (build:runtime) when it is there: 0.06 ms, where compiling the file takes 1.2."""
    name = "_sockpit_protocol"
    if name not in sys.modules:
        path = f"{os.path.dirname(os.path.abspath(__file__))}/protocol.py"
        spec = sys.modules["_frozen_importlib_external"].spec_from_file_location(name, path)
        module = sys.modules["_frozen_importlib"].module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.modules[name] = module
    return sys.modules[name]


protocol = _load_protocol()
loads, dumps = protocol.loads, protocol.dumps


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
    size = protocol.frame_size(head)
    return read_exact(size) if size else b""


def send_reply(request_id, status, load_ms, exec_ms, body):
    data = memoryview(protocol.encode_reply(request_id, status, load_ms, exec_ms, body))
    while data:
        data = data[os.write(CONTROL_FD, data):]


def describe(exc):
    import traceback  # only on the error path: it costs milliseconds to import

    return protocol.encode_error_body(type(exc).__name__, str(exc),
                                      "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))


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
        return None, protocol.encode_error_body("LoadError", "f.py defines no callable f(event)", "")
    return handler, None


def serve(spare=False):
    """Serves calls until the channel closes. A spare (zygote.py) first gets its function's environment and
    f.py's bytecode, in a set-up frame (protocol.py) sent right before its first call."""
    host_pid = os.getpid()
    handler = load_error = pyc = None
    loaded = False
    if spare:
        setup = read_frame()
        if setup is None or setup[:1] != protocol.SETUP:
            os._exit(1)  # sockpitd let it go (or broke the protocol): there is no call to answer
        environment, pyc = protocol.decode_setup(setup)
        os.environ.update({str(k): str(v) for k, v in environment.items()})
    while True:
        request = read_frame()
        if request is None:
            return
        if request[:1] != protocol.CALL:
            refusal = protocol.encode_error_body("ProtocolError", protocol.not_served(request[:1]), "")
            send_reply("", "error", 0.0, 0.0, refusal)
            continue
        request_id, request = protocol.decode_call(request)
        load_ms = 0.0
        if not loaded:
            started = time.perf_counter()
            handler, load_error = load_handler(pyc=pyc)
            load_ms = (time.perf_counter() - started) * 1000
            loaded, pyc = True, None
        if load_error is not None:
            send_reply(request_id, "load_error", load_ms, 0.0, load_error)
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
        send_reply(request_id, status, load_ms, exec_ms, body)


if __name__ == "__main__":
    os.chdir("/tmp")
    serve()
