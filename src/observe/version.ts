/**
 * The version in package.json (tests/unit/version.test.ts keeps them equal): `edgemirror --version`, the
 * start-up line and edgemirror_build_info. Written out, not imported: bundling package.json would put
 * its whole text, dependency names included, into the Worker.
 */
export const VERSION = '0.1.0';

/** "node v20.20.2", "workerd", or "unknown": which adapter runs this copy. */
export const RUNTIME: string = detectRuntime();

function detectRuntime(): string {
  const g = globalThis as { navigator?: { userAgent?: string }; process?: { versions?: { node?: string } } };
  if (g.navigator?.userAgent === 'Cloudflare-Workers') return 'workerd';
  const node = g.process?.versions?.node;
  return node ? `node v${node}` : 'unknown';
}
