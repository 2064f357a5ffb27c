/**
 * (a) The ceiling: a bare passthrough proxy on the same stack as edgemirror's I/O (node:http server,
 * undici.request with a keep-alive Agent configured like src/node/origin-fetch.ts, stream pipe), no
 * rewriting, no Hono, no web streams. Run as its own process:
 *   node --import tsx bench/passthrough.ts --upstream http://127.0.0.1:9000 [--port N]
 * Requests go to the upstream with the origin's Host (www.epochtimes.com, or per `--route MIRROR=ORIGIN`
 * the origin host for a client Host, as a mirror's second site). Prints one JSON line when listening.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream';
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';

const { values } = parseArgs({
  options: {
    upstream: { type: 'string' },
    port: { type: 'string', default: '0' },
    'origin-host': { type: 'string', default: 'www.epochtimes.com' },
    route: { type: 'string', multiple: true, default: [] },
  },
});
if (!values.upstream) {
  console.error('usage: passthrough.ts --upstream http://127.0.0.1:PORT [--port N] [--origin-host H]');
  process.exit(2);
}
const upstream = values.upstream.replace(/\/$/, '');
const originHost = values['origin-host']!;
const routes = new Map(values.route!.map((r) => r.split('=', 2) as [string, string]));
const agent = new Agent({ keepAliveTimeout: 10_000, connect: { timeout: 10_000 }, headersTimeout: 0, bodyTimeout: 60_000 });

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host']);

const server = http.createServer({ noDelay: true }, async (req, res) => {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(req.headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
  headers.host = routes.get((req.headers.host ?? '').replace(/:\d+$/, '')) ?? originHost;
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  try {
    const up = await request(upstream + (req.url ?? '/'), {
      method: req.method as 'GET',
      headers,
      body: req.method === 'GET' || req.method === 'HEAD' ? null : req,
      signal: controller.signal,
      dispatcher: agent,
    });
    const out: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(up.headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
    res.writeHead(up.statusCode, out);
    pipeline(up.body, res, () => {});
  } catch {
    if (!res.headersSent) res.writeHead(502, { 'Content-Type': 'text/plain' });
    res.end('bad gateway\n');
  }
});

server.listen(Number(values.port), '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(JSON.stringify({ event: 'listening', port }) + '\n');
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => process.exit(0));
