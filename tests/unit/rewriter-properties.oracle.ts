/**
 * The oracle of tests/unit/rewriter-properties.test.ts: parse5 trees, normalised by the mirror's URL
 * mapping, compared structurally.
 *
 * `snapshot(parse5(input), 'expected')` is what the rewriter's output must parse to: every URL-bearing
 * attribute the HTML rules cover (src/rewrite/url-attributes.ts, src/rewrite/html-rules.ts) mapped,
 * `integrity` dropped where a src/href changed, origin URLs in <script> text made absolute on the
 * mirror, url()/@import in <style> mapped, and <noscript> content (raw text to lol-html and to a
 * browser with scripting on) parsed as the fragment a reader with JavaScript off sees, with its URL
 * attributes mapped. `snapshot(parse5(output), 'actual')` takes the tree as it is.
 *
 * The mapping functions below are written independently of src/mapping/url-mapper.ts, for the URL
 * spellings the generator produces (rewriter-properties.arbitraries.ts): the test must not use the
 * implementation as its own oracle. Only the table of which (tag, attribute) pairs are URLs is shared.
 */
import { html as parse5Html, parse, parseFragment, defaultTreeAdapter } from 'parse5';
import type { DefaultTreeAdapterMap } from 'parse5';
import { lookupUrlAttribute, URL_ATTRIBUTES, type AttributeKind } from '../../src/rewrite/url-attributes.ts';

type P5Node = DefaultTreeAdapterMap['node'];
type P5Element = DefaultTreeAdapterMap['element'];

export const MIRROR_ORIGIN = 'http://mirror.test';

// ---------------------------------------------------------------------------------------------
// The mapping, restated.

/** Origin hosts → mount base (config: www/bare host at "/", i.epochtimes.com at "/_i/"). */
const ORIGIN_HOSTS: Record<string, string> = { 'www.epochtimes.com': '', 'epochtimes.com': '', 'i.epochtimes.com': '/_i' };
const HTML_WS = /^[\t\n\f\r ]+|[\t\n\f\r ]+$/g;

/**
 * An origin URL → its root-relative mirror path; null for anything else. "Origin URL" is whatever
 * the WHATWG URL parser (new URL, as a browser) reads as an origin host: any number of slashes or
 * backslashes after the scheme (two without one), userinfo, a trailing dot, a padded port.
 */
