import { readFile } from 'node:fs/promises';
import { ConfigError, parseConfig } from '../config/validate.ts';
import type { MirrorConfig } from '../config/types.ts';
import { selectorProblems } from '../rewrite/html-engine.ts';

/** Reads and validates a config file; throws ConfigError listing every problem with its JSON path. */
export async function loadConfigFile(path: string): Promise<MirrorConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError([`cannot read config file ${path}: ${(err as Error).message}`]);
  }
  const result = parseConfig(text, path);
  if (!result.ok) throw new ConfigError(result.errors, result.excerpts);
  checkSelectors(result.config);
  return result.config;
}

/** `remove` selectors are checked at start-up against the selector language every engine runs. */
export function checkSelectors(config: MirrorConfig): void {
  const problems = selectorProblems(config.sites);
  if (problems.length) throw new ConfigError(problems);
}
