/**
 * Turns a result file (bench/results/latest.json) into Markdown tables, and writes them into
 * docs/performance.md between markers. Also usable alone: `node --import tsx bench/report.ts [FILE]`
 * prints the tables of an earlier result file.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { EngineResult } from './engine.ts';
import type { LoadSummary } from './load.ts';

export type ServerKey = 'a' | 'b' | 'u' | 'c' | 'd';

/** Display order. */
export const SERVER_KEYS: readonly ServerKey[] = ['a', 'b', 'u', 'c', 'd'];

export const SERVER_LABELS: Record<ServerKey, string> = {
  a: '(a) bare passthrough (node:http + undici, pipe)',
  b: '(b) nginx sub_filter, 1 worker',
  u: '(u) node-unblocker 2.3.1, default middleware',
  c: '(c) edgemirror, cache off',
  d: '(d) edgemirror, cache hits',
};

export interface PhaseRecord {
  round: number;
  page: string;
  server: ServerKey;
  load: LoadSummary;
  wallS: number;
  cpuMs: number;
  cpuMsPerReq: number;
  /** Summed over the server's processes (nginx: master + worker). */
  peakRssMb: number;
  originCpuMs: number;
  clientCpuMs: number;
  /** CPU used by other processes on the machine during the phase, in cores (noise indicator). */
  otherCpuCores: number;
  /** Interrupt time (much of it loopback networking, charged to no process), in cores. */
  irqCores: number;
  /** Time the hypervisor ran someone else on our vCPUs, in cores. */
  stealCores: number;
  /** Access log written per request (edgemirror: stdout; nginx: its log file). */
  logBytesPerReq: number;
}

export interface ServerSummary {
  server: ServerKey;
  rounds: number;
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  mbPerSec: number;
  cpuMsPerReq: number;
  peakRssMb: number;
  bytesPerResponse: number;
  errors: number;
}

export interface TtfbRecord {
  target: string;
  requests: number;
  headersP50Ms: number;
  headersP99Ms: number;
  firstByteP50Ms: number;
  firstByteP99Ms: number;
  totalP50Ms: number;
  /** firstByteP50Ms minus the direct request's. */
  overheadP50Ms: number | null;
  overheadP99Ms: number | null;
}

export interface BigRecord {
  target: string;
  bytes: number;
  seconds: number;
  mbPerSec: number;
  firstByteMs: number;
  rssBeforeMb: number | null;
  peakRssMb: number | null;
  rssGrowthMb: number | null;
  cpuMs: number | null;
  status: number;
}

export interface TargetRecord {
  name: string;
  measured: number | null;
  goal: number;
  unit: string;
  /** 'min': measured ≥ goal; 'max': measured < goal. */
  kind: 'min' | 'max';
  met: boolean | null;
  detail: string;
  /** For throughput ratios: the same ratio from CPU ms per request (baseline's ÷ ours), which a busy machine disturbs less. */
  byCpu?: number | null;
}

export interface BenchResults {
  version: 1;
  date: string;
  runSeconds: number;
  machine: Record<string, unknown>;
  settings: Record<string, unknown>;
  nginx: { version: string | null; note: string };
  notes: string[];
  pages: Record<string, { path: string; bytes: number; [k: string]: unknown }>;
  outputs: Record<string, unknown>[];
  load: {
    phases: PhaseRecord[];
    summary: Record<string, Partial<Record<ServerKey, ServerSummary>>>;
    /** Each summary metric divided by (a)'s and by (b)'s, per page and server (null when that server is missing). */
    ratios: Record<string, Partial<Record<ServerKey, { vsA: Record<string, number> | null; vsB: Record<string, number> | null }>>>;
  };
  ttfb: TtfbRecord[];
  big: BigRecord[];
  engine: EngineResult[];
  targets: TargetRecord[];
  noise: {
    loadAvgStart: number[];
    loadAvgEnd: number[];
    otherCpuCoresMedian: number | null;
    otherCpuCoresMax: number | null;
    irqCoresMedian: number | null;
    stealCoresMedian: number | null;
  };
}

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/** Medians over rounds (peak RSS: the maximum). */
export function summarize(phases: PhaseRecord[]): Record<string, Partial<Record<ServerKey, ServerSummary>>> {
  const out: Record<string, Partial<Record<ServerKey, ServerSummary>>> = {};
  for (const p of phases) (out[p.page] ??= {})[p.server] = undefined;
  for (const page of Object.keys(out)) {
    for (const server of Object.keys(out[page]!) as ServerKey[]) {
      const ps = phases.filter((p) => p.page === page && p.server === server);
      out[page]![server] = {
        server,
        rounds: ps.length,
        reqPerSec: median(ps.map((p) => p.load.reqPerSec)),
        p50Ms: median(ps.map((p) => p.load.latencyMs.p50)),
        p99Ms: median(ps.map((p) => p.load.latencyMs.p99)),
        mbPerSec: median(ps.map((p) => p.load.mbPerSec)),
        cpuMsPerReq: median(ps.map((p) => p.cpuMsPerReq)),
        peakRssMb: Math.max(...ps.map((p) => p.peakRssMb)),
        bytesPerResponse: median(ps.map((p) => (p.load.requests ? p.load.bytes / p.load.requests : 0))),
        errors: ps.reduce((n, p) => n + p.load.errors + p.load.timeouts + p.load.non2xx, 0),
      };
    }
  }
  return out;
}

