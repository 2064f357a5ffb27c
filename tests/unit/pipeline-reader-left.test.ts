import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHtmlEngine } from '../../src/node/html-engines.ts';
import { createNodeOriginFetch } from '../../src/node/origin-fetch.ts';
import { createMirror, type Mirror } from '../../src/proxy/pipeline.ts';
import { resolve, testSiteConfig } from '../helpers/mirror.ts';

/**
 * The pipeline's failure answers when the reader has gone (the signal the adapters pass is aborted):
 * a bodiless 499 whatever phase it left in, where a reader still there gets the 503 of a full queue.
 * The origin holds every request open until the test ends, so the one origin slot stays taken.
 */
describe('a reader who left', () => {
  let server: http.Server;
  const held: http.ServerResponse[] = [];
  let fetchOrigin: ReturnType<typeof createNodeOriginFetch>;
  let mirror: Mirror;
  beforeAll(async () => {
    server = http.createServer((_req, res) => void held.push(res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const upstream = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    fetchOrigin = createNodeOriginFetch();
    const config = resolve({ server: { maxConcurrentOriginRequests: 1, originQueueTimeout: 1, originTimeout: 30 }, sites: [testSiteConfig(upstream)] });
    mirror = createMirror({ config, fetchOrigin, html: createHtmlEngine('fast') });
  });
  afterAll(async () => {
    for (const res of held) res.destroy();
    await fetchOrigin.close();
    await new Promise((r) => server.close(r));
  });

  it('is answered 499 while queued and while the origin is asked; a reader still there gets 503', async () => {
    const first = new AbortController();
    const holding = mirror.handle(new Request('http://mirror.test/gb/a.htm'), undefined, first.signal);
    while (held.length < 1) await new Promise((r) => setTimeout(r, 10));

    const queued = new AbortController();
    const leaving = mirror.handle(new Request('http://mirror.test/gb/b.htm'), undefined, queued.signal);
    queued.abort();
    const left = await leaving;
    expect(left.status).toBe(499);
    expect(left.body).toBeNull();

    const staying = await mirror.handle(new Request('http://mirror.test/gb/c.htm'));
    expect(staying.status).toBe(503);
    expect(staying.headers.get('retry-after')).toBe('5');
    await staying.body?.cancel();

    first.abort();
    const gone = await holding;
    expect(gone.status).toBe(499);
  });
});
