/**
 * The load generator, run as one long-lived process by bench/run.ts (fork, with IPC) so its CPU is not
 * counted against any server and the orchestrator's sampling does not disturb it.
 *
 * Protocol, once per phase: the parent sends {type: 'job', request}; the child runs the warm-up, sends
 * {type: 'warm'}, waits for {type: 'go'} (the parent reads the servers' counters in between), runs the
 * measured load and sends {type: 'result', result}. {type: 'exit'} ends the process.
 */
import autocannon, { type Result } from 'autocannon';

export interface LoadRequest {
  url: string;
  /** Extra request headers (a Host for the second site). */
  headers?: Record<string, string>;
  connections: number;
  /** Seconds. */
  duration: number;
  /** Seconds of load before the measured run (not reported). */
  warmup: number;
  /** Per-request timeout, seconds. */
  timeout: number;
}

export interface LoadSummary {
  requests: number;
  durationS: number;
  reqPerSec: number;
  bytes: number;
  mbPerSec: number;
  latencyMs: { p50: number; p90: number; p99: number; mean: number; max: number };
  errors: number;
  timeouts: number;
  non2xx: number;
}

function summarize(r: Result): LoadSummary {
  const durationS = r.duration;
  const requests = r['2xx'];
  return {
    requests,
    durationS,
    reqPerSec: requests / durationS,
    bytes: r.throughput.total,
    mbPerSec: r.throughput.total / durationS / 1e6,
    latencyMs: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, mean: r.latency.mean, max: r.latency.max },
    errors: r.errors,
    timeouts: r.timeouts,
    non2xx: r.non2xx,
  };
}

function run(req: LoadRequest, duration: number): Promise<Result> {
  return new Promise((resolve, reject) => {
    autocannon({ url: req.url, headers: req.headers, connections: req.connections, duration, timeout: req.timeout }, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

type Message = { type: 'job'; request: LoadRequest } | { type: 'go' } | { type: 'exit' };

const inbox: Message[] = [];
let wake: (() => void) | null = null;
process.on('message', (m) => {
  inbox.push(m as Message);
  wake?.();
});
// The parent went away (crash, Ctrl-C): never outlive it.
process.on('disconnect', () => process.exit(0));

async function next<T extends Message['type']>(type: T): Promise<Extract<Message, { type: T }>> {
  for (;;) {
    const i = inbox.findIndex((m) => m.type === type || m.type === 'exit');
    if (i >= 0) {
      const m = inbox.splice(i, 1)[0]!;
      if (m.type === 'exit') process.exit(0);
      return m as Extract<Message, { type: T }>;
    }
    await new Promise<void>((resolve) => (wake = resolve));
    wake = null;
  }
}

async function main(): Promise<void> {
  if (!process.send) throw new Error('bench/load.ts is started by bench/run.ts (needs an IPC channel)');
  const send = (msg: unknown) => new Promise<void>((resolve) => process.send!(msg, () => resolve()));
  for (;;) {
    const { request } = await next('job');
    if (request.warmup > 0) await run(request, request.warmup);
    await send({ type: 'warm' });
    await next('go');
    const result = await run(request, request.duration);
    await send({ type: 'result', result: summarize(result) });
  }
}

main().catch((err) => {
  console.error(`load: ${err?.stack ?? err}`);
  process.exit(1);
});
