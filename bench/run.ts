/**
 * `npm run bench` — the benchmark suite (issue #6). See docs/performance.md for what it measures and how.
 *
 * Every server under test runs as its own child process on 127.0.0.1 so its CPU time and peak RSS can be
 * read from /proc: the bench origin (bench/origin.ts), (a) the bare passthrough proxy (bench/passthrough.ts),
 * (b) nginx with sub_filter, (u) node-unblocker (the Node web proxy people pick instead), (c) edgemirror
 * with the cache off, (d) edgemirror answering cache hits. The
 * load generator (autocannon, bench/load.ts) is a child too. All children are killed by PID at the end,
 * on errors and on Ctrl-C.
 */
import { execFileSync, fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { EngineResult } from './engine.ts';
import type { LoadRequest, LoadSummary } from './load.ts';
import { ARTICLE_PATH, BBC_MIRROR_HOST, BIG_PATH, SLOW_PATH } from './pages.ts';
import { alive, childPids, cpuMs, loadAverage, machineInfo, resetPeak, RssSampler, sumMem, systemCpu, totalCpuMs } from './procstat.ts';
import {
  median,
  percentile,
  ratios,
  renderMarkdown,
  SERVER_LABELS,
  summarize,
  writeDocsBlock,
  type BenchResults,
  type BigRecord,
  type PhaseRecord,
  type ServerKey,
  type TargetRecord,
  type TtfbRecord,
  PAGE_TITLES,
  SERVER_KEYS,
} from './report.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BENCH = path.join(ROOT, 'bench');
const ORIGIN_HOST = 'www.epochtimes.com';

// ── options ──

/** Pages under load (bench/pages.ts; served by bench/origin.ts). */
const PAGE_KEYS = ['tiny', 'article', 'dense', 'bbc', 'real'];

const USAGE = `Usage: npm run bench -- [options]
  --quick               ~1.5 minutes: 2 rounds of 0.5 s warm-up + 1.5 s per phase, pages tiny,dense,bbc,
                        10 TTFB requests, 0.5 s engine measurements
  --duration S          seconds of measured load per phase (default 5; env BENCH_DURATION)
  --warmup S            seconds of warm-up load before each phase (default 1; env BENCH_WARMUP)
  --connections N       autocannon connections (default 20; env BENCH_CONNECTIONS)
  --rounds N            alternating rounds of (a)(b)(u)(c)(d), medians reported (default 3; env BENCH_ROUNDS)
  --pages LIST          pages under load, of ${PAGE_KEYS.join(',')} (default all; --quick: tiny,dense,bbc)
  --ttfb-requests N     slow-page requests per path for TTFB (default 50; env BENCH_TTFB_REQUESTS)
  --engine-seconds S    seconds per engine-only measurement (default 2; env BENCH_ENGINE_SECONDS)
  --no-nginx            skip (b)
  --no-unblocker        skip (u)
  --no-install          do not try to install nginx when it is missing
  --write-docs          write the tables into docs/performance.md ("Latest run")
  --write-baseline      also write them as the "Baseline" section of docs/performance.md
  --out FILE            result file (default bench/results/latest.json)
  --time-limit S        abort the whole run after S seconds (default 1200)`;

function parseOptions() {
  let values;
  try {
    values = parseArgs({
      options: {
        quick: { type: 'boolean', default: false },
        duration: { type: 'string' },
        warmup: { type: 'string' },
        connections: { type: 'string' },
        rounds: { type: 'string' },
        pages: { type: 'string' },
        'ttfb-requests': { type: 'string' },
        'engine-seconds': { type: 'string' },
        'no-nginx': { type: 'boolean', default: false },
        'no-unblocker': { type: 'boolean', default: false },
        'no-install': { type: 'boolean', default: false },
        'write-docs': { type: 'boolean', default: false },
        'write-baseline': { type: 'boolean', default: false },
        out: { type: 'string' },
        'time-limit': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }).values;
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const quick = values.quick!;
  const pick = (flag: string | undefined, env: string, normal: number, fast: number): number => {
    const text = flag ?? process.env[env];
    if (text === undefined || text === '') return quick ? fast : normal;
    const n = Number(text);
    if (!Number.isFinite(n) || n < 0) {
      console.error(`invalid number ${JSON.stringify(text)} (${env})`);
      process.exit(2);
    }
    return n;
  };
  const pages = (values.pages ?? (quick ? 'tiny,dense,bbc' : PAGE_KEYS.join(','))).split(',').map((p) => p.trim()).filter(Boolean);
  for (const p of pages) {
    if (!PAGE_KEYS.includes(p)) {
      console.error(`unknown page ${JSON.stringify(p)}: expected some of ${PAGE_KEYS.join(',')}`);
      process.exit(2);
    }
  }
  return {
    quick,
    duration: pick(values.duration, 'BENCH_DURATION', 5, 1.5),
    warmup: pick(values.warmup, 'BENCH_WARMUP', 1, 0.5),
    connections: Math.max(1, Math.round(pick(values.connections, 'BENCH_CONNECTIONS', 20, 20))),
    rounds: Math.max(1, Math.round(pick(values.rounds, 'BENCH_ROUNDS', 3, 2))),
    pages,
    ttfbRequests: Math.max(3, Math.round(pick(values['ttfb-requests'], 'BENCH_TTFB_REQUESTS', 50, 10))),
    engineSeconds: pick(values['engine-seconds'], 'BENCH_ENGINE_SECONDS', 2, 0.5),
    nginx: !values['no-nginx'],
    unblocker: !values['no-unblocker'],
    install: !values['no-install'],
    writeDocs: values['write-docs']! || values['write-baseline']!,
    writeBaseline: values['write-baseline']!,
    out: path.resolve(values.out ?? path.join(BENCH, 'results', 'latest.json')),
    timeLimit: pick(values['time-limit'], 'BENCH_TIME_LIMIT', 1200, 1200),
  };
}

const opts = parseOptions();
const startedAt = Date.now();
const log = (msg: string) => process.stderr.write(`[bench ${((Date.now() - startedAt) / 1000).toFixed(0).padStart(3)} s] ${msg}\n`);
const notes: string[] = [];

// ── child processes: tracked by PID, killed at the end ──

const children = new Set<ChildProcess>();
/** PIDs we did not spawn directly but own (nginx workers). */
const ownedPids = new Set<number>();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'edgemirror-bench-'));

function track<T extends ChildProcess>(child: T): T {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

let cleaning: Promise<void> | null = null;
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    for (const child of children) if (child.pid && child.exitCode === null && child.signalCode === null) safeKill(child.pid, 'SIGTERM');
    const deadline = Date.now() + 3000;
    while (Date.now() < deadline && ([...children].some((c) => c.exitCode === null && c.signalCode === null) || [...ownedPids].some(alive))) await sleep(50);
    for (const child of children) if (child.pid && child.exitCode === null && child.signalCode === null) safeKill(child.pid, 'SIGKILL');
    for (const pid of ownedPids) if (alive(pid)) safeKill(pid, 'SIGKILL');
    fs.rmSync(tmp, { recursive: true, force: true });
  })();
  return cleaning;
}

