/**
 * Which HTML attributes carry URLs, and how each is read. The streaming HTML rules register one
 * selector per row; the <noscript> fragment rewriter looks rows up by tag and attribute name.
 */
export type AttributeKind =
  | 'link' // <a>/<area> href: subject to links.rules and links.external
  | 'url' // one URL
  | 'srcset' // comma-separated candidates with descriptors
  | 'css' // CSS declarations (style="…")
  | 'url-or-css' // data-bg: a URL or `url(…)`
  | 'url-list' // <a ping>: URLs separated by whitespace
  | 'absolute' // data-url, <option value>: only a whole absolute origin URL is one (mapped to an absolute mirror URL)
  | 'script' // inline event handlers: script text
  | 'html'; // <iframe srcdoc>: a document

export interface UrlAttribute {
  /** Lower-case tag names, or null for any element. */
  tags: string[] | null;
  /** The attribute name cannot be written in a selector (see selectorsFor). */
  svg?: boolean;
  attr: string;
  kind: AttributeKind;
}

/** SVG elements that take `xlink:href`. */
const SVG_XLINK_TAGS = ['a', 'use', 'image', 'feimage', 'textpath', 'mpath', 'pattern', 'lineargradient', 'radialgradient', 'filter', 'script', 'animate', 'set', 'cursor'];

/**
 * Event handler attributes that load or navigate in pages seen (a selector cannot match attribute
 * names by prefix, and each name costs matching time on every element: the list is kept short).
 */
const EVENT_HANDLERS = ['onerror', 'onload', 'onclick', 'onchange'];

export const URL_ATTRIBUTES: readonly UrlAttribute[] = [
  { tags: ['a', 'area'], attr: 'href', kind: 'link' },
  { tags: ['base', 'image'], attr: 'href', kind: 'url' },
  // link[href] is handled on its own: rel=canonical keeps pointing at the original.
  // <image> is <img> to the HTML tree builder (a browser loads <image src>); lol-html sees the tag as written.
  { tags: ['img', 'image', 'script', 'iframe', 'frame', 'embed', 'audio', 'video', 'source', 'track', 'input'], attr: 'src', kind: 'url' },
  { tags: ['img', 'image', 'source'], attr: 'srcset', kind: 'srcset' },
  { tags: ['link'], attr: 'imagesrcset', kind: 'srcset' },
  { tags: ['video'], attr: 'poster', kind: 'url' },
  { tags: ['form'], attr: 'action', kind: 'url' },
  { tags: ['button', 'input'], attr: 'formaction', kind: 'url' },
  { tags: ['object'], attr: 'data', kind: 'url' },
  { tags: ['blockquote', 'q', 'del', 'ins'], attr: 'cite', kind: 'url' },
  { tags: ['body', 'table', 'thead', 'tbody', 'tfoot', 'tr', 'td', 'th'], attr: 'background', kind: 'url' },
  { tags: ['a', 'area'], attr: 'ping', kind: 'url-list' },
  { tags: ['iframe'], attr: 'srcdoc', kind: 'html' },
  // SVG references (icon sprites, filters, gradients): `href`, and the older `xlink:href`.
  { tags: ['use', 'feimage', 'textpath', 'mpath', 'pattern', 'lineargradient', 'radialgradient', 'filter'], attr: 'href', kind: 'url' },
  { tags: [...SVG_XLINK_TAGS], attr: 'xlink:href', kind: 'url', svg: true },
  // Lazy-loading scripts swap these into src/srcset/style later.
  { tags: null, attr: 'data-src', kind: 'url' },
  { tags: null, attr: 'data-original', kind: 'url' },
  { tags: null, attr: 'data-lazy-src', kind: 'url' },
  { tags: null, attr: 'data-srcset', kind: 'srcset' },
  { tags: null, attr: 'data-lazy-srcset', kind: 'srcset' },
  { tags: null, attr: 'data-bg', kind: 'url-or-css' },
  { tags: null, attr: 'style', kind: 'css' },
  // Values scripts read as URLs (share buttons, players, `onchange="location=this.value"`): mapped
  // when the whole value is an absolute origin URL. Other data-* attributes are not looked at.
  ...['data-url', 'data-href', 'data-base-url', 'data-portal-url'].map(
    (attr): UrlAttribute => ({ tags: null, attr, kind: 'absolute' }),
  ),
  { tags: ['option', 'param'], attr: 'value', kind: 'absolute' },
  // Inline event handlers are script text, rewritten as <script> is.
  ...EVENT_HANDLERS.map((attr): UrlAttribute => ({ tags: null, attr, kind: 'script' })),
];

/**
 * Selectors for a row: `img[src], script[src], …` as separate selectors. A name with a colon cannot
 * be written in a selector without a CSS escape (which not every engine reads): such rows match the
 * element by name, and the handler looks for the attribute.
 */
export function selectorsFor(row: UrlAttribute): string[] {
  // `a` and `script` are HTML elements too: only those without the HTML attribute are looked at.
  if (row.svg) return row.tags!.map((t) => (t === 'a' ? 'a:not([href])' : t === 'script' ? 'script:not([src])' : t));
  return row.tags ? row.tags.map((t) => `${t}[${row.attr}]`) : [`[${row.attr}]`];
}

/**
 * <meta> elements whose content is an absolute URL for social cards and previews. Attribute values
 * match case-sensitively in the engines: the usual spellings are listed. Built by a call marked pure, so
 * a bundle that never uses the list (the client shim) leaves it out.
 */
export const META_URL_SELECTORS: readonly string[] = /* @__PURE__ */ (() => [
  'meta[property^="og:"][content]',
  'meta[name^="og:"][content]',
  'meta[name^="twitter:"][content]',
  'meta[property^="twitter:"][content]',
  ...['image', 'list-image', 'thumbnail', 'msapplication-TileImage', 'msapplication-tileimage', 'msapplication-square150x150logo'].map((n) => `meta[name="${n}"][content]`),
  'meta[itemprop="image"][content]',
  'meta[itemprop="url"][content]',
])();

const byTagAndAttr = new Map<string, UrlAttribute>();
for (const row of URL_ATTRIBUTES) {
  for (const tag of row.tags ?? ['*']) byTagAndAttr.set(`${tag} ${row.attr}`, row);
}
byTagAndAttr.set('link href', { tags: ['link'], attr: 'href', kind: 'url' });

export function lookupUrlAttribute(tag: string, attr: string): UrlAttribute | undefined {
  return byTagAndAttr.get(`${tag} ${attr}`) ?? byTagAndAttr.get(`* ${attr}`);
}
