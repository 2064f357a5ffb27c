import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/validate.ts';
import { loadConfigFile } from '../../src/node/load-config.ts';
import { byTag, parseHtml, textOf, attr } from '../helpers/html.ts';
import { rawRequest, testSiteConfig } from '../helpers/mirror.ts';
import { ARTICLE_PATH, startTestOrigin, type TestOrigin } from '../helpers/origin.ts';
import { startWorker } from '../helpers/worker.ts';

/** The problems the Node server prints for a config text (its loader, run on a temporary file). */
async function nodeProblems(text: string): Promise<string[]> {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'edgemirror-config-')), 'config.json');
  writeFileSync(file, text);
  try {
    await loadConfigFile(file);
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.problems.map((p) => p.replaceAll(file, 'MIRROR_CONFIG'));
  }
}

/** Starts the Worker with `mirrorConfig` and what it logged if it refused to start (null if it started). */
async function startupFailure(mirrorConfig: string): Promise<string[] | null> {
  const logs: string[] = [];
  try {
    const worker = await startWorker({ mirrorConfig, onLog: (line) => logs.push(line) });
    await worker.close();
    return null;
  } catch {
    await new Promise((r) => setTimeout(r, 200)); // let the log lines arrive
    return logs;
  }
}

/** Starts the Worker with `mirrorConfig`, requests one page, and returns the reply and what the Worker logged. */
async function answerFor(mirrorConfig: string | undefined, origin?: TestOrigin) {
  const logs: string[] = [];
  const worker = await startWorker({ mirrorConfig, resolveTo: origin ? new URL(origin.url).host : undefined, onLog: (line) => logs.push(line) });
  try {
    const res = await rawRequest(worker.url, ARTICLE_PATH, { headers: { host: 'mirror.test' } });
    await new Promise((r) => setTimeout(r, 200)); // let the log lines arrive
    return { res, logs };
  } finally {
    await worker.close();
  }
}

describe('Worker config: MIRROR_CONFIG, else the bundled config/default.json', () => {
  let origin: TestOrigin;
  beforeAll(async () => {
    origin = await startTestOrigin();
  });
  afterAll(() => origin.close());

  it('serves config/default.json when MIRROR_CONFIG is not set', async () => {
    const { res } = await answerFor(undefined, origin);
    expect(res.status).toBe(200);
    const doc = parseHtml(res.text);
    const defaults = JSON.parse(readFileSync('config/default.json', 'utf8'));
    const nav = byTag(doc, 'nav').find((n) => attr(n, 'class') === 'mirror-nav')!;
    expect(byTag(nav, 'a').map((a) => textOf(a))).toEqual(defaults.sites[0].nav.map((n: { label: string }) => n.label));
    expect(res.text).toContain('href="/gb/nsc412.htm"');
  });

  it('serves MIRROR_CONFIG when set', async () => {
    const site = testSiteConfig(origin.url, { nav: [{ label: '只有一个', href: '/only/' }] });
    for (const o of site.origins) delete o.upstream;
    const { res } = await answerFor(JSON.stringify({ sites: [site] }), origin);
    expect(res.status).toBe(200);
    const nav = byTag(parseHtml(res.text), 'nav').find((n) => attr(n, 'class') === 'mirror-nav')!;
    expect(byTag(nav, 'a').map((a) => [textOf(a), attr(a, 'href')])).toEqual([['只有一个', '/only/']]);
  });

  const invalid: [string, string][] = [
    ['schema and rule problems', JSON.stringify({ sites: [{ ...testSiteConfig('http://127.0.0.1:9'), origins: [{ url: 'https://www.epochtimes.com/gb/', mount: '_i' }], colour: 'red' }] })],
    ['selectors the rewriter rejects', JSON.stringify({ sites: [testSiteConfig('http://127.0.0.1:9', { remove: ['#ad', 'div[[[', 'a:hover'] })] })],
    ['a JSON syntax error', '{ "sites": [ }'],
  ];
  for (const [what, text] of invalid) {
    it(`refuses to start, logging every problem as the Node server reports them: ${what}`, async () => {
      const expected = await nodeProblems(text);
      expect(expected.length).toBeGreaterThan(0);
      const logs = await startupFailure(text);
      expect(logs).not.toBeNull();
      const start = logs!.indexOf('edgemirror: invalid config MIRROR_CONFIG:');
      expect(start).toBeGreaterThanOrEqual(0);
      expect(logs!.slice(start + 1, start + 1 + expected.length)).toEqual(expected.map((p) => `  ${p}`));
      expect(logs!.some((l) => l.includes('Uncaught Error: edgemirror: invalid config MIRROR_CONFIG') && l.includes('does not start'))).toBe(true);
    });
  }

  it('refuses an https upstream on another host, which a Worker cannot reach under the origin name', async () => {
    const logs = await startupFailure(JSON.stringify({ sites: [testSiteConfig('https://203.0.113.7')] }));
    expect(logs).toContain('  sites[0].origins[0].upstream must be http: or have the same host as url on Cloudflare Workers (got "https://203.0.113.7")');
    expect(logs).toContain('  sites[0].origins[1].upstream must be http: or have the same host as url on Cloudflare Workers (got "https://203.0.113.7")');
  });
});
