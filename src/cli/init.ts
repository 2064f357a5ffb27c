import { access, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MirrorConfigInput, SiteConfigInput } from '../config/types.ts';
import { normaliseOrigin, validateConfig } from '../config/validate.ts';
import { readBytes } from '../http/bytes.ts';
import { createNodeOriginFetch } from '../node/origin-fetch.ts';
import { WasmHtmlEngine } from '../node/wasm-html-engine.ts';
import type { OriginResponse } from '../proxy/origin-fetch.ts';
import { charsetFromContentType, sniffHtmlCharset } from '../rewrite/charset.ts';
import { EXIT_OK, formatBytes, HELP, painter, parseCommandArgs, ProblemError, progress, UsageError, write, type Command } from './args.ts';
import { formatJson } from './json.ts';
import { newScan, registrableDomain, scanCss, scanHtml, type HostUse } from './discover.ts';

const USAGE = `Usage: edgemirror init ORIGIN_URL [options]

Writes a starter config for mirroring ORIGIN_URL. Fetches that one page (following redirects within
the site), finds the hosts of its images, scripts, stylesheets, media, frames and fonts, and proposes
the origin itself at mount "/" (with its http/https and bare/www spellings as aliases) and every asset
host of the same domain (e.g. i.example.com) at a mount of its own (/_i/, /_img/, /_video/, …).
Third-party hosts are listed on standard error as "not mounted". The config is validated before it
is written.

  ORIGIN_URL       the site's front page, e.g. https://www.ntdtv.com (a path is fetched as given)
  --out FILE       write the config to FILE (default: standard output); never overwrites without --force
  --force          overwrite --out FILE
  --name NAME      the site's name (default: from the domain, e.g. "ntdtv")
  --upstream URL   connect to this address instead of the origin (a stand-in or a fixed IP), sending
                   the origin's Host; written as "upstream" of every origin in the config
  --hosts LIST     mirror host names the site answers, comma-separated (default: *)
  -h, --help       this help

Exit status: 0 written, 1 the page could not be fetched or --out exists, 2 usage errors.`;

const USER_AGENT = 'Mozilla/5.0 (compatible; edgemirror init)';
const MAX_PAGE_BYTES = 10 * 1024 * 1024;
const MAX_STYLESHEETS = 5;
const TIMEOUT_MS = 30_000;
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCHEMA = path.join(REPO_ROOT, 'config', 'schema.json');
const DEFAULT_FOOTER = '原文链接（需翻墙）：<a href="{{originalUrl}}">{{originalUrl}}</a>';

type Fetcher = ReturnType<typeof createNodeOriginFetch>;

interface Fetched {
  /** The public URL finally answered (after redirects). */
  url: string;
  response: OriginResponse;
  bytes: Uint8Array;
  hops: string[];
}

/** GET `url` (through `upstream` when given, with the public Host), following redirects on the same domain. */
async function fetchPage(fetcher: Fetcher, url: string, upstream: string | null, show: (t: string) => void, limit = MAX_PAGE_BYTES, follow = 5): Promise<Fetched> {
  const hops: string[] = [];
  let current = new URL(url);
  const domain = registrableDomain(current.host);
  for (let hop = 0; ; hop++) {
    const connect = (upstream ?? current.origin) + current.pathname + current.search;
    show(`fetching ${current.href}${upstream ? ` via ${upstream}` : ''}`);
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new Error(`no answer within ${TIMEOUT_MS / 1000} s`)), TIMEOUT_MS);
    let response: OriginResponse;
    let bytes: Uint8Array;
    try {
      response = await fetcher({
        url: connect,
        method: 'GET',
        headers: new Headers({
          host: current.host,
          'user-agent': USER_AGENT,
          accept: 'text/html,application/xhtml+xml,text/css,*/*;q=0.8',
          'accept-language': 'zh-CN,zh;q=0.9,en;q=0.5',
          'accept-encoding': 'gzip, deflate, br',
        }),
        body: null,
        signal: controller.signal,
      });
      bytes = (await readBytes(response.body, limit)).bytes;
    } catch (err) {
      const cause = (err as { cause?: Error }).cause?.message;
      throw new ProblemError(`could not fetch ${current.href}${upstream ? ` via ${upstream}` : ''}: ${(err as Error).message ?? err}${cause ? ` (${cause})` : ''}`);
    } finally {
      clearTimeout(timer);
    }
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location && hop < follow) {
      const next = new URL(location, current);
      if ((next.protocol === 'http:' || next.protocol === 'https:') && registrableDomain(next.host) === domain) {
        hops.push(`${response.status} → ${next.href}`);
        show(`${response.status}: redirected to ${next.href}`);
        current = next;
        continue;
      }
      throw new ProblemError(`${current.href} redirects to ${next.href}, on another site`, [`run init with that URL if it is the site you want to mirror`]);
    }
    return { url: current.href, response, bytes, hops };
  }
}