export function expectedPath(raw: string): string | null {
  const url = raw.replace(/^[\x01-\x20]+|[\x01-\x20]+$/g, '').replace(/[\t\n\r]/g, '');
  const m = /^(?:(https?):)?([/\\]*)([^/\\?#]*)([\s\S]*)$/i.exec(url);
  if (!m || m[3] === '' || (!m[1] && m[2]!.length < 2)) return null;
  let parsed: URL;
  try {
    parsed = new URL(`${m[1] ?? 'https'}://${m[3]}/`);
  } catch {
    return null;
  }
  const hostname = parsed.hostname.replace(/\.$/, '');
  const base = parsed.port ? (m[1] === undefined && parsed.port === '80' ? ORIGIN_HOSTS[hostname] : undefined) : ORIGIN_HOSTS[hostname];
  if (base === undefined) return null;
  const rest = m[4]!;
  return base + (rest.startsWith('/') || rest.startsWith('\\') ? '/' + rest.slice(1) : '/' + rest);
}

/** True when a string (an attribute value, a srcset candidate, a CSS url) still points at an origin. */
export function isOriginUrl(raw: string): boolean {
  return expectedPath(raw) !== null;
}

/** srcset: split per the HTML spec's candidate parsing (simplified: the generator writes no parentheses in descriptors). */
function srcsetCandidates(value: string): { url: string; desc: string }[] {
  const out: { url: string; desc: string }[] = [];
  let pos = 0;
  const ws = (c: string | undefined) => c === ' ' || c === '\t' || c === '\n' || c === '\f' || c === '\r';
  while (pos < value.length) {
    while (pos < value.length && (ws(value[pos]) || value[pos] === ',')) pos++;
    if (pos >= value.length) break;
    const start = pos;
    while (pos < value.length && !ws(value[pos])) pos++;
    let url = value.slice(start, pos);
    if (url.endsWith(',')) {
      url = url.replace(/,+$/, '');
      out.push({ url, desc: '' });
      continue;
    }
    const descStart = pos;
    while (pos < value.length && value[pos] !== ',') pos++;
    out.push({ url, desc: value.slice(descStart, pos).replace(HTML_WS, '') });
    pos++;
  }
  return out;
}

export function expectedSrcset(value: string): string {
  const cands = srcsetCandidates(value);
  if (!cands.some((c) => expectedPath(c.url) !== null)) return value;
  return cands.map((c) => (expectedPath(c.url) ?? c.url) + (c.desc ? ' ' + c.desc : '')).join(', ');
}

export function srcsetUrls(value: string): string[] {
  return srcsetCandidates(value).map((c) => c.url);
}

/**
 * CSS: url(…) in its three quotings, @import strings, image-set() strings. Comments and other
 * strings (up to their quote or the end of the line) are skipped, as a CSS tokenizer would.
 */
const CSS_URL =
  /(\/\*[\s\S]*?(?:\*\/|$)|"[^"\n]*"?|'[^'\n]*'?)|(?<![\w-])(url\(\s*)(?:"([^"\n]*)"|'([^'\n]*)'|([^\s'"()]+))(\s*\))|(@import\s+|(?<![\w-])image-set\(\s*)(?:"([^"\n]*)"|'([^'\n]*)')/gi;

export function expectedCss(css: string): string {
  return css.replace(CSS_URL, (whole, skipped, open, dq, sq, uq, close, lead, idq, isq) => {
    if (skipped !== undefined) return whole;
    if (open !== undefined) {
      const url = dq ?? sq ?? uq;
      const q = dq !== undefined ? '"' : sq !== undefined ? "'" : '';
      return `${open}${q}${expectedPath(url) ?? url}${q}${close}`;
    }
    const url = idq ?? isq;
    const q = idq !== undefined ? '"' : "'";
    return `${lead}${q}${expectedPath(url) ?? url}${q}`;
  });
}

export function cssUrls(css: string): string[] {
  const out: string[] = [];
  css.replace(CSS_URL, (whole, skipped, _open, dq, sq, uq, _close, _lead, idq, isq) => {
    if (skipped === undefined) out.push(dq ?? sq ?? uq ?? idq ?? isq);
    return whole;
  });
  return out;
}

/**
 * Script text: origin URL prefixes (absolute, protocol-relative, `\/`-escaped) become absolute mirror
 * URLs in the same spelling: not inside a word or after `\` or `:`, the host not running on into more
 * host characters (README, "script text gets absolute mirror URLs").
 */
const SCRIPT_ORIGIN = /(?<![\w\\:])(https?:)?(\\?\/\\?\/)(www\.epochtimes\.com|epochtimes\.com|i\.epochtimes\.com)(?::443|:80)?(?![\w.-]|:\d)/gi;
export function expectedScript(js: string): string {
  return js.replace(SCRIPT_ORIGIN, (_m, scheme: string | undefined, slashes: string, host: string) => {
    const base = (scheme ? MIRROR_ORIGIN : MIRROR_ORIGIN.slice('http:'.length)) + ORIGIN_HOSTS[host.toLowerCase()];
    return slashes.length > 2 ? base.replace(/\//g, '\\/') : base;
  });
}

// ---------------------------------------------------------------------------------------------
// Snapshots.

export type Snap =
  | { k: 'doc'; mode: string; children: Snap[] }
  | { k: 'doctype'; name: string; publicId: string; systemId: string }
  | { k: 'el'; tag: string; ns: string; attrs: [string, string][]; children: Snap[]; content?: Snap[] }
  | { k: 'text'; v: string }
  | { k: 'comment'; v: string }
  | { k: 'noscript-fragment'; children: Snap[] };

type Side = 'expected' | 'actual';
type Where = 'page' | 'noscript';

function attrKey(a: { name: string; namespace?: string; prefix?: string }): string {
  return a.prefix ? `${a.prefix}:${a.name}` : a.namespace ? `{${a.namespace}}${a.name}` : a.name;
}

function rowValue(kind: AttributeKind, value: string, absolute: boolean): string | null {
  const abs = (p: string | null) => (p !== null && absolute ? MIRROR_ORIGIN + p : p);
  switch (kind) {
    case 'link':
    case 'url':
      return abs(expectedPath(value));
    case 'srcset': {
      const out = expectedSrcset(value);
      return out === value ? null : out;
    }
    case 'url-or-css':
    case 'css': {
      if (kind === 'url-or-css' && !/^\s*url\(/i.test(value)) return expectedPath(value);
      const out = expectedCss(value);
      return out === value ? null : out;
    }
    default:
      // ping, srcdoc, event handlers, data-url …: the generator writes none of these attributes.
      return null;
  }
}

/**
 * The attribute list an element must have after the rules ran, given its parsed input attributes.
 * lol-html matches selectors by local name in every namespace; HTML's tree builder renames a start tag
 * `image` to `img`, which the rules (matching the tag as written) see as `image`: the generator never
 * writes `href` on `<img>`, so an HTML `img` with `href` came from `<image>`.
 */
function expectedAttrs(el: P5Element, where: Where): [string, string][] {
  const attrs: [string, string][] = el.attrs.map((a) => [attrKey(a), a.value]);
  const tag = el.tagName.toLowerCase();
  const get = (name: string) => attrs.find(([n]) => n === name)?.[1];
  const set = (name: string, value: string) => {
    const entry = attrs.find(([n]) => n === name);
    if (entry) entry[1] = value;
  };
  const remove = (name: string) => {
    const i = attrs.findIndex(([n]) => n === name);
    if (i >= 0) attrs.splice(i, 1);
  };
  const tagsFor = (row: { tags: string[] | null }) =>
    row.tags === null || row.tags.includes(tag) || (tag === 'img' && el.namespaceURI === parse5Html.NS.HTML && row.tags.includes('image') && get('href') !== undefined);

  if (where === 'noscript') {
    // rewriteMarkupFragment: every URL attribute by (tag, name), no integrity, no meta, no canonical rule.
    for (const entry of attrs) {
      const row = lookupUrlAttribute(tag, entry[0]) ?? (tag === 'img' && entry[0] === 'href' ? lookupUrlAttribute('image', 'href') : undefined);
      if (!row) continue;
      const next = rowValue(row.kind, entry[1], false);
      if (next !== null) entry[1] = next;
    }
    return attrs;
  }

  for (const row of URL_ATTRIBUTES) {
    if (!tagsFor(row)) continue;
    const value = get(row.attr);
    if (value === undefined) continue;
    const next = rowValue(row.kind, value, false);
    if (next === null) continue;
    set(row.attr, next);
    if (row.kind !== 'link' && (row.attr === 'src' || row.attr === 'href')) remove('integrity');
  }
  if (tag === 'link') {
    const href = get('href');
    const rel = (get('rel') ?? '').toLowerCase();
    if (href !== undefined && !/(^|\s)canonical(\s|$)/.test(rel)) {
      const next = expectedPath(href);
      if (next !== null) {
        set('href', next);
        remove('integrity');
      }
    }
  }
  if (tag === 'meta') {
    const content = get('content');
    if (content && (get('property')?.startsWith('og:') || get('name')?.startsWith('twitter:'))) {
      // Social cards want absolute URLs: root-relative ones get the mirror's origin too.
      const trimmed = content.replace(HTML_WS, '');
      const next = /^\/(?![/\\])/.test(trimmed) ? trimmed : expectedPath(content);
      if (next !== null) set('content', MIRROR_ORIGIN + next);
    }
    const equiv = get('http-equiv');
    const refresh = get('content');
    if (equiv !== undefined && refresh !== undefined && equiv.trim().toLowerCase() === 'refresh') {
      const m = /^(\s*\d*\.?\d*\s*[;,]?\s*(?:url\s*=\s*)?)(["']?)([^"']*)(["']?)([\s\S]*)$/i.exec(refresh);
      const next = m && m[3] ? expectedPath(m[3]) : null;
      if (m && next !== null) set('content', `${m[1]}${m[2]}${next}${m[4]}${m[5]}`);
    }
  }
  return attrs;
}

type TextRule = ((text: string) => string) | null;

/**
 * How the text inside an element is rewritten. The rules' text handlers match by local name in any
 * namespace and see the text of descendants too; where two apply (only in SVG/MathML, e.g.
 * `<svg><script><style>` or `<svg><noscript><style>`) the first one registered wins: style, then
 * script (then noscript, whose rewrite leaves plain text as it is). In a <noscript> fragment only
 * <style> (raw text there) is rewritten.
 */
function textRuleInside(el: P5Element, inherited: TextRule, where: Where): TextRule {
  const tag = el.tagName.toLowerCase();
  if (where === 'noscript') return tag === 'style' ? expectedCss : null;
  if (tag === 'style' || inherited === expectedCss) return expectedCss;
  if (tag === 'script' || inherited === expectedScript) return expectedScript;
  return null;
}

function noscriptFragment(text: string): P5Node {
  const context = defaultTreeAdapter.createElement('div', parse5Html.NS.HTML, []);
  return parseFragment(context, text, { scriptingEnabled: false }) as unknown as P5Node;
}

export function snapshot(node: P5Node, side: Side, where: Where = 'page', parent: P5Element | null = null, rule: TextRule = null): Snap {
  const children = (n: P5Node, p: P5Element | null, r: TextRule) => ('childNodes' in n ? (n.childNodes as P5Node[]).map((c) => snapshot(c, side, where, p, r)) : []);
  switch (node.nodeName) {
    case '#document':
      return { k: 'doc', mode: (node as DefaultTreeAdapterMap['document']).mode, children: children(node, null, null) };
    case '#document-fragment':
      return { k: 'doc', mode: 'fragment', children: children(node, null, null) };
    case '#documentType': {
      const d = node as DefaultTreeAdapterMap['documentType'];
      return { k: 'doctype', name: d.name, publicId: d.publicId, systemId: d.systemId };
    }
    case '#comment':
      return { k: 'comment', v: (node as DefaultTreeAdapterMap['commentNode']).data };
    case '#text': {
      const v = (node as DefaultTreeAdapterMap['textNode']).value;
      // Scripting on: an HTML <noscript> holds raw text, which a reader without JavaScript parses as markup.
      if (parent && where === 'page' && parent.tagName === 'noscript' && parent.namespaceURI === parse5Html.NS.HTML) {
        return { k: 'noscript-fragment', children: [snapshot(noscriptFragment(v), side, 'noscript')] };
      }
      return { k: 'text', v: side === 'expected' && rule ? rule(v) : v };
    }
    default: {
      const el = node as P5Element;
      const snap: Snap = {
        k: 'el',
        tag: el.tagName,
        ns: el.namespaceURI,
        attrs: side === 'expected' ? expectedAttrs(el, where) : el.attrs.map((a) => [attrKey(a), a.value]),
        children: children(el, el, textRuleInside(el, rule, where)),
      };
      if (el.tagName === 'template' && el.namespaceURI === parse5Html.NS.HTML) {
        snap.content = children((el as DefaultTreeAdapterMap['template']).content as unknown as P5Node, null, textRuleInside(el, rule, where));
      }
      return snap;
    }
  }
}

export function parseDoc(html: string): P5Node {
  return parse(html, { scriptingEnabled: true }) as unknown as P5Node;
}

const clip = (s: string) => (s.length > 120 ? `${JSON.stringify(s.slice(0, 100))}…(${s.length} chars)` : JSON.stringify(s));

/** The first difference between two snapshots, as a path and a short description; null when equal. */
export function firstDifference(a: Snap, b: Snap, path = ''): string | null {
  if (a.k !== b.k) return `${path}: expected a ${a.k}, got a ${b.k}`;
  const here = a.k === 'el' ? `${path}/${a.tag}` : path;
  switch (a.k) {
    case 'doctype':
    case 'text':
    case 'comment': {
      const x = JSON.stringify(a);
      const y = JSON.stringify(b);
      return x === y ? null : `${here}: expected ${clip(x)}, got ${clip(y)}`;
    }
    case 'doc':
      if (a.mode !== (b as typeof a).mode) return `${here}: document mode ${a.mode} vs ${(b as typeof a).mode}`;
      break;
    case 'el': {
      const e = b as typeof a;
      if (a.tag !== e.tag || a.ns !== e.ns) return `${here}: element ${a.ns} ${a.tag} vs ${e.ns} ${e.tag}`;
      const x = JSON.stringify(a.attrs);
      const y = JSON.stringify(e.attrs);
      if (x !== y) return `${here}: attributes expected ${clip(x)}, got ${clip(y)}`;
      if (a.content || e.content) {
        const d = listDifference(a.content ?? [], e.content ?? [], `${here}#content`);
        if (d) return d;
      }
      break;
    }
  }
  return listDifference((a as { children: Snap[] }).children, (b as { children: Snap[] }).children, here);
}

function listDifference(a: Snap[], b: Snap[], path: string): string | null {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (!a[i] || !b[i]) return `${path}[${i}]: expected ${a[i] ? clip(JSON.stringify(a[i])) : 'nothing'}, got ${b[i] ? clip(JSON.stringify(b[i])) : 'nothing'}`;
    const d = firstDifference(a[i]!, b[i]!, `${path}[${i}]`);
    if (d) return d;
  }
  return null;
}

/** Every origin URL left in a URL-bearing place of a snapshot taken as 'actual' (attributes the rules cover, script/style text). */
export function survivingOriginUrls(snap: Snap, where: Where = 'page', parentTag = ''): string[] {
  const found: string[] = [];
  const visit = (s: Snap, w: Where, parent: string) => {
    if (s.k === 'el') {
      const tag = s.tag.toLowerCase();
      for (const [name, value] of s.attrs) {
        const row = lookupUrlAttribute(tag, name) ?? (tag === 'link' && name === 'href' ? lookupUrlAttribute('link', 'href') : undefined);
        let urls: string[] = [];
        if (row) {
          if (tag === 'link' && name === 'href' && w === 'page' && /(^|\s)canonical(\s|$)/i.test(s.attrs.find(([n]) => n === 'rel')?.[1] ?? '')) continue;
          urls = row.kind === 'srcset' ? srcsetUrls(value) : row.kind === 'css' || (row.kind === 'url-or-css' && /^\s*url\(/i.test(value)) ? cssUrls(value) : [value];
        } else if (w === 'page' && tag === 'meta' && name === 'content') {
          const props = s.attrs.filter(([n]) => n === 'property' || n === 'name').map(([, v]) => v);
          if (props.some((p) => p.startsWith('og:') || p.startsWith('twitter:'))) urls = [value];
        }
        for (const u of urls) if (isOriginUrl(u)) found.push(`<${tag} ${name}=${clip(value)}>`);
      }
      for (const c of s.children) visit(c, w, tag);
      for (const c of s.content ?? []) visit(c, w, tag);
    } else if (s.k === 'text') {
      if (parent === 'style') for (const u of cssUrls(s.v)) if (isOriginUrl(u)) found.push(`<style> ${clip(u)}`);
      if (w === 'page' && parent === 'script' && expectedScript(s.v) !== s.v) found.push(`<script> ${clip(s.v)}`);
    } else if (s.k === 'noscript-fragment') {
      for (const c of s.children) visit(c, 'noscript', parent);
    } else if (s.k === 'doc') {
      for (const c of s.children) visit(c, w, parent);
    }
  };
  visit(snap, where, parentTag);
  return found;
}
