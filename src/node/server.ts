import type { AddressInfo } from 'node:net';
import type { ServerResponse } from 'node:http';
import { serve, type ServerType } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
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
    maxDecodedBytes: limits.maxDecodedOriginBytes,
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
        fetch: async (request, env) => {
          const response = await current.app.fetch(request, env);
          // @hono/node-server would label an untyped body text/plain; it is sent as the origin sent it.
          if (response.body && !response.headers.has('content-type') && env?.outgoing) {
            sendUntyped(response, env.outgoing as ServerResponse);
            return RESPONSE_ALREADY_SENT;
          }
          return response;
        },
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
  // A connection with no traffic either way for longer than a legitimate response can go without a
  // byte (queue wait + origin headers + origin idle) is closed: a reader who never reads is let go.
  (server as import('node:http').Server).setTimeout((limits.originQueueTimeout + limits.originTimeout + limits.originIdleTimeout) * 1000);
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

/** Writes a response whose headers must go out exactly as given (no default Content-Type), streaming its body with backpressure. */
function sendUntyped(response: Response, outgoing: ServerResponse): void {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of response.headers) if (name !== 'set-cookie') headers[name] = value;
  const cookies = response.headers.getSetCookie();
  if (cookies.length) headers['set-cookie'] = cookies;
  outgoing.writeHead(response.status, headers);
  const reader = response.body!.getReader();
  outgoing.on('close', () => {
    if (!outgoing.writableFinished) reader.cancel().catch(() => {});
  });
  (async () => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!outgoing.write(value)) await new Promise((resolve) => outgoing.once('drain', resolve).once('close', resolve));
      if (outgoing.destroyed) return;
    }
    outgoing.end();
  })().catch((err) => outgoing.destroy(err instanceof Error ? err : new Error(String(err))));
}
