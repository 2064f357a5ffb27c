import type { SiteConfig } from '../config/types.ts';
import { normaliseOrigin } from '../config/validate.ts';
import { ExportError, runExport, type ExportResult } from '../export/exporter.ts';
import { createHtmlEngine } from '../node/html-engines.ts';
import { createNodeOriginFetch } from '../node/origin-fetch.ts';
import { EXIT_OK, HELP, parseCommandArgs, ProblemError, UsageError, write, type Command } from './args.ts';
import { DEFAULT_CONFIG, loadConfigForCli } from './config.ts';

const USAGE = `Usage: edgemirror export --out DIR [options]

Writes the mirror as static files: the newest articles of channel pages and feeds, rewritten by the
same rules as the live mirror (nav bar, footer, remove, link rules), with their images and
stylesheets. Links between exported pages are relative: the copy works from any directory, on any
static host, from a git repository or from file://. Run it again to update it: only what changed is
fetched (conditional requests) and rewritten; the same input gives byte-identical files.

  --config FILE        mirror config (default: config/default.json)
  --site NAME          the config's site to export (default: the first)
  --out DIR            the export directory (replaced as a whole, atomically)
  --from URL|PATH      a feed or channel page, e.g. /gb/nsc412.xml or https://www.epochtimes.com/gb/nsc412.htm
                       (repeatable; default: the site's export.from)
  --limit N            articles per source, newest first (default: 20)
  --since DATE         only articles published since DATE (e.g. 2024-05-01; feeds give dates)
  --format F           html, markdown or both (default: html)
  --assets MODE        copy (into assets/, content-addressed), link (to --link-base) or none (default: copy)
  --link-base URL      the live mirror: pages and assets not in the copy link there
                       (without it such links become plain text)
  --max-asset-bytes N  assets larger than this are not copied (default: 8388608)
  --max-assets N       assets copied at most (default: 2000)
  --concurrency N      origin requests at a time (default: 2)
  --delay MS           milliseconds between two origin requests (default: 250)
  --retries N          retries of a failed request, with exponential backoff (default: 3)
  --upstream URL       connect to this address instead (every origin of the site), e.g. http://127.0.0.1:9100
  --dry-run            fetch and compare, list what would change, write nothing
  -h, --help           this help

A progress line goes to standard error on a terminal; a summary at the end.
Exit status: 0 exported (or nothing changed), 1 the origin failed or the config is invalid (the
previous export is left as it was), 2 usage errors. Docs: docs/export.md`;

function count(name: string, text: string | undefined, fallback: number, min = 0): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(n) || n < min) throw new UsageError(`invalid ${name} ${JSON.stringify(text)}: expected a whole number ≥ ${min}`);
  return n;
}

function oneOf<T extends string>(name: string, text: string | undefined, values: readonly T[], fallback: T): T {
  if (text === undefined) return fallback;
  if (!values.includes(text as T)) throw new UsageError(`invalid ${name} ${JSON.stringify(text)}: expected ${values.join(', ')}`);
  return text as T;
}

