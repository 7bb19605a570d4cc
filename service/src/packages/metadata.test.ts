import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  checkName,
  checkVersion,
  normaliseName,
  outputTail,
  packageKey,
  parseKey,
  parseMetadata,
  parseRecord,
  parseRequirement,
  parseTopLevelTxt,
  parseWheelFilename,
  recordLine,
  requiresTxtToRequiresDist,
  topLevelFromPaths,
} from './metadata';
import { SockpitError } from '../errors';

test('names normalise the PEP 503 way and keys round-trip', () => {
  assert.equal(normaliseName('Foo.Bar__baz-.-Qux'), 'foo-bar-baz-qux');
  assert.equal(normaliseName('python_dateutil'), 'python-dateutil');
  assert.equal(packageKey('Python_DateUtil', '2.8.2'), 'python-dateutil==2.8.2');
  assert.deepEqual(parseKey('python-dateutil==2.8.2'), { name: 'python-dateutil', version: '2.8.2' });
  assert.equal(parseKey('Not_Normal==1.0'), null);
  assert.equal(parseKey('noversion'), null);
  assert.equal(parseKey('==1.0'), null);
  assert.equal(parseKey('x==-rf'), null);
});

test('checkName and checkVersion refuse what could become a pip option or a path', () => {
  assert.equal(checkName('Flask'), 'flask');
  for (const bad of ['-e', '--index-url=x', '../x', 'a/b', '', 'a b', 'x.', 42]) {
    assert.throws(() => checkName(bad), (e: unknown) => e instanceof SockpitError && e.code === 'bad_request', String(bad));
  }
  assert.equal(checkVersion('x', '1.0.post1+local.2'), '1.0.post1+local.2');
  for (const bad of ['-1', '', '1.0 ; rm', '1/2', null]) assert.throws(() => checkVersion('x', bad), SockpitError);
});

test('wheel file names', () => {
  assert.deepEqual(parseWheelFilename('Python_Dateutil-2.8.2-py2.py3-none-any.whl'), {
    name: 'python-dateutil',
    version: '2.8.2',
    build: null,
    tags: ['py2-none-any', 'py3-none-any'],
  });
  const w = parseWheelFilename('numpy-1.24.2-1-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl');
  assert.equal(w?.build, '1');
  assert.deepEqual(w?.tags, ['cp311-cp311-manylinux_2_17_x86_64', 'cp311-cp311-manylinux2014_x86_64']);
  assert.equal(parseWheelFilename('numpy-1.24.2.tar.gz'), null);
  assert.equal(parseWheelFilename('numpy-1.24.2-py3-none.whl'), null);
  assert.equal(parseWheelFilename('a-1-x-py3-none-any.whl'), null); // build tag must start with a digit
});

test('core metadata: headers, folded lines, repeated Requires-Dist, the body ignored', () => {
  const md = parseMetadata(
    [
      'Metadata-Version: 2.1',
      'Name: Alpha_Pkg',
      'Version: 2.0',
      'Summary: a',
      '  folded summary',
      'Requires-Dist: beta (>=1.1)',
      'Requires-Dist: gamma ; extra == "x"',
      'Provides-Extra: x',
      'Requires-Python: >=3.8',
      '',
      'Name: not-a-header',
      'Requires-Dist: neither',
    ].join('\r\n'),
  );
  assert.equal(md.name, 'Alpha_Pkg');
  assert.equal(md.version, '2.0');
  assert.equal(md.summary, 'a\nfolded summary');
  assert.deepEqual(md.requiresDist, ['beta (>=1.1)', 'gamma ; extra == "x"']);
  assert.deepEqual(md.providesExtra, ['x']);
  assert.equal(md.requiresPython, '>=3.8');
  assert.throws(() => parseMetadata('Name: x\n'), /no Version/);
});

