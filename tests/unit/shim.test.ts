/**
 * The client shim's budget and its mapping: the bundle served to browsers (src/client/shim-asset.ts)
 * is what src/client/build.ts makes from the sources, fits 3 KB gzipped, installs once, survives a
 * browser without the APIs it patches, and maps exactly as the server's SiteMapper does (the mapper's
 * own test table plus fast-check strings): same output, never throws, idempotent.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assetSource, bundleShim } from '../../src/client/build.ts';
import { createRuntimeMapper, shimSiteJson, type RuntimeMapper, type ShimSiteJson } from '../../src/client/runtime-map.ts';
import { SHIM_JS } from '../../src/client/shim-asset.ts';
import { SiteMapper, type DocContext } from '../../src/mapping/url-mapper.ts';
import { resolve, testSiteConfig } from '../helpers/mirror.ts';

const BUDGET = 3 * 1024;
const MIRROR = 'https://mirror.example';
const site = resolve({ sites: [testSiteConfig('http://127.0.0.1:9')] }).sites[0]!;
const mapper = new SiteMapper(site);
const json = shimSiteJson(site);

/** Runs the served bundle in a bare context (no DOM at all) and returns what it installed. */
function loadShim(pathname: string, extra: Record<string, unknown> = {}): { map: RuntimeMapper['map']; text: RuntimeMapper['text']; context: vm.Context } {
  const context = vm.createContext({
    URL,
    location: { origin: MIRROR, pathname },
    document: { currentScript: { getAttribute: (name: string) => (name === 'data-map' ? json : null) } },
    ...extra,
  });
  vm.runInContext(SHIM_JS, context);
  const installed = (context as { __edgemirror?: RuntimeMapper }).__edgemirror;
  if (!installed) throw new Error('shim did not install');
  return { map: installed.map, text: installed.text, context };
}

/** Every string literal in the mapper's own test file: its table of URL spellings, kept in step with it. */
function mapperTable(): string[] {
  const source = readFileSync(path.resolve(import.meta.dirname, 'url-mapper.test.ts'), 'utf8');
  const out = new Set<string>();
  for (const m of source.matchAll(/'((?:[^'\\\n]|\\.)*)'/g)) {
    out.add(m[1]!.replace(/\\(.)/g, (_s, c: string) => ({ n: '\n', t: '\t', r: '\r' })[c] ?? c));
  }
  return [...out];
}

const rootDoc: DocContext = { origin: mapper.root, url: 'https://www.epochtimes.com/gb/x.htm', mirrorOrigin: MIRROR };
const imgOrigin = mapper.origins.find((o) => o.mount === '/_i/')!;
const imgDoc: DocContext = { origin: imgOrigin, url: 'https://i.epochtimes.com/assets/page.html', mirrorOrigin: MIRROR };

/** URL-ish strings dense in the site's hosts and spellings. */
const urlish = fc
  .array(
    fc.constantFrom(
      'https:', 'http:', '//', '\\/\\/', 'www.', 'i.', 'epochtimes.com', 'EpochTimes.COM', ':443', ':80', ':8080', '/', '/_i/', '/_mirror/', '?', '#', '@', ' ', '\n', '\\',
      'gb/x.htm', 'a.jpg', '..', 'evil.example', 'javascript:', 'data:', '%20', '美国',
    ),
    { maxLength: 12 },
  )
  .map((parts) => parts.join(''));
const anyString = fc.oneof(urlish, fc.string({ maxLength: 80 }), fc.webUrl());

