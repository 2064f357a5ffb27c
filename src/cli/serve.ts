import type { MirrorConfig, ServerConfig } from '../config/types.ts';
import { ConfigError, purgeTokenProblem } from '../config/validate.ts';
import { createLifecycleLog } from '../node/access-log.ts';
import { loadConfigFile } from '../node/load-config.ts';
import { startNodeServer, type RunningServer } from '../node/server.ts';
import type { Observer } from '../observe/observer.ts';
import { RUNTIME, VERSION } from '../observe/version.ts';
import { EXIT_OK, HELP, parseCommandArgs, ProblemError, UsageError, write, type Command } from './args.ts';
import { DEFAULT_CONFIG, loadConfigForCli } from './config.ts';
import { hostWarnings } from './check.ts';

const USAGE = `Usage: edgemirror serve [--config FILE] [--port N] [--host H] [--probe]
       npm start -- [--config FILE] [--port N] [--host H] [--probe]

Serves the mirror on Node.

  --config FILE  mirror config (default: config/default.json)
  --port N       port to listen on (default: $PORT or 8787; 0 picks a free port)
  --host H       address to bind (default: $HOST or 0.0.0.0)
  --probe        once listening (and after each reload), contact every site's origin and log whether
                 it answered; /_mirror/health says "unknown" until an origin has been reached
  -h, --help     this help

Environment: PORT, HOST, EDGEMIRROR_PURGE_TOKEN (bearer token for POST /_mirror/purge, metrics and
the status page; overrides cache.purgeToken; at least 16 characters).

Logs: with a JSON access log (server.accessLog "json", or "auto" when standard output is not a
terminal) the start, reload and shutdown messages are JSON lines as well ("level", "msg").

Signals:
  SIGHUP           re-read and validate the same config file; if it is valid, serve it from the next
                   request on (open connections and in-flight responses are not interrupted; the cache
                   and the counters start afresh); if not, log every problem and keep the old config
  SIGTERM, SIGINT  stop accepting, let in-flight responses finish (server.shutdownTimeout), exit 0;
                   a second SIGINT or SIGTERM exits at once (status 1), cutting what is in flight

An invalid config, a short EDGEMIRROR_PURGE_TOKEN or an address that cannot be listened on stops the
server before it serves (exit status 1, one line per problem).`;

/** server.* settings baked into the listening socket and the origin client when the server starts. */
const RESTART_ONLY: (keyof ServerConfig)[] = ['maxHeaderBytes', 'clientHeadersTimeout', 'clientIdleTimeout', 'originConnectTimeout', 'originIdleTimeout', 'maxOriginHeaderBytes', 'maxDecodedOriginBytes'];

