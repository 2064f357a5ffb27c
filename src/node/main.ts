import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../config/validate.ts';
import { loadConfigFile } from './load-config.ts';
import { startNodeServer } from './server.ts';

/** `npm start -- [--config FILE] [--port N] [--host H]`: serve the mirror on Node. */
const DEFAULT_CONFIG = fileURLToPath(new URL('../../config/default.json', import.meta.url));

const USAGE = `Usage: npm start -- [--config FILE] [--port N] [--host H]
  --config FILE  mirror config (default: config/default.json)
  --port N       port to listen on (default: $PORT or 8787)
  --host H       address to bind (default: $HOST or 0.0.0.0)`;

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs({
      options: { config: { type: 'string' }, port: { type: 'string' }, host: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    }).values;
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  if (args.help) {
    console.log(USAGE);
    return;
  }
  const portText = args.port ?? process.env.PORT ?? '8787';
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`invalid port ${JSON.stringify(portText)}: expected an integer from 0 to 65535`);
    process.exit(2);
  }
  const configPath = args.config ?? DEFAULT_CONFIG;
  let config;
  try {
    config = await loadConfigFile(configPath);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`edgemirror: invalid config ${configPath}:`);
      for (const problem of err.problems) console.error(`  ${problem}`);
      process.exit(1);
    }
    throw err;
  }
  const server = await startNodeServer({ config, port, host: args.host ?? process.env.HOST ?? '0.0.0.0' });
  console.log(`edgemirror: serving ${config.sites.map((s) => s.name).join(', ')} on ${server.url} (config ${configPath})`);
  const stop = (signal: string) => {
    const seconds = config.server.shutdownTimeout;
    console.log(`edgemirror: ${signal}: no new connections; finishing in-flight responses (up to ${seconds} s)`);
    server.shutdown(seconds * 1000).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err) => {
  console.error(`edgemirror: ${err?.stack ?? err}`);
  process.exit(1);
});
