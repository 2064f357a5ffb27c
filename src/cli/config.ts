import { fileURLToPath } from 'node:url';
import type { MirrorConfig } from '../config/types.ts';
import { ConfigError } from '../config/validate.ts';
import { loadConfigFile } from '../node/load-config.ts';
import { ProblemError } from './args.ts';

/** config/default.json of this checkout: the Epoch Times mirror. */
export const DEFAULT_CONFIG = fileURLToPath(new URL('../../config/default.json', import.meta.url));

/** Reads and validates a config file (selectors included); problems become a ProblemError (exit 1). */
export async function loadConfigForCli(path: string): Promise<MirrorConfig> {
  try {
    return await loadConfigFile(path);
  } catch (err) {
    if (err instanceof ConfigError) throw new ProblemError(`invalid config ${path}:`, err.described());
    throw err;
  }
}
