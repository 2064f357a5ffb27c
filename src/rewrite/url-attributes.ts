/**
 * Which HTML attributes carry URLs, and how each is read. The streaming HTML rules register one
 * selector per row; the <noscript> fragment rewriter looks rows up by tag and attribute name.
 */
export type AttributeKind =
  | 'link' // <a>/<area> href: subject to links.rules and links.external
  | 'url' // one URL
  | 'srcset' // comma-separated candidates with descriptors
  | 'css' // CSS declarations (style="…")
  | 'url-or-css'; // data-bg: a URL or `url(…)`

export interface UrlAttribute {
  /** Lower-case tag names, or null for any element. */
  tags: string[] | null;
  attr: string;
  kind: AttributeKind;
}

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
  { tags: ['body', 'table', 'td', 'th'], attr: 'background', kind: 'url' },
  // Lazy-loading scripts swap these into src/srcset/style later.
  { tags: null, attr: 'data-src', kind: 'url' },
  { tags: null, attr: 'data-original', kind: 'url' },
  { tags: null, attr: 'data-lazy-src', kind: 'url' },
  { tags: null, attr: 'data-srcset', kind: 'srcset' },
  { tags: null, attr: 'data-lazy-srcset', kind: 'srcset' },
  { tags: null, attr: 'data-bg', kind: 'url-or-css' },
  { tags: null, attr: 'style', kind: 'css' },
];

/** lol-html selectors for a row: `img[src], script[src], …` as separate selectors. */
export function selectorsFor(row: UrlAttribute): string[] {
  return row.tags ? row.tags.map((t) => `${t}[${row.attr}]`) : [`[${row.attr}]`];
}

const byTagAndAttr = new Map<string, UrlAttribute>();
for (const row of URL_ATTRIBUTES) {
  for (const tag of row.tags ?? ['*']) byTagAndAttr.set(`${tag} ${row.attr}`, row);
}
byTagAndAttr.set('link href', { tags: ['link'], attr: 'href', kind: 'url' });

export function lookupUrlAttribute(tag: string, attr: string): UrlAttribute | undefined {
  return byTagAndAttr.get(`${tag} ${attr}`) ?? byTagAndAttr.get(`* ${attr}`);
}
