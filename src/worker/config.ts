import defaultConfig from '../../config/default.json' with { type: 'json' };
import type { MirrorConfig } from '../config/types.ts';
import { parseConfig, validateConfig, type ValidationResult } from '../config/validate.ts';
import { escapeHtml } from '../http/escape.ts';
import { selectorProblems } from '../rewrite/html-engine.ts';

/**
 * The Worker's config: the `MIRROR_CONFIG` variable or secret (JSON text; a JSON object var from
 * wrangler.toml works too) when set, else the bundled config/default.json. Validated like on Node
 * (same validator, same selector check, same problem lines), once per isolate and config text.
 */
export interface WorkerEnv {
  MIRROR_CONFIG?: string | object;
}

export type LoadedConfig =
  | { ok: true; config: MirrorConfig; source: string }
  | { ok: false; problems: string[]; source: string };

export const DEFAULT_CONFIG_SOURCE = 'config/default.json';

let cached: { key: unknown; loaded: LoadedConfig } | null = null;

export function loadWorkerConfig(env: WorkerEnv): LoadedConfig {
  const value = env.MIRROR_CONFIG;
  if (cached && cached.key === value) return cached.loaded;
  const loaded = load(value);
  if (!loaded.ok) {
    // Logged once per isolate and config; every request gets the 500 page.
    console.error(`edgemirror: invalid config ${loaded.source}:\n${loaded.problems.map((p) => `  ${p}`).join('\n')}`);
  }
  cached = { key: value, loaded };
  return loaded;
}

function load(value: string | object | undefined): LoadedConfig {
  const source = value === undefined ? DEFAULT_CONFIG_SOURCE : 'MIRROR_CONFIG';
  let result: ValidationResult;
  if (value === undefined) result = validateConfig(defaultConfig);
  else if (typeof value === 'string') result = parseConfig(value, source);
  else result = validateConfig(value);
  if (!result.ok) return { ok: false, problems: result.errors, source };
  const problems = [...selectorProblems(result.config.sites), ...workerProblems(result.config)];
  return problems.length ? { ok: false, problems, source } : { ok: true, config: result.config, source };
}

/**
 * What a valid config asks that a Worker cannot do. An `upstream` on another host is reached over a
 * raw TCP socket so the origin still gets its own Host (see origin-fetch.ts); Workers cannot also
 * run TLS to that socket under another name, so such an upstream must be http:.
 */
function workerProblems(config: MirrorConfig): string[] {
  const problems: string[] = [];
  config.sites.forEach((site, i) =>
    site.origins.forEach((origin, j) => {
      if (!origin.upstream) return;
      const upstream = new URL(origin.upstream);
      if (upstream.protocol === 'https:' && upstream.host !== new URL(origin.url).host) {
        problems.push(
          `sites[${i}].origins[${j}].upstream must be http: or have the same host as url on Cloudflare Workers (got ${JSON.stringify(origin.upstream)})`,
        );
      }
    }),
  );
  return problems;
}

/** The 500 page for an invalid config: names every problem (they are logged too). */
export function configErrorPage(loaded: { problems: string[]; source: string }): Response {
  const items = loaded.problems.map((p) => `<li>${escapeHtml(p)}</li>`).join('');
  const body =
    `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="robots" content="noindex"><title>500 Invalid configuration</title></head>` +
    `<body><h1>500 Invalid configuration</h1><p>edgemirror: invalid config ${escapeHtml(loaded.source)}:</p><ul>${items}</ul></body></html>`;
  return new Response(body, {
    status: 500,
    headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' },
  });
}
