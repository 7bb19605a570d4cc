// Deployed functions, kept in SQLite so they survive a restart. Each deploy snapshots the folder into the state
// directory under a new version, so the code that runs is the code that was deployed, and a redeploy is what
// picks up changes.

import Database from 'better-sqlite3';
import { FunctionLimits } from '../config';
import { FunctionNetwork, Requirement } from './spec';

/** One package of a function's resolved closure, as sandboxes and Zygotes need it. */
export interface PackageRef {
  /** name==version */
  key: string;
  /** /packages/name==version, the directory added to sys.path */
  sandboxPath: string;
  /** importable top-level modules (what a Zygote imports for it) */
  topLevel: string[];
}

export interface FunctionRecord {
  name: string;
  version: number;
  /** the uid that deployed this version (SO_PEERCRED); 0 for functions deployed before owners were kept */
  owner: number;
  /** where the client said the folder came from (shown only: the daemon never opens it) */
  source: string;
  /** the snapshot the sandbox mounts at /handler */
  codeDir: string;
  environment: Record<string, string>;
  /** the function's own limits from ol.yaml (merged with the daemon's defaults at call time) */
  limits: Partial<FunctionLimits>;
  /** ol.yaml `network` */
  network: FunctionNetwork;
  requirements: Requirement[];
  /** the resolved closure of requirements, in a stable order */
  packages: PackageRef[];
  deployedAt: string;
}

interface Row {
  name: string;
  version: number;
  owner: number;
  source: string;
  code_dir: string;
  environment: string;
  limits: string;
  network: string;
  requirements: string;
  packages: string;
  deployed_at: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS functions (
  name TEXT PRIMARY KEY,
  version INTEGER NOT NULL,
  owner INTEGER NOT NULL DEFAULT 0,
  source TEXT NOT NULL,
  code_dir TEXT NOT NULL,
  environment TEXT NOT NULL,
  limits TEXT NOT NULL,
  network TEXT NOT NULL DEFAULT 'egress',
  requirements TEXT NOT NULL,
  packages TEXT NOT NULL DEFAULT '[]',
  deployed_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS versions (
  name TEXT PRIMARY KEY,
  last INTEGER NOT NULL
);`;

export class FunctionStore {
  private readonly db: Database.Database;
  private readonly cache = new Map<string, FunctionRecord>();

  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(SCHEMA);
    migrate(this.db);
    for (const row of this.db.prepare('SELECT * FROM functions').all() as Row[]) {
      this.cache.set(row.name, fromRow(row));
    }
  }

  /** The next version number for a name; versions are never reused, even after a delete. */
  nextVersion(name: string): number {
    const row = this.db
      .prepare('INSERT INTO versions (name, last) VALUES (?, 1) ON CONFLICT(name) DO UPDATE SET last = last + 1 RETURNING last')
      .get(name) as { last: number };
    return row.last;
  }

  put(record: FunctionRecord): void {
    this.db
      .prepare(
        `INSERT INTO functions (name, version, owner, source, code_dir, environment, limits, network, requirements, packages, deployed_at)
         VALUES (@name, @version, @owner, @source, @code_dir, @environment, @limits, @network, @requirements, @packages, @deployed_at)
         ON CONFLICT(name) DO UPDATE SET version = excluded.version, owner = excluded.owner, source = excluded.source,
           code_dir = excluded.code_dir, environment = excluded.environment, limits = excluded.limits, network = excluded.network,
           requirements = excluded.requirements, packages = excluded.packages, deployed_at = excluded.deployed_at`,
      )
      .run(toRow(record));
    this.cache.set(record.name, record);
  }

  get(name: string): FunctionRecord | undefined {
    return this.cache.get(name);
  }

  list(): FunctionRecord[] {
    return [...this.cache.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  delete(name: string): boolean {
    this.db.prepare('DELETE FROM functions WHERE name = ?').run(name);
    return this.cache.delete(name);
  }

  close(): void {
    this.db.close();
  }
}

/**
 * Databases written before functions had owners: the column is added, and what they hold belongs to root (0),
 * the one uid sure to have been allowed; its owner redeploys nothing until root deletes or redeploys it.
 */
function migrate(db: Database.Database): void {
  const columns = (db.prepare('PRAGMA table_info(functions)').all() as Array<{ name: string }>).map((c) => c.name);
  if (!columns.includes('owner')) db.exec('ALTER TABLE functions ADD COLUMN owner INTEGER NOT NULL DEFAULT 0');
  if (!columns.includes('network')) db.exec("ALTER TABLE functions ADD COLUMN network TEXT NOT NULL DEFAULT 'egress'");
}

function toRow(r: FunctionRecord): Row {
  return {
    name: r.name,
    version: r.version,
    owner: r.owner,
    source: r.source,
    code_dir: r.codeDir,
    environment: JSON.stringify(r.environment),
    limits: JSON.stringify(r.limits),
    network: r.network,
    requirements: JSON.stringify(r.requirements),
    packages: JSON.stringify(r.packages),
    deployed_at: r.deployedAt,
  };
}

function fromRow(row: Row): FunctionRecord {
  return {
    name: row.name,
    version: row.version,
    owner: row.owner,
    source: row.source,
    codeDir: row.code_dir,
    environment: JSON.parse(row.environment),
    limits: JSON.parse(row.limits),
    network: row.network === 'none' ? 'none' : 'egress',
    requirements: JSON.parse(row.requirements),
    packages: JSON.parse(row.packages),
    deployedAt: row.deployed_at,
  };
}