function safeKill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

process.on('exit', () => {
  // Last resort (synchronous): nothing we started may outlive us.
  for (const child of children) if (child.pid && child.exitCode === null && child.signalCode === null) safeKill(child.pid, 'SIGKILL');
  for (const pid of ownedPids) safeKill(pid, 'SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping every child process`);
    void cleanup().then(() => process.exit(130));
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${Math.round(ms / 1000)} s`)), ms);
    }),
  ]);
}

/** Keeps the last few KB of a stream (children's output must be drained, and is shown on failure). */
function tailBuffer(stream: NodeJS.ReadableStream | null): () => string {
  let text = '';
  stream?.on('data', (d: Buffer) => {
    text = (text + d.toString()).slice(-4000);
  });
  return () => text;
}

interface Started {
  child: ChildProcess;
  port: number;
  info: Record<string, unknown>;
  stderr: () => string;
  /** Bytes the process has written to stdout (edgemirror's access log goes there). */
  stdoutBytes: () => number;
}

/** Starts `node --import tsx SCRIPT ARGS` and waits for the line that says it listens. */
function startNode(name: string, script: string, args: string[], readyPort: (line: string) => { port: number; info?: Record<string, unknown> } | null, execArgv: string[] = []): Promise<Started> {
  const child = track(spawn(process.execPath, [...execArgv, '--import', 'tsx', script, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] }));
  const stderr = tailBuffer(child.stderr);
  const stdoutTail = tailBuffer(child.stdout);
  let stdoutBytes = 0;
  child.stdout!.on('data', (d: Buffer) => (stdoutBytes += d.length));
  return withTimeout(
    new Promise<Started>((resolve, reject) => {
      let buffered = '';
      const onData = (d: Buffer) => {
        buffered += d.toString();
        let nl;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          const ready = readyPort(line);
          if (ready) {
            child.stdout!.off('data', onData);
            child.off('exit', onExit);
            resolve({ child, port: ready.port, info: ready.info ?? {}, stderr, stdoutBytes: () => stdoutBytes });
          }
        }
      };
      const onExit = (code: number | null) => reject(new Error(`${name} exited (${code}) before listening:\n${stderr()}${stdoutTail()}`));
      child.stdout!.on('data', onData);
      child.once('exit', onExit);
    }),
    30_000,
    `${name} start-up`,
  );
}

const jsonReady = (line: string) => {
  try {
    const msg = JSON.parse(line);
    return msg?.event === 'listening' ? { port: Number(msg.port), info: msg } : null;
  } catch {
    return null;
  }
};

async function stopChild(child: ChildProcess): Promise<void> {
  if (!child.pid || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  safeKill(child.pid, 'SIGTERM');
  await Promise.race([exited, sleep(5000)]);
  if (child.exitCode === null && child.signalCode === null) safeKill(child.pid, 'SIGKILL');
}

// ── servers under test ──

interface Server {
  key: ServerKey | 'direct';
  label: string;
  base: string;
  /** Host header to send (the direct origin needs the origin's). */
  host?: string;
  /** URL and Host header for one page (pages of a second site are reached by Host, or by URL for node-unblocker). */
  target(page: PageInfo): { url: string; host?: string };
  pids(): number[];
  /** Bytes of access log written so far (stdout for Node servers, the log file for nginx). */
  logBytes(): number;
  stop(): Promise<void>;
}

interface PageInfo {
  path: string;
  bytes: number;
  /** The origin host serving the page when it is not www.epochtimes.com. */
  host?: string;
  [k: string]: unknown;
}

/** How a mirror-style server (passthrough, nginx, edgemirror) is asked for a page: its path, and the second site's Host. */
function mirrorTarget(base: string) {
  return (page: PageInfo) => ({ url: base + page.path, host: page.host ? BBC_MIRROR_HOST : undefined });
}

async function startOrigin(): Promise<Server & { info: Record<string, unknown>; pid: number }> {
  const s = await startNode('origin', path.join(BENCH, 'origin.ts'), [], jsonReady);
  const base = `http://127.0.0.1:${s.port}`;
  return {
    key: 'direct',
    label: 'direct to origin',
    base,
    host: ORIGIN_HOST,
    target: (page) => ({ url: base + page.path, host: page.host ?? ORIGIN_HOST }),
    pids: () => [s.child.pid!],
    logBytes: s.stdoutBytes,
    stop: () => stopChild(s.child),
    info: s.info,
    pid: s.child.pid!,
  };
}

async function startPassthrough(originBase: string, bbcHost: string): Promise<Server> {
  const s = await startNode('passthrough', path.join(BENCH, 'passthrough.ts'), ['--upstream', originBase, '--route', `${BBC_MIRROR_HOST}=${bbcHost}`], jsonReady);
  const base = `http://127.0.0.1:${s.port}`;
  return { key: 'a', label: SERVER_LABELS.a, base, target: mirrorTarget(base), pids: () => [s.child.pid!], logBytes: s.stdoutBytes, stop: () => stopChild(s.child) };
}

async function startUnblocker(originBase: string): Promise<Server> {
  const s = await startNode('node-unblocker', path.join(BENCH, 'unblocker.ts'), ['--upstream', originBase], jsonReady);
  const base = `http://127.0.0.1:${s.port}`;
  return {
    key: 'u',
    label: SERVER_LABELS.u,
    base,
    target: (page) => ({ url: `${base}/proxy/http://${page.host ?? ORIGIN_HOST}${page.path}` }),
    pids: () => [s.child.pid!],
    logBytes: s.stdoutBytes,
    stop: () => stopChild(s.child),
  };
}

/**
 * The shipping config (config/default.json) with both origins' upstream pointed at the bench origin, plus
 * a second site for the real BBC page (same settings, the manifest's origins, reached by BBC_MIRROR_HOST).
 */
function edgemirrorConfig(originBase: string, cacheEnabled: boolean, bbcOrigins: { url: string; mount: string; aliases?: string[] }[]): string {
  const config = JSON.parse(fs.readFileSync(path.join(ROOT, 'config', 'default.json'), 'utf8'));
  delete config.$schema;
  const first = config.sites[0];
  config.sites.unshift({ ...first, name: 'bbc', hosts: [BBC_MIRROR_HOST], origins: bbcOrigins.map((o) => ({ ...o })), links: { external: 'keep' }, remove: [] });
  for (const site of config.sites) for (const origin of site.origins) origin.upstream = originBase;
  config.cache = { ...(config.cache ?? {}), enabled: cacheEnabled };
  const file = path.join(tmp, `edgemirror-cache-${cacheEnabled ? 'on' : 'off'}.json`);
  fs.writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

async function startEdgemirror(originBase: string, key: 'c' | 'd', bbcOrigins: { url: string; mount: string; aliases?: string[] }[]): Promise<Server> {
  const config = edgemirrorConfig(originBase, key === 'd', bbcOrigins);
  const s = await startNode(`edgemirror (${key})`, path.join(ROOT, 'src', 'node', 'main.ts'), ['--config', config, '--port', '0', '--host', '127.0.0.1'], (line) => {
    const m = /serving .* on http:\/\/[^\s:]+:(\d+)/.exec(line);
    return m ? { port: Number(m[1]) } : null;
  });
  const base = `http://127.0.0.1:${s.port}`;
  return { key, label: SERVER_LABELS[key], base, target: mirrorTarget(base), pids: () => [s.child.pid!], logBytes: s.stdoutBytes, stop: () => stopChild(s.child) };
}

function findExecutable(name: string, extra: string[]): string | null {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/local/sbin', '/sbin', ...extra];
  for (const dir of dirs) {
    const file = path.join(dir, name);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return file;
    } catch {
      // next
    }
  }
  return null;
}

/** nginx's binary, installing Debian's package when missing (and allowed); null with a note otherwise. */
function ensureNginx(): string | null {
  let bin = findExecutable('nginx', ['/usr/local/nginx/sbin']);
  if (!bin && opts.install) {
    const apt = findExecutable('apt-get', []);
    if (!apt) notes.push('(b) skipped: nginx is not installed and apt-get is not available. Install nginx (with the sub_filter module) to compare against it.');
    else if (process.getuid?.() !== 0) notes.push('(b) skipped: nginx is not installed and installing it needs root. Run `sudo apt-get install -y nginx-light` (or nginx) and rerun.');
    else {
      log('nginx not found: installing Debian\'s package (apt-get install -y nginx-light || apt-get install -y nginx) …');
      try {
        execFileSync('sh', ['-c', 'apt-get install -y nginx-light || apt-get install -y nginx'], {
          env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
          stdio: ['ignore', 'pipe', 'pipe'],
          timeout: 300_000,
        });
        bin = findExecutable('nginx', []);
        log(bin ? `installed ${bin}` : 'apt-get finished but no nginx binary was found');
      } catch (err) {
        const e = err as { stderr?: Buffer; message: string };
        notes.push(`(b) skipped: installing nginx failed (${(e.stderr?.toString() || e.message).trim().split('\n').slice(-2).join(' ')}); try \`apt-get update\` first.`);
      }
    }
  } else if (!bin) {
    notes.push('(b) skipped: nginx is not installed (--no-install).');
  }
  if (!bin) return null;
  const version = nginxVersion(bin);
  if (!version.modules.includes('--with-http_sub_module')) {
    notes.push(`(b) skipped: ${bin} was built without the sub_filter module (http_sub_module).`);
    return null;
  }
  return bin;
}

function nginxVersion(bin: string): { version: string | null; modules: string } {
  // `nginx -V` prints its version and configure arguments to stderr.
  const r = spawnSync(bin, ['-V'], { encoding: 'utf8' });
  const text = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  return { version: /nginx\/(\S+)/.exec(text)?.[1] ?? null, modules: text };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port}`);
    await sleep(50);
  }
}

async function startNginx(bin: string, originPort: number, bbcHost: string): Promise<Server> {
  const prefix = path.join(tmp, 'nginx');
  fs.mkdirSync(prefix, { recursive: true });
  // nginx started as root runs its workers as nobody: they must reach the temp directories.
  fs.chmodSync(tmp, 0o755);
  for (const dir of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) fs.mkdirSync(path.join(prefix, dir), { recursive: true, mode: 0o777 });
  const port = await freePort();
  const conf = path.join(prefix, 'nginx.conf');
  fs.writeFileSync(
    conf,
    `# generated by bench/run.ts
daemon off;
master_process on;
# One worker: edgemirror is one process with one event loop too.
worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 4096; }
http {
  # An access log like edgemirror's (on by default, one line per request).
  access_log ${prefix}/access.log;
  client_body_temp_path ${prefix}/client_body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  # Keep-alive on both sides without a request cap, like the Node servers (nginx's default closes after 1000).
  keepalive_requests 1000000;
  upstream bench_origin {
    server 127.0.0.1:${originPort};
    keepalive 64;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://bench_origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host ${ORIGIN_HOST};
      proxy_set_header Accept-Encoding "";
      # Buffers in memory only (never spill to temp files): backpressure, as edgemirror does.
      proxy_buffer_size 32k;
      proxy_buffers 16 32k;
      proxy_busy_buffers_size 64k;
      proxy_max_temp_file_size 0;
      sub_filter 'https://www.epochtimes.com' '';
      sub_filter 'https://i.epochtimes.com' '/_i';
      sub_filter '//i.epochtimes.com' '/_i';
      sub_filter_once off;
      sub_filter_types text/html application/javascript;
    }
  }
  # The second site (the real BBC page), chosen by Host like edgemirror's: its origins' literal prefixes.
  server {
    listen 127.0.0.1:${port};
    server_name ${BBC_MIRROR_HOST};
    location / {
      proxy_pass http://bench_origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host ${bbcHost};
      proxy_set_header Accept-Encoding "";
      proxy_buffer_size 32k;
      proxy_buffers 16 32k;
      proxy_busy_buffers_size 64k;
      proxy_max_temp_file_size 0;
      sub_filter 'https://www.bbc.com' '';
      sub_filter 'https://www.bbc.co.uk' '/_uk';
      sub_filter 'https://static.files.bbci.co.uk' '/_sf';
      sub_filter 'https://ichef.bbci.co.uk' '/_ichef';
      sub_filter_once off;
      sub_filter_types text/html;
    }
  }
}
`,
  );
  const child = track(spawn(bin, ['-c', conf, '-p', `${prefix}/`, '-e', path.join(prefix, 'error.log')], { cwd: prefix, stdio: ['ignore', 'pipe', 'pipe'] }));
  const stderr = tailBuffer(child.stderr);
  tailBuffer(child.stdout);
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`nginx exited (${code}):\n${stderr()}${safeReadText(path.join(prefix, 'error.log'))}`))));
  exited.catch(() => {});
  await Promise.race([waitForPort(port, 10_000), exited]);
  const master = child.pid!;
  const pids = () => {
    const workers = childPids(master);
    for (const w of workers) ownedPids.add(w);
    return [master, ...workers];
  };
  pids();
  return {
    key: 'b',
    label: SERVER_LABELS.b,
    base: `http://127.0.0.1:${port}`,
    target: mirrorTarget(`http://127.0.0.1:${port}`),
    pids,
    logBytes: () => {
      try {
        return fs.statSync(path.join(prefix, 'access.log')).size;
      } catch {
        return 0;
      }
    },
    async stop() {
      const workers = childPids(master);
      await stopChild(child);
      for (const w of workers) if (alive(w)) safeKill(w, 'SIGKILL');
    },
  };
}

