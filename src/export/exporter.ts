import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { MirrorConfig, SiteConfig } from '../config/types.ts';
import { SiteMapper, type DocContext } from '../mapping/url-mapper.ts';
import type { OriginFetch } from '../proxy/origin-fetch.ts';
import { createMirror, type Mirror } from '../proxy/pipeline.ts';
import { rewriteCss } from '../rewrite/css.ts';
import type { HtmlEngine } from '../rewrite/html-engine.ts';
import { escapeHtml } from '../http/escape.ts';
import { footerHtml, navHtml } from '../rewrite/html-rules.ts';
import { stringStream } from '../rewrite/streams.ts';
import { EXPORT_FORMAT_VERSION, MANIFEST_FILE, readManifest, serializeManifest, type Manifest, type ResourceEntry } from './manifest.ts';
import { decodeEntities, escapeMarkdown, extractContent, htmlBlock, renderMarkdown } from './markdown.ts';
import { assetExtension, channelDir, EXPORT_MIRROR_ORIGIN, mirrorRef, pageBase, relativeHref, sha256 } from './paths.ts';
import { readCapped, readText, TooLargeError } from './io.ts';
import { politeOriginFetch } from './polite-fetch.ts';
import { KEEP, registerExportRules, type Resolve, type Role } from './rules.ts';
import { parseFeed } from './sources.ts';

/**
 * `edgemirror export`: the mirror as static files. Every page goes through the live pipeline
 * (createMirror().handle(), the site's own rules, nav, footer and remove), then through one more HTML
 * pass (rules.ts) that points each mirror path at a file of the copy, at the live mirror, or nowhere.
 *
 * Incremental and deterministic: the manifest (.edgemirror/manifest.json) keeps each resource's
 * validators and the hash of each output file; the pipeline's output of each page is cached next to it,
 * so a page the origin answers 304 for is re-resolved without fetching it again. Output files depend
 * only on what the origin sent and the options (no dates of the run). A run builds the new tree in a
 * temporary directory beside the output (unchanged files hard-linked from the previous one) and
 * renames it into place only when everything succeeded.
 */
export interface ExportOptions {
  config: MirrorConfig;
  site: SiteConfig;
  /** The runtime's origin client (the export makes it polite). */
  fetchOrigin: OriginFetch;
  html: HtmlEngine;
  out: string;
  /** Channel pages and feeds: original URLs or mirror paths. */
  from: string[];
  limit: number;
  since: Date | null;
  format: 'html' | 'markdown' | 'both';
  assets: 'copy' | 'link' | 'none';
  /** The live mirror, e.g. "https://mirror.example" (no trailing slash), or null. */
  linkBase: string | null;
  dryRun: boolean;
  concurrency: number;
  delayMs: number;
  retries: number;
  backoffMs: number;
  maxAssetBytes: number;
  maxPageBytes: number;
  maxAssets: number;
  onProgress?(done: number, total: number, label: string): void;
}

export interface ExportResult {
  out: string;
  dryRun: boolean;
  channels: number;
  pages: number;
  assets: number;
  /** Requests answered 200 / 304. */
  fetched: number;
  notModified: number;
  /** Output files (bookkeeping under .edgemirror/ left out) that are new, changed, removed, unchanged. */
  added: string[];
  changed: string[];
  removed: string[];
  unchanged: number;
  warnings: string[];
}

/** The export could not be completed; the previous export (if any) is untouched. */
export class ExportError extends Error {
  constructor(
    readonly headline: string,
    readonly lines: string[] = [],
  ) {
    super([headline, ...lines].join('\n'));
    this.name = 'ExportError';
  }
}

const STATE_DIR = '.edgemirror';
const CACHE_DIR = `${STATE_DIR}/cache`;
const MAX_REDIRECTS = 5;
const MAX_ITEMS = 10_000;
const USER_AGENT = 'Mozilla/5.0 (compatible; edgemirror export)';

interface Fetched {
  /** The path the content came from after redirects. */
  path: string;
  contentType: string;
  bytes: Uint8Array;
  notModified: boolean;
}

