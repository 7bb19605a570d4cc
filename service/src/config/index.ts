import fs from 'node:fs';
import { buildConfig, Config, ConfigFlags, parseConfigText } from './config';
import { SockpitError } from '../errors';

export * from './config';

export const DEFAULT_CONFIG_FILE = '/etc/sockpit/sockpitd.yaml';

/** Reads the config file (the given one must exist; the default one may be absent) and applies the flags. */
export function loadConfig(file: string | undefined, flags: ConfigFlags): Config {
  const path = file ?? DEFAULT_CONFIG_FILE;
  let text = '';
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch (err) {
    if (file !== undefined || (err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new SockpitError('bad_request', `Can't read config file ${path}: ${(err as Error).message}`, { cause: err });
    }
  }
  return buildConfig(parseConfigText(text, path), flags, path);
}
