/**
 * The Worker side of the integration tests: the deploy bundle (built once per run by
 * `wrangler deploy --dry-run`, see worker-global-setup.ts) served by Miniflare in workerd on 127.0.0.1.
 *
 * Miniflare is used directly rather than `wrangler dev` (which leaks memory per request under load,
 * see ../shared/notes/stack-findings.md); the bundle and the compatibility settings are wrangler's.
 */
import net from 'node:net';
import type { Readable } from 'node:stream';
import path from 'node:path';
import { Miniflare } from 'miniflare';
import { WebSocket } from 'undici';
import { inject } from 'vitest';
import type { WorkerBundle } from './worker-bundle.ts';

/** The bundle built by the global setup of this run. */
export function workerBundle(): WorkerBundle {
  const bundle = inject('workerBundle');
  if (!bundle) throw new Error('no Worker bundle: run the worker tests with vitest.worker.config.ts (npm run test:worker)');
  return bundle;
}

export interface WorkerOptions {
  /** MIRROR_CONFIG as the Worker sees it (JSON text); undefined leaves it unset (bundled default config). */
  mirrorConfig?: string;
  /**
   * Where the Worker's outbound fetch() connects, whatever the URL's host ("127.0.0.1:PORT"):
   * stands in for DNS, like the browser tests' --host-resolver-rules. (Miniflare then routes all
   * outbound traffic there: TCP sockets do not work alongside it.)
   */
  resolveTo?: string;
  /** Receives everything the Worker logs (console.*). */
  onLog?: (line: string) => void;
}

export interface RunningWorker {
  url: string;
  port: number;
  /**
   * Memory of the Worker's isolate, in bytes: JS heap in use + ArrayBuffer contents + runtime objects
   * held by JS, read through the inspector (V8's Runtime.getHeapUsage). This is what Cloudflare
   * limits (128 MB per isolate). The workerd process's own RSS is not: it also holds the runtime's
   * native buffers (the native HTMLRewriter alone raises it by ~80 MB on a 32 MB page). workerd answers
   * only while the isolate is idle (between requests, or while a paused reader holds it back).
   */
  memory(): Promise<number>;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** A DevTools-protocol session with the Worker's isolate (Miniflare names it "core:user:"). */
async function inspectorSession(port: number): Promise<{ call(method: string): Promise<Record<string, number>>; close(): void }> {
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json`)).json()) as { title?: string; webSocketDebuggerUrl: string }[];
  const target = targets.find((t) => t.title?.includes('core:user'));
  if (!target) throw new Error(`no inspector target for the Worker among ${targets.map((t) => t.title).join(', ')}`);
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener('open', () => resolve(), { once: true });
    ws.addEventListener('error', () => reject(new Error('inspector connection failed')), { once: true });
  });
  let next = 0;
  const pending = new Map<number, (result: Record<string, number>) => void>();
  ws.addEventListener('message', (event) => {
    const msg = JSON.parse(String(event.data)) as { id?: number; result?: Record<string, number> };
    if (msg.id !== undefined) pending.get(msg.id)?.(msg.result ?? {});
    if (msg.id !== undefined) pending.delete(msg.id);
  });
  const call = (method: string) =>
    new Promise<Record<string, number>>((resolve) => {
      const id = ++next;
      pending.set(id, resolve);
      ws.send(JSON.stringify({ id, method, params: {} }));
    });
  await call('Runtime.enable');
  return { call, close: () => ws.close() };
}

/** Starts the Worker bundle in workerd (Miniflare) on 127.0.0.1. */
export async function startWorker(options: WorkerOptions = {}): Promise<RunningWorker> {
  const bundle = workerBundle();
  const inspectorPort = await freePort();
  const mf = new Miniflare({
    modules: true,
    scriptPath: bundle.script,
    modulesRoot: path.dirname(bundle.script),
    compatibilityDate: bundle.compatibilityDate,
    compatibilityFlags: bundle.compatibilityFlags,
    bindings: options.mirrorConfig === undefined ? {} : { MIRROR_CONFIG: options.mirrorConfig },
    host: '127.0.0.1',
    port: 0,
    inspectorPort,
    ...(options.resolveTo ? { outboundService: { external: { address: options.resolveTo, http: {} } } } : {}),
    handleRuntimeStdio(stdout: Readable, stderr: Readable) {
      for (const stream of [stdout, stderr]) {
        let pending = '';
        stream.setEncoding('utf8');
        stream.on('data', (text: string) => {
          pending += text;
          const lines = pending.split('\n');
          pending = lines.pop()!;
          for (const line of lines) (options.onLog ?? defaultLog)(line);
        });
      }
    },
  });
  const url = await mf.ready;
  let session: ReturnType<typeof inspectorSession> | null = null;
  return {
    url: url.origin,
    port: Number(url.port),
    async memory() {
      session ??= inspectorSession(inspectorPort);
      const usage = await (await session).call('Runtime.getHeapUsage');
      return (usage.usedSize ?? 0) + (usage.backingStorageSize ?? 0) + (usage.embedderHeapUsedSize ?? 0);
    },
    async close() {
      if (session) (await session.catch(() => null))?.close();
      await mf.dispose();
    },
  };
}

function defaultLog(line: string): void {
  if (line.trim()) console.log(`[workerd] ${line}`);
}
