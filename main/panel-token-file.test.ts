// The panel's token file: 0600 in a private directory, never written through a symlink, found again by
// --show-url only while its panel runs.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { ensurePrivateDir, findPanelUrl, panelFileDir, panelFilePath, readPanelFile, removePanelFile, writePanelFile } from './panel-token-file';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'panel-token-file-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));

test('lives in $XDG_RUNTIME_DIR/sockpit, else ~/.config/sockpit', () => {
  assert.equal(panelFileDir({ XDG_RUNTIME_DIR: root }), path.join(root, 'sockpit'));
  // missing, or another user's (kept across su): passed over
  assert.equal(panelFileDir({ XDG_RUNTIME_DIR: path.join(root, 'missing') }), path.join(os.homedir(), '.config', 'sockpit'));
  if (process.getuid?.() === 0) {
    const theirs = path.join(root, 'theirs');
    fs.mkdirSync(theirs);
    fs.chownSync(theirs, 65534, 65534);
    assert.equal(panelFileDir({ XDG_RUNTIME_DIR: theirs }), path.join(os.homedir(), '.config', 'sockpit'));
  }
  assert.equal(panelFileDir({}), path.join(os.homedir(), '.config', 'sockpit'));
  assert.equal(panelFileDir({ XDG_RUNTIME_DIR: 'relative' }), path.join(os.homedir(), '.config', 'sockpit'));
});

test('an account with no home of its own (nobody: /nonexistent), or a home of another user: $TMPDIR/sockpit-<uid>', () => {
  const fallback = path.join(os.tmpdir(), `sockpit-${process.getuid?.()}`);
  assert.equal(panelFileDir({ HOME: '/nonexistent' }), fallback);
  assert.equal(panelFileDir({ HOME: path.join(root, 'no-such-home') }), fallback);
  if (process.getuid?.() === 0) {
    const theirHome = path.join(root, 'their-home');
    fs.mkdirSync(theirHome);
    fs.chownSync(theirHome, 65534, 65534);
    assert.equal(panelFileDir({ HOME: theirHome }), fallback);
  }
  // a runtime dir of our own still comes first, and a home of our own next
  assert.equal(panelFileDir({ HOME: '/nonexistent', XDG_RUNTIME_DIR: root }), path.join(root, 'sockpit'));
  assert.equal(panelFileDir({ HOME: root }), path.join(root, '.config', 'sockpit'));
});

test('written 0600 in a 0700 directory, over a stale file and never through a symlink', () => {
  const dir = path.join(root, 'a', 'sockpit');
  const victim = path.join(root, 'victim');
  fs.writeFileSync(victim, 'keep');
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  fs.symlinkSync(victim, panelFilePath(dir, 7788));
  const file = writePanelFile(dir, 7788, { url: 'http://127.0.0.1:7788/?token=t', token: 't', pid: process.pid });
  assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
  assert.equal(fs.lstatSync(file).isFile(), true);
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  assert.equal(fs.readFileSync(victim, 'utf8'), 'keep');
  assert.deepEqual(readPanelFile(file), { url: 'http://127.0.0.1:7788/?token=t', token: 't', pid: process.pid });

  // a directory that is a symlink is refused
  const link = path.join(root, 'b', 'sockpit');
  fs.mkdirSync(path.dirname(link));
  fs.symlinkSync(dir, link);
  assert.throws(() => ensurePrivateDir(link), /not a directory/);
});

test('--show-url finds the running panel; a dead one, or a file another token replaced, is not removed by mistake', () => {
  const dir = path.join(root, 'c');
  assert.match((findPanelUrl(dir, undefined) as { error: string }).error, /no running `sockpit panel`/);
  const file = writePanelFile(dir, 7788, { url: 'u1', token: 't1', pid: process.pid });
  assert.deepEqual(findPanelUrl(dir, undefined), { url: 'u1' });
  assert.deepEqual(findPanelUrl(dir, 7788), { url: 'u1' });
  assert.match((findPanelUrl(dir, 7789) as { error: string }).error, /port 7789/);
  writePanelFile(dir, 7790, { url: 'u2', token: 't2', pid: process.pid });
  assert.match((findPanelUrl(dir, undefined) as { error: string }).error, /several panels run \(ports 7788, 7790\)/);
  // pid 0x7fffffff runs nowhere
  writePanelFile(dir, 7790, { url: 'u2', token: 't2', pid: 0x7fffffff });
  assert.deepEqual(findPanelUrl(dir, undefined), { url: 'u1' });

  removePanelFile(file, 'other');
  assert.ok(fs.existsSync(file));
  removePanelFile(file, 't1');
  assert.equal(fs.existsSync(file), false);
});
