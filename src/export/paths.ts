import { createHash } from 'node:crypto';
import path from 'node:path';
import type { DocContext, SiteMapper } from '../mapping/url-mapper.ts';

/**
 * Where things go in an export, and how a URL found in a mirrored page is read back as a mirror path.
 *
 * A page at mirror path `/gb/21/3/2/n12784933.htm` is written to `gb/21/3/2/n12784933.html` (and `.md`);
 * a directory path `/gb/` to `gb/index.html`; a query adds a short hash (`list_3f2a9c1b.html`). Links
 * between files are relative and name the file itself (no directory indexes), so they work on any host
 * and from file://.
 */

/**
 * The mirror's origin while pages go through the live pipeline for an export: absolute mirror URLs
 * (og: meta, scripts) come out on this reserved name (RFC 2606 `.invalid`) and are resolved like
 * root-relative ones; it never reaches the output.
 */
export const EXPORT_MIRROR_ORIGIN = 'https://edgemirror-export.invalid';

export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Characters that are unsafe in file names on some system a copy may land on. */
const UNSAFE = /[<>:"\\|?*\x00-\x1f\x7f]/g;

/** One path segment as a file name: percent-decoded where that gives a safe name, never "." or "..". */
function fileSegment(segment: string): string {
  let name = segment;
  try {
    name = decodeURIComponent(segment);
  } catch {
    // keep it encoded
  }
  name = name.replace(UNSAFE, '_').replace(/\//g, '_');
  if (name === '' || name === '.' || name === '..') name = `_${name.replace(/\./g, '_')}`;
  return name.length > 200 ? name.slice(0, 180) + '_' + sha256(name).slice(0, 12) : name;
}

/**
 * The output name of a page, without extension: `/gb/21/3/2/n1.htm` → `gb/21/3/2/n1`,
 * `/gb/` → `gb/index`, `/gb/list.htm?page=2` → `gb/list_<hash>`.
 */
export function pageBase(mirrorPath: string): string {
  const q = mirrorPath.indexOf('?');
  const pathname = q < 0 ? mirrorPath : mirrorPath.slice(0, q);
  const query = q < 0 ? '' : mirrorPath.slice(q + 1);
  const segments = pathname.split('/').slice(1);
  let last = segments.pop() ?? '';
  if (last === '') last = 'index';
  else last = last.replace(/\.(?:s?html?|php\d?|aspx?|jsp|cgi)$/i, '');
  const dirs = segments.filter((s) => s !== '').map(fileSegment);
  const name = fileSegment(last) + (query ? `_${sha256(query).slice(0, 8)}` : '');
  return [...dirs, name].join('/');
}

/** The directory of a channel's index: `/gb/nsc412.xml` → `gb/nsc412`. */
export function channelDir(mirrorPath: string): string {
  return pageBase(mirrorPath.replace(/\.(?:xml|rss|atom)(?=$|\?)/i, ''));
}

/** A relative href from one output file to another (both relative to the output root), segments percent-encoded. */
export function relativeHref(fromFile: string, toFile: string): string {
  const rel = path.posix.relative(path.posix.dirname(fromFile), toFile);
  return rel
    .split('/')
    .map((s) => (s === '..' ? s : encodeURIComponent(s)))
    .join('/');
}

export interface MirrorRef {
  /** Mirror path and query, e.g. `/gb/21/3/2/n1.htm` or `/_i/assets/a.jpg?ver=2`. */
  path: string;
  /** "" or "#…". */
  fragment: string;
}

const SCHEME = /^[a-z][a-z0-9+.-]*:/i;
const WS = /^[\t\n\f\r ]+|[\t\n\f\r ]+$/g;

/**
 * A URL as the live pipeline left it in a page (root-relative mirror path, absolute on
 * EXPORT_MIRROR_ORIGIN, still on an origin host for links the site keeps, or relative to the
 * document) → the mirror path it stands for; null for fragments, other schemes and other hosts.
 */
export function mirrorRef(raw: string, docMirrorPath: string, mapper: SiteMapper, root: DocContext): MirrorRef | null {
  const value = raw.replace(WS, '');
  if (value === '' || value.startsWith('#')) return null;
  let target: string;
  if (value.toLowerCase().startsWith(EXPORT_MIRROR_ORIGIN)) {
    target = value.slice(EXPORT_MIRROR_ORIGIN.length);
    if (!/^[/?#]/.test(target)) {
      if (target !== '') return null; // e.g. "https://edgemirror-export.invalid.example"
      target = '/';
    } else if (!target.startsWith('/')) target = '/' + target;
  } else if (value.startsWith('/') && !value.startsWith('//') && !value.startsWith('/\\')) {
    target = value;
  } else if (/^(?:https?:)?[/\\]{2}/i.test(value)) {
    if (!mapper.matchAbsolute(value)) return null;
    target = mapper.toMirror(value, root)!;
  } else if (SCHEME.test(value)) {
    return null;
  } else {
    try {
      const u = new URL(value, EXPORT_MIRROR_ORIGIN + docMirrorPath);
      target = u.pathname + u.search + u.hash;
    } catch {
      return null;
    }
  }
  const hash = target.indexOf('#');
  return hash < 0 ? { path: target, fragment: '' } : { path: target.slice(0, hash), fragment: target.slice(hash) };
}

const EXTENSIONS: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/gif': 'gif',
  'image/webp': 'webp',
  'image/avif': 'avif',
  'image/svg+xml': 'svg',
  'image/x-icon': 'ico',
  'image/vnd.microsoft.icon': 'ico',
  'text/css': 'css',
  'font/woff2': 'woff2',
  'font/woff': 'woff',
  'font/ttf': 'ttf',
  'font/otf': 'otf',
  'application/font-woff': 'woff',
  'video/mp4': 'mp4',
  'audio/mpeg': 'mp3',
};

/** The extension of a copied asset: from its content type, else its path, else "bin". */
export function assetExtension(contentType: string | null, mirrorPath: string): string {
  const type = (contentType ?? '').split(';', 1)[0]!.trim().toLowerCase();
  if (EXTENSIONS[type]) return EXTENSIONS[type]!;
  const m = /\.([a-z0-9]{1,5})$/i.exec(mirrorPath.split('?', 1)[0]!);
  return m ? m[1]!.toLowerCase() : 'bin';
}
