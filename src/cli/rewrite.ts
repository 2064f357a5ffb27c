import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { MemoryStore } from '../cache/memory-store.ts';
import type { MirrorConfig, SiteConfig } from '../config/types.ts';
import { normaliseOrigin } from '../config/validate.ts';
import { readBytes } from '../http/bytes.ts';
import { SiteMapper } from '../mapping/url-mapper.ts';
import { createNodeOriginFetch } from '../node/origin-fetch.ts';
import { createHtmlEngine } from '../node/html-engines.ts';
import { Observer } from '../observe/observer.ts';
import { createMirrorApp } from '../proxy/mirror-app.ts';
import type { OriginFetch, OriginRequest, OriginResponse } from '../proxy/origin-fetch.ts';
import { charsetFromContentType, sniffHtmlCharset } from '../rewrite/charset.ts';
import { EXIT_OK, formatBytes, HELP, painter, parseCommandArgs, ProblemError, progress, UsageError, write, type Command } from './args.ts';
import { DEFAULT_CONFIG, loadConfigForCli } from './config.ts';
import { unifiedDiff } from './diff.ts';

const USAGE = `Usage: edgemirror rewrite URL|FILE|- [options]

Prints what the mirror would send for one page: fetched from its origin (URL) or read from a file
(FILE, or - for standard input), rewritten by the real pipeline with the config's rules. With --diff,
prints a line diff of the page as the origin sent it against the mirror's version instead. The tool
for tuning "remove", "links.rules" and mounts. Nothing is cached; nothing listens.

  URL              an original URL, e.g. https://www.epochtimes.com/gb/ (its host picks the site)
  FILE             a saved page; its content type comes from the extension (.html .htm .css .js
                   .mjs .json .xml .rss .atom .svg) or --type
  --config FILE    mirror config (default: config/default.json)
  --site NAME      the config's site to use (default: the one mirroring URL's host; for FILE the first)
  --url URL        FILE only: the original URL the file came from (default: the site's root + "/")
  --type TYPE      FILE only: its Content-Type, e.g. "text/html; charset=gbk"
  --upstream URL   connect to this address instead (every origin of the site), e.g. http://127.0.0.1:9100
  --host HOST      the mirror's host in absolute URLs (feeds, og: meta): HOST or scheme://HOST
                   (default: localhost:8787)
  --diff           print a unified diff of input → output (long lines are split after ">")
  --context N      diff: unchanged lines around each change (default: 3)
  --color          colour the diff even when standard output is not a terminal (NO_COLOR disables)
  -i, --headers    print the mirror's status line and response headers first
  -h, --help       this help

A summary (status, sizes, hosts left unmirrored) goes to standard error.
Exit status: 0 the page was rewritten (whatever the origin's status), 1 config problems or the
origin could not be reached, 2 usage errors.`;

const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.htm': 'text/html',
  '.xhtml': 'application/xhtml+xml',
  '.css': 'text/css',
  '.js': 'application/javascript',
  '.mjs': 'application/javascript',
  '.json': 'application/json',
  '.xml': 'application/rss+xml',
  '.rss': 'application/rss+xml',
  '.atom': 'application/atom+xml',
  '.svg': 'image/svg+xml',
};

const USER_AGENT = 'Mozilla/5.0 (compatible; edgemirror rewrite)';

/** The site whose origins include the URL's host, or null. */
function siteForUrl(config: MirrorConfig, url: string): SiteConfig | null {
  return config.sites.find((s) => new SiteMapper(s).matchAbsolute(url) !== null) ?? null;
}

function mirrorBaseOf(host: string): string {
  const text = host.includes('://') ? host : `http://${host}`;
  const r = normaliseOrigin(text);
  if ('problem' in r) throw new UsageError(`--host ${r.problem}`);
  return r.origin;
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return (await readBytes(stream, Infinity)).bytes;
}

