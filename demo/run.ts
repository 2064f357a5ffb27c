import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { validateConfig } from '../src/config/validate.ts';
import { startNodeServer, type RunningServer } from '../src/node/server.ts';
import { startDemoOrigin, type DemoOrigin } from './origin.ts';

/**
 * `npm run demo`: a working mirror without any route to the real site. Starts the demo origin
 * (demo/origin.ts, playing www.epochtimes.com and i.epochtimes.com) and the real mirror with
 * config/default.json, both origins' `upstream` pointed at the demo origin.
 */
const USAGE = `Usage: npm run demo -- [--port N] [--host H] [--origin-port N] [--verbose]
  --port N         mirror port (default: $PORT or 8787; 0 picks a free port)
  --host H         address the mirror binds (default: 127.0.0.1)
  --origin-port N  demo origin port (default: a free port)
  --verbose        log every request the mirror makes to the demo origin`;

const DEFAULT_CONFIG = fileURLToPath(new URL('../config/default.json', import.meta.url));

function portArg(name: string, text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`demo: invalid ${name} ${JSON.stringify(text)}: expected an integer from 0 to 65535`);
    process.exit(2);
  }
  return port;
}

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs({
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        'origin-port': { type: 'string' },
        verbose: { type: 'boolean', short: 'v' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  if (args.help) {
    console.log(USAGE);
    return;
  }
  const port = portArg('--port', args.port ?? process.env.PORT ?? '8787');
  const originPort = portArg('--origin-port', args['origin-port'] ?? '0');
  const host = args.host ?? '127.0.0.1';

  let origin: DemoOrigin | undefined;
  let mirror: RunningServer | undefined;
  let stopping = false;
  const stop = (code: number) => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => process.exit(code), 5_000).unref();
    Promise.allSettled([mirror?.close(), origin?.close()]).then(() => process.exit(code));
  };
  process.once('SIGINT', () => stop(0));
  process.once('SIGTERM', () => stop(0));

  try {
    origin = await startDemoOrigin(originPort, { log: args.verbose ? (line) => console.log(`  origin: ${line}`) : undefined });
  } catch (err) {
    console.error(`demo: could not start the demo origin on port ${originPort}: ${(err as Error).message}`);
    return stop(1);
  }

  const input = JSON.parse(await readFile(DEFAULT_CONFIG, 'utf8')) as {
    sites: { origins: { url: string; upstream?: string }[] }[];
  };
  for (const o of input.sites[0]!.origins) o.upstream = origin.url;
  const result = validateConfig(input);
  if (!result.ok) {
    console.error(`demo: config/default.json (with demo upstreams) is invalid:`);
    for (const e of result.errors) console.error(`  ${e}`);
    return stop(1);
  }

  try {
    mirror = await startNodeServer({ config: result.config, port, host });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const hint = code === 'EADDRINUSE' ? ` (port in use: try --port ${port + 1}, or --port 0 for any free port)` : '';
    console.error(`demo: could not start the mirror on ${host}:${port}: ${(err as Error).message}${hint}`);
    return stop(1);
  }

  const base = mirror.url;
  console.log(`edgemirror demo
  demo origin  ${origin.url}  (plays www.epochtimes.com and i.epochtimes.com; pages in demo/site/)
  mirror       ${base}  (config/default.json, upstream → demo origin)

  Open ${base}/gb/ in your browser.

  Worth a look:
    ${base}/gb/21/3/2/n12784933.htm   article: srcset, lazy image, <noscript>, ad removed, footer
    ${base}/gb/21/3/3/n12790105.htm   GBK page (charset only in <meta>), served as UTF-8
    ${base}/gb/nsc412.xml             RSS feed: links become absolute mirror URLs
    ${base}/gb/search.htm?q=图书馆     search form target (echoes the query)
    ${base}/gb/latest                 302 redirect, Location mapped onto the mirror
    ${base}/_i/assets/logo.png        image host, mounted at /_i/

  Ctrl-C to stop. See demo/README.md for what to look for.`);
}

main().catch((err) => {
  console.error(`demo: ${(err as Error)?.stack ?? err}`);
  process.exit(1);
});
