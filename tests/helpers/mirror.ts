import http from 'node:http';
import { validateConfig } from '../../src/config/validate.ts';
import type { MirrorConfig, MirrorConfigInput, SiteConfigInput } from '../../src/config/types.ts';
import { startNodeServer } from '../../src/node/server.ts';
import { startTestOrigin, type TestOrigin } from './origin.ts';

/**
 * Which mirror the integration tests talk to: the Node server (default) or, with
 * EDGEMIRROR_TARGET=worker (npm run test:worker), the Worker bundle in workerd via Miniflare.
 */
export const TARGET: 'node' | 'worker' = process.env.EDGEMIRROR_TARGET === 'worker' ? 'worker' : 'node';
/** How the Worker reaches the test origin: fetch() (the default) or its socket client (see startProxy). */
export const WORKER_ORIGIN: 'fetch' | 'socket' = process.env.EDGEMIRROR_WORKER_ORIGIN === 'socket' ? 'socket' : 'fetch';

/** The Epoch Times site of config/default.json, with both origins' upstream pointed at a local test origin. */
export function testSiteConfig(upstream: string, overrides: Partial<SiteConfigInput> = {}): SiteConfigInput {
  return {
    name: 'epochtimes',
    hosts: ['*'],
    origins: [
      { url: 'https://www.epochtimes.com', mount: '/', aliases: ['http://www.epochtimes.com', 'https://epochtimes.com', 'http://epochtimes.com'], upstream },
      { url: 'https://i.epochtimes.com', mount: '/_i/', aliases: ['http://i.epochtimes.com'], upstream },
    ],
    links: { external: 'keep', rules: [{ prefix: 'https://www.epochtimes.com/b5/', action: 'keep' }] },
    nav: [
      { label: '首页', href: '/gb/' },
      { label: '评论', href: '/gb/nsc1025.htm' },
      { label: '翻墙', href: 'https://github.com/gfw-breaker/nogfw/blob/master/README.md' },
    ],
    footer: '原文链接（需翻墙）：<a href="{{originalUrl}}">{{originalUrl}}</a>',
    remove: ['#below_article_ad'],
    inject: { head: '', bodyStart: '', bodyEnd: '' },
    ...overrides,
  };
}

export function resolve(input: MirrorConfigInput): MirrorConfig {
  // Tests read responses, not access logs: keep their output readable unless a test asks for a log.
  const result = validateConfig({ ...input, server: { accessLog: 'off', ...input.server } });
  if (!result.ok) throw new Error(result.errors.join('\n'));
  return result.config;
}

/** A running mirror (either target) on 127.0.0.1. */
export interface MirrorProxy {
  /** e.g. http://127.0.0.1:8787 */
  url: string;
  port: number;
  close(): Promise<void>;
  /**
   * Memory of what serves the mirror, in bytes: on Node this test process's RSS (origin, proxy and
   * client share it); on the Worker its isolate's memory, which Cloudflare limits (see worker.ts).
   */
  memory(): Promise<number>;
}

/**
 * Starts the mirror of the current TARGET for a config. On the Worker, the origins' `upstream` is
 * applied as DNS would be (every fetch() connects to it, with the origin's real URL and Host), which is
 * how Cloudflare reaches an origin; EDGEMIRROR_WORKER_ORIGIN=socket keeps `upstream` in the config
 * instead, so the Worker reaches it over its TCP-socket client (src/worker/http1.ts).
 */
export async function startProxy(input: MirrorConfigInput): Promise<MirrorProxy> {
  // EDGEMIRROR_HTML_ENGINE runs a suite against another engine (a config that names one keeps it).
  const engine = process.env.EDGEMIRROR_HTML_ENGINE as 'fast' | 'lol-html' | undefined;
  if (engine) input = { ...input, server: { htmlEngine: engine, ...input.server } };
  const config = resolve(input);
  if (TARGET === 'node') {
    const server = await startNodeServer({ config, port: 0, host: '127.0.0.1' });
    return { ...server, memory: async () => process.memoryUsage().rss };
  }
  const { startWorker } = await import('./worker.ts');
  if (WORKER_ORIGIN === 'socket') return startWorker({ mirrorConfig: JSON.stringify(input) });
  const upstreams = new Set(config.sites.flatMap((s) => s.origins.map((o) => o.upstream)));
  if (upstreams.size !== 1) throw new Error('worker target: every origin needs the same upstream (it stands in for DNS)');
  const [upstream] = upstreams;
  const stripped = structuredClone(input);
  for (const site of stripped.sites) for (const o of site.origins) delete o.upstream;
  return startWorker({ mirrorConfig: JSON.stringify(stripped), resolveTo: upstream ? new URL(upstream).host : undefined });
}

export interface Setup {
  origin: TestOrigin;
  proxy: MirrorProxy;
  /** http://127.0.0.1:PORT of the proxy */
  base: string;
  close(): Promise<void>;
}

/** A real test origin on 127.0.0.1 and the real mirror (Node or Worker, per TARGET) in front of it. */
export async function startSetup(overrides: Partial<SiteConfigInput> = {}, server: MirrorConfigInput['server'] = {}): Promise<Setup> {
  const origin = await startTestOrigin();
  const proxy = await startProxy({ server, sites: [testSiteConfig(origin.url, overrides)] });
  return {
    origin,
    proxy,
    base: proxy.url,
    async close() {
      await proxy.close();
      await origin.close();
    },
  };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text: string;
}

/** One HTTP request with node:http: nothing decoded, nothing added (no default Accept-Encoding). */
export function rawRequest(
  base: string,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<RawResponse> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: url.port, path, method: options.method ?? 'GET', headers: options.headers ?? {} },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({ status: res.statusCode!, headers: res.headers, body, text: body.toString('utf8') });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.setTimeout(20_000, () => req.destroy(new Error(`request ${path} timed out`)));
    req.end(options.body);
  });
}
