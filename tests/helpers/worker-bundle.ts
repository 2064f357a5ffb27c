/** Builds the Worker bundle the way `wrangler deploy` does (no upload), for the worker-target tests. */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Environment for wrangler: nothing phones home. */
export const OFFLINE_ENV = { WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false' };

export interface WorkerBundle {
  /** The bundled module (index.js) that `wrangler deploy` would upload. */
  script: string;
  compatibilityDate: string;
  compatibilityFlags: string[];
}

declare module 'vitest' {
  export interface ProvidedContext {
    workerBundle: WorkerBundle;
  }
}

export async function buildWorkerBundle(outdir: string): Promise<WorkerBundle> {
  const wrangler = path.join(REPO_ROOT, 'node_modules/wrangler/bin/wrangler.js');
  await promisify(execFile)(process.execPath, [wrangler, 'deploy', '--dry-run', '--outdir', outdir], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...OFFLINE_ENV },
  });
  const toml = readFileSync(path.join(REPO_ROOT, 'wrangler.toml'), 'utf8');
  const date = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(toml)?.[1];
  const flags = /^compatibility_flags\s*=\s*\[([^\]]*)\]/m.exec(toml)?.[1];
  if (!date) throw new Error('wrangler.toml has no compatibility_date');
  return {
    script: path.join(outdir, 'index.js'),
    compatibilityDate: date,
    compatibilityFlags: flags ? [...flags.matchAll(/"([^"]+)"/g)].map((m) => m[1]!) : [],
  };
}