function decode(bytes: Uint8Array, contentType: string | null): Uint8Array {
  const charset = charsetFromContentType(contentType) ?? sniffHtmlCharset(bytes.subarray(0, 2048)) ?? 'utf-8';
  if (charset === 'utf-8') return bytes;
  try {
    return new TextEncoder().encode(new TextDecoder(charset).decode(bytes));
  } catch {
    return bytes;
  }
}

/** The other spellings of a root origin: both schemes, and the bare domain ⇄ www. */
function rootAliases(origin: URL): string[] {
  const host = origin.host;
  const domain = registrableDomain(origin.hostname);
  const port = origin.port ? `:${origin.port}` : '';
  const hosts = [host];
  if (origin.hostname === domain) hosts.push(`www.${domain}${port}`);
  else if (origin.hostname === `www.${domain}`) hosts.push(`${domain}${port}`);
  const other = origin.protocol === 'https:' ? 'http:' : 'https:';
  const all: string[] = [];
  for (const h of hosts) for (const scheme of [origin.protocol, other]) all.push(`${scheme}//${h}`);
  return all.filter((u) => u !== origin.origin);
}

/** "/_i/" from i.ntdtv.com, unique among `taken`. */
function mountFor(host: string, taken: Set<string>): string {
  const first = host.split('.')[0]!.toLowerCase().replace(/[^a-z0-9-]/g, '') || 'assets';
  let mount = `/_${first}/`;
  for (let n = 2; taken.has(mount); n++) mount = `/_${first}${n}/`;
  taken.add(mount);
  return mount;
}

/** "$schema": relative to the output file when both are in this repository, else absolute. */
function schemaRef(outFile: string | null): string {
  const dir = outFile ? path.dirname(path.resolve(outFile)) : process.cwd();
  const inside = (p: string) => {
    const rel = path.relative(REPO_ROOT, p);
    return !rel.startsWith('..') && !path.isAbsolute(rel);
  };
  if (!inside(dir)) return SCHEMA;
  const rel = path.relative(dir, SCHEMA).split(path.sep).join('/');
  return rel.startsWith('.') ? rel : `./${rel}`;
}

interface Proposal {
  config: MirrorConfigInput;
  rows: { use: HostUse; verdict: string }[];
  linked: HostUse[];
}