describe('client shim bundle', () => {
  it('is what src/client/build.ts makes from the sources (run `npm run build:shim` after editing them)', async () => {
    const js = await bundleShim();
    expect(readFileSync(path.resolve(import.meta.dirname, '../../src/client/shim-asset.ts'), 'utf8')).toBe(assetSource(js));
  });

  it(`fits ${BUDGET} bytes gzipped`, () => {
    const size = gzipSync(SHIM_JS, { level: 9 }).length;
    expect(size).toBeLessThanOrEqual(BUDGET);
  });

  it('installs once, without throwing in a context that has none of the APIs it patches', () => {
    const { context } = loadShim('/gb/x.htm');
    const first = (context as { __edgemirror?: unknown }).__edgemirror;
    vm.runInContext(SHIM_JS, context);
    expect((context as { __edgemirror?: unknown }).__edgemirror).toBe(first);
    expect(Object.keys(context)).not.toContain('__edgemirror'); // not enumerable
  });

  it('does nothing without its mapping (a copy of the script outside the mirror)', () => {
    const context = vm.createContext({ URL, location: { origin: MIRROR, pathname: '/' }, document: { currentScript: null } });
    vm.runInContext(SHIM_JS, context);
    expect((context as { __edgemirror?: unknown }).__edgemirror).toBeUndefined();
  });

  it('patches fetch by calling through, with the mapped URL', async () => {
    const seen: unknown[] = [];
    const fetch = (input: unknown) => (seen.push(input), Promise.resolve('ok'));
    const { context } = loadShim('/gb/x.htm', { fetch });
    expect(await vm.runInContext(`fetch('https://www.epochtimes.com/gb/a.json')`, context)).toBe('ok');
    vm.runInContext(`fetch(new URL('//i.epochtimes.com/b.jpg', 'https://x.example/'))`, context);
    vm.runInContext(`fetch('/gb/c.json')`, context);
    expect(seen).toEqual(['/gb/a.json', '/_i/b.jpg', '/gb/c.json']);
  });
});

describe('client shim mapping = the server SiteMapper', () => {
  const table = mapperTable();
  const shimRoot = loadShim('/gb/x.htm');
  const shimImg = loadShim('/_i/assets/page.html');

  it('reads a table of the mapper’s URL spellings', () => {
    expect(table.length).toBeGreaterThan(50);
    expect(table).toContain('//i.epochtimes.com/a.jpg?w=1,2#f');
  });

  it('in a page of the root origin: exactly the server’s toMirror, for every spelling in the table', () => {
    for (const raw of table) expect(shimRoot.map(raw), raw).toBe(mapper.toMirror(raw, rootDoc));
  });

  it('in a mounted origin’s page: the server’s absolute mapping, except URLs already on a mount', () => {
    for (const raw of table) {
      const trimmed = raw.trimStart();
      const onMount = /^[\t\n\f\r ]*\/(?![/\\])/.test(raw) && (trimmed.startsWith('/_i/') || trimmed.startsWith('/_mirror/'));
      expect(shimImg.map(raw), raw).toBe(onMount ? null : mapper.toMirror(raw, imgDoc, true));
    }
  });

  it('text: exactly the server’s rewriteText', () => {
    for (const raw of table) expect(shimRoot.text(`<a href="${raw}">`)).toBe(mapper.rewriteText(`<a href="${raw}">`, MIRROR));
  });

  it('fast-check: the bundle agrees with the sources, never throws, and is idempotent', () => {
    const direct = createRuntimeMapper(JSON.parse(json) as ShimSiteJson, MIRROR, '/_i/assets/page.html');
    fc.assert(
      fc.property(anyString, (raw) => {
        for (const [shim, doc] of [[shimRoot, rootDoc], [shimImg, imgDoc]] as const) {
          const once = shim.map(raw);
          if (once !== null) expect(shim.map(once), `${raw} → ${once}`).toBe(null);
          if (doc === rootDoc) expect(once).toBe(mapper.toMirror(raw, rootDoc));
          const text = shim.text(raw);
          expect(shim.text(text)).toBe(text);
          expect(text).toBe(mapper.rewriteText(raw, MIRROR));
        }
        expect(shimImg.map(raw)).toBe(direct.map(raw));
      }),
      { numRuns: 3000 },
    );
  });

  it('never throws on values that are not strings', () => {
    for (const v of [undefined, null, 1, {}, [], Symbol('x'), 'x'.repeat(100_000)]) expect(() => shimRoot.map(v)).not.toThrow();
  });
});