async function run(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(
    argv,
    {
      config: { type: 'string' },
      site: { type: 'string' },
      out: { type: 'string' },
      from: { type: 'string', multiple: true },
      limit: { type: 'string' },
      since: { type: 'string' },
      format: { type: 'string' },
      assets: { type: 'string' },
      'link-base': { type: 'string' },
      'max-asset-bytes': { type: 'string' },
      'max-assets': { type: 'string' },
      concurrency: { type: 'string' },
      delay: { type: 'string' },
      retries: { type: 'string' },
      upstream: { type: 'string' },
      'dry-run': { type: 'boolean' },
      ...HELP,
    },
    0,
  );
  if (values.help) {
    await write(process.stdout, USAGE + '\n');
    return EXIT_OK;
  }
  if (!values.out) throw new UsageError('give --out DIR');
  const format = oneOf('--format', values.format, ['html', 'markdown', 'both'] as const, 'html');
  const assets = oneOf('--assets', values.assets, ['copy', 'link', 'none'] as const, 'copy');
  let linkBase: string | null = null;
  if (values['link-base'] !== undefined) {
    const text = values['link-base'];
    let u: URL;
    try {
      u = new URL(text);
    } catch {
      throw new UsageError(`invalid --link-base ${JSON.stringify(text)}: expected an absolute http(s) URL`);
    }
    if (!/^https?:$/.test(u.protocol) || u.search || u.hash) throw new UsageError(`invalid --link-base ${JSON.stringify(text)}: expected an http(s) URL without query`);
    linkBase = (u.origin + u.pathname).replace(/\/+$/, '');
  }
  if (assets === 'link' && !linkBase) throw new UsageError('--assets link needs --link-base (the live mirror the assets load from)');
  let since: Date | null = null;
  if (values.since !== undefined) {
    since = new Date(values.since);
    if (Number.isNaN(since.getTime())) throw new UsageError(`invalid --since ${JSON.stringify(values.since)}: expected a date such as 2024-05-01`);
  }
  let upstream: string | null = null;
  if (values.upstream !== undefined) {
    const r = normaliseOrigin(values.upstream);
    if ('problem' in r) throw new UsageError(`--upstream ${r.problem}`);
    upstream = r.origin;
  }

  const configPath = values.config ?? DEFAULT_CONFIG;
  const config = await loadConfigForCli(configPath);
  let site: SiteConfig | undefined = config.sites[0];
  if (values.site !== undefined) {
    site = config.sites.find((s) => s.name === values.site);
    if (!site) throw new ProblemError(`no site named ${JSON.stringify(values.site)} in ${configPath} (sites: ${config.sites.map((s) => s.name).join(', ')})`);
  }
  if (upstream) site = { ...site!, origins: site!.origins.map((o) => ({ ...o, upstream })) };

  const node = createNodeOriginFetch({
    connectTimeoutMs: config.server.originConnectTimeout * 1000,
    bodyTimeoutMs: config.server.originIdleTimeout * 1000,
    maxHeaderBytes: config.server.maxOriginHeaderBytes,
  });
  const bar = progressBar(process.stderr);
  let result: ExportResult;
  try {
    result = await runExport({
      config,
      site: site!,
      fetchOrigin: node,
      html: createHtmlEngine(config.server.htmlEngine),
      out: values.out,
      from: values.from ?? [],
      limit: count('--limit', values.limit, 20, 1),
      since,
      format,
      assets,
      linkBase,
      dryRun: values['dry-run'] === true,
      concurrency: count('--concurrency', values.concurrency, 2, 1),
      delayMs: count('--delay', values.delay, 250),
      retries: count('--retries', values.retries, 3),
      backoffMs: 500,
      maxAssetBytes: count('--max-asset-bytes', values['max-asset-bytes'], 8 * 1024 * 1024, 1),
      maxPageBytes: 16 * 1024 * 1024,
      maxAssets: count('--max-assets', values['max-assets'], 2000),
      onProgress: bar.update,
    });
  } catch (err) {
    bar.clear();
    if (err instanceof ExportError) throw new ProblemError(err.headline, err.lines);
    throw err;
  } finally {
    await node.close();
  }
  bar.clear();
  await write(process.stdout, summary(result));
  return EXIT_OK;
}

function summary(r: ExportResult): string {
  const lines: string[] = [];
  const verb = r.dryRun ? 'would change' : 'changed';
  if (r.dryRun) for (const [mark, list] of [['+', r.added], ['~', r.changed], ['-', r.removed]] as const) for (const f of list) lines.push(`${mark} ${f}`);
  lines.push(
    `export${r.dryRun ? ' (dry run)' : ''}: ${r.out}: ${r.channels} channel${r.channels === 1 ? '' : 's'}, ${r.pages} page${r.pages === 1 ? '' : 's'}, ${r.assets} asset${r.assets === 1 ? '' : 's'}; ` +
      `origin: ${r.fetched} fetched, ${r.notModified} not modified; files ${verb}: ${r.added.length} new, ${r.changed.length} changed, ${r.removed.length} removed, ${r.unchanged} unchanged`,
  );
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n') + '\n';
}

/** One line redrawn in place on a terminal ([#####-----] 12/40 page …); nothing otherwise. */
function progressBar(stream: NodeJS.WriteStream): { update(done: number, total: number, label: string): void; clear(): void } {
  if (!stream.isTTY) return { update() {}, clear() {} };
  let shown = false;
  return {
    update(done, total, label) {
      const width = 20;
      const filled = total > 0 ? Math.min(width, Math.round((done / total) * width)) : 0;
      const text = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total} ${label}`;
      const columns = stream.columns || 80;
      stream.write(`\r\x1b[2K${text.length > columns - 1 ? text.slice(0, columns - 2) + '…' : text}`);
      shown = true;
    },
    clear() {
      if (shown) stream.write('\r\x1b[2K');
      shown = false;
    },
  };
}

export const exportCommand: Command = { name: 'export', summary: 'write the mirror as static files (HTML and/or Markdown) for any static host', usage: USAGE, run };
