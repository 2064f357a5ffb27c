/**
 * Hostile markup vs the HTML engines: memory and time per kind of unterminated or pathological construct.
 *   node --import tsx bench/hostile.ts [--mb N] [--concurrent N] [--engine fast|lol-html] [--kind K] [--json]
 *
 * For each kind (an endless comment, attribute value, tag name, raw text…) and each engine, a child
 * process streams `concurrent` responses at once through the engine with the mirror's full rules
 * (registerHtmlRules, as a page), each `mb` MB of input in 64 KiB chunks, output read and dropped, and
 * reports peak RSS, how each response ended (complete or failed, and why) and the wall time. Then the
 * pathological-nesting pages (quadratic before) are timed once per engine.
 * Everything is in memory (no sockets). Defaults: 20 concurrent, 32 MB each.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SiteMapper, type DocContext } from '../src/mapping/url-mapper.ts';
import { WasmHtmlEngine } from '../src/node/wasm-html-engine.ts';
import { FastHtmlEngine } from '../src/rewrite/fast-html-engine.ts';
import type { HtmlEngine } from '../src/rewrite/html-engine.ts';
import { registerHtmlRules } from '../src/rewrite/html-rules.ts';
import { benchConfig, MIRROR_ORIGIN } from './engine.ts';
import { WWW } from './pages.ts';

const { values: args } = parseArgs({
  options: {
    mb: { type: 'string', default: '32' },
    concurrent: { type: 'string', default: '20' },
    engine: { type: 'string' },
    kind: { type: 'string' },
    child: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});

/** Each kind: what opens the construct, and the unit repeated after it forever (never closing it). */
const KINDS: Record<string, { open: string; unit: string }> = {
  comment: { open: '<!--', unit: 'x'.repeat(63) + '-' },
  'attr-value': { open: '<img src="https://www.epochtimes.com/a.png" alt="', unit: 'x'.repeat(64) },
  'attr-unquoted': { open: '<img alt=', unit: 'x'.repeat(64) },
  'attr-name': { open: '<img ', unit: 'a'.repeat(64) },
  'tag-name': { open: '<a', unit: 'a'.repeat(64) },
  doctype: { open: '<!DOCTYPE html ', unit: 'x'.repeat(64) },
  bogus: { open: '<?', unit: 'x'.repeat(64) },
  cdata: { open: '<svg><![CDATA[', unit: 'x'.repeat(63) + ']' },
  script: { open: '<script>', unit: 'var u="https://www.epochtimes.com/gb/a.htm";  ' },
  style: { open: '<style>', unit: 'a{background:url(https://i.epochtimes.com/x.png)}' },
  noscript: { open: '<noscript>', unit: '<img src="https://www.epochtimes.com/a.png">  ' },
  textarea: { open: '<textarea>', unit: 'x'.repeat(64) },
  title: { open: '<title>', unit: 'x'.repeat(64) },
  nesting: { open: '', unit: '<div>'.repeat(16) + 'x'.repeat(4) },
};

const site = benchConfig(false).sites[0]!;
const mapper = new SiteMapper(site);
const doc: DocContext = { origin: mapper.root, url: WWW + '/gb/hostile.htm', mirrorOrigin: MIRROR_ORIGIN };
const rules = (registry: Parameters<typeof registerHtmlRules>[0]) => registerHtmlRules(registry, { mapper, site, doc, mode: 'page', transcodedToUtf8: false });
const makeEngine = (name: string): HtmlEngine => (name === 'lol-html' ? new WasmHtmlEngine() : new FastHtmlEngine());

function hostileBody(kind: string, bytes: number): ReadableStream<Uint8Array> {
  const { open, unit } = KINDS[kind]!;
  const enc = new TextEncoder();
  const block = enc.encode(unit.repeat(Math.ceil(65536 / unit.length)).slice(0, 65536));
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent === 0) {
        const head = enc.encode(`<!DOCTYPE html><html><head><meta charset="utf-8"></head><body><p>start</p>${open}`);
        controller.enqueue(head);
        sent += head.length;
      } else if (sent < bytes) {
        controller.enqueue(block.slice());
        sent += block.length;
      } else controller.close();
    },
  });
}