/** Why a server could not listen, in one line (no stack): the port taken, an address not ours, a name not resolving. */
export function listenProblem(err: unknown, host: string, port: number): string | null {
  const code = (err as { code?: string })?.code;
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  switch (code) {
    case 'EADDRINUSE':
      return `cannot listen on ${where}: the port is already in use (another edgemirror or server?); choose another with --port or PORT`;
    case 'EADDRNOTAVAIL':
      return `cannot listen on ${where}: ${host} is not an address of this machine; use 127.0.0.1, 0.0.0.0 or one of its own addresses (--host or HOST)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return `cannot listen on ${where}: the host name ${host} does not resolve; give an IP address with --host or HOST`;
    case 'EACCES':
      return `cannot listen on ${where}: permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)`;
    default:
      return code ? `cannot listen on ${where}: ${(err as Error).message}` : null;
  }
}

async function run(argv: string[]): Promise<number | null> {
  const { values } = parseCommandArgs(argv, { config: { type: 'string' }, port: { type: 'string' }, host: { type: 'string' }, probe: { type: 'boolean' }, ...HELP }, 0);
  if (values.help) {
    await write(process.stdout, USAGE + '\n');
    return EXIT_OK;
  }
  const portText = values.port ?? process.env.PORT ?? '8787';
  const port = Number(portText);
  if (!/^\s*\d+\s*$/.test(portText) || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`invalid port ${JSON.stringify(portText)}: expected an integer from 0 to 65535`);
  }
  const configPath = values.config ?? DEFAULT_CONFIG;
  // A SIGHUP during start-up (say, `systemctl reload` right after start) must not kill the process
  // (Node's default for SIGHUP): it is held and handled once the server listens.
  let onHangup: () => void = () => {
    onHangup = () => {};
    heldHangup = true;
  };
  let heldHangup = false;
  process.on('SIGHUP', () => onHangup());
  let config: MirrorConfig = await loadConfigForCli(configPath);
  const envToken = process.env.EDGEMIRROR_PURGE_TOKEN;
  const tokenProblem = envToken ? purgeTokenProblem(envToken, 'EDGEMIRROR_PURGE_TOKEN') : null;
  if (tokenProblem) throw new ProblemError(tokenProblem);
  // Lifecycle lines follow the access log's format (JSON lines under systemd), decided at start-up.
  const log = createLifecycleLog(config.server.accessLog);
  for (const w of hostWarnings(config)) log.warn(w);

  const host = values.host ?? process.env.HOST ?? '0.0.0.0';
  let server: RunningServer;
  try {
    server = await startNodeServer({ config, port, host });
  } catch (err) {
    const problem = listenProblem(err, host, port);
    if (problem) throw new ProblemError(problem);
    throw err;
  }
  const sites = (c: MirrorConfig) => c.sites.map((s) => s.name).join(', ');
  log.info(`serving ${sites(config)} on ${server.url} (edgemirror ${VERSION}, ${RUNTIME}, config ${configPath}, pid ${process.pid})`, {
    event: 'start',
    version: VERSION,
    url: server.url,
    config: configPath,
    pid: process.pid,
  });
  const probe = () => {
    const mirror = server.mirror;
    mirror.probe().then(() => reportProbe(mirror.observer, log));
  };
  if (values.probe) probe();

  let stopping = false;
  const stop = (signal: string) => {
    stopping = true;
    const seconds = config.server.shutdownTimeout;
    log.info(`${signal}: no new connections; finishing in-flight responses (up to ${seconds} s); ${signal} again exits at once`, { event: 'shutdown', signal });
    // A second signal means "now": what is still in flight is cut.
    const force = (again: string) => {
      log.warn(`${again} again: exiting now; in-flight responses are cut`, { event: 'exit', signal: again });
      process.exit(1);
    };
    process.once('SIGINT', () => force('SIGINT'));
    process.once('SIGTERM', () => force('SIGTERM'));
    server.shutdown(seconds * 1000).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));

  // SIGHUP: reload. Reloads run one at a time, in the order the signals came.
  const reload = async () => {
    if (stopping) return;
    let next: MirrorConfig;
    try {
      next = await loadConfigFile(configPath);
    } catch (err) {
      const problems = err instanceof ConfigError ? err.described() : [String((err as Error)?.message ?? err)];
      log.error(`SIGHUP: config ${configPath} rejected; still serving the previous config:`, { event: 'reload-rejected', config: configPath }, problems);
      return;
    }
    if (stopping) return;
    server.reload(next);
    const restart = RESTART_ONLY.filter((k) => next.server[k] !== config.server[k]);
    config = next;
    log.info(`SIGHUP: reloaded ${configPath}: serving ${sites(next)}`, { event: 'reload', config: configPath });
    for (const w of hostWarnings(next)) log.warn(w);
    if (restart.length) log.info(`note: ${restart.map((k) => `server.${k}`).join(', ')} changed: takes effect after a restart`);
    if (values.probe) probe();
  };
  let reloading = Promise.resolve();
  onHangup = () => {
    reloading = reloading.then(reload, reload);
  };
  if (heldHangup) onHangup();
  return null;
}

/** After a probe: each site's origin answered, or why not. */
function reportProbe(observer: Observer, log: ReturnType<typeof createLifecycleLog>): void {
  for (const [site, h] of Object.entries(observer.health().sites)) {
    if (h.status === 'ok') log.info(`probe: ${site}: origin reached`, { event: 'probe', site, status: h.status });
    else if (h.status === 'degraded') {
      const e = h.lastOriginError!;
      log.warn(`probe: ${site}: origin not reached: ${e.message} (${e.url})`, { event: 'probe', site, status: h.status, error: e.message, url: e.url });
    }
  }
}

export const serveCommand: Command = { name: 'serve', summary: 'serve the mirror (the default command; reload the config with SIGHUP)', usage: USAGE, run };