test('Requires-Dist lines (PEP 508)', () => {
  assert.deepEqual(parseRequirement('beta>=1.1'), { name: 'beta', specifier: '>=1.1' });
  assert.deepEqual(parseRequirement('Beta_X (>= 1.1, <2)'), { name: 'beta-x', specifier: '>=1.1,<2' });
  assert.deepEqual(parseRequirement('six; python_version < "3"'), { name: 'six', specifier: '', marker: 'python_version < "3"' });
  assert.deepEqual(parseRequirement('requests[socks,Security] >=2 ; extra == "net"'), {
    name: 'requests',
    specifier: '>=2',
    marker: 'extra == "net"',
    extras: ['socks', 'security'],
  });
  assert.deepEqual(parseRequirement('numpy>=1.23.2; python_version >= "3.11"'), { name: 'numpy', specifier: '>=1.23.2', marker: 'python_version >= "3.11"' });
  assert.deepEqual(parseRequirement('pkg @ https://x/pkg.whl ; os_name == "nt"'), {
    name: 'pkg',
    specifier: '',
    marker: 'os_name == "nt"',
    url: 'https://x/pkg.whl',
  });
  assert.deepEqual(parseRequirement('a~=1.4.2,!=1.4.5'), { name: 'a', specifier: '~=1.4.2,!=1.4.5' });
  assert.deepEqual(parseRequirement('a==1.*'), { name: 'a', specifier: '==1.*' });
  assert.throws(() => parseRequirement('a (>=1'), /unbalanced/);
  assert.throws(() => parseRequirement('a >=1 garbage'), /bad version specifier/);
  assert.throws(() => parseRequirement('!!'), SockpitError);
});

test('requires.txt sections become markers', () => {
  const text = ['six>=1.5', '', '[:python_version < "3.8"]', 'typing-extensions', '[socks]', 'PySocks!=1.5.7', '[security:sys_platform == "win32"]', 'pywin32'].join('\n');
  assert.deepEqual(requiresTxtToRequiresDist(text), [
    'six>=1.5',
    'typing-extensions; python_version < "3.8"',
    'PySocks!=1.5.7; extra == "socks"',
    'pywin32; (sys_platform == "win32") and extra == "security"',
  ]);
});

test('RECORD parsing and writing, quoted paths included', () => {
  const text = ['pkg/__init__.py,sha256=abc,12', '"odd,name.py",sha256=def,3', 'pkg-1.0.dist-info/RECORD,,', ''].join('\n');
  assert.deepEqual(parseRecord(text), [
    { path: 'pkg/__init__.py', hash: 'sha256=abc', size: 12 },
    { path: 'odd,name.py', hash: 'sha256=def', size: 3 },
    { path: 'pkg-1.0.dist-info/RECORD', hash: '', size: null },
  ]);
  assert.equal(recordLine('odd,"name".py', 'h', 3), '"odd,""name"".py",sha256=h,3');
  assert.equal(recordLine('x/RECORD', null, null), 'x/RECORD,,');
});

test('top-level modules from RECORD paths', () => {
  assert.deepEqual(
    topLevelFromPaths([
      'pkg/__init__.py',
      'pkg/sub/mod.py',
      'ns/inner/x.py', // namespace package: no __init__.py at the top
      'single.py',
      '_ext.cpython-311-x86_64-linux-gnu.so',
      'other.abi3.so',
      '__pycache__/single.cpython-311.pyc',
      'pkg-1.0.dist-info/METADATA',
      'pkg-1.0.data/scripts/x',
      'bin/tool',
      '../../bin/tool',
      'data-files/readme.txt', // no code under it, not an identifier either
      'README.txt',
    ]),
    ['_ext', 'ns', 'other', 'pkg', 'single'],
  );
  assert.deepEqual(parseTopLevelTxt('pkg\n\nnested/inner\n_private\nnot valid\n'), ['_private', 'nested', 'pkg']);
});

test('outputTail quotes pip ERROR lines, or the tail', () => {
  const pip = 'Looking in links: /w\nERROR: Could not find a version that satisfies the requirement broken==1.0 (from versions: none)\nERROR: No matching distribution found for broken==1.0\n';
  assert.equal(outputTail(pip), 'ERROR: Could not find a version that satisfies the requirement broken==1.0 (from versions: none)\nERROR: No matching distribution found for broken==1.0');
  assert.equal(outputTail('a\nb\nc\n', 2), 'b\nc');
  assert.equal(outputTail(''), '');
  assert.ok(outputTail('x'.repeat(5000)).length <= 1501);
});
