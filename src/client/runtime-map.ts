import type { SiteConfig } from '../config/types.ts';
import { ROOT_ESCAPE, SiteMapperCore, type DocContext } from '../mapping/url-mapper.ts';

/**
 * The mapping the client shim applies to URLs page scripts build at run time: the server's mapper
 * without its spelling reader (SiteMapperCore, one implementation), fed the site's origins as JSON.
 * Odd spellings of absolute URLs (backslashes, userinfo, a trailing dot…) are read by the browser's
 * own URL parser first, which is the one that will load them. The mirror's own origin and the page's
 * origin come from the browser's location, so cached HTML names no mirror host.
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
  const mapper = new SiteMapperCore(site as unknown as SiteConfig);
  const { origin, path } = mapper.toOrigin(pathname);
  const doc: DocContext = { origin, url: origin.url + path, mirrorOrigin };
  const page = mirrorOrigin + pathname;
  const mounted = origin.mountBase !== '';
  // A root-relative URL already on a mount, on the root origin's escape prefix or on the mirror's own
  // endpoints is a mirror URL the server wrote (scripts copy rewritten attributes): left alone in every
  // page, so that mapping twice changes nothing. In a mounted origin's page any other root-relative
  // URL belongs to that origin ("/x" → "/_i/x"), made absolute for the same reason.
  const mirrorPaths = [ROOT_ESCAPE + '/', '/_mirror/', ...mapper.origins.filter((o) => o.mountBase !== '').map((o) => o.mount)];
  return {
    map(raw) {
      if (typeof raw !== 'string' || raw.length > 65536) return null;
      try {
        if (ROOT_RELATIVE.test(raw)) {
          const trimmed = raw.trimStart();
          if (mirrorPaths.some((p) => trimmed.startsWith(p))) return null;
        }
        // Anything but the plain spelling of an origin URL, as the browser's URL parser reads it (relative
        // URLs land on the mirror and stay; other schemes stay). "host." is the same DNS name as "host";
        // userinfo is dropped (the mirror passes no one's credentials on).
        const u = new URL(raw, page);
        u.username = u.password = '';
        u.hostname = u.hostname.replace(/\.$/, '');
        // A scheme-relative URL with :80/:443 is still the blocked host (the server maps it too).
        if (u.port === '80' || u.port === '443') u.port = '';
        return mapper.toMirror(raw, doc, mounted) ?? mapper.toMirror(u.href, doc, mounted);
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