/** The config `init` proposes for a scanned page. */
export function propose(options: { pageUrl: string; name: string; hosts: string[]; upstream: string | null; resources: Map<string, HostUse>; links: Map<string, HostUse> }): Proposal {
  const page = new URL(options.pageUrl);
  const domain = registrableDomain(page.hostname);
  const aliases = rootAliases(page);
  const rootHosts = new Set([page.origin, ...aliases].map((u) => new URL(u).host));
  const taken = new Set<string>(['/']);
  const upstream = options.upstream ? { upstream: options.upstream } : {};
  const origins: SiteConfigInput['origins'] = [{ url: page.origin, mount: '/', aliases, ...upstream }];
  const rows: Proposal['rows'] = [];
  const uses = [...options.resources.values()].sort((a, b) => b.count - a.count || a.host.localeCompare(b.host));
  for (const use of uses) {
    const hostname = use.host.replace(/:\d+$/, '');
    if (rootHosts.has(use.host)) {
      rows.push({ use, verdict: use.host === page.host ? 'root origin, mount /' : 'alias of the root origin' });
    } else if (registrableDomain(hostname) === domain) {
      const mount = mountFor(hostname, taken);
      const scheme = use.schemes.has('https:') || (use.schemes.size === 0 && page.protocol === 'https:') ? 'https:' : 'http:';
      const other = scheme === 'https:' ? 'http:' : 'https:';
      origins.push({ url: `${scheme}//${use.host}`, mount, aliases: [`${other}//${use.host}`], ...upstream });
      rows.push({ use, verdict: `mount ${mount}` });
    } else {
      rows.push({ use, verdict: 'not mounted (third party: left pointing at the original)' });
    }
  }
  const mirrored = new Set([...rootHosts, ...origins.map((o) => new URL(o.url).host)]);
  const linked = [...options.links.values()]
    .filter((l) => !mirrored.has(l.host) && registrableDomain(l.host.replace(/:\d+$/, '')) === domain)
    .sort((a, b) => b.count - a.count || a.host.localeCompare(b.host));
  const front = page.pathname.endsWith('/') ? page.pathname : '/';
  const site: SiteConfigInput = {
    name: options.name,
    hosts: options.hosts,
    origins,
    links: { external: 'keep', rules: [] },
    nav: [{ label: '首页', href: front }],
    footer: DEFAULT_FOOTER,
    remove: [],
  };
  return { config: { sites: [site] }, rows, linked };
}

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    { out: { type: 'string', short: 'o' }, force: { type: 'boolean' }, name: { type: 'string' }, upstream: { type: 'string' }, hosts: { type: 'string' }, ...HELP },
    1,
  );
  if (values.help) {
    await write(process.stdout, USAGE + '\n');
    return EXIT_OK;
  }
  const given = positionals[0];
  if (!given) throw new UsageError('give the URL of the site to mirror, e.g. edgemirror init https://www.ntdtv.com');
  let start: URL;
  try {
    start = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(given) ? given : `https://${given}`);
  } catch {
    throw new UsageError(`not a URL: ${JSON.stringify(given)}`);
  }
  if (start.protocol !== 'http:' && start.protocol !== 'https:') throw new UsageError(`ORIGIN_URL must be an http(s) URL (got ${JSON.stringify(given)})`);
  let upstream: string | null = null;
  if (values.upstream !== undefined) {
    const r = normaliseOrigin(values.upstream);
    if ('problem' in r) throw new UsageError(`--upstream ${r.problem}`);
    upstream = r.origin;
  }
  const hosts = (values.hosts ?? '*').split(',').map((h) => h.trim().toLowerCase()).filter(Boolean);
  if (hosts.length === 0) throw new UsageError('--hosts needs at least one host name');
  for (const h of hosts) {
    const name = h.startsWith('*.') ? h.slice(2) : h;
    if (h !== '*' && (!/^[a-z0-9.-]+$/.test(name) || name.startsWith('.') || name.endsWith('.'))) {
      throw new UsageError(`--hosts: ${JSON.stringify(h)} is not a host name, "*.domain" or "*" (no scheme, port or path)`);
    }
  }
  if (values.name !== undefined && values.name.trim() === '') throw new UsageError('--name must not be empty');
  const out = values.out ?? null;
  if (values.force && !out) throw new UsageError('--force only applies with --out FILE');
  // Refuse an existing --out before any network traffic (and write it only at the end: a failed run
  // leaves an existing file, --force or not, as it was).
  if (out && !values.force) {
    let exists = true;
    try {
      await access(out);
    } catch {
      exists = false;
    }
    if (exists) throw new ProblemError(`${out} exists; not overwriting it (use --force to replace it)`);
  }
  const show = progress();
  const fetcher = createNodeOriginFetch({ connectTimeoutMs: 10_000, bodyTimeoutMs: TIMEOUT_MS });
  let proposal: Proposal;
  let page: Fetched;
  let sheets = 0;
  try {
    page = await fetchPage(fetcher, start.href, upstream, show);
    const type = page.response.headers.get('content-type');
    if (page.response.status !== 200) {
      throw new ProblemError(`${page.url} answered ${page.response.status}${upstream ? ` (via ${upstream})` : ''}; init needs the site's front page (200, HTML)`);
    }
    if (!/html/i.test(type ?? '')) throw new ProblemError(`${page.url} is ${type ?? 'of no content type'}, not an HTML page`);
    show(`scanning ${formatBytes(page.bytes.length)} of HTML`);
    const scan = await scanHtml(new WasmHtmlEngine(), decode(page.bytes, type), page.url, newScan());
    // Stylesheets on the site's own hosts often name more asset hosts (backgrounds, fonts).
    const domain = registrableDomain(new URL(page.url).hostname);
    for (const sheet of [...new Set(scan.stylesheets)].filter((u) => registrableDomain(new URL(u).hostname) === domain).slice(0, MAX_STYLESHEETS)) {
      try {
        const css = await fetchPage(fetcher, sheet, upstream, show, 2 * 1024 * 1024, 2);
        if (css.response.status === 200) {
          scanCss(scan, new TextDecoder(charsetFromContentType(css.response.headers.get('content-type')) ?? 'utf-8').decode(css.bytes), css.url, 'stylesheet');
          sheets++;
        }
      } catch (err) {
        show(`skipped stylesheet ${sheet}: ${(err as Error).message}`);
      }
    }
    const name = values.name ?? (domain.split('.')[0]!.replace(/[^a-z0-9-]/gi, '') || 'site');
    proposal = propose({ pageUrl: page.url, name, hosts, upstream, resources: scan.resources, links: scan.links });
    show(`discovered ${proposal.config.sites[0]!.origins.length - 1} asset host${proposal.config.sites[0]!.origins.length === 2 ? '' : 's'} on ${domain}`);
  } finally {
    await fetcher.close();
  }

  const config = { $schema: schemaRef(out), ...proposal.config };
  const checked = validateConfig(config);
  if (!checked.ok) {
    throw new ProblemError('the proposed config does not validate (a bug in init; please report it):', checked.errors);
  }
  const text = formatJson(config) + '\n';

  // The report, on standard error: what was found and what became of each host.
  const paint = painter(process.stderr);
  const site = proposal.config.sites[0]!;
  const lines: string[] = [];
  lines.push(`${paint(1, 'edgemirror init')}: ${start.href}${page.hops.map((h) => ` → ${h.replace(/^(\d+) → /, '$1 ')}`).join('')} → ${page.response.status}, ${formatBytes(page.bytes.length)}${upstream ? ` (via ${upstream})` : ''}`);
  lines.push(`Hosts of the page's resources (images, scripts, styles, media, frames${sheets ? `; ${sheets} stylesheet${sheets === 1 ? '' : 's'} scanned too` : ''}):`);
  const width = Math.max(...proposal.rows.map((r) => r.use.host.length), 10);
  for (const { use, verdict } of proposal.rows) {
    const colour = verdict.startsWith('not') ? 33 : 32;
    lines.push(`  ${use.host.padEnd(width)} ${String(use.count).padStart(4)} URL${use.count === 1 ? ' ' : 's'}  ${paint(colour, verdict)}`);
  }
  if (proposal.rows.length === 0) lines.push('  (none: the page names no resources)');
  if (proposal.linked.length) {
    lines.push(`Linked from the page, same domain, not mounted (add an origin if readers should stay on the mirror there):`);
    for (const l of proposal.linked.slice(0, 10)) lines.push(`  ${l.host.padEnd(width)} ${String(l.count).padStart(4)} link${l.count === 1 ? '' : 's'}`);
  }
  const front = site.nav![0]!.href;
  if (out) {
    try {
      await writeFile(out, text, { flag: values.force ? 'w' : 'wx' });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new ProblemError(code === 'EEXIST' ? `${out} exists; not overwriting it (use --force to replace it)` : `cannot write ${out}: ${(err as Error).message}`);
    }
    lines.push(`Wrote ${out} (site "${site.name}", ${site.origins.length} origin${site.origins.length === 1 ? '' : 's'}). Next:`);
    lines.push(`  npx edgemirror check --config ${out}`);
    lines.push(`  npm start -- --config ${out}        # then open http://localhost:8787${front}`);
    lines.push(`  npx edgemirror rewrite ${page.url} --config ${out} --diff   # what the mirror changes`);
  } else {
    await write(process.stdout, text);
  }
  process.stderr.write(lines.join('\n') + '\n');
  return EXIT_OK;
}

export const initCommand: Command = { name: 'init', summary: 'write a starter config for a site, asset hosts discovered from its front page', usage: USAGE, run };
