import type { SiteConfig } from '../config/types.ts';
import { SiteMapper, type DocContext } from '../mapping/url-mapper.ts';

/**
 * The mapping the client shim applies to URLs page scripts build at run time: the server's SiteMapper,
 * bundled into the shim (one implementation), fed the site's origins as JSON. The mirror's own origin
 * and the page's origin come from the browser's location, so cached HTML names no mirror host.
 */

/** What the shim is told about a site: each origin's url, mount and aliases. */
export type ShimSiteJson = [url: string, mount: string, aliases: string[]][];

export function shimSiteJson(site: Pick<SiteConfig, 'origins'>): string {
  const json: ShimSiteJson = site.origins.map((o) => [o.url, o.mount, o.aliases]);
  return JSON.stringify(json);
}

export interface RuntimeMapper {
  /** The mirror URL for a URL a script built, or null when it stays as it is. Never throws; idempotent. */
  map(raw: unknown): string | null;
  /** Origin URL prefixes in markup or text (innerHTML, document.write) → absolute mirror URLs. */
  text(text: string): string;
}

/** Root-relative, as the HTML URL parser sees it after leading whitespace. */
const ROOT_RELATIVE = /^[\t\n\f\r ]*\/(?![/\\])/;

export function createRuntimeMapper(json: ShimSiteJson, mirrorOrigin: string, pathname: string): RuntimeMapper {
  // The constructor reads only `origins`; links and the rest are never consulted here.
  const site = { origins: json.map(([url, mount, aliases]) => ({ url, mount, aliases, upstream: null })) };
  const mapper = new SiteMapper(site as unknown as SiteConfig);
  const { origin, path } = mapper.toOrigin(pathname);
  const doc: DocContext = { origin, url: origin.url + path, mirrorOrigin };
  const mounted = origin.mountBase !== '';
  // In a mounted origin's page a root-relative URL belongs to that origin ("/x" → "/_i/x"), and the
  // result is made absolute so that mapping it again changes nothing. A root-relative URL already on
  // a mount (or the mirror's own endpoints) is a mirror URL the server wrote: left alone.
  const mirrorPaths = ['/_mirror/', ...mapper.origins.filter((o) => o.mountBase !== '').map((o) => o.mount)];
  return {
    map(raw) {
      if (typeof raw !== 'string' || raw.length > 65536) return null;
      try {
        if (mounted && ROOT_RELATIVE.test(raw)) {
          const trimmed = raw.trimStart();
          if (mirrorPaths.some((p) => trimmed.startsWith(p))) return null;
        }
        return mapper.toMirror(raw, doc, mounted);
      } catch {
        return null;
      }
    },
    text(text) {
      try {
        return mapper.rewriteText(text, mirrorOrigin);
      } catch {
        return text;
      }
    },
  };
}
