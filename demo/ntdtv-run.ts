import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { MirrorConfigInput } from '../src/config/types.ts';
import { validateConfig } from '../src/config/validate.ts';
import { startNodeServer, type RunningServer } from '../src/node/server.ts';
import { startNtdtvOrigin, type NtdtvOrigin } from './ntdtv-origin.ts';
import { startDemoOrigin, type DemoOrigin } from './origin.ts';

/**
 * `npm run demo:ntdtv`: the NTDTV stand-in (demo/ntdtv-origin.ts) and the real mirror with
 * config/examples/ntdtv.json, every origin's `upstream` pointed at the stand-in.
 * `--two-sites`: both stand-ins (Epoch Times and NTDTV) behind one mirror process with
 * config/examples/two-sites.json, sites chosen by Host (et.localhost, ntd.localhost).
 */
const USAGE = `Usage: npm run demo:ntdtv -- [--port N] [--host H] [--two-sites] [--verbose]
  --port N      mirror port (default: $PORT or 8787; 0 picks a free port)
  --host H      address the mirror binds (default: 127.0.0.1)
  --two-sites   Epoch Times and NTDTV in one process (config/examples/two-sites.json)
  --verbose     log every request the stand-ins receive`;

const example = (name: string) => fileURLToPath(new URL(`../config/examples/${name}`, import.meta.url));

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs({
      options: { port: { type: 'string' }, host: { type: 'string' }, 'two-sites': { type: 'boolean' }, verbose: { type: 'boolean', short: 'v' }, help: { type: 'boolean', short: 'h' } },
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
  if (!/^\d+$/.test(portText) || port > 65535) {
    console.error(`demo: invalid --port ${JSON.stringify(portText)}\n${USAGE}`);
    process.exit(2);
  }
  const log = args.verbose ? (line: string) => console.log(`  origin: ${line}`) : undefined;
  const twoSites = args['two-sites'] === true;

  let ntdtv: NtdtvOrigin | undefined;
  let epoch: DemoOrigin | undefined;
  let mirror: RunningServer | undefined;
  const stop = (code: number) => {
    setTimeout(() => process.exit(code), 5_000).unref();
    Promise.allSettled([mirror?.close(), ntdtv?.close(), epoch?.close()]).then(() => process.exit(code));
  };
  process.once('SIGINT', () => stop(0));
  process.once('SIGTERM', () => stop(0));

  ntdtv = await startNtdtvOrigin(0, { log });
  if (twoSites) epoch = await startDemoOrigin(0, { log });
  const file = example(twoSites ? 'two-sites.json' : 'ntdtv.json');
  const input = JSON.parse(await readFile(file, 'utf8')) as MirrorConfigInput;
  for (const site of input.sites) for (const o of site.origins) o.upstream = site.name === 'epochtimes' ? epoch!.url : ntdtv.url;
  const result = validateConfig(input);
  if (!result.ok) {
    console.error(`demo: ${file} (with stand-in upstreams) is invalid:\n  ${result.errors.join('\n  ')}`);
    return stop(1);
  }
  try {
    mirror = await startNodeServer({ config: result.config, port, host: args.host ?? '127.0.0.1' });
  } catch (err) {
    console.error(`demo: could not start the mirror on port ${port}: ${(err as Error).message}${(err as NodeJS.ErrnoException).code === 'EADDRINUSE' ? ' (try --port 0)' : ''}`);
    return stop(1);
  }
  const base = mirror.url;
  if (!twoSites) {
    console.log(`edgemirror NTDTV demo
  stand-in  ${ntdtv.url}  (plays www.ntdtv.com, i.ntdtv.com, video.ntdtv.com)
  mirror    ${base}  (config/examples/ntdtv.json, upstream → stand-in)

  Open ${base}/gb/
    ${base}/gb/2021/03/02/a103012345.html   article: /_i/ images, <video> on /_video/, ad slot removed
    ${base}/gb/china.html                    channel page
    ${base}/_mirror/                         status page (requests, cache, leaks: www.youtube.com)

  Ctrl-C to stop.`);
  } else {
    const at = (host: string) => base.replace('//127.0.0.1', `//${host}`).replace('//localhost', `//${host}`);
    console.log(`edgemirror two-site demo (config/examples/two-sites.json)
  Epoch Times stand-in  ${epoch!.url}
  NTDTV stand-in        ${ntdtv.url}
  mirror                ${base}, sites chosen by Host:

    ${at('et.localhost')}/gb/    Epoch Times  (also *.et-mirror.example)
    ${at('ntd.localhost')}/gb/   NTDTV        (also *.ntd-mirror.example)

  Browsers resolve *.localhost to this machine; with curl: curl -H 'Host: ntd.localhost' ${base}/gb/
  Any other Host gets 421. Ctrl-C to stop.`);
  }
}

main().catch((err) => {
  console.error(`demo: ${(err as Error)?.stack ?? err}`);
  process.exit(1);
});
