// Where the repository's files are, whether this code runs from source (tsx) or compiled into dist/.

import fs from 'node:fs';
import path from 'node:path';

function findRepoRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'service', 'runtime'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`can't find the sockpit repository above ${from}`);
  }
}

export const REPO_ROOT = findRepoRoot(__dirname);
/** the Python side (instance host, zygote server), mounted read-only at /sockpit in every sandbox */
export const RUNTIME_DIR = path.join(REPO_ROOT, 'service', 'runtime');
export const VERSION: string = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')).version;

/**
 * An executable's absolute path: the first of PATH's absolute directories, then `alsoIn` (a daemon's PATH may lack
 * /usr/sbin), that holds it as a file; null when none does.
 */
export function which(name: string, alsoIn: readonly string[] = []): string | null {
  const dirs = [...(process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':').filter((d) => d.startsWith('/')), ...alsoIn];
  for (const dir of dirs) {
    const file = path.join(dir, name);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      if (fs.statSync(file).isFile()) return file;
    } catch {
      // not here
    }
  }
  return null;
}
