import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RUNTIME_DIR } from '../paths';
import { BytecodeCache, parsePycHeader, readBytecode } from './bytecode';

const PYTHON = '/usr/bin/python3';

/** a code snapshot as deploy leaves it: f.py, byte-compiled (when it compiles) */
function snapshot(source: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockpit-bytecode-'));
  fs.writeFileSync(path.join(dir, 'f.py'), source);
  spawnSync(PYTHON, ['-I', '-m', 'compileall', '-q', dir], { stdio: 'ignore' });
  return dir;
}

/** instance.import_file in a python3 of its own: what the module's f() returns, and its __file__ */
function importInRuntime(fpy: string, pyc: Buffer | null): { result: string; file: string; cached: string; traceback: string } {
  const script = `
import sys
sys.path.insert(0, ${JSON.stringify(RUNTIME_DIR)})
import instance, json
pyc = sys.stdin.buffer.read() or None
m = instance.import_file("f", ${JSON.stringify(fpy)}, pyc)
try:
    m.fail()
    tb = ""
except Exception:
    import traceback
    tb = traceback.format_exc()
print(json.dumps({"result": m.f(None), "file": m.__file__, "cached": m.__cached__, "traceback": tb}))
`;
  const r = spawnSync(PYTHON, ['-I', '-B', '-c', script], { input: pyc ?? Buffer.alloc(0), encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test("readBytecode returns the .pyc deploy wrote, and the runtime runs it instead of reading f.py", (t) => {
  const dir = snapshot('def f(event):\n    return "compiled"\n\ndef fail():\n    raise ValueError("x")\n');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const fpy = path.join(dir, 'f.py');
  const pyc = readBytecode(dir);
  assert.ok(pyc, 'the .pyc is found');
  assert.equal(parsePycHeader(pyc)!.sourceSize, fs.statSync(fpy).size);

  // the same f.py on disk now says something else: only the bytecode says "compiled"
  const mtime = fs.statSync(fpy).mtime;
  fs.writeFileSync(fpy, 'def f(event):\n    return "from disk"\n\ndef fail():\n    raise ValueError("x")\n');
  const loaded = importInRuntime(fpy, pyc);
  assert.equal(loaded.result, 'compiled');
  assert.equal(loaded.file, fpy);
  assert.match(loaded.cached, /__pycache__\/f\.cpython-\d+\.pyc$/);
  assert.match(loaded.traceback, new RegExp(`File "${fpy}", line 5, in fail`), 'tracebacks name the file as seen by the instance');

  // a .pyc of another Python (another magic number) is ignored: the file is loaded
  const foreign = Buffer.from(pyc);
  foreign[0] ^= 0xff;
  assert.equal(importInRuntime(fpy, foreign).result, 'from disk');

  // the daemon no longer trusts the .pyc: f.py's size differs from what the .pyc was compiled from
  assert.equal(readBytecode(dir), null);
  fs.utimesSync(fpy, mtime, mtime);
  assert.equal(readBytecode(dir), null, 'same mtime, other size');
});

test('readBytecode: no .pyc (f.py does not compile), or two of them, is null', (t) => {
  const broken = snapshot('def f(event:\n');
  t.after(() => fs.rmSync(broken, { recursive: true, force: true }));
  assert.equal(readBytecode(broken), null);
  assert.ok(fs.existsSync(path.join(broken, 'f.py')));
  const two = snapshot('def f(event):\n    return 1\n');
  t.after(() => fs.rmSync(two, { recursive: true, force: true }));
  const [only] = fs.readdirSync(path.join(two, '__pycache__'));
  assert.ok(readBytecode(two), 'one .pyc is read');
  fs.copyFileSync(path.join(two, '__pycache__', only), path.join(two, '__pycache__', 'f.pypy-73.pyc'));
  assert.equal(readBytecode(two), null);
});

test('BytecodeCache reads a snapshot once and keeps the recently used within its budget', (t) => {
  const dirs = [0, 1, 2].map((i) => snapshot(`def f(event):\n    return ${i}\n`));
  t.after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
  const size = readBytecode(dirs[0])!.length;
  const cache = new BytecodeCache(2 * size + 10);
  const first = cache.of(dirs[0]);
  fs.rmSync(path.join(dirs[0], '__pycache__'), { recursive: true });
  assert.equal(cache.of(dirs[0]), first, 'read once: the file is not read again');
  cache.of(dirs[1]);
  cache.of(dirs[0]); // dirs[0] is now the most recent
  cache.of(dirs[2]); // over budget: dirs[1] goes
  assert.equal(cache.size, 2);
  assert.equal(cache.of(dirs[0]), first, 'kept');
  assert.equal(cache.of(dirs[1])?.length, size, 'read again');
});
