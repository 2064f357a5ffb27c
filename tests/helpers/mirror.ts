import http from 'node:http';
import { validateConfig } from '../../src/config/validate.ts';
import type { MirrorConfig, MirrorConfigInput, SiteConfigInput } from '../../src/config/types.ts';
import { startNodeServer, type RunningServer } from '../../src/node/server.ts';
import { startTestOrigin, type TestOrigin } from './origin.ts';

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
  const result = validateConfig(input);
  if (!result.ok) throw new Error(result.errors.join('\n'));
  return result.config;
}

export interface Setup {
  origin: TestOrigin;
  proxy: RunningServer;
  /** http://127.0.0.1:PORT of the proxy */
  base: string;
  close(): Promise<void>;
}

/** A real test origin on 127.0.0.1 and the real Node mirror in front of it. */
export async function startSetup(overrides: Partial<SiteConfigInput> = {}, server: MirrorConfigInput['server'] = {}): Promise<Setup> {
  const origin = await startTestOrigin();
  const config = resolve({ server, sites: [testSiteConfig(origin.url, overrides)] });
  const proxy = await startNodeServer({ config, port: 0, host: '127.0.0.1' });
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
