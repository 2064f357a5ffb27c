/**
 * The real pages of ../shared/fixtures/real-pages/ (manifest.json: original URL, charset,
 * Content-Type, the origins a config needs) served by a local origin under their original URLs, and
 * the mirror config for them. Shared by the conformance suite and the browser test.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { SiteConfigInput } from '../../src/config/types.ts';
import { testSiteConfig } from './mirror.ts';
import { startPageOrigin, type PageOrigin } from './page-origin.ts';

export const REAL_PAGES_DIR = path.resolve(import.meta.dirname, '../../../shared/fixtures/real-pages');

export interface ManifestPage {
  file: string;
  url: string;
  charset: string;
  content_type: string;
  site: string;
  wrapper: boolean;
}
export interface Manifest {
  origins: Record<string, { url: string; mount: string; aliases?: string[] }[]>;
  pages: ManifestPage[];
}

export const manifest: Manifest | null = fs.existsSync(path.join(REAL_PAGES_DIR, 'manifest.json'))
  ? JSON.parse(fs.readFileSync(path.join(REAL_PAGES_DIR, 'manifest.json'), 'utf8'))
  : null;

/** The page's bytes as its site served them: the dataset's `<text …>` first line and `</text>` end removed. */
export function pageBytes(page: ManifestPage): Buffer {
  let bytes = fs.readFileSync(path.join(REAL_PAGES_DIR, page.file));
  if (page.wrapper) {
    const firstLine = bytes.indexOf(0x0a);
    bytes = bytes.subarray(firstLine + 1);
    const text = bytes.toString('latin1');
    const end = text.lastIndexOf('</text>');
    if (end >= 0) bytes = bytes.subarray(0, end);
  }
  return bytes;
}

/** Host name for a site's mirror: one proxy serves every site, told apart by Host. */
export const mirrorHost = (site: string) => `${site}.mirror.test`;

/** Sites for the manifest's origins, every origin's `upstream` at the local page origin. */
export function realPageSites(m: Manifest, upstream: string): SiteConfigInput[] {
  return Object.entries(m.origins).map(([name, origins]) => ({
    ...testSiteConfig(upstream),
    name,
    hosts: [mirrorHost(name)],
    origins: origins.map((o) => ({ url: o.url, mount: o.mount, aliases: o.aliases ?? [], upstream })),
    links: { external: 'keep', rules: [] },
    remove: [],
  }));
}

/** Where a legacy-charset page is also served with its charset declared nowhere (header and <meta> gone). */
export const UNDECLARED_PREFIX = '/__undeclared';

/** The page's bytes without any <meta> that declares a charset (an old portal that never declared one). */
export function undeclaredBytes(page: ManifestPage): Buffer {
  const latin = pageBytes(page).toString('latin1').replace(/<meta\b[^>]*charset[^>]*>/gi, '');
  return Buffer.from(latin, 'latin1');
}

/** Serves each page at its original host and path, with the manifest's Content-Type (and legacy ones undeclared too). */
export function startRealPagesOrigin(m: Manifest): Promise<PageOrigin> {
  const byHostPath = new Map(m.pages.map((p) => {
    const u = new URL(p.url);
    return [`${u.host} ${u.pathname}${u.search}`, p] as const;
  }));
  return startPageOrigin((host, reqPath) => {
    if (reqPath.startsWith(UNDECLARED_PREFIX)) {
      const page = byHostPath.get(`${host} ${reqPath.slice(UNDECLARED_PREFIX.length)}`);
      return page && { contentType: 'text/html', body: undeclaredBytes(page) };
    }
    const page = byHostPath.get(`${host} ${reqPath}`);
    return page && { contentType: page.content_type, body: pageBytes(page) };
  });
}

/** The path on the mirror that stands for a page's original URL (its origin is the site's root). */
export function mirrorPathOf(page: ManifestPage): string {
  const u = new URL(page.url);
  return u.pathname + u.search;
}

/** Hosts of a site's origins (url and aliases). */
export function originHosts(m: Manifest, site: string): Set<string> {
  return new Set(m.origins[site]!.flatMap((o) => [o.url, ...(o.aliases ?? [])]).map((u) => new URL(u).hostname));
}