const RATIO_METRICS = ['reqPerSec', 'p50Ms', 'p99Ms', 'mbPerSec', 'cpuMsPerReq', 'peakRssMb'] as const;

export function ratios(summary: BenchResults['load']['summary']): BenchResults['load']['ratios'] {
  const out: BenchResults['load']['ratios'] = {};
  const divide = (s: ServerSummary, base: ServerSummary | undefined) =>
    base ? Object.fromEntries(RATIO_METRICS.map((m) => [m, base[m] ? s[m] / base[m] : NaN])) : null;
  for (const [page, servers] of Object.entries(summary)) {
    out[page] = {};
    for (const [key, s] of Object.entries(servers) as [ServerKey, ServerSummary][]) out[page]![key] = { vsA: divide(s, servers.a), vsB: divide(s, servers.b) };
  }
  return out;
}

// ── formatting ──

function num(v: number | null | undefined, digits?: number): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  const d = digits ?? (Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2);
  return v.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
}

function ratio(v: number | undefined, base: number | undefined): string {
  if (v === undefined || base === undefined || !Number.isFinite(v) || !Number.isFinite(base) || base === 0) return '—';
  return `${num(v / base, 2)}×`;
}

function table(head: string[], rows: string[][], align?: ('l' | 'r')[]): string {
  const sep = head.map((_, i) => ((align?.[i] ?? (i === 0 ? 'l' : 'r')) === 'l' ? '---' : '---:'));
  return [head, sep, ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

export const PAGE_TITLES: Record<string, string> = {
  tiny: 'tiny uncached script',
  article: 'synthetic article',
  dense: 'link-dense article',
  bbc: 'real BBC page',
  real: 'real article',
};

export function loadTables(r: BenchResults): string {
  const parts: string[] = [];
  for (const [page, servers] of Object.entries(r.load.summary)) {
    const info = r.pages[page];
    const title = `${PAGE_TITLES[page] ?? page} (${info ? Math.round(info.bytes / 1024) : '?'} KB${info?.path ? `, \`${info.path}\`` : ''})`;
    const keys = SERVER_KEYS.filter((k) => servers[k]);
    const a = servers.a;
    const b = servers.b;
    const rounds = keys.map((k) => servers[k]!.rounds)[0] ?? 0;
    parts.push(`**Load: ${title}** — ${rounds === 1 ? 'one round' : `medians of ${rounds} rounds`}`);
    parts.push(
      table(
        ['server', 'req/s', 'p50 ms', 'p99 ms', 'MB/s', 'CPU ms/req', 'CPU ×(a)', 'peak RSS MB', 'req/s ×(a)', 'req/s ×(b)', 'errors'],
        keys.map((k) => {
          const s = servers[k]!;
          return [SERVER_LABELS[k], num(s.reqPerSec, 0), num(s.p50Ms, 0), num(s.p99Ms, 0), num(s.mbPerSec, 1), num(s.cpuMsPerReq, 3), ratio(s.cpuMsPerReq, a?.cpuMsPerReq), num(s.peakRssMb, 0), ratio(s.reqPerSec, a?.reqPerSec), ratio(s.reqPerSec, b?.reqPerSec), String(s.errors)];
        }),
      ),
    );
    parts.push(`Ratios to (a) / to (b) (req/s and MB/s: higher is better; latency, CPU and RSS: lower is better):`);
    parts.push(
      table(
        ['server', 'req/s', 'p50', 'p99', 'MB/s', 'CPU/req', 'peak RSS'],
        keys.map((k) => {
          const s = servers[k]!;
          const both = (v: number, av?: number, bv?: number) => `${ratio(v, av)} / ${ratio(v, bv)}`;
          return [
            SERVER_LABELS[k],
            both(s.reqPerSec, a?.reqPerSec, b?.reqPerSec),
            both(s.p50Ms, a?.p50Ms, b?.p50Ms),
            both(s.p99Ms, a?.p99Ms, b?.p99Ms),
            both(s.mbPerSec, a?.mbPerSec, b?.mbPerSec),
            both(s.cpuMsPerReq, a?.cpuMsPerReq, b?.cpuMsPerReq),
            both(s.peakRssMb, a?.peakRssMb, b?.peakRssMb),
          ];
        }),
      ),
    );
  }
  return parts.join('\n\n');
}

/** One line per page: CPU ms per request and req/s of every server (the overview). */
export function overviewTable(r: BenchResults): string {
  const pages = Object.keys(r.load.summary);
  const keys = SERVER_KEYS.filter((k) => pages.some((p) => r.load.summary[p]![k]));
  return table(
    ['page', ...keys.map((k) => `(${k}) CPU ms/req · req/s`)],
    pages.map((p) => {
      const info = r.pages[p];
      return [
        `${PAGE_TITLES[p] ?? p} (${info ? (info.bytes >= 10240 ? `${Math.round(info.bytes / 1024)} KB` : `${info.bytes} B`) : '?'})`,
        ...keys.map((k) => {
          const s = r.load.summary[p]![k];
          return s ? `${num(s.cpuMsPerReq, 3)} · ${num(s.reqPerSec, 0)}` : '—';
        }),
      ];
    }),
  );
}

export function targetsTable(r: BenchResults): string {
  return table(
    ['target', 'measured', 'goal', 'status', 'same ratio from CPU ms/req'],
    r.targets.map((t) => [
      t.name,
      t.measured === null ? '—' : `${num(t.measured, 2)}${t.unit}`,
      `${t.kind === 'min' ? '≥' : '<'} ${num(t.goal, t.goal < 10 ? 1 : 0)}${t.unit}`,
      t.detail,
      t.byCpu === undefined ? '' : t.byCpu === null ? '—' : `${num(t.byCpu, 2)}×`,
    ]),
    ['l', 'r', 'r', 'l', 'r'],
  );
}

export function extraTables(r: BenchResults): string {
  const parts: string[] = [];
  if (r.ttfb.length) {
    parts.push(`**Time to first byte, slow page** (head at once, rest after ${String(r.pages.slow?.delayMs ?? 200)} ms; ${r.ttfb[0]!.requests} sequential requests per path, interleaved; keep-alive)`);
    parts.push(
      table(
        ['path', 'headers p50 ms', 'first body byte p50 ms', 'p99 ms', 'overhead vs direct p50 ms', 'p99 ms'],
        r.ttfb.map((t) => [t.target, num(t.headersP50Ms, 2), num(t.firstByteP50Ms, 2), num(t.firstByteP99Ms, 2), t.overheadP50Ms === null ? '—' : num(t.overheadP50Ms, 2), t.overheadP99Ms === null ? '—' : num(t.overheadP99Ms, 2)]),
      ),
    );
  }
  if (r.big.length) {
    const mb = r.pages.big ? (r.pages.big.bytes / 1048576).toFixed(0) : '100';
    parts.push(`**Streaming the ${mb} MiB page once** (client discards the bytes; fresh server processes except nginx; RSS summed over the server's processes)`);
    parts.push(
      table(
        ['path', 'MB/s', 'seconds', 'first byte ms', 'RSS before MB', 'peak RSS MB', 'RSS growth MB', 'server CPU s'],
        r.big.map((b) => [b.target, num(b.mbPerSec, 1), num(b.seconds, 2), num(b.firstByteMs, 1), num(b.rssBeforeMb, 0), num(b.peakRssMb, 0), num(b.rssGrowthMb, 1), b.cpuMs === null ? '—' : num(b.cpuMs / 1000, 2)]),
      ),
    );
  }
  if (r.engine.length) {
    parts.push('**Rewrite engine alone** (no sockets; one process; MB/s of input, median of ~10 samples, and the best sample)');
    parts.push(
      table(
        ['what', 'input', 'MB/s', 'best MB/s', 'per second', 'ms each'],
        r.engine.map((e) => [e.name, e.input, num(e.mbPerSec, 1), num(e.bestMbPerSec, 1), num(e.perSec, 0), num(e.msPerIteration, 2)]),
        ['l', 'l', 'r', 'r', 'r', 'r'],
      ),
    );
  }
  return parts.join('\n\n');
}

export function machineLine(r: BenchResults): string {
  const m = r.machine as { cpuModel?: string; nproc?: number; memTotalMb?: number; kernel?: string; node?: string; gitCommit?: string | null; srcModified?: boolean };
  const s = r.settings as { duration?: number; warmup?: number; connections?: number; rounds?: number; quick?: boolean };
  return [
    `${r.date.slice(0, 16).replace('T', ' ')} UTC`,
    `${m.cpuModel} × ${m.nproc} (nproc), ${((m.memTotalMb ?? 0) / 1024).toFixed(1)} GB, Linux ${m.kernel}`,
    `Node ${m.node}`,
    r.nginx.version ? `nginx ${r.nginx.version}` : 'no nginx',
    `autocannon ${s.connections} connections, ${s.warmup} s warm-up + ${s.duration} s per phase, ${s.rounds} alternating rounds${s.quick ? ' (--quick)' : ''}`,
    `load average ${r.noise.loadAvgStart.join(' ')} at start, ${r.noise.loadAvgEnd.join(' ')} at end; other processes used ${num(r.noise.otherCpuCoresMedian, 2)} cores (median, max ${num(r.noise.otherCpuCoresMax, 2)}) during load phases, interrupts ${num(r.noise.irqCoresMedian, 2)}, steal ${num(r.noise.stealCoresMedian, 2)}`,
    `whole run ${Math.round(r.runSeconds)} s`,
    m.gitCommit ? `code at ${m.gitCommit}${m.srcModified ? ' + uncommitted changes in src/ or config/' : ''}` : '',
  ]
    .filter(Boolean)
    .join(' · ');
}

export function renderMarkdown(r: BenchResults): string {
  const legend = SERVER_KEYS.filter((k) => Object.values(r.load.summary).some((s) => s[k])).map((k) => SERVER_LABELS[k]).join(' · ');
  const parts = [
    `_${machineLine(r)}_`,
    '**Overview**: server CPU per request (the stable figure on a shared machine) · req/s (noisy: the machine is shared)',
    overviewTable(r),
    legend,
    '**Targets** (same run)',
    targetsTable(r),
    loadTables(r),
    extraTables(r),
  ];
  if (r.notes.length) parts.push(r.notes.map((n) => `- ${n}`).join('\n'));
  return parts.join('\n\n');
}

const DOCS_TEMPLATE = `# Performance

See the top of this file in the repository for how the numbers are produced.

## Latest run

<!-- bench:latest:start -->
<!-- bench:latest:end -->
`;

/** Replaces the block between `<!-- bench:NAME:start -->` and `<!-- bench:NAME:end -->` in `file` (appended if missing). */
export function writeDocsBlock(file: string, name: string, markdown: string): void {
  let text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : DOCS_TEMPLATE;
  const start = `<!-- bench:${name}:start -->`;
  const end = `<!-- bench:${name}:end -->`;
  if (!(text.indexOf(start) >= 0 && text.indexOf(end) > text.indexOf(start))) text = `${text.trimEnd()}\n\n${start}\n${end}\n`;
  const i = text.indexOf(start) + start.length;
  const j = text.indexOf(end);
  fs.writeFileSync(file, `${text.slice(0, i)}\n${markdown.trim()}\n${text.slice(j)}`);
}

const invokedDirectly = process.argv[1] && fileURLToPath(import.meta.url) === fs.realpathSync(process.argv[1]);
if (invokedDirectly) {
  const file = process.argv[2] ?? fileURLToPath(new URL('./results/latest.json', import.meta.url));
  console.log(renderMarkdown(JSON.parse(fs.readFileSync(file, 'utf8')) as BenchResults));
}
