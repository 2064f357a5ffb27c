/**
 * The rewrite path without the network, run as its own process by bench/run.ts, or by hand:
 *   node --import tsx bench/engine.ts [--seconds S] [--repeat N] [--only TEXT] [--json]
 * e.g. `node --cpu-prof --cpu-prof-dir bench/results --import tsx bench/engine.ts --only "rules article ("`
 * to see where rewriting time goes (open the .cpuprofile in Chrome DevTools).
 * Prints one JSON line: {"engine": [...]}.
 *
 * - lol-html alone (WasmHtmlEngine with no handlers): the floor of parsing + serialising in WASM;
 * - lol-html with the rules' selectors but no-op handlers: selector matching and the calls into JS alone;
 * - lol-html + the mirror's rules (registerHtmlRules with a SiteMapper of config/default.json);
 * - the same over one long document (the article repeated), to show time stays linear in size;
 * - three literal swaps in JS (what nginx sub_filter does in the comparison), for reference;
 * - the whole pipeline (createMirror) with an in-memory fake origin: headers, charset, rewrite, no sockets;
 * - the mirror app with its cache (createMirrorApp + MemoryStore) answering hits, no sockets.
 * Input is fed as a ReadableStream of 64 KiB chunks; MB/s is input bytes (10^6) per second, the median of
 * ~10 timed samples (the machine may be shared), with the best sample alongside.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { MemoryStore } from '../src/cache/memory-store.ts';
import { validateConfig } from '../src/config/validate.ts';
import type { MirrorConfig } from '../src/config/types.ts';
import { SiteMapper, type DocContext } from '../src/mapping/url-mapper.ts';
import { WasmHtmlEngine } from '../src/node/wasm-html-engine.ts';
import { createMirrorApp } from '../src/proxy/mirror-app.ts';
import type { OriginFetch } from '../src/proxy/origin-fetch.ts';
import { createMirror } from '../src/proxy/pipeline.ts';
import { registerHtmlRules } from '../src/rewrite/html-rules.ts';
import { ARTICLE_PATH, buildArticle, buildRealArticle, WWW } from './pages.ts';

export interface EngineResult {
  name: string;
  input: string;
  inputBytes: number;
  iterations: number;
  /** Timed samples; the rates below are their median (best: the fastest sample). */
  samples: number;
  seconds: number;
  mbPerSec: number;
  bestMbPerSec: number;
  perSec: number;
  msPerIteration: number;
  outputBytes: number;
}

const CHUNK = 64 * 1024;
export const MIRROR_ORIGIN = 'http://127.0.0.1:8787';

/** The input as a stream of 64 KiB chunks, as a socket would deliver it. */
export function chunkedStream(bytes: Uint8Array): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.subarray(offset, offset + CHUNK));
      offset += CHUNK;
    },
  });
}

/** Reads a stream to its end; returns its byte count. */
export async function drain(stream: ReadableStream<Uint8Array>): Promise<number> {
  let n = 0;
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return n;
    n += value.length;
  }
}

/**
 * Runs `once` repeatedly: a short warm-up, then samples of ≥ 1/10 of `seconds` each until `seconds` have
 * passed. Reports the median sample (robust to other processes stealing the CPU for a moment) and the best.
 */
async function measure(name: string, input: string, inputBytes: number, seconds: number, once: () => Promise<number>): Promise<EngineResult> {
  const warmEnd = performance.now() + Math.min(1000, seconds * 250);
  let outputBytes = 0;
  do outputBytes = await once();
  while (performance.now() < warmEnd);
  const sampleMs = (seconds * 1000) / 10;
  const start = performance.now();
  const rates: number[] = [];
  let iterations = 0;
  do {
    const t0 = performance.now();
    let n = 0;
    do {
      await once();
      n++;
    } while (performance.now() - t0 < sampleMs);
    rates.push(n / ((performance.now() - t0) / 1000));
    iterations += n;
  } while (performance.now() - start < seconds * 1000);
  rates.sort((x, y) => x - y);
  const perSec = rates.length % 2 ? rates[rates.length >> 1]! : (rates[rates.length / 2 - 1]! + rates[rates.length / 2]!) / 2;
  const best = rates[rates.length - 1]!;
  return {
    name,
    input,
    inputBytes,
    iterations,
    samples: rates.length,
    seconds: (performance.now() - start) / 1000,
    mbPerSec: (inputBytes * perSec) / 1e6,
    bestMbPerSec: (inputBytes * best) / 1e6,
    perSec,
    msPerIteration: 1000 / perSec,
    outputBytes,
  };
}

export function benchConfig(cacheEnabled: boolean): MirrorConfig {
  const file = fileURLToPath(new URL('../config/default.json', import.meta.url));
  const input = JSON.parse(fs.readFileSync(file, 'utf8'));
  delete input.$schema;
  input.cache = { ...(input.cache ?? {}), enabled: cacheEnabled };
  const result = validateConfig(input);
  if (!result.ok) throw new Error(`config/default.json: ${result.errors.join('; ')}`);
  return result.config;
}

