/**
 * The mirror under attack, on 127.0.0.1 only, bounded in time: while cheap clients attack, an honest
 * reader fetches uncached articles; prints the honest reader's latency (p50/p99/max over its
 * requests), its statuses, and the mirror process's peak RSS.
 *
 * Scenarios (each runs against a fresh mirror process, default config, cache on but pages no-store):
 *   baseline  no attack.
 *   slow      200 clients uploading a POST body at 1 byte/s + 200 clients requesting an 8 MB page and
 *             never reading; each reconnects as soon as the mirror drops it ("the attacker repeats").
 *   hostile   (--hostile) 20 concurrent hostile origin responses of each kind: a gzip bomb and a br bomb
 *             (256 MB of zeros each); --hostile-html adds an endless `<!--` and an endless attribute
 *             value (64 MB sent, 15 s each). The honest loop stops if the mirror's RSS passes 1 GB.
 *
 *   node --import tsx bench/attack.ts [--quick] [--hostile] [--honest N] [--engine fast|lol-html] [--per-client N]
 *
 * The honest reader connects from 127.0.0.2, the attackers from 127.0.0.1 (both loopback), so the
 * per-client share of origin slots (server.maxOriginRequestsPerClient; --per-client overrides it)
 * sees them as different readers, as it would on the internet.
 *
 * The mirror runs in its own process (peak RSS = its VmHWM from /proc); origin and clients run here.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { buildArticle } from './pages.ts';
import { cpuMs, memStatus } from './procstat.ts';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    hostile: { type: 'boolean', default: false },
    'hostile-html': { type: 'boolean', default: false },
    honest: { type: 'string', default: '50' },
    engine: { type: 'string', default: 'fast' },
    'per-client': { type: 'string' },
    serve: { type: 'string' },
  },
});

// ── the mirror process (spawned by the bench: `--serve CONFIG_JSON`) ──
if (values.serve) {
  const { validateConfig } = await import('../src/config/validate.ts');
  const { startNodeServer } = await import('../src/node/server.ts');
  const result = validateConfig(JSON.parse(values.serve));
  if (!result.ok) throw new Error(result.errors.join('\n'));
  const server = await startNodeServer({ config: result.config, port: 0, host: '127.0.0.1', accessLog: false });
  console.log(`PORT ${server.port}`);

  process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
} else {
  await main();
}

async function main(): Promise<void> {
  const HONEST = Number(values.honest);
  const HONEST_ADDRESS = '127.0.0.2';
  const SLOW_UPLOADERS = 200;
  const NON_READERS = 200;
  const HOSTILE_EACH = 20;
  const BIG_BYTES = 8 * 1024 * 1024;
  const HOSTILE_BYTES = 64 * 1024 * 1024;
  const HARD_DEADLINE = Date.now() + (values.quick ? 3 : 8) * 60_000;
  const children = new Set<ChildProcess>();
  const sockets = new Set<net.Socket>();
  const stopAll = () => {
    for (const s of sockets) s.destroy();
    for (const c of children) c.kill('SIGKILL');
  };
  const guard = setTimeout(() => {
    console.error('attack bench: hard deadline reached, stopping');
    stopAll();
    process.exit(2);
  }, HARD_DEADLINE - Date.now());
  guard.unref();

  // ── origin ──
  const article = buildArticle();
  const bigChunk = Buffer.from(`<p><a href="https://www.epochtimes.com/gb/x.htm">x</a>${'新闻内容 '.repeat(4000)}</p>\n`);
  // Past the default maxDecodedOriginBytes (64 MiB): 256 MiB of zeros, ~250 KB compressed.
  const zeros = Buffer.alloc(4 * HOSTILE_BYTES);
  const gzipBomb = zlib.gzipSync(zeros);
  const brBomb = zlib.brotliCompressSync(zeros);
  let originInFlight = 0;
  let originPeak = 0;
  const origin = http.createServer((req, res) => {
    originInFlight++;
    originPeak = Math.max(originPeak, originInFlight);
    res.on('close', () => originInFlight--);
    const path = req.url ?? '/';
    if (req.method === 'POST') {
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end('<p>ok</p>'));
      return;
    }
    if (path.startsWith('/gb/big/')) return stream(res, 'text/html; charset=utf-8', '<html><body>', bigChunk, BIG_BYTES);
    if (path.startsWith('/gb/gzip-bomb/')) return void res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-encoding': 'gzip', 'cache-control': 'no-store' }).end(gzipBomb);
    if (path.startsWith('/gb/br-bomb/')) return void res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-encoding': 'br', 'cache-control': 'no-store' }).end(brBomb);
    if (path.startsWith('/gb/comment/')) return stream(res, 'text/html; charset=utf-8', '<html><body><!--', Buffer.from('x'.repeat(64 * 1024)), HOSTILE_BYTES);
    if (path.startsWith('/gb/attr/')) return stream(res, 'text/html; charset=utf-8', '<html><body><a href="', Buffer.from('y'.repeat(64 * 1024)), HOSTILE_BYTES);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(article);
  });
  function stream(res: http.ServerResponse, type: string, head: string, chunk: Buffer, total: number): void {
    res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' });
    res.write(head);
    let sent = 0;
    let closed = false;
    res.on('close', () => (closed = true));
    const more = () => {
      while (!closed && sent < total) {
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', more);
      }
      res.end();
    };
    more();
  }
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  const upstream = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
  const config = {
    server: { accessLog: 'off', htmlEngine: values.engine, ...(values['per-client'] === undefined ? {} : { maxOriginRequestsPerClient: Number(values['per-client']) }) },
    sites: [
      {
        name: 'epochtimes',
        hosts: ['*'],
        origins: [
          { url: 'https://www.epochtimes.com', mount: '/', upstream },
          { url: 'https://i.epochtimes.com', mount: '/_i/', upstream },
        ],
      },
    ],
  };

  async function startMirror(): Promise<{ port: number; pid: number; stop(): Promise<void> }> {
    const script = fileURLToPath(import.meta.url);
    const child = spawn(process.execPath, ['--import', 'tsx', script, '--serve', JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.add(child);
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d) => {
        out += d;
        const m = /PORT (\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      child.once('exit', (code) => reject(new Error(`mirror exited (${code}) before listening`)));
    });
    return {
      port,
      pid: child.pid!,
      stop: async () => {
        child.kill('SIGTERM');
        const exited = new Promise((r) => child.once('exit', r));
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(timer);
        children.delete(child);
      },
    };
  }

  /** An honest reader: one uncached article at a time, timed until its last byte. */
  function honestGet(port: number, path: string): Promise<{ status: number; ms: number; bytes: number }> {
    const started = performance.now();
    return new Promise((resolve) => {
      // The honest reader has its own address (127.0.0.2 is loopback too); the attackers share 127.0.0.1.
      const req = http.get({ host: '127.0.0.1', port, path, agent: false, localAddress: HONEST_ADDRESS }, (res) => {
        let bytes = 0;
        res.on('data', (d: Buffer) => (bytes += d.length));
        res.on('end', () => resolve({ status: res.statusCode!, ms: performance.now() - started, bytes }));
        res.on('error', () => resolve({ status: -1, ms: performance.now() - started, bytes }));
      });
      req.on('error', () => resolve({ status: 0, ms: performance.now() - started, bytes: 0 }));
      req.setTimeout(30_000, () => req.destroy());
    });
  }

  /** A client that sends `head` (and drips a byte a second if `drip`), never reads, and reconnects when dropped, until stopped. */
  function attacker(port: number, head: () => string, drip: boolean): { stop(): void; drops: () => number } {
    let stopped = false;
    let drops = 0;
    let socket: net.Socket | null = null;
    let timer: ReturnType<typeof setInterval> | undefined;
    const connect = () => {
      if (stopped) return;
      const s = net.connect(port, '127.0.0.1');
      socket = s;
      sockets.add(s);
      s.on('connect', () => {
        s.write(head());
        s.pause(); // never reads
        if (drip) timer = setInterval(() => s.write('a'), 1000);
      });
      s.on('error', () => {});
      s.on('close', () => {
        clearInterval(timer);
        sockets.delete(s);
        drops++;
        if (!stopped) setTimeout(connect, 50);
      });
    };
    connect();
    return {
      stop: () => {
        stopped = true;
        clearInterval(timer);
        socket?.destroy();
      },
      drops: () => drops,
    };
  }

  const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN;

  async function scenario(name: string, attack: (port: number) => { stop(): void; note(): string }, watchRss = false): Promise<void> {
    const mirror = await startMirror();
    // Warm the engine up, as a running mirror would be.
    for (let i = 0; i < 5; i++) await honestGet(mirror.port, `/gb/warm/${i}.htm`);
    const cpuBefore = cpuMs(mirror.pid);
    let lagMax = 0;
    let last = performance.now();
    const lagTimer = setInterval(() => {
      const now = performance.now();
      lagMax = Math.max(lagMax, now - last - 100);
      last = now;
    }, 100);
    const running = attack(mirror.port);
    await new Promise((r) => setTimeout(r, values.quick ? 1500 : 3000));
    const results: { status: number; ms: number; bytes: number }[] = [];
    let rssLimitHit = false;
    for (let i = 0; i < HONEST && Date.now() < HARD_DEADLINE - 30_000; i++) {
      results.push(await honestGet(mirror.port, `/gb/honest/${name}/${i}.htm`));
      if (watchRss && (memStatus(mirror.pid)?.rssKb ?? 0) > 1024 * 1024) {
        rssLimitHit = true;
        break;
      }
    }
    const peak = memStatus(mirror.pid);
    const mirrorCpu = cpuMs(mirror.pid) - cpuBefore;
    clearInterval(lagTimer);
    const note = running.note();
    running.stop();
    await mirror.stop();
    const ms = results.map((r) => r.ms).sort((a, b) => a - b);
    const statuses = new Map<number, number>();
    for (const r of results) statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    const ok = results.filter((r) => r.status === 200 && r.bytes > 100_000).length;
    console.log(
      `${name.padEnd(9)} honest ${results.length}: p50 ${quantile(ms, 0.5).toFixed(0)} ms, p99 ${quantile(ms, 0.99).toFixed(0)} ms, max ${(ms.at(-1) ?? NaN).toFixed(0)} ms; ` +
        `full articles ${ok}/${results.length} (statuses ${[...statuses].map(([s, n]) => `${s}×${n}`).join(' ')}); mirror peak RSS ${((peak?.hwmKb ?? 0) / 1024).toFixed(0)} MB, CPU ${(mirrorCpu / 1000).toFixed(1)} s; bench-process lag max ${lagMax.toFixed(0)} ms` +
        `${note ? `; ${note}` : ''}${rssLimitHit ? '; STOPPED: mirror RSS over 1 GB' : ''}`,
    );
  }

  console.log(
    `attack bench: ${HONEST} honest requests per scenario (uncached ~${(article.length / 1024).toFixed(0)} KB article), engine ${values.engine}, ` +
      `maxOriginRequestsPerClient ${values['per-client'] ?? 'default'}, node ${process.version}, load average ${fs.readFileSync('/proc/loadavg', 'utf8').split(' ', 1)[0]} on ${(await import('node:os')).availableParallelism()} cores`,
  );
  await scenario('baseline', () => ({ stop() {}, note: () => '' }));
  await scenario('slow', (port) => {
    originPeak = originInFlight;
    const uploaders = Array.from({ length: SLOW_UPLOADERS }, () =>
      attacker(port, () => `POST /gb/post HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\na`, true),
    );
    let n = 0;
    const readers = Array.from({ length: NON_READERS }, () => attacker(port, () => `GET /gb/big/${n++}.htm HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`, false));
    return {
      stop: () => [...uploaders, ...readers].forEach((a) => a.stop()),
      note: () =>
        `${SLOW_UPLOADERS} uploaders dropped ${uploaders.reduce((s, a) => s + a.drops(), 0)}×, ${NON_READERS} non-readers dropped ${readers.reduce((s, a) => s + a.drops(), 0)}×, origin peak concurrency ${originPeak}`,
    };
  });
  if (values.hostile || values['hostile-html']) {
    await scenario(
      'hostile',
      (port) => {
        const kinds = ['gzip-bomb', 'br-bomb', ...(values['hostile-html'] ? ['comment', 'attr'] : [])];
        let n = 0;
        // Hostile responses are read (at full speed) by their requesters, and re-requested when done.
        let stopped = false;
        const loops = kinds.flatMap((kind) =>
          Array.from({ length: HOSTILE_EACH }, async () => {
            while (!stopped) {
              await new Promise<void>((resolve) => {
                const req = http.get({ host: '127.0.0.1', port, path: `/gb/${kind}/${n++}.htm`, agent: false }, (res) => {
                  res.resume();
                  res.on('end', resolve);
                  res.on('error', () => resolve());
                });
                req.on('error', () => resolve());
                req.setTimeout(15_000, () => req.destroy());
              });
            }
          }),
        );
        return {
          stop: () => {
            stopped = true;
            void Promise.allSettled(loops);
          },
          note: () => `${HOSTILE_EACH} concurrent responses each of ${kinds.join(', ')}`,
        };
      },
      true,
    );
  }
  clearTimeout(guard);
  stopAll();
  origin.closeAllConnections();
  await new Promise<void>((r) => origin.close(() => r()));
  if (!fs.existsSync('/proc/self/status')) console.log('(peak RSS needs /proc: Linux only)');
}
