import pkg from '../../package.json' with { type: 'json' };

/** The version in package.json: `edgemirror --version`, the start-up line and edgemirror_build_info. */
export const VERSION: string = pkg.version;

/** "node v20.20.2", "workerd", or "unknown": which adapter runs this copy. */
export const RUNTIME: string = detectRuntime();

function detectRuntime(): string {
  const g = globalThis as { navigator?: { userAgent?: string }; process?: { versions?: { node?: string } } };
  if (g.navigator?.userAgent === 'Cloudflare-Workers') return 'workerd';
  const node = g.process?.versions?.node;
  return node ? `node v${node}` : 'unknown';
}
