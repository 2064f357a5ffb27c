/**
 * The fast engine with full rules at two commits, in one process, samples interleaved (A B A B …), so
 * that a shared, busy machine slows both alike: the ratio is what to read, not the absolute figures.
 *   node --import tsx bench/engine-ab.ts [--base REF] [--seconds S] [--only dense]
 * A: `src/` of REF (default HEAD) extracted with `git archive` into a temporary directory; B: the work tree.
 * Per page: the median and best CPU ms per document of each, and B's median ÷ A's.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { validateConfig } from '../src/config/validate.ts';
import type { SiteConfig } from '../src/config/types.ts';
import { chunkedStream, drain, MIRROR_ORIGIN } from './engine.ts';
import { ARTICLE_PATH, buildArticle, buildDenseArticle, buildRealArticle, DENSE_PATH, loadRealPage, WWW } from './pages.ts';

const { values } = parseArgs({ options: { base: { type: 'string', default: 'HEAD' }, seconds: { type: 'string', default: '4' }, only: { type: 'string' } } });
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'engine-ab-'));
try {
  execFileSync('sh', ['-c', `git archive ${JSON.stringify(values.base)} src | tar -x -C ${JSON.stringify(tmp)}`], { cwd: ROOT });
  type Mods = { engine: typeof import('../src/rewrite/fast-html-engine.ts'); rules: typeof import('../src/rewrite/html-rules.ts'); mapper: typeof import('../src/mapping/url-mapper.ts') };
  const load = async (dir: string): Promise<Mods> => ({
    engine: await import(pathToFileURL(path.join(dir, 'src/rewrite/fast-html-engine.ts')).href),
    rules: await import(pathToFileURL(path.join(dir, 'src/rewrite/html-rules.ts')).href),
    mapper: await import(pathToFileURL(path.join(dir, 'src/mapping/url-mapper.ts')).href),
  });
  const variants = [await load(tmp), await load(ROOT)];

  const input = JSON.parse(fs.readFileSync(path.join(ROOT, 'config/default.json'), 'utf8'));
  delete input.$schema;
  input.cache = { ...(input.cache ?? {}), enabled: false };
  const bbc = loadRealPage();
  input.sites.unshift({ ...input.sites[0], name: 'bbc', hosts: ['bbc.mirror.test'], origins: bbc.origins, links: { external: 'keep' }, remove: [] });
  const checked = validateConfig(input);
  if (!checked.ok) throw new Error(checked.errors.join('; '));
  const [bbcSite, site] = checked.config.sites as [SiteConfig, SiteConfig];
  const real = buildRealArticle();
  const pages = [
    { name: 'article', bytes: new Uint8Array(buildArticle()), site, url: WWW + ARTICLE_PATH },
    { name: 'real', bytes: new Uint8Array(real.html), site, url: WWW + real.path },
    { name: 'dense', bytes: new Uint8Array(buildDenseArticle()), site, url: WWW + DENSE_PATH },
    { name: 'bbc', bytes: new Uint8Array(bbc.html), site: bbcSite, url: `https://${bbc.host}${bbc.path}` },
  ].filter((p) => !values.only || p.name.includes(values.only));
  const cpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const seconds = Number(values.seconds);
  const rows = [];
  for (const page of pages) {
    const runs = variants.map((m) => {
      const mapper = new m.mapper.SiteMapper(page.site);
      const doc = { origin: mapper.root, url: page.url, mirrorOrigin: MIRROR_ORIGIN };
      const engine = new m.engine.FastHtmlEngine();
      return () => drain(engine.rewrite(chunkedStream(page.bytes), (r) => m.rules.registerHtmlRules(r, { mapper, site: page.site, doc, mode: 'page', transcodedToUtf8: false })));
    });
    const outs = [];
    for (const run of runs) for (let i = 0; i < 30; i++) outs.push(await run());
    const samples: number[][] = [[], []];
    const end = performance.now() + seconds * 1000;
    while (performance.now() < end) {
      for (let v = 0; v < 2; v++) {
        const c0 = cpu();
        for (let i = 0; i < 5; i++) await runs[v]!();
        samples[v]!.push((cpu() - c0) / 5);
      }
    }
    const med = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;
    const [a, b] = samples as [number[], number[]];
    rows.push({
      page: page.name,
      kb: Math.round(page.bytes.length / 1024),
      'A ms': +med(a).toFixed(3),
      'B ms': +med(b).toFixed(3),
      'A best MB/s': +(page.bytes.length / 1e3 / Math.min(...a)).toFixed(1),
      'B best MB/s': +(page.bytes.length / 1e3 / Math.min(...b)).toFixed(1),
      'B ÷ A': +(med(b) / med(a)).toFixed(3),
    });
  }
  console.table(rows);
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