function safeReadText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').slice(-2000);
  } catch {
    return '';
  }
}

// ── one HTTP request, timed ──

interface Fetched {
  status: number;
  headers: http.IncomingHttpHeaders;
  bytes: number;
  body: Buffer | null;
  headersMs: number;
  firstByteMs: number;
  totalMs: number;
}

function fetchTimed(url: string, { agent, host, keep = false, timeoutMs = 30_000 }: { agent?: http.Agent; host?: string; keep?: boolean; timeoutMs?: number } = {}): Promise<Fetched> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const req = http.get(url, { agent: agent ?? false, headers: host ? { host } : {} }, (res) => {
      const headersMs = performance.now() - start;
      let firstByteMs = NaN;
      let bytes = 0;
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => {
        if (bytes === 0) firstByteMs = performance.now() - start;
        bytes += chunk.length;
        if (keep) chunks.push(chunk);
      });
      res.once('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, bytes, body: keep ? Buffer.concat(chunks) : null, headersMs, firstByteMs, totalMs: performance.now() - start });
      });
      res.once('error', reject);
    });
    const timer = setTimeout(() => req.destroy(new Error(`timeout after ${timeoutMs} ms: ${url}`)), timeoutMs);
    req.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

// ── load phases ──

interface PageUnderLoad {
  key: string;
  info: PageInfo;
}

