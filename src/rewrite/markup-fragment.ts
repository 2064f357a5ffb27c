import { lookupUrlAttribute, type UrlAttribute } from './url-attributes.ts';

/**
 * Rewrites URL attributes inside a small piece of markup held as text: the content of <noscript>,
 * which lol-html (like a browser with scripting on) treats as raw text, but a reader with
 * JavaScript off parses as HTML. Only start tags are touched; everything else is copied as is.
 */
const TAG = /<([a-zA-Z][a-zA-Z0-9-]*)(\s[^>]*)?>/g;
const ATTR = /([^\s"'>\/=]+)(\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;

export type RewriteAttribute = (row: UrlAttribute, value: string, tag: string) => string | null;

export function rewriteMarkupFragment(html: string, rewrite: RewriteAttribute): string {
  if (html.indexOf('<') < 0) return html;
  return html.replace(TAG, (whole, tagName: string, attrs: string | undefined) => {
    if (!attrs) return whole;
    const tag = tagName.toLowerCase();
    let changed = false;
    const out = attrs.replace(ATTR, (attrText, name: string, assignment: string | undefined, dq?: string, sq?: string, uq?: string) => {
      if (!assignment) return attrText;
      const row = lookupUrlAttribute(tag, name.toLowerCase());
      if (!row) return attrText;
      const value = dq ?? sq ?? uq ?? '';
      const next = rewrite(row, value, tag);
      if (next === null || next === value) return attrText;
      changed = true;
      const quote = sq !== undefined && !next.includes("'") ? "'" : '"';
      return `${name}=${quote}${quote === '"' ? next.replace(/"/g, '&quot;') : next}${quote}`;
    });
    return changed ? `<${tagName}${out}>` : whole;
  });
}
