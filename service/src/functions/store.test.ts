import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { FunctionStore } from './store';

test('a database from before owners gets the column, and its functions belong to root', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockpit-store-'));
  try {
    const file = path.join(dir, 'sockpit.db');
    const old = new Database(file);
    old.exec(`CREATE TABLE functions (name TEXT PRIMARY KEY, version INTEGER NOT NULL, source TEXT NOT NULL, code_dir TEXT NOT NULL,
      environment TEXT NOT NULL, limits TEXT NOT NULL, requirements TEXT NOT NULL, packages TEXT NOT NULL DEFAULT '[]', deployed_at TEXT NOT NULL)`);
    old.prepare(`INSERT INTO functions VALUES ('legacy', 3, '/srv/legacy', '/state/functions/legacy/v3', '{"K":"v"}', '{}', '[]', '[]', '2026-01-01T00:00:00Z')`).run();
    old.close();

    const store = new FunctionStore(file);
    assert.equal(store.get('legacy')?.owner, 0);
    store.put({ ...store.get('legacy')!, version: 4, owner: 1000 });
    store.close();
    const again = new FunctionStore(file);
    assert.equal(again.get('legacy')?.owner, 1000);
    again.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
