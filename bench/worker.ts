/**
 * `npm run bench:worker` — CPU per request of the Worker in workerd, next to the Node server.
 *
 * The Worker bundle is built as `wrangler deploy --dry-run` builds it and served by Miniflare (workerd)
 * on 127.0.0.1, with the shipping config (config/default.json) and every outbound fetch() routed to the
 * bench origin (in this process, on 127.0.0.1). The Node server runs as its own child process with the
 * same config. CPU is read from /proc/<pid>/stat of the workerd process (resp. the Node process) before
 * and after N sequential requests on one keep-alive connection, so it is what serving those requests
 * cost that process (user + system, all threads; the workerd process also runs Miniflare's small entry
 * worker in front of ours, so its figures are slightly pessimistic). Scenarios: the real 34 KB article
 * and the synthetic 161 KB article uncached (cache off), the synthetic article as a cache hit, and a
 * 32 MB page (no-store) with the cache off and on (wall time and CPU).
 *
 * Options: --requests N (default 60), --quick (20 requests, one 32 MB run), --engine fast|lol-html,
 * --socket (the Worker reaches the origin over its socket client, src/worker/http1.ts, instead of
 * fetch()), --no-node, --json FILE. Every child is killed by PID at the end.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Readable } from 'node:stream';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Miniflare } from 'miniflare';
import { buildWorkerBundle, OFFLINE_ENV } from '../tests/helpers/worker-bundle.ts';
import { ARTICLE_PATH, buildArticle, buildBigPage, buildRealArticle } from './pages.ts';
import { childPids, cpuMs } from './procstat.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '60' },
    quick: { type: 'boolean', default: false },
    engine: { type: 'string', default: 'fast' },
    'no-node': { type: 'boolean', default: false },
    socket: { type: 'boolean', default: false },
    json: { type: 'string' },
  },
});
const REQUESTS = values.quick ? 20 : Number(values.requests);
const BIG_RUNS = values.quick ? 1 : 2;
const BIG_PATH = '/gb/bench/big32.htm';
const engine = values.engine === 'lol-html' ? 'lol-html' : 'fast';
Object.assign(process.env, OFFLINE_ENV);

const children: ChildProcess[] = [];
const cleanup: (() => Promise<unknown> | unknown)[] = [];
const log = (line: string) => process.stderr.write(`[bench:worker] ${line}\n`);

// ── origin (in this process: its CPU is not what is measured) ──

const article = buildArticle();
const real = buildRealArticle();
const big = buildBigPage(32 * 1024 * 1024);
const origin = http.createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  const p = (req.url ?? '/').split('?', 1)[0]!;
  req.resume();
  const send = (body: Buffer, cc: string) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': body.length, 'cache-control': cc }).end(body);
  if (p === ARTICLE_PATH) return send(article, 'public, max-age=86400');
  if (p === real.path) return send(real.html, 'public, max-age=86400');
  if (p === BIG_PATH) {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': big.totalBytes, 'cache-control': 'no-store' });
    let i = 0;
    const write = () => {
      if (i === 0) res.write(big.head);
      while (i < big.blocks) {
        i++;
        if (!res.write(big.block)) return void res.once('drain', write);
      }
      res.end(big.tail);
    };
    res.once('close', () => (i = big.blocks));
    return write();
  }
  res.writeHead(404).end();
});

function config(cache: boolean, upstream?: string): string {
  const c = JSON.parse(fs.readFileSync(path.join(ROOT, 'config', 'default.json'), 'utf8'));
  delete c.$schema;
  for (const site of c.sites) for (const o of site.origins) (upstream ? (o.upstream = upstream) : delete o.upstream);
  c.cache = { ...(c.cache ?? {}), enabled: cache };
  c.server = { ...(c.server ?? {}), accessLog: 'off', htmlEngine: engine };
  return JSON.stringify(c);
}

// ── servers under test ──

interface Target {
  name: string;
  port: number;
  pid: number;
}

async function startWorkerTarget(script: string, compat: { date: string; flags: string[] }, cache: boolean, originHost: string): Promise<Target> {
  const before = new Set(childPids(process.pid));
  const mf = new Miniflare({
    modules: true,
    scriptPath: script,
    modulesRoot: path.dirname(script),
    compatibilityDate: compat.date,
    compatibilityFlags: compat.flags,
    bindings: { MIRROR_CONFIG: config(cache, values.socket ? `http://${originHost}` : undefined) },
    host: '127.0.0.1',
    port: 0,
    // fetch(): every outbound request goes to the bench origin (DNS stand-in). The socket client
    // connects to `upstream` itself (and Miniflare's outbound routing would break sockets).
    ...(values.socket ? {} : { outboundService: { external: { address: originHost, http: {} } } }),
    handleRuntimeStdio(stdout: Readable, stderr: Readable) {
      stdout.resume();
      stderr.resume();
    },
  });
  cleanup.push(() => mf.dispose());
  const url = await mf.ready;
  const pid = childPids(process.pid).find((p) => !before.has(p) && fs.readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'workerd');
  if (!pid) throw new Error('workerd process not found among this process’s children');
  return { name: `worker${values.socket ? '/socket' : ''} (cache ${cache ? 'on' : 'off'})`, port: Number(url.port), pid };
}

async function startNodeTarget(cache: boolean, upstream: string): Promise<Target> {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bench-worker-')), 'config.json');
  fs.writeFileSync(file, config(cache, upstream));
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/node/main.ts'), '--config', file, '--port', '0', '--host', '127.0.0.1'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const port = await new Promise<number>((resolve, reject) => {
    let text = '';
    child.stdout!.on('data', (d: Buffer) => {
      text += d.toString();
      const m = /serving .* on http:\/\/[^\s:]+:(\d+)/.exec(text);
      if (m) resolve(Number(m[1]));
    });
    child.stderr!.resume();
    child.once('exit', (code) => reject(new Error(`node server exited (${code})`)));
    setTimeout(() => reject(new Error('node server did not start in 30 s')), 30_000).unref();
  });
  return { name: `node (cache ${cache ? 'on' : 'off'})`, port, pid: child.pid! };
}

// ── load ──

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function request(port: number, p: string): Promise<{ status: number; bytes: number; cache: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: p, agent, headers: { host: 'mirror.bench' } }, (res) => {
      let bytes = 0;
      res.on('data', (d: Buffer) => (bytes += d.length));
      res.on('end', () => resolve({ status: res.statusCode!, bytes, cache: String(res.headers['x-cache'] ?? '') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(120_000, () => req.destroy(new Error(`${p} timed out`)));
  });
}

interface Measure {
  target: string;
  page: string;
  requests: number;
  cpuMsPerRequest: number;
  wallMsPerRequest: number;
  bytesOut: number;
  xCache: string;
}

async function measure(t: Target, page: string, p: string, n: number, warmup = 5): Promise<Measure> {
  let last = { status: 0, bytes: 0, cache: '' };
  for (let i = 0; i < warmup; i++) last = await request(t.port, p);
  if (warmup > 0 && last.status !== 200) throw new Error(`${t.name} ${p}: status ${last.status}`);
  const cpu0 = cpuMs(t.pid);
  const wall0 = performance.now();
  for (let i = 0; i < n; i++) last = await request(t.port, p);
  const wall = performance.now() - wall0;
  const cpu = cpuMs(t.pid) - cpu0;
  if (last.status !== 200) throw new Error(`${t.name} ${p}: status ${last.status}`);
  const m = { target: t.name, page, requests: n, cpuMsPerRequest: cpu / n, wallMsPerRequest: wall / n, bytesOut: last.bytes, xCache: last.cache };
  log(`${t.name.padEnd(20)} ${page.padEnd(28)} ${m.cpuMsPerRequest.toFixed(2).padStart(8)} ms CPU/req ${m.wallMsPerRequest.toFixed(1).padStart(8)} ms wall/req  (${n} req, ${last.bytes} B out, x-cache ${last.cache})`);
  return m;
}

async function main(): Promise<void> {
  const timeLimit = setTimeout(() => {
    log('time limit (10 min) reached');
    void shutdown(1);
  }, 600_000);
  timeLimit.unref();
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  const originHost = `127.0.0.1:${(origin.address() as AddressInfo).port}`;
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-worker-bundle-'));
  cleanup.push(() => fs.rmSync(outdir, { recursive: true, force: true }));
  log('building the Worker bundle (wrangler deploy --dry-run)…');
  const bundle = await buildWorkerBundle(outdir);
  const compat = { date: bundle.compatibilityDate, flags: bundle.compatibilityFlags };
  log(`engine: ${engine}; real article ${real.html.length} B (${real.path}), synthetic article ${article.length} B, big page ${big.totalBytes} B; ${REQUESTS} requests each`);
  const results: Measure[] = [];

  const off = await startWorkerTarget(bundle.script, compat, false, originHost);
  results.push(await measure(off, 'real article (uncached)', real.path, REQUESTS));
  results.push(await measure(off, 'synthetic article (uncached)', ARTICLE_PATH, REQUESTS));
  results.push(await measure(off, '32 MB page (cache off)', BIG_PATH, BIG_RUNS, 0));
  const on = await startWorkerTarget(bundle.script, compat, true, originHost);
  results.push(await measure(on, 'synthetic article (hit)', ARTICLE_PATH, REQUESTS));
  results.push(await measure(on, '32 MB page (cache on)', BIG_PATH, BIG_RUNS, 0));

  if (!values['no-node']) {
    const upstream = `http://${originHost}`;
    const nodeOff = await startNodeTarget(false, upstream);
    results.push(await measure(nodeOff, 'real article (uncached)', real.path, REQUESTS));
    results.push(await measure(nodeOff, 'synthetic article (uncached)', ARTICLE_PATH, REQUESTS));
    const nodeOn = await startNodeTarget(true, upstream);
    results.push(await measure(nodeOn, 'synthetic article (hit)', ARTICLE_PATH, REQUESTS));
  }
  const table = ['| server | page | CPU ms/request | wall ms/request |', '|---|---|---:|---:|', ...results.map((r) => `| ${r.target} | ${r.page} | ${r.cpuMsPerRequest.toFixed(2)} | ${r.wallMsPerRequest.toFixed(1)} |`)];
  process.stdout.write(`\n${table.join('\n')}\n`);
  if (values.json) fs.writeFileSync(values.json, JSON.stringify({ engine, at: new Date().toISOString(), cpus: os.cpus().length, loadavg: os.loadavg(), results }, null, 2) + '\n');
  await shutdown(0);
}

async function shutdown(code: number): Promise<void> {
  agent.destroy();
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  for (const f of cleanup.reverse()) await Promise.resolve(f()).catch(() => {});
  origin.closeAllConnections();
  origin.close();
  process.exit(code);
}

process.on('SIGINT', () => void shutdown(130));
main().catch((err) => {
  log(`failed: ${err?.stack ?? err}`);
  void shutdown(1);
});