async function child(engineName: string, kind: string, mb: number, concurrent: number): Promise<void> {
  let peak = process.memoryUsage().rss;
  let peakHeap = 0;
  let peakBuffers = 0;
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    peak = Math.max(peak, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
    peakBuffers = Math.max(peakBuffers, m.arrayBuffers);
  }, 20);
  const t0 = performance.now();
  const outcomes = await Promise.all(
    Array.from({ length: concurrent }, async () => {
      const reader = makeEngine(engineName).rewrite(hostileBody(kind, mb * 1024 * 1024), rules).getReader();
      let out = 0;
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return `complete (${(out / 1048576).toFixed(1)} MB out)`;
          out += value.length;
        }
      } catch (err) {
        return `failed after ${(out / 1048576).toFixed(1)} MB out: ${(err as Error).message.slice(0, 60)}`;
      }
    }),
  );
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage().rss);
  const counts: Record<string, number> = {};
  for (const o of outcomes) counts[o] = (counts[o] ?? 0) + 1;
  console.log(JSON.stringify({ engine: engineName, kind, peakRssMb: Math.round(peak / 1048576), peakHeapMb: Math.round(peakHeap / 1048576), peakBuffersMb: Math.round(peakBuffers / 1048576), seconds: +((performance.now() - t0) / 1000).toFixed(2), outcomes: counts }));
}

/** The pages that took quadratic time: seconds per engine (one pass, 64 KiB chunks). */
async function nestingTimes(engineName: string): Promise<Record<string, number>> {
  const pages: Record<string, string> = {
    'nested-div-100k': '<html><body>' + '<div>'.repeat(100_000) + '</div>'.repeat(100_000),
    'svg-style-20k': '<html><body><svg>' + '<style>a'.repeat(20_000),
    'div-then-stray-span-20k': '<html><body>' + '<div>'.repeat(20_000) + '</span>'.repeat(20_000),
  };
  const out: Record<string, number> = {};
  for (const [name, html] of Object.entries(pages)) {
    const bytes = new TextEncoder().encode(html);
    const t0 = performance.now();
    let i = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (i < bytes.length) c.enqueue(bytes.subarray(i, (i += 65536)));
        else c.close();
      },
    });
    const reader = makeEngine(engineName).rewrite(body, rules).getReader();
    while (!(await reader.read()).done);
    out[name] = +((performance.now() - t0) / 1000).toFixed(3);
  }
  return out;
}

if (args.child) {
  if (args.kind === 'nesting-times') console.log(JSON.stringify({ engine: args.engine, times: await nestingTimes(args.engine!) }));
  else await child(args.engine!, args.kind!, Number(args.mb), Number(args.concurrent));
} else {
  const self = fileURLToPath(import.meta.url);
  const engines = args.engine ? [args.engine] : ['fast', 'lol-html'];
  const kinds = args.kind ? [args.kind] : Object.keys(KINDS);
  const results: unknown[] = [];
  for (const engine of engines) {
    for (const kind of [...kinds, 'nesting-times']) {
      const r = spawnSync(process.execPath, ['--import', 'tsx', self, '--child', '--engine', engine, '--kind', kind, '--mb', args.mb!, '--concurrent', args.concurrent!], {
        encoding: 'utf8',
        timeout: 300_000,
      });
      const line = r.stdout.trim().split('\n').pop() ?? '';
      try {
        results.push(JSON.parse(line));
      } catch {
        results.push({ engine, kind, error: (r.stderr || r.stdout || `exit ${r.status}`).trim().slice(-300) });
      }
      if (!args.json) console.log(JSON.stringify(results[results.length - 1]));
    }
  }
  if (args.json) console.log(JSON.stringify(results, null, 2));
}
