import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import type { MirrorConfig } from '../config/types.ts';
import { Observer } from '../observe/observer.ts';
import type { MirrorApp } from '../proxy/mirror-app.ts';
import { createAccessLog } from './access-log.ts';
import { createNodeApp } from './app.ts';
import { createNodeOriginFetch } from './origin-fetch.ts';
import { createHtmlEngine } from './html-engines.ts';

export interface NodeServerOptions {
  config: MirrorConfig;
  port?: number;
  host?: string;
  /** false: no access log (tests); otherwise per config server.accessLog. */
  accessLog?: boolean;
}

export interface RunningServer {
  /** e.g. http://127.0.0.1:8787 */
  url: string;
  port: number;
  /** The app serving now (replaced by reload). */
  readonly mirror: MirrorApp;
  /**
   * Serves a new config from the next request on, without dropping connections: new sites, rules and
   * cache (the old cache is dropped: its bodies were rewritten under the old rules). Settings of the
   * listening socket and the origin client (server.* limits and timeouts) need a restart.
   */
  reload(config: MirrorConfig): void;
  /** Stops at once: open connections are cut. */
  close(): Promise<void>;
  /** Stops accepting, lets in-flight responses finish for up to `timeoutMs`, then cuts what is left. */
  shutdown(timeoutMs: number): Promise<void>;
}

/** Starts the mirror on Node: Hono on @hono/node-server, undici to the origins, WASM lol-html for HTML. */
export async function startNodeServer(options: NodeServerOptions): Promise<RunningServer> {
  const limits = options.config.server;
  const fetchOrigin = createNodeOriginFetch({
    bodyTimeoutMs: limits.originIdleTimeout * 1000,
    connectTimeoutMs: limits.originConnectTimeout * 1000,
    maxHeaderBytes: limits.maxOriginHeaderBytes,
  });
  const build = (config: MirrorConfig) => {
    const observer = new Observer(
      config.sites.map((s) => s.name),
      { log: options.accessLog === false ? undefined : createAccessLog(config.server.accessLog) },
    );
    const engine = createHtmlEngine(config.server.htmlEngine, { onRewriteTime: (seconds) => observer.rewriteTime(seconds) });
    return { observer, ...createNodeApp(config, fetchOrigin, engine, observer) };
  };
  let current = build(options.config);
  const host = options.host ?? '127.0.0.1';
  const server: ServerType = await new Promise((resolve, reject) => {
    const s = serve(
      {
        fetch: (request, env) => current.app.fetch(request, env),
        port: options.port ?? 8787,
        hostname: host,
        serverOptions: {
          maxHeaderSize: limits.maxHeaderBytes, // larger header blocks: 431
          headersTimeout: limits.clientHeadersTimeout * 1000, // slowloris: 408 and close
          requestTimeout: (limits.clientHeadersTimeout + limits.originTimeout) * 1000,
          keepAliveTimeout: limits.clientIdleTimeout * 1000,
          // How often header/request timeouts are checked (Node's default is 30 s).
          connectionsCheckingInterval: 1000,
        },
      },
      () => resolve(s),
    );
    s.once('error', reject);
  });
  server.on('connection', (socket) => {
    const { observer } = current;
    observer.connectionOpened();
    socket.once('close', () => observer.connectionClosed());
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  async function shutdown(timeoutMs: number): Promise<void> {
    const http = server as import('node:http').Server;
    const closed = new Promise<void>((resolve) => http.close(() => resolve()));
    http.closeIdleConnections();
    if (timeoutMs === 0) http.closeAllConnections();
    const timer = setTimeout(() => http.closeAllConnections(), timeoutMs);
    // Keep-alive connections that turn idle after their last response are closed as they do.
    const idle = setInterval(() => http.closeIdleConnections(), 50);
    await closed;
    clearTimeout(timer);
    clearInterval(idle);
    await fetchOrigin.close();
  }
  return {
    url: `http://${shownHost}:${port}`,
    port,
    get mirror() {
      return current.mirror;
    },
    reload(config) {
      current = build(config);
    },
    close: () => shutdown(0),
    shutdown,
  };
}