interface PageInfo {
  /** Output files of the page. */
  html: string;
  md: string;
  originalUrl: string;
  title: string;
  date: number | null;
  /** The pipeline's output (UTF-8 HTML). */
  text: string;
  resources: Set<string>;
  /** Where the page came from after redirects: its relative URLs are read against it. */
  docPath: string;
}

interface Channel {
  source: string;
  dir: string;
  title: string;
  items: string[];
}

export async function runExport(o: ExportOptions): Promise<ExportResult> {
  const out = path.resolve(o.out);
  const site = o.site;
  const mapper = new SiteMapper(site);
  const root: DocContext = { origin: mapper.root, url: mapper.root.url + '/', mirrorOrigin: EXPORT_MIRROR_ORIGIN };
  for (const selector of [...site.export.remove, ...site.export.contentSelector]) {
    const problem = o.html.checkSelector(selector);
    if (problem) throw new ExportError(`invalid selector ${JSON.stringify(selector)} in sites[${JSON.stringify(site.name)}].export: ${problem}`);
  }
  const articlePattern = new RegExp(site.export.articlePattern);

  // ── the previous export ──
  let previous: Manifest | null = null;
  if (existsSync(out)) {
    const entries = await fs.readdir(out);
    previous = await readManifest(path.join(out, MANIFEST_FILE));
    if (!previous && entries.length > 0) {
      throw new ExportError(`${out} is not empty and holds no previous export (${MANIFEST_FILE})`, ['give an empty or new directory: an export replaces the whole directory']);
    }
    if (previous && previous.version !== EXPORT_FORMAT_VERSION) previous = null;
  }
  const optionsKey = JSON.stringify({ format: o.format, assets: o.assets, linkBase: o.linkBase });

  // ── the live pipeline, one site answering every host, no cache ──
  const warnings: string[] = [];
  let retries = 0;
  const single: SiteConfig = { ...site, hosts: ['*'] };
  const config: MirrorConfig = { ...o.config, server: { ...o.config.server, accessLog: 'off' }, cache: { ...o.config.cache, enabled: false }, sites: [single] };
  const polite = politeOriginFetch(o.fetchOrigin, {
    concurrency: o.concurrency,
    delayMs: o.delayMs,
    retries: o.retries,
    backoffMs: o.backoffMs,
    onRetry: () => void retries++,
  });
  const mirror: Mirror = createMirror({ config, fetchOrigin: polite, html: o.html });

  let done = 0;
  let total = 0;
  const progress = (label: string) => o.onProgress?.(done, total, label);
  let fetched = 0;
  let notModified = 0;
  const resources: Record<string, ResourceEntry> = {};
  const originalOf = (p: string) => {
    const { origin, path: rest } = mapper.toOrigin(p);
    return origin.url + rest;
  };

  /** The pipeline's answer for a mirror path: conditional when the previous export has it, redirects followed. */
  async function fetchMirror(mirrorPath: string, cap: number, usable: (prev: ResourceEntry) => Promise<boolean>): Promise<Fetched> {
    const prev = previous?.resources[mirrorPath];
    const conditional = prev && (prev.etag || prev.lastModified) && (await usable(prev));
    let current = mirrorPath;
    for (let hop = 0; ; hop++) {
      const headers = new Headers({ 'user-agent': USER_AGENT, accept: 'text/html,application/xhtml+xml,application/xml,*/*;q=0.8', 'accept-language': 'zh-CN,zh;q=0.9,en;q=0.5' });
      if (conditional && hop === 0) {
        if (prev.etag) headers.set('if-none-match', prev.etag);
        if (prev.lastModified) headers.set('if-modified-since', prev.lastModified);
      }
      const res = await mirror.handle(new Request(EXPORT_MIRROR_ORIGIN + current, { headers }));
      if (res.status === 304 && conditional && hop === 0) {
        await res.body?.cancel().catch(() => {});
        notModified++;
        resources[mirrorPath] = prev;
        return { path: prev.redirect ?? current, contentType: prev.type, bytes: new Uint8Array(), notModified: true };
      }
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location && hop < MAX_REDIRECTS) {
        await res.body?.cancel().catch(() => {});
        const next = mirrorRef(location, current, mapper, root);
        if (!next) throw new FetchError(`${originalOf(mirrorPath)} redirects off the site, to ${location}`);
        current = next.path;
        continue;
      }
      if (res.status !== 200) {
        await res.body?.cancel().catch(() => {});
        // 502/504 are the pipeline's own answers when the origin cannot be reached or does not answer.
        throw new FetchError(`${originalOf(current)}: the origin answered ${res.status}${res.status === 502 || res.status === 504 ? ' (could not be reached)' : ''}`, res.status);
      }
      const bytes = await readCapped(res.body, cap, originalOf(current));
      fetched++;
      const type = res.headers.get('content-type') ?? '';
      const entry: ResourceEntry = { url: originalOf(mirrorPath), type, sha256: sha256(bytes) };
      const etag = res.headers.get('etag');
      const lastModified = res.headers.get('last-modified');
      if (etag) entry.etag = etag;
      if (lastModified) entry.lastModified = lastModified;
      if (current !== mirrorPath) entry.redirect = current;
      resources[mirrorPath] = entry;
      return { path: current, contentType: type, bytes, notModified: false };
    }
  }

  /** A text resource (page, feed, stylesheet): the pipeline's output, from the origin or, on 304, the previous run's cache. */
  async function fetchText(mirrorPath: string): Promise<{ text: string; type: string; path: string }> {
    const cacheFile = (p: string) => path.join(out, CACHE_DIR, sha256(p).slice(0, 24));
    let cached: string | null = null;
    const got = await fetchMirror(mirrorPath, o.maxPageBytes, async (prev) => {
      try {
        const text = await fs.readFile(cacheFile(mirrorPath), 'utf8');
        if (sha256(text) !== prev.sha256) return false;
        cached = text;
        return true;
      } catch {
        return false;
      }
    });
    const text = got.notModified ? cached! : new TextDecoder().decode(got.bytes);
    cacheWrites.set(`${CACHE_DIR}/${sha256(mirrorPath).slice(0, 24)}`, text);
    return { text, type: got.contentType, path: got.path };
  }
  const cacheWrites = new Map<string, string>();
  const pageMeta = new Map<string, { title: string; date: number | null }>();

  // ── sources: feeds and channel pages ──
  const sources = (o.from.length ? o.from : site.export.from).map((s) => sourcePath(s, mapper, root));
  if (sources.length === 0) throw new ExportError('nothing to export: give --from (a feed or channel page) or set the site\'s export.from');
  total = sources.length;
  const channels: Channel[] = [];
  const failures: string[] = [];
  for (const source of [...new Set(sources)]) {
    progress(`reading ${originalOf(source)}`);
    let got: { text: string; type: string; path: string };
    try {
      got = await fetchText(source);
    } catch (err) {
      failures.push(describe(err));
      break;
    }
    done++;
    const isFeed = /xml|rss|atom/i.test(got.type) || /^\s*<\?xml/.test(got.text);
    let items: { path: string; title: string; date: number | null }[];
    let title: string;
    if (isFeed) {
      const feed = parseFeed(got.text, MAX_ITEMS);
      title = feed.title;
      items = [];
      for (const item of feed.items) {
        const ref = mirrorRef(item.link, source, mapper, root);
        if (ref) items.push({ path: ref.path, title: item.title, date: item.date });
      }
    } else {
      const found = await collectLinks(o.html, got.text, (raw) => mirrorRef(raw, got.path, mapper, root)?.path ?? null, site.export.remove);
      title = found.title;
      items = found.links.filter((p) => articlePattern.test(p.split('?', 1)[0]!)).map((p) => ({ path: p, title: '', date: null }));
    }
    if (o.since) items = items.filter((i) => i.date === null || i.date >= o.since!.getTime());
    // Newest first; undated items keep the order the source lists them in (newest first on channel pages).
    const order = new Map(items.map((item, i) => [item, i]));
    items.sort((a, b) => (b.date ?? 0) - (a.date ?? 0) || order.get(a)! - order.get(b)!);
    const seen = new Set<string>();
    items = items.filter((i) => !seen.has(i.path) && seen.add(i.path)).slice(0, o.limit);
    channels.push({ source, dir: channelDir(source), title: title || source, items: items.map((i) => i.path) });
    for (const item of items) {
      const known = pageMeta.get(item.path);
      if (!known || (!known.title && item.title)) pageMeta.set(item.path, { title: item.title, date: item.date });
    }
  }
  if (failures.length) throw failed(failures, previous !== null, out);

  // ── where every exported page goes ──
  /** Mirror path → output files, for pages and channel indexes. */
  const targets = new Map<string, { html: string; md: string }>();
  for (const ch of channels) {
    const files = { html: `${ch.dir}/index.html`, md: `${ch.dir}/README.md` };
    targets.set(ch.source, files);
    // A feed's channel page (/gb/nsc412.xml → /gb/nsc412.htm): links to it go to the index too.
    const page = ch.source.replace(/\.(?:xml|rss|atom)$/i, '');
    if (page !== ch.source) for (const ext of ['.htm', '.html']) if (!targets.has(page + ext)) targets.set(page + ext, files);
  }
  let pagePaths = [...pageMeta.keys()].sort();
  const missing = new Set<string>();
  for (const p of pagePaths) {
    const base = pageBase(p);
    if (!targets.has(p)) targets.set(p, { html: `${base}.html`, md: `${base}.md` });
  }

  // ── pages: the pipeline's output, and what they load ──
  total += pagePaths.length;
  const pages = new Map<string, PageInfo>();
  await settle(
    pagePaths,
    o.concurrency,
    async (p) => {
      let got: { text: string; path: string };
      try {
        got = await fetchText(p);
      } catch (err) {
        // Gone at the origin (404 …): not in the copy. Anything else (5xx, unreachable) stops the export.
        if (!isMissing(err)) throw err;
        warnings.push(`page left out: ${describe(err)}`);
        missing.add(p);
        done++;
        return;
      }
      const resourcesOf = new Set<string>();
      const found = await collectLinks(o.html, got.text, null, site.export.remove, (raw) => {
        const ref = mirrorRef(raw, got.path, mapper, root);
        if (ref) resourcesOf.add(ref.path);
      });
      const meta = pageMeta.get(p)!;
      pages.set(p, { ...targets.get(p)!, originalUrl: originalOf(p), title: meta.title || found.title || p, date: meta.date, text: got.text, resources: resourcesOf, docPath: got.path });
      done++;
      progress(`page ${originalOf(p)}`);
    },
    failures,
  );
  if (failures.length) throw failed(failures, previous !== null, out);
  if (missing.size) {
    pagePaths = pagePaths.filter((p) => !missing.has(p));
    for (const p of missing) targets.delete(p);
    for (const ch of channels) ch.items = ch.items.filter((p) => !missing.has(p));
  }

  // ── a fresh tree beside the output ──
  const tmp = path.join(path.dirname(out), `.${path.basename(out)}.export-${process.pid}`);
  if (!o.dryRun) {
    await fs.rm(tmp, { recursive: true, force: true });
    await fs.mkdir(tmp, { recursive: true });
  }
  const files: Record<string, string> = {};
  const added: string[] = [];
  const changed: string[] = [];
  async function writeOut(rel: string, data: string | Uint8Array): Promise<void> {
    const hash = sha256(data);
    if (files[rel] === hash) return; // the same content-addressed asset again
    files[rel] = hash;
    const before = previous?.files[rel];
    const isState = rel.startsWith(STATE_DIR + '/');
    if (before !== hash && !isState) (before === undefined ? added : changed).push(rel);
    if (o.dryRun) return;
    const dest = path.join(tmp, rel);
    await fs.mkdir(path.dirname(dest), { recursive: true });
    if (before === hash) {
      // Unchanged: the previous file itself (same inode, same mtime), not a rewrite.
      try {
        await fs.link(path.join(out, rel), dest);
        return;
      } catch {
        // not there any more, or another file system: write it
      }
    }
    await fs.writeFile(dest, data);
  }

  try {
    // ── assets ──
    const assetFiles = new Map<string, string>();
    if (o.assets === 'copy') {
      const wanted = new Set<string>();
      for (const p of pagePaths) for (const r of pages.get(p)!.resources) if (!targets.has(r.split('#', 1)[0]!)) wanted.add(r);
      const list = [...wanted].sort();
      if (list.length > o.maxAssets) {
        warnings.push(`${list.length} assets wanted, ${o.maxAssets} copied (--max-assets); the rest ${o.linkBase ? 'load from the live mirror' : 'are dropped'}`);
        list.length = o.maxAssets;
      }
      total += list.length;
      const copyAsset = async (p: string, depth: number): Promise<void> => {
        let got: { bytes: Uint8Array; type: string; path: string };
        try {
          const isCss = /\.css$/i.test(p.split('?', 1)[0]!);
          if (isCss || previous?.resources[p]?.type.startsWith('text/css')) {
            const t = await fetchText(p);
            got = { bytes: new TextEncoder().encode(t.text), type: t.type, path: t.path };
          } else {
            let old: Uint8Array | null = null;
            const f = await fetchMirror(p, o.maxAssetBytes, async (prev) => {
              if (!prev.file) return false;
              try {
                old = new Uint8Array(await fs.readFile(path.join(out, prev.file)));
                return sha256(old) === prev.sha256;
              } catch {
                return false;
              }
            });
            got = { bytes: f.notModified ? old! : f.bytes, type: f.contentType, path: f.path };
          }
        } catch (err) {
          if (isMissing(err)) {
            warnings.push(`asset not copied: ${describe(err)}`);
            done++;
            return;
          }
          throw err;
        }
        let bytes = got.bytes;
        if (/^text\/css/i.test(got.type)) {
          // A stylesheet's own fonts and images, one level deep, then its URLs pointed at them.
          const css = new TextDecoder().decode(bytes);
          const deps = new Set<string>();
          rewriteCss(css, (u) => {
            const ref = mirrorRef(u, got.path, mapper, root);
            if (ref && !/\.css$/i.test(ref.path.split('?', 1)[0]!)) deps.add(ref.path);
            return null;
          });
          if (depth === 0) {
            for (const d of [...deps].sort()) {
              if (!inFlight.has(d)) total++;
              await copyOnce(d, 1);
            }
          }
          // Every copied asset lives in assets/: the stylesheet's own name does not change its relative URLs.
          const file = 'assets/stylesheet.css';
          bytes = new TextEncoder().encode(
            rewriteCss(css, (u) => {
              const r = resolveFor(file, got.path, 'html')(u, 'resource');
              return r === KEEP ? null : (r ?? 'data:,');
            }),
          );
        }
        const name = `assets/${sha256(bytes).slice(0, 20)}.${assetExtension(got.type, p)}`;
        resources[p] = { ...resources[p]!, file: name };
        assetFiles.set(p, name);
        await writeOut(name, bytes);
        done++;
        progress(`asset ${originalOf(p)}`);
      };
      const inFlight = new Map<string, Promise<void>>();
      const copyOnce = (p: string, depth: number) => {
        let job = inFlight.get(p);
        if (!job) inFlight.set(p, (job = copyAsset(p, depth)));
        return job;
      };
      await settle(list, o.concurrency, (p) => copyOnce(p, 0), failures);
      if (failures.length) throw failed(failures, previous !== null, out);
    }

    /** The resolver of one output file (rules.ts): `docPath` is the mirror path its relative URLs are read against. */
    function resolveFor(file: string, docPath: string, flavor: 'html' | 'md'): Resolve {
      return (raw: string, role: Role) => {
        const ref = mirrorRef(raw, docPath, mapper, root);
        if (!ref) return KEEP;
        if (role !== 'absolute') {
          const target = targets.get(ref.path);
          if (target && role === 'page') return relativeHref(file, flavor === 'md' ? target.md : target.html) + ref.fragment;
          const asset = assetFiles.get(ref.path);
          if (asset) return relativeHref(file, asset) + ref.fragment;
        }
        if (!o.linkBase || (role === 'resource' && o.assets === 'none')) return null;
        return o.linkBase + ref.path + ref.fragment;
      };
    }

    const exportPass = async (text: string, file: string, docPath: string, flavor: 'html' | 'md') =>
      readText(o.html.rewrite(stringStream(text), (registry) => registerExportRules(registry, { resolve: resolveFor(file, docPath, flavor), remove: site.export.remove })));

    const navLine = (file: string): string[] => {
      const resolve = resolveFor(file, '/', 'md');
      return site.nav.map((item) => {
        const r = resolve(item.href, 'page');
        const href = r === KEEP ? item.href : r;
        return href === null ? escapeMarkdown(item.label) : `[${escapeMarkdown(item.label)}](${href.replace(/[()\s]/g, encodeURIComponent)})`;
      });
    };
    const wantHtml = o.format !== 'markdown';
    const wantMd = o.format !== 'html';

    // ── pages ──
    for (const p of pagePaths) {
      const page = pages.get(p)!;
      if (wantHtml) await writeOut(page.html, await exportPass(page.text, page.html, page.docPath, 'html'));
      if (wantMd) {
        const html = await exportPass(page.text, page.md, page.docPath, 'md');
        const { body } = await extractContent(o.html, html, site.export.contentSelector);
        await writeOut(page.md, renderMarkdown({ title: page.title, nav: navLine(page.md), body: htmlBlock(body), footer: footerHtml(site, page.originalUrl) }));
      }
    }

    // ── indexes: one per channel (newest first), one for the whole copy ──
    const dateText = (d: number | null) => (d === null ? '' : new Date(d).toISOString().slice(0, 10));
    const indexHtml = (title: string, items: { href: string; title: string; date: string }[]) =>
      `<!DOCTYPE html>\n<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title></head>\n<body>\n${navHtml(site)}\n<h1>${escapeHtml(title)}</h1>\n<ul class="export-index">\n${items
        .map((i) => `<li><a href="${escapeHtml(i.href)}">${escapeHtml(i.title)}</a>${i.date ? ` <time>${i.date}</time>` : ''}</li>`)
        .join('\n')}\n</ul>\n</body></html>\n`;
    const indexMd = (file: string, title: string, items: { href: string; title: string; date: string }[]) => {
      const resolve = resolveFor(file, '/', 'md');
      const lines = items.map((i) => {
        const r = resolve(i.href, 'page');
        return `- [${escapeMarkdown(i.title)}](${r === KEEP || r === null ? i.href : r})${i.date ? ` · ${i.date}` : ''}`;
      });
      return [`# ${escapeMarkdown(title)}`, '', ...(site.nav.length ? [navLine(file).join(' | '), ''] : []), ...lines, ''].join('\n');
    };
    for (const ch of channels) {
      const items = ch.items.map((p) => ({ href: p, title: pages.get(p)!.title, date: dateText(pages.get(p)!.date) }));
      const files = targets.get(ch.source)!;
      if (wantHtml) await writeOut(files.html, await exportPass(indexHtml(ch.title, items), files.html, '/', 'html'));
      if (wantMd) await writeOut(files.md, indexMd(files.md, ch.title, items));
    }
    const list = channels.map((ch) => ({ href: ch.source, title: ch.title, date: '' }));
    if (wantHtml) await writeOut('index.html', await exportPass(indexHtml(site.name, list), 'index.html', '/', 'html'));
    if (wantMd) await writeOut('README.md', indexMd('README.md', site.name, list));

    // ── bookkeeping: the pipeline's output of each text resource, and the manifest ──
    for (const [rel, text] of [...cacheWrites].sort(([a], [b]) => (a < b ? -1 : 1))) await writeOut(rel, text);
    const manifest: Manifest = { version: EXPORT_FORMAT_VERSION, site: site.name, options: optionsKey, resources, files };
    const manifestText = serializeManifest(manifest);
    if (!o.dryRun) {
      await fs.mkdir(path.join(tmp, STATE_DIR), { recursive: true });
      const old = previous ? await fs.readFile(path.join(out, MANIFEST_FILE), 'utf8').catch(() => null) : null;
      if (old !== manifestText || !(await fs.link(path.join(out, MANIFEST_FILE), path.join(tmp, MANIFEST_FILE)).then(() => true, () => false))) {
        await fs.writeFile(path.join(tmp, MANIFEST_FILE), manifestText);
      }
    }

    const removed = Object.keys(previous?.files ?? {})
      .filter((rel) => !(rel in files) && !rel.startsWith(STATE_DIR + '/'))
      .sort();
    const result: ExportResult = {
      out,
      dryRun: o.dryRun,
      channels: channels.length,
      pages: pagePaths.length,
      assets: assetFiles.size,
      fetched,
      notModified,
      added: added.sort(),
      changed: changed.sort(),
      removed,
      unchanged: Object.keys(files).filter((f) => !f.startsWith(STATE_DIR + '/')).length - added.length - changed.length,
      warnings: retries ? [...warnings, `${retries} request${retries === 1 ? '' : 's'} retried`] : warnings,
    };
    if (o.dryRun) return result;
    // ── into place ──
    if (existsSync(out)) {
      const old = path.join(path.dirname(out), `.${path.basename(out)}.old-${process.pid}`);
      await fs.rm(old, { recursive: true, force: true });
      await fs.rename(out, old);
      await fs.rename(tmp, out);
      await fs.rm(old, { recursive: true, force: true });
    } else {
      await fs.mkdir(path.dirname(out), { recursive: true });
      await fs.rename(tmp, out);
    }
    return result;
  } catch (err) {
    if (!o.dryRun) await fs.rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

class FetchError extends Error {
  constructor(
    message: string,
    /** The origin's status, or null when it could not be reached at all. */
    readonly status: number | null = null,
  ) {
    super(message);
  }
}

/** An asset the origin does not have: the page is exported without it. Anything else stops the export. */
function isMissing(err: unknown): boolean {
  return err instanceof TooLargeError || (err instanceof FetchError && err.status !== null && err.status >= 400 && err.status < 500 && err.status !== 429);
}

function describe(err: unknown): string {
  if (err instanceof FetchError || err instanceof TooLargeError) return err.message;
  const e = err as Error & { cause?: Error };
  return `${e?.message ?? err}${e?.cause?.message ? ` (${e.cause.message})` : ''}`;
}

function failed(failures: string[], hadPrevious: boolean, out: string): ExportError {
  const shown = failures.slice(0, 10);
  if (failures.length > shown.length) shown.push(`… and ${failures.length - shown.length} more`);
  return new ExportError(`export failed: ${failures.length} request${failures.length === 1 ? '' : 's'} could not be completed; ${hadPrevious ? `the previous export in ${out} is unchanged` : 'nothing was written'}`, shown);
}

/**
 * Runs `job` for every item, `width` at a time (the pipeline's origin timeout starts when a request is
 * handed to it: requests must not wait in the polite queue behind hundreds of others). Failures are
 * collected in input order instead of thrown; after the first, no new job starts.
 */
async function settle<T>(items: readonly T[], width: number, job: (item: T) => Promise<void>, failures: string[]): Promise<void> {
  const errors: (string | undefined)[] = new Array(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (next < items.length && !failed) {
      const i = next++;
      try {
        await job(items[i]!);
      } catch (err) {
        errors[i] = describe(err);
        failed = true;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(width, items.length)) }, worker));
  for (const e of errors) if (e !== undefined) failures.push(e);
}

