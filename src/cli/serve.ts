import type { MirrorConfig, ServerConfig } from '../config/types.ts';
import { ConfigError } from '../config/validate.ts';
import { loadConfigFile } from '../node/load-config.ts';
import { startNodeServer } from '../node/server.ts';
import { EXIT_OK, HELP, parseCommandArgs, UsageError, write, type Command } from './args.ts';
import { DEFAULT_CONFIG, loadConfigForCli } from './config.ts';
import { hostWarnings } from './check.ts';

const USAGE = `Usage: edgemirror serve [--config FILE] [--port N] [--host H]
       npm start -- [--config FILE] [--port N] [--host H]

Serves the mirror on Node.

  --config FILE  mirror config (default: config/default.json)
  --port N       port to listen on (default: $PORT or 8787; 0 picks a free port)
  --host H       address to bind (default: $HOST or 0.0.0.0)
  -h, --help     this help

Environment: PORT, HOST, EDGEMIRROR_PURGE_TOKEN (bearer token for POST /_mirror/purge, metrics and
the status page; overrides cache.purgeToken).

Signals:
  SIGHUP           re-read and validate the same config file; if it is valid, serve it from the next
                   request on (open connections and in-flight responses are not interrupted; the cache
                   and the counters start afresh); if not, log every problem and keep the old config
  SIGTERM, SIGINT  stop accepting, let in-flight responses finish (server.shutdownTimeout), exit 0

An invalid config stops the server before it listens (exit status 1, one line per problem).`;

/** server.* settings baked into the listening socket and the origin client when the server starts. */
const RESTART_ONLY: (keyof ServerConfig)[] = ['maxHeaderBytes', 'clientHeadersTimeout', 'clientIdleTimeout', 'originConnectTimeout', 'originIdleTimeout', 'maxOriginHeaderBytes', 'maxDecodedOriginBytes'];

const log = (text: string) => console.log(`edgemirror: ${text}`);
const logError = (text: string) => console.error(`edgemirror: ${text}`);

async function run(argv: string[]): Promise<number | null> {
  const { values } = parseCommandArgs(argv, { config: { type: 'string' }, port: { type: 'string' }, host: { type: 'string' }, ...HELP }, 0);
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
  for (const w of hostWarnings(config)) logError(`warning: ${w}`);

  const server = await startNodeServer({ config, port, host: values.host ?? process.env.HOST ?? '0.0.0.0' });
  log(`serving ${config.sites.map((s) => s.name).join(', ')} on ${server.url} (config ${configPath}, pid ${process.pid})`);

  let stopping = false;
  const stop = (signal: string) => {
    stopping = true;
    const seconds = config.server.shutdownTimeout;
    log(`${signal}: no new connections; finishing in-flight responses (up to ${seconds} s)`);
    server.shutdown(seconds * 1000).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);

  // SIGHUP: reload. Reloads run one at a time, in the order the signals came.
  const reload = async () => {
    if (stopping) return;
    let next: MirrorConfig;
    try {
      next = await loadConfigFile(configPath);
    } catch (err) {
      const problems = err instanceof ConfigError ? err.problems : [String((err as Error)?.message ?? err)];
      logError(`SIGHUP: config ${configPath} rejected; still serving the previous config:`);
      for (const p of problems) console.error(`  ${p}`);
      return;
    }
    if (stopping) return;
    server.reload(next);
    const restart = RESTART_ONLY.filter((k) => next.server[k] !== config.server[k]);
    config = next;
    log(`SIGHUP: reloaded ${configPath}: serving ${next.sites.map((s) => s.name).join(', ')}`);
    for (const w of hostWarnings(next)) logError(`warning: ${w}`);
    if (restart.length) log(`note: ${restart.map((k) => `server.${k}`).join(', ')} changed: takes effect after a restart`);
  };
  let reloading = Promise.resolve();
  onHangup = () => {
    reloading = reloading.then(reload, reload);
  };
  if (heldHangup) onHangup();
  return null;
}

export const serveCommand: Command = { name: 'serve', summary: 'serve the mirror (the default command; reload the config with SIGHUP)', usage: USAGE, run };
