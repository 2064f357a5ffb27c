/**
 * The fast engine with the mirror's full rules, measured in CPU time (process.cpuUsage), not wall time:
 * the machines are shared, and CPU per document is what a busy machine still reports steadily.
 *   node --import tsx bench/engine-cpu.ts [--seconds S] [--json]
 *   node --cpu-prof --cpu-prof-dir bench/results --import tsx bench/engine-cpu.ts --only dense
 * Pages: the bench article, the real fixture article, the link-dense article, the real BBC page
 * (its own site config, as bench/profile.ts builds it), plus the tiny script through the script rewriter.
 * Reports, per page: CPU ms per document (median of 10 samples) and MB/s of input per CPU second.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { validateConfig } from '../src/config/validate.ts';
import type { SiteConfig } from '../src/config/types.ts';
import { SiteMapper, type DocContext } from '../src/mapping/url-mapper.ts';
import { FastHtmlEngine } from '../src/rewrite/fast-html-engine.ts';
import { registerHtmlRules } from '../src/rewrite/html-rules.ts';
import { benchConfig, chunkedStream, drain, MIRROR_ORIGIN } from './engine.ts';
import { ARTICLE_PATH, buildArticle, buildDenseArticle, buildRealArticle, DENSE_PATH, loadRealPage, WWW } from './pages.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '2' }, only: { type: 'string' }, json: { type: 'boolean', default: false } } });
const seconds = Number(values.seconds);
const config = benchConfig(false);
const site = config.sites[0]!;
const bbc = loadRealPage();
// The BBC page's own site, built as bench/profile.ts builds it, through the config validator.
const input = JSON.parse(fs.readFileSync(fileURLToPath(new URL('../config/default.json', import.meta.url)), 'utf8'));
delete input.$schema;
input.sites.unshift({ ...input.sites[0], name: 'bbc', hosts: ['bbc.mirror.test'], origins: bbc.origins, links: { external: 'keep' }, remove: [] });
const checked = validateConfig(input);
if (!checked.ok) throw new Error(checked.errors.join('; '));
const bbcSite: SiteConfig = checked.config.sites[0]!;
const real = buildRealArticle();

interface Page { name: string; bytes: Uint8Array; site: SiteConfig; url: string }
const pages: Page[] = [
  { name: 'article', bytes: new Uint8Array(buildArticle()), site, url: WWW + ARTICLE_PATH },
  { name: 'real', bytes: new Uint8Array(real.html), site, url: WWW + real.path },
  { name: 'dense', bytes: new Uint8Array(buildDenseArticle()), site, url: WWW + DENSE_PATH },
  { name: 'bbc', bytes: new Uint8Array(bbc.html), site: bbcSite, url: `https://${bbc.host}${bbc.path}` },
];

const engine = new FastHtmlEngine();
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

async function measure(page: Page) {
  const raw = page.site;
  const mapper = new SiteMapper(raw);
  const doc: DocContext = { origin: mapper.root, url: page.url, mirrorOrigin: MIRROR_ORIGIN };
  const once = () => drain(engine.rewrite(chunkedStream(page.bytes), (r) => registerHtmlRules(r, { mapper, site: raw, doc, mode: 'page', transcodedToUtf8: false })));
  const warm = performance.now() + Math.min(1000, seconds * 250);
  let out = 0;
  do out = await once();
  while (performance.now() < warm);
  const per: number[] = [];
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    const c0 = cpu();
    let n = 0;
    const t0 = performance.now();
    do {
      await once();
      n++;
    } while (performance.now() - t0 < (seconds * 1000) / 10);
    per.push((cpu() - c0) / n);
  }
  per.sort((a, b) => a - b);
  const ms = per[per.length >> 1]!;
  return { page: page.name, kb: +(page.bytes.length / 1024).toFixed(0), cpuMsPerDoc: +ms.toFixed(3), mbPerCpuSec: +(page.bytes.length / 1e6 / (ms / 1000)).toFixed(1), bestMbPerCpuSec: +(page.bytes.length / 1e6 / (per[0]! / 1000)).toFixed(1), outKb: +(out / 1024).toFixed(0) };
}

const results = [];
for (const page of pages) if (!values.only || page.name.includes(values.only)) results.push(await measure(page));
if (values.json) console.log(JSON.stringify({ engineCpu: results }));
else console.table(results);
