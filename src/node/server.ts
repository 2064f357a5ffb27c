import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import type { MirrorConfig } from '../config/types.ts';
import { createNodeApp } from './app.ts';
import { createNodeOriginFetch } from './origin-fetch.ts';
import { WasmHtmlEngine } from './wasm-html-engine.ts';

export interface NodeServerOptions {
  config: MirrorConfig;
  port?: number;
  host?: string;
}

export interface RunningServer {
  /** e.g. http://127.0.0.1:8787 */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Starts the mirror on Node: Hono on @hono/node-server, undici to the origins, WASM lol-html for HTML. */
export async function startNodeServer(options: NodeServerOptions): Promise<RunningServer> {
  const fetchOrigin = createNodeOriginFetch({ bodyTimeoutMs: options.config.server.originTimeout * 2000 });
  const { app } = createNodeApp(options.config, fetchOrigin, new WasmHtmlEngine());
  const host = options.host ?? '127.0.0.1';
  const server: ServerType = await new Promise((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: options.port ?? 8787, hostname: host }, () => resolve(s));
    s.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}`,
    port,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as import('node:http').Server).closeAllConnections?.();
      });
      await fetchOrigin.close();
    },
  };
}