/** --from: an original URL on the site, or a mirror path. */
function sourcePath(text: string, mapper: SiteMapper, root: DocContext): string {
  if (text.startsWith('/') && !text.startsWith('//')) return text;
  const hit = /^https?:\/\//i.test(text) ? mapper.toMirror(text, root) : null;
  if (hit === null) throw new ExportError(`--from ${JSON.stringify(text)} is neither a mirror path (/gb/nsc412.xml) nor a URL on one of the site's origins`);
  return hit.replace(/#.*$/s, '') || '/';
}

/** Links (<a href>) in document order and the <title> of a page, through the HTML engine; `onResource` sees every resource URL. */
async function collectLinks(
  engine: HtmlEngine,
  html: string,
  toPath: ((raw: string) => string | null) | null,
  remove: readonly string[],
  onResource?: (raw: string) => void,
): Promise<{ title: string; links: string[] }> {
  const links: string[] = [];
  const seen = new Set<string>();
  let title = '';
  const resolve: Resolve = (raw, role) => {
    if (role === 'page' && toPath) {
      const p = toPath(raw);
      if (p !== null && !seen.has(p)) {
        seen.add(p);
        links.push(p);
      }
    } else if (role === 'resource') onResource?.(raw);
    return KEEP;
  };
  await readText(
    engine.rewrite(stringStream(html), (registry) => {
      registry.on('title', {
        text(chunk) {
          if (title.length < 1000) title += chunk.text;
        },
      });
      registerExportRules(registry, { resolve, remove });
    }),
  );
  return { title: decodeEntities(title).replace(/\s+/g, ' ').trim(), links };
}
