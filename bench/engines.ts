/**
 * lol-html (WASM) vs the fast pure-JS engine (src/rewrite/fast-html-engine.ts), same rules:
 *   node --import tsx bench/engines.ts [--seconds S] [--big-mb N] [--json]
 *
 * - the mirror's full rules (registerHtmlRules, config/default.json) over the bench article and the real
 *   fixture article, 64 KiB chunks, median MB/s of timed samples;
 * - each engine with no handlers (the parse + copy floor);
 * - one pass over a generated ~100 MB page (bench/pages.ts buildBigPage), streamed in 64 KiB chunks,
 *   each engine in its own child process so peak RSS is its own (reported: MB/s and peak RSS).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SiteMapper, type DocContext } from '../src/mapping/url-mapper.ts';
import { WasmHtmlEngine } from '../src/node/wasm-html-engine.ts';
import { FastHtmlEngine } from '../src/rewrite/fast-html-engine.ts';
import type { HtmlEngine } from '../src/rewrite/html-engine.ts';
import { registerHtmlRules } from '../src/rewrite/html-rules.ts';
import { benchConfig, chunkedStream as chunked, drain, MIRROR_ORIGIN } from './engine.ts';
import { ARTICLE_PATH, BIG_PATH, buildArticle, buildBigPage, buildRealArticle, WWW } from './pages.ts';


const site = benchConfig(false).sites[0]!;
const mapper = new SiteMapper(site);
const docFor = (path: string): DocContext => ({ origin: mapper.root, url: WWW + path, mirrorOrigin: MIRROR_ORIGIN });
const rules = (path: string) => (registry: Parameters<typeof registerHtmlRules>[0]) =>
  registerHtmlRules(registry, { mapper, site, doc: docFor(path), mode: 'page', transcodedToUtf8: false });

const engines: Record<string, () => HtmlEngine> = { 'lol-html (wasm)': () => new WasmHtmlEngine(), fast: () => new FastHtmlEngine() };

async function rate(engine: HtmlEngine, bytes: Uint8Array, register: Parameters<HtmlEngine['rewrite']>[1], seconds: number): Promise<{ mbPerSec: number; best: number }> {
  const warm = performance.now() + 500;
  while (performance.now() < warm) await drain(engine.rewrite(chunked(bytes), register));
  const rates: number[] = [];
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    const t0 = performance.now();
    let n = 0;
    do {
      await drain(engine.rewrite(chunked(bytes), register));
      n++;
    } while (performance.now() - t0 < (seconds * 1000) / 10);
    rates.push((bytes.length * n) / ((performance.now() - t0) / 1000) / 1e6);
  }
  rates.sort((a, b) => a - b);
  return { mbPerSec: rates[rates.length >> 1]!, best: rates[rates.length - 1]! };
}

/** Child mode: one pass of one engine over the big page; prints {mbPerSec, peakRssMb}. */
async function bigChild(name: string, mb: number): Promise<void> {
  const page = buildBigPage(mb * 1024 * 1024);
  const engine = engines[name]!();
  let i = 0;
  const block = new Uint8Array(page.block);
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i === 0) controller.enqueue(new Uint8Array(page.head));
      else if (i <= page.blocks) controller.enqueue(block.slice());
      else if (i === page.blocks + 1) controller.enqueue(new Uint8Array(page.tail));
      else controller.close();
      i++;
    },
  });
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 20);
  const t0 = performance.now();
  const out = await drain(engine.rewrite(body, rules(BIG_PATH)));
  const seconds = (performance.now() - t0) / 1000;
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage.rss());
  console.log(JSON.stringify({ engine: name, inputMb: page.totalBytes / 1e6, outputMb: out / 1e6, mbPerSec: page.totalBytes / 1e6 / seconds, peakRssMb: peak / 1e6 }));
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seconds: { type: 'string', default: '3' }, 'big-mb': { type: 'string', default: '100' }, json: { type: 'boolean', default: false }, child: { type: 'string' } } });
  const bigMb = Number(values['big-mb']);
  if (values.child) return bigChild(values.child, bigMb);
  const seconds = Number(values.seconds);
  const article = new Uint8Array(buildArticle());
  const real = buildRealArticle();
  const results: Record<string, unknown>[] = [];
  for (const [label, bytes, path] of [
    [`bench article (${(article.length / 1024).toFixed(0)} KB)`, article, ARTICLE_PATH],
    [`real article (${(real.html.length / 1024).toFixed(0)} KB)`, new Uint8Array(real.html), real.path],
  ] as const) {
    for (const [name, make] of Object.entries(engines)) {
      const full = await rate(make(), bytes, rules(path), seconds);
      const bare = await rate(make(), bytes, () => {}, seconds / 2);
      results.push({ input: label, engine: name, rulesMbPerSec: +full.mbPerSec.toFixed(1), rulesBest: +full.best.toFixed(1), noHandlersMbPerSec: +bare.mbPerSec.toFixed(1) });
    }
  }
  if (bigMb > 0) {
    for (const name of Object.keys(engines)) {
      const child = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', name, '--big-mb', String(bigMb)], { encoding: 'utf8', maxBuffer: 1 << 20 });
      const line = child.stdout.trim().split('\n').pop() ?? '';
      try {
        results.push({ input: `big page (${bigMb} MB)`, ...JSON.parse(line) });
      } catch {
        results.push({ input: `big page (${bigMb} MB)`, engine: name, error: (child.stderr || line).slice(0, 300) });
      }
    }
  }
  if (values.json) console.log(JSON.stringify({ engines: results }));
  else console.table(results);
}

if (fs.realpathSync(process.argv[1]!) === fileURLToPath(import.meta.url)) await main();