/** The long-lived load generator process (bench/load.ts). */
class LoadClient {
  private readonly inbox: { type: string; result?: LoadSummary }[] = [];
  private wake: (() => void) | null = null;
  private readonly exited: Promise<never>;
  readonly child: ChildProcess;

  constructor() {
    this.child = track(fork(path.join(BENCH, 'load.ts'), [], { cwd: ROOT, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
    this.child.on('message', (m) => {
      this.inbox.push(m as { type: string });
      this.wake?.();
    });
    this.exited = new Promise<never>((_, reject) => this.child.once('exit', (code) => reject(new Error(`load generator exited (${code})`))));
    this.exited.catch(() => {});
  }

  get pid(): number {
    return this.child.pid!;
  }

  send(msg: unknown): void {
    this.child.send(msg as object);
  }

  next(type: string, ms: number): Promise<{ type: string; result?: LoadSummary }> {
    const wait = (async () => {
      for (;;) {
        const i = this.inbox.findIndex((m) => m.type === type);
        if (i >= 0) return this.inbox.splice(i, 1)[0]!;
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = null;
      }
    })();
    return withTimeout(Promise.race([wait, this.exited]), ms, `load generator (${type})`);
  }

  async stop(): Promise<void> {
    if (this.child.connected) this.child.send({ type: 'exit' });
    await Promise.race([new Promise((r) => this.child.once('exit', r)), sleep(3000)]);
    await stopChild(this.child);
  }
}

async function loadPhase(client: LoadClient, server: Server, page: PageUnderLoad, round: number, origin: { pid: number }): Promise<PhaseRecord> {
  const t = server.target(page.info);
  const request: LoadRequest = { url: t.url, headers: t.host ? { host: t.host } : undefined, connections: opts.connections, duration: opts.duration, warmup: opts.warmup, timeout: 30 };
  client.send({ type: 'job', request });
  await client.next('warm', (opts.warmup + 60) * 1000);

  const pids = server.pids();
  const peakReset = pids.every(resetPeak);
  const sampler = new RssSampler(() => pids);
  const before = { server: totalCpuMs(pids), origin: cpuMs(origin.pid), client: cpuMs(client.pid), sys: systemCpu(), t: performance.now(), log: server.logBytes() };
  client.send({ type: 'go' });
  const { result } = await client.next('result', (opts.duration + 60) * 1000);
  const after = { server: totalCpuMs(pids), origin: cpuMs(origin.pid), client: cpuMs(client.pid), sys: systemCpu(), t: performance.now(), log: server.logBytes() };
  const sampledPeakKb = sampler.stop();
  const hwmKb = sumMem(pids).hwmKb;

  const load = result!;
  const wallMs = after.t - before.t;
  const serverCpu = after.server - before.server;
  const ours = serverCpu + (after.origin - before.origin) + (after.client - before.client);
  const record: PhaseRecord = {
    round,
    page: page.key,
    server: server.key as ServerKey,
    load,
    wallS: wallMs / 1000,
    cpuMs: serverCpu,
    cpuMsPerReq: load.requests ? serverCpu / load.requests : NaN,
    peakRssMb: (peakReset ? Math.max(hwmKb, sampledPeakKb) : sampledPeakKb) / 1024,
    originCpuMs: after.origin - before.origin,
    clientCpuMs: after.client - before.client,
    otherCpuCores: Math.max(0, (after.sys.processesMs - before.sys.processesMs - ours) / wallMs),
    irqCores: (after.sys.irqMs - before.sys.irqMs) / wallMs,
    logBytesPerReq: load.requests ? (after.log - before.log) / load.requests : 0,
    stealCores: (after.sys.stealMs - before.sys.stealMs) / wallMs,
  };
  const bad = load.errors + load.timeouts + load.non2xx;
  log(
    `round ${round} ${page.key.padEnd(7)} ${server.label.padEnd(48)} ${load.reqPerSec.toFixed(0).padStart(6)} req/s  p50 ${String(load.latencyMs.p50).padStart(4)} ms  p99 ${String(load.latencyMs.p99).padStart(4)} ms  ${record.cpuMsPerReq.toFixed(2)} CPU ms/req  ${record.peakRssMb.toFixed(0)} MB  client ${((record.clientCpuMs / wallMs) * 100).toFixed(0)}% CPU  others ${record.otherCpuCores.toFixed(2)} cores${bad ? `  ${bad} errors/timeouts/non-2xx` : ''}`,
  );
  return record;
}

// ── sanity: what each server actually returns ──

const ORIGIN_URL_RE = /(?:https?:)?(?:\\?\/){2}(?:www\.|i\.)?epochtimes\.com/gi;
const BBC_URL_RE = /(?:https?:)?(?:\\?\/){2}(?:www\.bbc\.com|www\.bbc\.co\.uk|static\.files\.bbci\.co\.uk|ichef\.bbci\.co\.uk)/gi;

async function checkOutputs(servers: Server[], pages: Record<string, PageInfo>): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for (const key of opts.pages) {
    const page = pages[key]!;
    for (const s of servers) {
      const t = s.target(page);
      const first = await fetchTimed(t.url, { host: t.host, keep: true });
      const second = s.key === 'd' ? await fetchTimed(t.url, { host: t.host, keep: true }) : first;
      const text = second.body!.toString('utf8');
      const row = {
        page: key,
        server: s.key,
        status: second.status,
        bytes: second.bytes,
        xCache: second.headers['x-cache'] ?? null,
        originUrlsLeft: (text.match(page.host ? BBC_URL_RE : ORIGIN_URL_RE) ?? []).length,
        mirrorNav: text.includes('class="mirror-nav"'),
      };
      out.push(row);
      if (row.status !== 200) throw new Error(`${s.label} answered ${row.status} for ${t.url}`);
      if (s.key === 'd' && row.xCache !== 'HIT') throw new Error(`${s.label}: second request was x-cache ${String(row.xCache)}, expected HIT`);
    }
  }
  return out;
}

// ── TTFB ──

async function measureTtfb(targets: Server[]): Promise<TtfbRecord[]> {
  const agents = targets.map(() => new http.Agent({ keepAlive: true, maxSockets: 1 }));
  const samples = targets.map(() => ({ headers: [] as number[], first: [] as number[], total: [] as number[] }));
  try {
    for (let t = 0; t < targets.length; t++) await fetchTimed(targets[t]!.base + SLOW_PATH, { agent: agents[t], host: targets[t]!.host });
    for (let i = 0; i < opts.ttfbRequests; i++) {
      for (let j = 0; j < targets.length; j++) {
        const t = (i + j) % targets.length;
        const r = await fetchTimed(targets[t]!.base + SLOW_PATH, { agent: agents[t], host: targets[t]!.host });
        if (r.status !== 200) throw new Error(`${targets[t]!.label}: ${r.status} for the slow page`);
        samples[t]!.headers.push(r.headersMs);
        samples[t]!.first.push(r.firstByteMs);
        samples[t]!.total.push(r.totalMs);
      }
    }
  } finally {
    for (const a of agents) a.destroy();
  }
  const direct = samples[0]!;
  return targets.map((target, t) => {
    const s = samples[t]!;
    const overheads = s.first.map((v, i) => v - direct.first[i]!);
    return {
      target: target.key === 'direct' ? 'direct to origin' : target.label,
      requests: s.first.length,
      headersP50Ms: median(s.headers),
      headersP99Ms: percentile(s.headers, 99),
      firstByteP50Ms: median(s.first),
      firstByteP99Ms: percentile(s.first, 99),
      totalP50Ms: median(s.total),
      overheadP50Ms: t === 0 ? null : median(s.first) - median(direct.first),
      overheadP99Ms: t === 0 ? null : percentile(overheads, 99),
    };
  });
}

// ── the 100 MiB page ──

async function streamBig(target: Server, withMemory: boolean, label?: string): Promise<BigRecord> {
  const pids = withMemory ? target.pids() : [];
  const rssBeforeKb = withMemory ? sumMem(pids).rssKb : 0;
  const peakReset = withMemory && pids.every(resetPeak);
  const sampler = withMemory ? new RssSampler(() => pids) : null;
  const cpuBefore = withMemory ? totalCpuMs(pids) : 0;
  const r = await fetchTimed(target.base + BIG_PATH, { host: target.host, timeoutMs: 600_000 });
  const sampledKb = sampler?.stop() ?? 0;
  const peakKb = withMemory ? (peakReset ? Math.max(sumMem(pids).hwmKb, sampledKb) : sampledKb) : 0;
  const record: BigRecord = {
    target: label ?? (target.key === 'direct' ? 'direct to origin' : target.label),
    bytes: r.bytes,
    seconds: r.totalMs / 1000,
    mbPerSec: r.bytes / (r.totalMs / 1000) / 1e6,
    firstByteMs: r.firstByteMs,
    rssBeforeMb: withMemory ? rssBeforeKb / 1024 : null,
    peakRssMb: withMemory ? peakKb / 1024 : null,
    rssGrowthMb: withMemory ? (peakKb - rssBeforeKb) / 1024 : null,
    cpuMs: withMemory ? totalCpuMs(pids) - cpuBefore : null,
    status: r.status,
  };
  log(`100 MiB page via ${record.target}: ${record.mbPerSec.toFixed(1)} MB/s, ${record.seconds.toFixed(2)} s${withMemory ? `, RSS ${record.rssBeforeMb!.toFixed(0)} → peak ${record.peakRssMb!.toFixed(0)} MB (+${record.rssGrowthMb!.toFixed(1)})` : ''}`);
  return record;
}

// ── engine only ──

async function runEngine(): Promise<EngineResult[]> {
  const child = track(spawn(process.execPath, ['--import', 'tsx', path.join(BENCH, 'engine.ts'), '--json', '--seconds', String(opts.engineSeconds)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] }));
  const stderr = tailBuffer(child.stderr);
  let stdout = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  const code = await withTimeout(new Promise<number | null>((resolve) => child.once('exit', resolve)), (opts.engineSeconds * 2 + 20) * 10 * 1000, 'engine benchmark');
  if (code !== 0) throw new Error(`engine benchmark exited ${code}:\n${stderr()}`);
  return (JSON.parse(stdout.trim().split('\n').pop()!) as { engine: EngineResult[] }).engine;
}

// ── targets ──

function targets(summary: BenchResults['load']['summary'], ttfb: TtfbRecord[], big: BigRecord[]): TargetRecord[] {
  const out: TargetRecord[] = [];
  const min = (name: string, measured: number | null, goal: number, unit: string, missing: string): TargetRecord => {
    if (measured === null || !Number.isFinite(measured)) return { name, measured: null, goal, unit, kind: 'min', met: null, detail: `not measured (${missing})` };
    const met = measured >= goal;
    return { name, measured, goal, unit, kind: 'min', met, detail: met ? `met (${((measured / goal - 1) * 100).toFixed(0)}% above the goal)` : `**not met**: needs ${(goal / measured).toFixed(2)}× the current value` };
  };
  const max = (name: string, measured: number | null, goal: number, unit: string, missing: string): TargetRecord => {
    if (measured === null || !Number.isFinite(measured)) return { name, measured: null, goal, unit, kind: 'max', met: null, detail: `not measured (${missing})` };
    const met = measured <= goal;
    const detail = unit === '×' ? (met ? 'met' : `**not met**: needs ${(measured / goal).toFixed(2)}× less`) : met ? `met (${(goal - measured).toFixed(2)}${unit} to spare)` : `**not met**: ${(measured - goal).toFixed(2)}${unit} over`;
    return { name, measured, goal, unit, kind: 'max', met, detail };
  };
  const cpuRatio = (x: { cpuMsPerReq: number } | undefined, y: { cpuMsPerReq: number } | undefined) => (x && y ? x.cpuMsPerReq / y.cpuMsPerReq : null);
  for (const page of Object.keys(summary)) {
    const s = summary[page]!;
    const title = PAGE_TITLES[page] ?? page;
    out.push(max(`uncached CPU/req ÷ (u) node-unblocker's, ${title}`, cpuRatio(s.c, s.u), 1 / 3, '×', '(u) or (c) missing'));
    if (page === 'dense') out.push(max(`uncached CPU/req ÷ (a) passthrough's, ${title}`, cpuRatio(s.c, s.a), 4, '×', '(a) or (c) missing'));
    if (page === 'tiny') out.push(max(`uncached CPU/req ÷ (a) passthrough's (fixed cost per request), ${title}`, cpuRatio(s.c, s.a), 1.5, '×', '(a) or (c) missing'));
    out.push({
      ...min(`cache hit req/s ÷ (a) passthrough, ${title}`, s.d && s.a ? s.d.reqPerSec / s.a.reqPerSec : null, 0.9, '×', '(a) or (d) missing'),
      byCpu: s.d && s.a ? s.a.cpuMsPerReq / s.d.cpuMsPerReq : null,
    });
    out.push({
      ...min(`uncached rewrite req/s ÷ (b) nginx sub_filter, ${title}`, s.c && s.b ? s.c.reqPerSec / s.b.reqPerSec : null, 1.0, '×', 'nginx skipped'),
      byCpu: s.c && s.b ? s.b.cpuMsPerReq / s.c.cpuMsPerReq : null,
    });
  }
  const c = ttfb.find((t) => t.target === SERVER_LABELS.c);
  out.push(max('TTFB overhead, edgemirror (cache off) − direct, slow page, p50', c?.overheadP50Ms ?? null, 5, ' ms', 'TTFB not run'));
  const bigC = big.find((b) => b.target === SERVER_LABELS.c);
  out.push(max('peak RSS growth streaming the 100 MiB page, edgemirror (cache off)', bigC?.rssGrowthMb ?? null, 64, ' MB', '100 MiB page not run'));
  return out;
}

/** Which code was measured (read-only git commands; no index refresh). */
function gitInfo(): Record<string, unknown> {
  const git = (...args: string[]) => execFileSync('git', ['--no-optional-locks', ...args], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    const commit = git('rev-parse', '--short', 'HEAD');
    let dirty = false;
    try {
      git('diff', '--quiet', 'HEAD', '--', 'src', 'config');
    } catch {
      dirty = true;
    }
    return { gitCommit: commit, srcModified: dirty };
  } catch {
    return { gitCommit: null };
  }
}

// ── main ──

async function main(): Promise<void> {
  if (process.platform !== 'linux') throw new Error('the benchmark reads /proc: Linux only');
  const watchdog = setTimeout(() => {
    log(`time limit of ${opts.timeLimit} s reached: aborting`);
    void cleanup().then(() => process.exit(1));
  }, opts.timeLimit * 1000);
  watchdog.unref();

  const loadAvgStart = loadAverage();
  log(`settings: ${opts.connections} connections, ${opts.warmup} s warm-up + ${opts.duration} s per phase, ${opts.rounds} rounds, pages ${opts.pages.join(', ')}; load average ${loadAvgStart.join(' ')}`);
  const nginxBin = opts.nginx ? ensureNginx() : null;
  if (!opts.nginx) notes.push('(b) skipped: --no-nginx.');
  if (!opts.unblocker) notes.push('(u) skipped: --no-unblocker.');
  const nginxInfo = nginxBin ? nginxVersion(nginxBin) : { version: null, modules: '' };
  for (const n of notes) log(n);

  const origin = await startOrigin();
  const pages = origin.info.pages as Record<string, PageInfo>;
  log(`origin on ${origin.base}: ${Object.entries(pages).map(([k, p]) => `${k} ${p.bytes} B`).join(', ')}; link-dense article: ${String(pages.dense!.originUrls)} origin URLs`);
  const bbc = pages.bbc as PageInfo & { host: string; origins: { url: string; mount: string; aliases?: string[] }[] };

  const servers: Server[] = [await startPassthrough(origin.base, bbc.host)];
  if (nginxBin) {
    try {
      servers.push(await startNginx(nginxBin, Number(new URL(origin.base).port), bbc.host));
    } catch (err) {
      notes.push(`(b) skipped: nginx did not start (${(err as Error).message.split('\n')[0]}).`);
      log(notes.at(-1)!);
    }
  }
  if (opts.unblocker) {
    try {
      servers.push(await startUnblocker(origin.base));
    } catch (err) {
      notes.push(`(u) skipped: node-unblocker did not start (${(err as Error).message.split('\n')[0]}); \`npm ci\` installs it.`);
      log(notes.at(-1)!);
    }
  }
  servers.push(await startEdgemirror(origin.base, 'c', bbc.origins), await startEdgemirror(origin.base, 'd', bbc.origins));
  const byKey = (k: ServerKey) => servers.find((s) => s.key === k);
  for (const s of servers) log(`${s.label} on ${s.base} (pids ${s.pids().join(', ')})`);

  const outputs = await checkOutputs([origin, ...servers], pages);
  for (const o of outputs) log(`output ${String(o.page).padEnd(7)} ${String(o.server).padEnd(6)} ${o.status} ${o.bytes} B, ${o.originUrlsLeft} origin URLs left${o.xCache ? `, x-cache ${o.xCache}` : ''}`);

  // (a)(b)(u)(c)(d) alternating; the order reverses every round so no server always follows the same one.
  const phases: PhaseRecord[] = [];
  const loadPages = opts.pages.map((key) => ({ key, info: pages[key]! }));
  const client = new LoadClient();
  for (let round = 1; round <= opts.rounds; round++) {
    const order = round % 2 === 1 ? servers : [...servers].reverse();
    for (const page of loadPages) for (const s of order) phases.push(await loadPhase(client, s, page, round, origin));
  }
  await client.stop();
  const summary = summarize(phases);

  log(`TTFB: ${opts.ttfbRequests} requests per path for the slow page`);
  const ttfbTargets = [origin, ...(['a', 'b', 'c'] as const).map(byKey).filter((s): s is Server => !!s)];
  const ttfb = await measureTtfb(ttfbTargets);
  for (const t of ttfb) log(`TTFB ${t.target}: first byte p50 ${t.firstByteP50Ms.toFixed(2)} ms p99 ${t.firstByteP99Ms.toFixed(2)} ms${t.overheadP50Ms !== null ? `, overhead p50 ${t.overheadP50Ms.toFixed(2)} ms` : ''}`);

  // The 100 MiB page: fresh processes (so earlier load does not hide the growth), warmed by one article request.
  const big: BigRecord[] = [];
  big.push(await streamBig(origin, false));
  const fresh: Server[] = [await startPassthrough(origin.base, bbc.host), await startEdgemirror(origin.base, 'c', bbc.origins)];
  if (!opts.quick) fresh.push(await startEdgemirror(origin.base, 'd', bbc.origins));
  for (const s of fresh) await fetchTimed(s.base + ARTICLE_PATH);
  big.push(await streamBig(fresh[0]!, true));
  const nginx = byKey('b');
  if (nginx) big.push(await streamBig(nginx, true));
  big.push(await streamBig(fresh[1]!, true));
  if (fresh[2]) big.push(await streamBig(fresh[2], true, '(d) edgemirror, cache on (default config; too big to cache)'));
  for (const s of fresh) await s.stop();

  for (const s of servers) await s.stop();
  await origin.stop();

  log(`engine only: ${opts.engineSeconds} s per measurement`);
  const engine = await runEngine();
  for (const e of engine) log(`engine ${e.name} / ${e.input}: ${e.mbPerSec.toFixed(1)} MB/s, ${e.msPerIteration.toFixed(2)} ms each`);

  const others = phases.map((p) => p.otherCpuCores);
  const loadAvgEnd = loadAverage();
  if (median(others) > 0.25) notes.push(`The machine was shared: other processes used a median ${median(others).toFixed(2)} cores (of ${os.availableParallelism()}) during the load phases. Compare ratios within this run, not absolute numbers across runs.`);
  const clientBusy = phases.filter((p) => p.clientCpuMs / (p.wallS * 1000) > 0.9);
  if (clientBusy.length) {
    notes.push(`The load generator was CPU-bound (> 90% of a core) in ${clientBusy.length} of ${phases.length} phases (${[...new Set(clientBusy.map((p) => `(${p.server}) ${p.page}`))].join(', ')}): those req/s are a floor set by the client, not the server's ceiling.`);
  }
  const logPerReq = (k: ServerKey) => median(phases.filter((p) => p.server === k).map((p) => p.logBytesPerReq));
  const logged = SERVER_KEYS.filter((k) => phases.some((p) => p.server === k)).map((k) => `(${k}) ${Math.round(logPerReq(k))} B`);
  notes.push(`Access log bytes per request: ${logged.join(', ')} (edgemirror as configured by default, to stdout, which the harness drains; nginx to a file; the passthrough and node-unblocker log nothing).`);
  if (servers.some((s) => s.key === 'u')) notes.push('(u) is asked for `/proxy/http://<origin host><path>` (its own URL scheme) and rewrites every absolute URL to `/proxy/…` form, so its output keeps the origin host names: the "origin URLs left" check does not apply to it. It sends no access log and does no caching.');
  const errors = phases.filter((p) => p.load.errors + p.load.timeouts + p.load.non2xx > 0);
  if (errors.length) notes.push(`${errors.length} phases saw errors, timeouts or non-2xx answers (see load.phases in the result file).`);

  const results: BenchResults = {
    version: 1,
    date: new Date(startedAt).toISOString(),
    runSeconds: (Date.now() - startedAt) / 1000,
    machine: { ...machineInfo(), ...gitInfo() },
    settings: { quick: opts.quick, duration: opts.duration, warmup: opts.warmup, connections: opts.connections, rounds: opts.rounds, pages: opts.pages, ttfbRequests: opts.ttfbRequests, engineSeconds: opts.engineSeconds, unblocker: opts.unblocker },
    nginx: { version: nginxInfo.version, note: nginxBin ? 'master + 1 worker; RSS and CPU summed over both' : notes.find((n) => n.startsWith('(b)')) ?? 'skipped' },
    notes,
    pages,
    outputs,
    load: { phases, summary, ratios: ratios(summary) },
    ttfb,
    big,
    engine,
    targets: targets(summary, ttfb, big),
    noise: {
      loadAvgStart,
      loadAvgEnd,
      otherCpuCoresMedian: others.length ? median(others) : null,
      otherCpuCoresMax: others.length ? Math.max(...others) : null,
      irqCoresMedian: phases.length ? median(phases.map((p) => p.irqCores)) : null,
      stealCoresMedian: phases.length ? median(phases.map((p) => p.stealCores)) : null,
    },
  };
  fs.mkdirSync(path.dirname(opts.out), { recursive: true });
  fs.writeFileSync(opts.out, JSON.stringify(results, null, 2) + '\n');
  const markdown = renderMarkdown(results);
  process.stdout.write(`\n${markdown}\n\n`);
  log(`results: ${path.relative(process.cwd(), opts.out)}`);
  if (opts.writeDocs) {
    const docs = path.join(ROOT, 'docs', 'performance.md');
    writeDocsBlock(docs, 'latest', markdown);
    if (opts.writeBaseline) writeDocsBlock(docs, 'baseline', markdown);
    log(`wrote ${path.relative(process.cwd(), docs)} (${opts.writeBaseline ? 'baseline and latest' : 'latest'})`);
  }
}

main()
  .catch((err) => {
    // After Ctrl-C the children are being stopped on purpose: their exits are not errors.
    if (!cleaning) console.error(`bench: ${err?.stack ?? err}`);
    process.exitCode = 1;
  })
  .finally(() => cleanup());
