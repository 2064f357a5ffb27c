import type { MirrorConfig } from '../config/types.ts';
import { EXIT_OK, HELP, painter, parseCommandArgs, UsageError, write, type Command } from './args.ts';
import { DEFAULT_CONFIG, loadConfigForCli } from './config.ts';
import { formatJson } from './json.ts';

const USAGE = `Usage: edgemirror check [--config FILE | FILE] [--quiet] [--print]

Validates a mirror config exactly as the server does at start-up (config/schema.json, the cross-field
rules, every "remove" selector) and prints the verdict: "ok: FILE is valid" and each site's hosts and
origins, on standard error. Each problem is printed as FILE:LINE:COL with its JSON path, followed by
the line of the file and a caret under the spot.

  --config FILE  the config to check (default: config/default.json); may also be given as FILE
  -T, --print    also print the config resolved, every default filled in, as JSON on standard output
                 (as nginx -T does)
  -q, --quiet    print nothing when the config is valid (exit status only)
  -h, --help     this help

Warnings (not errors): host patterns that two sites both claim (the later site never sees them).
With --print, cache.purgeToken is shown as "<redacted>".
Exit status: 0 valid, 1 problems, 2 usage errors.`;

/** Host patterns claimed by more than one site: the router gives them to the first, silently. */
export function hostWarnings(config: MirrorConfig): string[] {
  const owner = new Map<string, number>();
  const warnings: string[] = [];
  config.sites.forEach((site, i) =>
    site.hosts.forEach((host, k) => {
      const first = owner.get(host);
      if (first === undefined) owner.set(host, i);
      else if (first !== i) {
        warnings.push(`sites[${i}].hosts[${k}] ${JSON.stringify(host)} is also claimed by sites[${first}] (${config.sites[first]!.name}), which gets every such request`);
      }
    }),
  );
  return warnings;
}

function describe(config: MirrorConfig): string[] {
  return config.sites.map((s) => {
    const origins = s.origins.map((o) => `${o.mount} ${new URL(o.url).host}${o.upstream ? ` (via ${o.upstream})` : ''}`).join(', ');
    return `  ${s.name}: hosts ${s.hosts.join(' ')}; ${origins}`;
  });
}

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { config: { type: 'string' }, quiet: { type: 'boolean', short: 'q' }, print: { type: 'boolean', short: 'T' }, ...HELP }, 1);
  if (values.help) {
    await write(process.stdout, USAGE + '\n');
    return EXIT_OK;
  }
  if (values.config && positionals[0]) throw new UsageError('give the config once: --config FILE or FILE');
  const path = values.config ?? positionals[0] ?? DEFAULT_CONFIG;
  const config = await loadConfigForCli(path);
  if (values.quiet) return EXIT_OK;
  if (values.print) {
    const shown = { ...config, cache: { ...config.cache, purgeToken: config.cache.purgeToken === null ? null : '<redacted>' } };
    await write(process.stdout, formatJson(shown) + '\n');
  }
  const paint = painter(process.stderr);
  const n = config.sites.length;
  const lines = [`${paint(32, 'ok')}: ${path} is valid: ${n} site${n === 1 ? '' : 's'}`, ...describe(config)];
  for (const w of hostWarnings(config)) lines.push(`${paint(33, 'warning')}: ${w}`);
  process.stderr.write(lines.join('\n') + '\n');
  return EXIT_OK;
}

export const checkCommand: Command = { name: 'check', summary: 'validate a config (--print: and print it resolved, with defaults)', usage: USAGE, run };