function decodeInput(bytes: Uint8Array, contentType: string | null): string {
  let charset = charsetFromContentType(contentType) ?? (/html/i.test(contentType ?? '') ? sniffHtmlCharset(bytes.subarray(0, 2048)) : null) ?? 'utf-8';
  try {
    return new TextDecoder(charset).decode(bytes);
  } catch {
    charset = 'utf-8';
    return new TextDecoder(charset).decode(bytes);
  }
}

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      config: { type: 'string' },
      site: { type: 'string' },
      url: { type: 'string' },
      type: { type: 'string' },
      upstream: { type: 'string' },
      host: { type: 'string' },
      diff: { type: 'boolean' },
      context: { type: 'string' },
      color: { type: 'boolean' },
      headers: { type: 'boolean', short: 'i' },
      ...HELP,
    },
    1,
  );
  if (values.help) {
    await write(process.stdout, USAGE + '\n');
    return EXIT_OK;
  }
  const input = positionals[0];
  if (!input) throw new UsageError('give a URL or a FILE to rewrite');
  const isUrl = /^https?:\/\//i.test(input);
  if (isUrl && (values.url || values.type)) throw new UsageError('--url and --type are for a FILE; a URL says where it is itself');
  const context = values.context === undefined ? 3 : Number(values.context);
  if (!Number.isInteger(context) || context < 0) throw new UsageError(`invalid --context ${JSON.stringify(values.context)}: expected a whole number`);
  let upstream: string | null = null;
  if (values.upstream !== undefined) {
    const r = normaliseOrigin(values.upstream);
    if ('problem' in r) throw new UsageError(`--upstream ${r.problem}`);
    upstream = r.origin;
  }
  const mirrorBase = mirrorBaseOf(values.host ?? 'localhost:8787');
  const show = progress();

  const configPath = values.config ?? DEFAULT_CONFIG;
  const full = await loadConfigForCli(configPath);

  // Which site, and which original URL.
  let site: SiteConfig | undefined;
  if (values.site !== undefined) {
    site = full.sites.find((s) => s.name === values.site);
    if (!site) throw new ProblemError(`no site named ${JSON.stringify(values.site)} in ${configPath} (sites: ${full.sites.map((s) => s.name).join(', ')})`);
  }
  let originalUrl: string;
  if (isUrl) {
    const owner = siteForUrl(full, input);
    if (!owner || (site && owner !== site)) {
      const host = new URL(input).host;
      throw new ProblemError(`${host} is not an origin of ${site ? `site ${JSON.stringify(site.name)}` : 'any site'} in ${configPath}`, [
        `add it to the site's "origins" (or run: edgemirror init ${new URL(input).origin}), or pick another --config`,
      ]);
    }
    site = owner;
    originalUrl = input;
  } else {
    site ??= full.sites[0]!;
    originalUrl = values.url ?? site.origins.find((o) => o.mount === '/')!.url + '/';
    if (!/^https?:\/\//i.test(originalUrl)) throw new UsageError(`--url must be an absolute http(s) URL (got ${JSON.stringify(originalUrl)})`);
    if (!new SiteMapper(site).matchAbsolute(originalUrl)) {
      throw new ProblemError(`--url ${originalUrl} is not on an origin of site ${JSON.stringify(site.name)} in ${configPath}`);
    }
  }

  // The page's path on the mirror.
  const mapper = new SiteMapper(site);
  const root = mapper.root;
  const mirrorPath = mapper.toMirror(originalUrl, { origin: root, url: root.url + '/', mirrorOrigin: mirrorBase })!.replace(/#.*$/s, '');

  // One site answering every host, no cache: exactly the pipeline the server runs, for one request.
  const single: SiteConfig = { ...site, hosts: ['*'], origins: site.origins.map((o) => (upstream ? { ...o, upstream } : o)) };
  const config: MirrorConfig = { ...full, server: { ...full.server, accessLog: 'off' }, cache: { ...full.cache, enabled: false }, sites: [single] };

  let original: { response: OriginResponse; bytes: Promise<Uint8Array> } | null = null;
  let originFailure: unknown = null;
  let closeOrigin = async () => {};
  let fetchOrigin: OriginFetch;
  if (isUrl) {
    const node = createNodeOriginFetch({
      connectTimeoutMs: config.server.originConnectTimeout * 1000,
      bodyTimeoutMs: config.server.originIdleTimeout * 1000,
      maxHeaderBytes: config.server.maxOriginHeaderBytes,
    });
    closeOrigin = () => node.close();
    fetchOrigin = async (req: OriginRequest) => {
      show(`fetching ${originalUrl}${req.url.startsWith(new URL(originalUrl).origin) ? '' : ` (via ${new URL(req.url).origin})`}`);
      let res: OriginResponse;
      try {
        res = await node(req);
      } catch (err) {
        originFailure = err;
        throw err;
      }
      show(`origin answered ${res.status}`);
      if (!res.body) {
        original = { response: res, bytes: Promise.resolve(new Uint8Array()) };
        return res;
      }
      // Keep a copy of what the origin sent, for --diff and the summary.
      const [forMirror, copy] = res.body.tee();
      original = { response: res, bytes: readAll(copy) };
      return { ...res, body: forMirror };
    };
  } else {
    let bytes: Uint8Array;
    try {
      bytes = input === '-' ? await readAll(stdinStream()) : new Uint8Array(await readFile(input));
    } catch (err) {
      throw new ProblemError(`cannot read ${input}: ${(err as Error).message}`);
    }
    const type = values.type ?? (input === '-' ? 'text/html' : TYPES[path.extname(input).toLowerCase()]);
    if (!type) throw new UsageError(`cannot tell the content type of ${input} from its extension: give --type (e.g. --type text/html)`);
    fetchOrigin = async () => {
      const response: OriginResponse = {
        status: 200,
        headers: new Headers({ 'content-type': type }),
        body: new ReadableStream({
          start(c) {
            c.enqueue(bytes);
            c.close();
          },
        }),
      };
      original = { response: { ...response, body: null }, bytes: Promise.resolve(bytes) };
      return response;
    };
  }

  const observer = new Observer([single.name]);
  const app = createMirrorApp({ config, fetchOrigin, html: createHtmlEngine(config.server.htmlEngine), store: new MemoryStore(1), observer, purgeToken: null });
  let response: Response;
  let output: Uint8Array;
  try {
    response = await app.fetch(
      new Request(mirrorBase + mirrorPath, { headers: { 'user-agent': USER_AGENT, accept: 'text/html,application/xhtml+xml,*/*;q=0.8', 'accept-language': 'zh-CN,zh;q=0.9,en;q=0.5' } }),
    );
    output = response.body ? await readAll(response.body) : new Uint8Array();
  } finally {
    await closeOrigin();
  }
  const got = original as { response: OriginResponse; bytes: Promise<Uint8Array> } | null;
  if (!got) {
    const reason = originFailure ? `: ${(originFailure as Error).message ?? originFailure}` : '';
    const cause = (originFailure as { cause?: Error } | null)?.cause?.message;
    throw new ProblemError(`could not fetch ${originalUrl} (the mirror would answer ${response.status})${reason}${cause ? ` (${cause})` : ''}`);
  }
  const inputBytes = await got.bytes;

  const out: string[] = [];
  if (values.headers) {
    out.push(`HTTP/1.1 ${response.status} ${response.statusText}`.trimEnd());
    for (const [name, value] of response.headers) out.push(`${name}: ${value}`);
    out.push('', '');
  }
  let summaryDiff = '';
  if (values.diff) {
    const before = decodeInput(inputBytes, got.response.headers.get('content-type'));
    const after = new TextDecoder().decode(output);
    const paint = painter(process.stdout, values.color ? true : undefined);
    const d = unifiedDiff(before, after, { a: `${originalUrl} (origin)`, b: `${mirrorBase}${mirrorPath} (mirror)` }, { context }, paint);
    await write(process.stdout, out.join('\n') + d.text);
    summaryDiff = d.text ? `; diff: ${d.removed} line${d.removed === 1 ? '' : 's'} removed, ${d.added} added` : '; no differences';
  } else {
    await write(process.stdout, out.join('\n'));
    await write(process.stdout, output);
  }

  const type = response.headers.get('content-type') ?? 'no content type';
  const location = response.headers.get('location');
  process.stderr.write(
    `rewrite: ${originalUrl} → ${mirrorBase}${mirrorPath}: ${response.status} ${type}${location ? `, Location: ${location}` : ''}; ` +
      `${formatBytes(inputBytes.length)} in, ${formatBytes(output.length)} out${summaryDiff}\n`,
  );
  const leaks = observer.topLeaks(single.name, 20);
  if (leaks.length) {
    process.stderr.write(`rewrite: resources left on unmirrored hosts (readers behind the firewall may not load them): ${leaks.map(([h, n]) => `${h} ×${n}`).join(', ')}\n`);
  }
  return EXIT_OK;
}

function stdinStream(): ReadableStream<Uint8Array> {
  const stdin = process.stdin;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      stdin.on('data', (chunk: Buffer) => controller.enqueue(new Uint8Array(chunk)));
      stdin.once('end', () => controller.close());
      stdin.once('error', (err) => controller.error(err));
    },
  });
}

export const rewriteCommand: Command = { name: 'rewrite', summary: 'print what the mirror sends for one URL or saved page (or --diff against it)', usage: USAGE, run };
