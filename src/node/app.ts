import { Hono } from 'hono';
import { MemoryStore } from '../cache/memory-store.ts';
import type { MirrorConfig } from '../config/types.ts';
import { errorPage } from '../proxy/error-page.ts';
import { createMirrorApp, type MirrorApp } from '../proxy/mirror-app.ts';
import type { OriginFetch } from '../proxy/origin-fetch.ts';
import type { Observer } from '../observe/observer.ts';
import type { HtmlEngine } from '../rewrite/html-engine.ts';
import { compressResponse } from './compress.ts';

type NodeEnv = { Bindings: { incoming?: import('node:http').IncomingMessage } };

/** The Node app: every request goes to the mirror app (endpoints, cache, pipeline); Node adds compression. */
export function createNodeApp(config: MirrorConfig, fetchOrigin: OriginFetch, html: HtmlEngine, observer: Observer): { app: Hono<NodeEnv>; mirror: MirrorApp } {
  const mirror = createMirrorApp({
    config,
    fetchOrigin,
    html,
    observer,
    store: new MemoryStore(config.cache.maxBytes),
    purgeToken: process.env.EDGEMIRROR_PURGE_TOKEN ?? null,
  });
  const app = new Hono<NodeEnv>();
  app.all('*', async (c) => compressResponse(c.req.raw, await mirror.fetch(c.req.raw, { clientIp: c.env?.incoming?.socket?.remoteAddress })));
  app.onError((err) => {
    console.error(`[edgemirror] unhandled error: ${err?.stack ?? err}`);
    return errorPage(500, 'Internal Error', 'The mirror failed to handle this request.');
  });
  return { app, mirror };
}
