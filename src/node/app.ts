import { Hono } from 'hono';
import type { MirrorConfig } from '../config/types.ts';
import { createMirror, type Mirror } from '../proxy/pipeline.ts';
import { errorPage } from '../proxy/error-page.ts';
import type { OriginFetch } from '../proxy/origin-fetch.ts';
import type { HtmlEngine } from '../rewrite/html-engine.ts';
import { compressResponse } from './compress.ts';

/** The Hono app shared shape: every request goes through the mirror pipeline; Node adds compression. */
export function createNodeApp(config: MirrorConfig, fetchOrigin: OriginFetch, html: HtmlEngine): { app: Hono; mirror: Mirror } {
  const mirror = createMirror({ config, fetchOrigin, html });
  const app = new Hono();
  app.all('*', async (c) => compressResponse(c.req.raw, await mirror.handle(c.req.raw)));
  app.onError((err) => {
    console.error(`[edgemirror] unhandled error: ${err?.stack ?? err}`);
    return errorPage(500, 'Internal Error', 'The mirror failed to handle this request.');
  });
  return { app, mirror };
}
