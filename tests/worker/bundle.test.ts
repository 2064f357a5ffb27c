import { readFileSync } from 'node:fs';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { workerBundle } from '../helpers/worker.ts';

/** The bundle `wrangler deploy` uploads (built by the global setup with `wrangler deploy --dry-run`). */
describe('Worker bundle', () => {
  const bundle = workerBundle();
  const code = readFileSync(bundle.script, 'utf8');

  it('imports nothing but the Workers runtime modules: no node:*, no undici, no WASM rewriter', () => {
    // esbuild leaves one module: its only import statements are the runtime's own modules.
    const imports = [...code.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']/gm)].map((m) => m[1]);
    expect([...new Set(imports)].sort()).toEqual(['cloudflare:sockets', 'cloudflare:workers']);
    expect(code).not.toMatch(/\bimport\(\s*["']/);
    expect(code).not.toMatch(/["']node:/);
    expect(code).not.toMatch(/undici|html-rewriter-wasm|WebAssembly\.|\.wasm["']/);
    // Both engines are in: the fast engine (the default) and the native HTMLRewriter global (server.htmlEngine "lol-html").
    expect(code).toContain('__name(this, "FastHtmlEngine")');
    expect(code).toContain('new HTMLRewriter()');
  });

  it('bundles config/default.json and config/schema.json', () => {
    const defaults = JSON.parse(readFileSync('config/default.json', 'utf8'));
    expect(code).toContain(defaults.sites[0].origins[1].url);
    expect(code).toContain('additionalProperties');
  });

  it('stays far below the Workers size limit (3 MB gzipped on the free plan)', () => {
    const gzipped = zlib.gzipSync(code).length;
    console.log(`worker bundle: ${(code.length / 1024).toFixed(1)} KiB, ${(gzipped / 1024).toFixed(1)} KiB gzipped`);
    expect(gzipped).toBeLessThan(1024 * 1024);
  });
});