/** `only`: run just the measurements whose name and input contain this text (e.g. "rules article ("). */
export async function runEngineBenchmarks(seconds: number, repeat: number, only?: string): Promise<EngineResult[]> {
  const config = benchConfig(false);
  const site = config.sites[0]!;
  const mapper = new SiteMapper(site);
  const engine = new WasmHtmlEngine();
  const article = new Uint8Array(buildArticle());
  const real = buildRealArticle();
  const realBytes = new Uint8Array(real.html);
  const longDoc = new Uint8Array(Buffer.concat(Array.from({ length: repeat }, () => Buffer.from(article))));
  const docFor = (path: string): DocContext => ({ origin: mapper.root, url: WWW + path, mirrorOrigin: MIRROR_ORIGIN });

  const rules = (bytes: Uint8Array, path: string) => () =>
    drain(engine.rewrite(chunkedStream(bytes), (registry) => registerHtmlRules(registry, { mapper, site, doc: docFor(path), mode: 'page', transcodedToUtf8: false })));
  const bare = (bytes: Uint8Array) => () => drain(engine.rewrite(chunkedStream(bytes), () => {}));
  // The rules' own selectors with handlers that do nothing: selector matching + crossing into JS, without our logic.
  const noop = () => {};
  const selectorsOnly = (bytes: Uint8Array, path: string) => () =>
    drain(
      engine.rewrite(chunkedStream(bytes), (registry) =>
        registerHtmlRules(
          {
            on: (selector, handlers) => registry.on(selector, { ...(handlers.element ? { element: noop } : {}), ...(handlers.text ? { text: noop } : {}) }),
            onDocument: (handlers) => registry.onDocument(handlers.end ? { end: noop } : {}),
          },
          { mapper, site, doc: docFor(path), mode: 'page', transcodedToUtf8: false },
        ),
      ),
    );
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  const swaps = (bytes: Uint8Array) => async () =>
    encoder.encode(
      decoder.decode(bytes).replaceAll('https://www.epochtimes.com', '').replaceAll('https://i.epochtimes.com', '/_i').replaceAll('//i.epochtimes.com', '/_i'),
    ).length;

  const pages: Record<string, Uint8Array> = { [ARTICLE_PATH]: article, [real.path]: realBytes };
  const fetchOrigin: OriginFetch = async (req) => {
    const path = new URL(req.url).pathname;
    const body = pages[path];
    if (!body) return { status: 404, headers: new Headers({ 'content-type': 'text/plain' }), body: chunkedStream(new TextEncoder().encode('not found')) };
    return {
      status: 200,
      headers: new Headers({ 'content-type': 'text/html; charset=utf-8', 'content-length': String(body.length), 'cache-control': 'public, max-age=86400' }),
      body: chunkedStream(body),
    };
  };
  const mirror = createMirror({ config, fetchOrigin, html: engine });
  const pipeline = (path: string) => async () => {
    const res = await mirror.handle(new Request(MIRROR_ORIGIN + path));
    if (res.status !== 200) throw new Error(`pipeline answered ${res.status} for ${path}`);
    return drain(res.body!);
  };
  const cachedConfig = benchConfig(true);
  const app = createMirrorApp({ config: cachedConfig, fetchOrigin, html: engine, store: new MemoryStore(cachedConfig.cache.maxBytes) });
  const cacheHit = (path: string) => async () => {
    const res = await app.fetch(new Request(MIRROR_ORIGIN + path));
    const n = await drain(res.body!);
    const state = res.headers.get('x-cache');
    if (res.status !== 200 || (state !== 'HIT' && state !== 'MISS')) throw new Error(`mirror app answered ${res.status} x-cache ${state} for ${path}`);
    return n;
  };

  const realName = `real article (${Math.round(realBytes.length / 1024)} KB)`;
  const articleName = `article (${Math.round(article.length / 1024)} KB)`;
  const longName = `article ×${repeat}, one document (${(longDoc.length / 1e6).toFixed(1)} MB)`;
  const cases: [string, string, number, () => Promise<number>][] = [
    ['lol-html, no handlers', articleName, article.length, bare(article)],
    ['lol-html + the rules\' selectors, no-op handlers', articleName, article.length, selectorsOnly(article, ARTICLE_PATH)],
    ['lol-html + mirror rules', articleName, article.length, rules(article, ARTICLE_PATH)],
    ['lol-html + mirror rules', realName, realBytes.length, rules(realBytes, real.path)],
    ['lol-html + mirror rules', longName, longDoc.length, rules(longDoc, ARTICLE_PATH)],
    ['3 literal swaps in JS (replaceAll)', articleName, article.length, swaps(article)],
    ['pipeline (createMirror), fake origin', articleName, article.length, pipeline(ARTICLE_PATH)],
    ['pipeline (createMirror), fake origin', realName, realBytes.length, pipeline(real.path)],
    ['mirror app cache hit, no sockets', articleName, article.length, cacheHit(ARTICLE_PATH)],
  ];
  const out: EngineResult[] = [];
  for (const [name, input, bytes, once] of cases) {
    if (only && !`${name} ${input}`.toLowerCase().includes(only.toLowerCase())) continue;
    out.push(await measure(name, input, bytes, seconds, once));
  }
  return out;
}

const invokedDirectly = process.argv[1] && fileURLToPath(import.meta.url) === fs.realpathSync(process.argv[1]);
if (invokedDirectly) {
  const { values } = parseArgs({
    options: { seconds: { type: 'string', default: '2' }, repeat: { type: 'string', default: '64' }, only: { type: 'string' }, json: { type: 'boolean', default: false } },
  });
  runEngineBenchmarks(Number(values.seconds), Number(values.repeat), values.only)
    .then((results) => {
      if (values.json) process.stdout.write(JSON.stringify({ engine: results }) + '\n');
      else for (const r of results) console.log(`${r.name.padEnd(40)} ${r.input.padEnd(44)} ${r.mbPerSec.toFixed(1).padStart(7)} MB/s (best ${r.bestMbPerSec.toFixed(1)}) ${r.perSec.toFixed(0).padStart(6)}/s ${r.msPerIteration.toFixed(2).padStart(8)} ms`);
    })
    .catch((err) => {
      console.error(`engine: ${err?.stack ?? err}`);
      process.exit(1);
    });
}
