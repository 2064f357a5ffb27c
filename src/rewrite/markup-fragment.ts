import { lookupUrlAttribute, type UrlAttribute } from './url-attributes.ts';

/**
 * Rewrites URL attributes inside a small piece of markup held as text: the content of <noscript>,
 * which lol-html (like a browser with scripting on) treats as raw text, but a reader with
 * JavaScript off parses as HTML. Start tags are read as the HTML tokenizer reads them (quoted `>`,
 * `/` between attributes, unquoted values with quotes in them); comments and the content of
 * script, raw-text and RCDATA elements are skipped, except <style>, whose CSS goes to `rewriteStyle`.
 * Everything else is copied as is. SVG/MathML are followed as lol-html's tree-builder simulator
 * does (integration points, break-out tags, CDATA): inside them only <style> holds text.
 */
export type RewriteAttribute = (row: UrlAttribute, value: string, tag: string) => string | null;

/** Elements whose content is text up to their end tag (scripting off: <noscript> is markup). */
const TEXT_CONTENT = new Set(['style', 'script', 'xmp', 'iframe', 'noembed', 'noframes', 'textarea', 'title']);

/** Start tags that end SVG/MathML content (the "break out" list of the HTML spec; <font> with color, face or size). */
const BREAKOUT = new Set(
  'b big blockquote body br center code dd div dl dt em embed h1 h2 h3 h4 h5 h6 head hr i img li listing menu meta nobr ol p pre ruby s small span strong strike sub sup table tt u ul var'.split(' '),
);
/** Where SVG/MathML content holds HTML again, until the element's end tag. */
const INTEGRATION_POINTS: Record<string, Set<string>> = {
  svg: new Set(['foreignobject', 'desc', 'title']),
  math: new Set(['mi', 'mo', 'mn', 'ms', 'mtext']),
};

function isWs(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 12 || c === 13;
}
function isAlpha(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

interface Attr {
  start: number;
  end: number;
  name: string;
  value: string | null;
  quote: string;
}

/** Reads a tag from its name at `pos`; null when the input ends inside it (the tokenizer then drops it). */
function readTag(html: string, pos: number): { name: string; attrs: Attr[]; end: number; selfClosing: boolean } | null {
  const len = html.length;
  let i = pos;
  while (i < len && !isWs(html.charCodeAt(i)) && html[i] !== '/' && html[i] !== '>') i++;
  const name = html.slice(pos, i).toLowerCase();
  const attrs: Attr[] = [];
  for (;;) {
    // Before an attribute name: whitespace and `/` separate; `>` (or `/>`) ends the tag.
    let slash = false;
    while (i < len && (isWs(html.charCodeAt(i)) || html[i] === '/')) slash = html[i++] === '/';
    if (i >= len) return null;
    if (html[i] === '>') return { name, attrs, end: i + 1, selfClosing: slash };
    const start = i;
    i++; // the first character is part of the name, even `=`
    while (i < len && !isWs(html.charCodeAt(i)) && html[i] !== '/' && html[i] !== '>' && html[i] !== '=') i++;
    const attrName = html.slice(start, i);
    let j = i;
    while (j < len && isWs(html.charCodeAt(j))) j++;
    if (html[j] !== '=') {
      attrs.push({ start, end: i, name: attrName, value: null, quote: '' });
      continue;
    }
    j++;
    while (j < len && isWs(html.charCodeAt(j))) j++;
    if (j >= len) return null;
    const q = html[j]!;
    if (q === '>') {
      attrs.push({ start, end: j, name: attrName, value: '', quote: '' });
      i = j;
      continue;
    }
    if (q === '"' || q === "'") {
      const close = html.indexOf(q, j + 1);
      if (close < 0) return null;
      attrs.push({ start, end: close + 1, name: attrName, value: html.slice(j + 1, close), quote: q });
      i = close + 1;
      continue;
    }
    let k = j;
    while (k < len && !isWs(html.charCodeAt(k)) && html[k] !== '>') k++;
    if (k >= len) return null;
    attrs.push({ start, end: k, name: attrName, value: html.slice(j, k), quote: '' });
    i = k;
  }
}

/** `</name` followed by whitespace, `/` or `>` at `pos` (ASCII case-insensitive). */
function isEndTag(html: string, pos: number, name: string): boolean {
  if (html.charCodeAt(pos) !== 60 || html.charCodeAt(pos + 1) !== 47) return false;
  return isTagName(html, pos + 2, name);
}
function isTagName(html: string, pos: number, name: string): boolean {
  if (html.slice(pos, pos + name.length).toLowerCase() !== name) return false;
  const c = html.charCodeAt(pos + name.length);
  return isWs(c) || c === 47 || c === 62;
}

/** Where the content of a text-content element that starts at `pos` ends (its end tag's `<`, or the end). */
function contentEnd(html: string, pos: number, name: string): number {
  const len = html.length;
  if (name !== 'script') {
    for (let i = html.indexOf('</', pos); i >= 0; i = html.indexOf('</', i + 2)) if (isEndTag(html, i, name)) return i;
    return len;
  }
  // Script data, with its escaped (`<!--`) and double-escaped (`<!--<script>`) states.
  let state = 0;
  let i = pos;
  while (i < len) {
    const c = html.charCodeAt(i);
    if (c === 60 /* < */) {
      if (state === 0 && html.startsWith('<!--', i)) {
        state = 1;
        i += 4;
        while (html.charCodeAt(i) === 45) i++;
        if (html.charCodeAt(i) === 62) state = 0;
        continue;
      }
      if (state !== 2 && isEndTag(html, i, 'script')) return i;
      if (state === 1 && isTagName(html, i + 1, 'script')) state = 2;
      else if (state === 2 && isEndTag(html, i, 'script')) state = 1;
      i++;
      continue;
    }
    if (c === 45 /* - */ && state !== 0 && html.startsWith('-->', i)) {
      state = 0;
      i += 3;
      continue;
    }
    i++;
  }
  return len;
}

/** Where a comment that opened with `<!--` (body from `pos`) ends: after `-->`, `--!>`, or an abrupt `<!-->` / `<!--->`. */
function commentEnd(html: string, pos: number): number {
  if (html[pos] === '>') return pos + 1;
  if (html.startsWith('->', pos)) return pos + 2;
  for (let i = html.indexOf('--', pos); i >= 0; i = html.indexOf('--', i + 1)) {
    if (html[i + 2] === '>') return i + 3;
    if (html.startsWith('!>', i + 2)) return i + 4;
  }
  return html.length;
}

export function rewriteMarkupFragment(html: string, rewrite: RewriteAttribute, rewriteStyle?: (css: string) => string): string {
  if (html.indexOf('<') < 0) return html;
  const len = html.length;
  let out = '';
  let copied = 0;
  let pos = 0;
  // Open SVG/MathML elements and integration points, innermost last: `html` (the start), `svg`,
  // `math`, or the name of an integration point (HTML inside).
  const stack: string[] = ['html'];
  const foreign = () => stack[stack.length - 1] === 'svg' || stack[stack.length - 1] === 'math';
  const leaveForeign = () => {
    while (foreign()) stack.pop();
  };
  while (pos < len) {
    const lt = html.indexOf('<', pos);
    if (lt < 0) break;
    const c = html.charCodeAt(lt + 1);
    if (html.startsWith('<!--', lt)) {
      pos = commentEnd(html, lt + 4);
      continue;
    }
    if (foreign() && html.startsWith('<![CDATA[', lt)) {
      const end = html.indexOf(']]>', lt + 9);
      pos = end < 0 ? len : end + 3;
      continue;
    }
    if (c === 33 /* ! */ || c === 63 /* ? */ || (c === 47 /* / */ && !isAlpha(html.charCodeAt(lt + 2)))) {
      // Bogus comment up to the next `>` (`</>` is nothing at all).
      const gt = html.indexOf('>', lt + 2);
      pos = gt < 0 ? len : gt + 1;
      continue;
    }
    if (c === 47) {
      const end = readTag(html, lt + 2);
      if (!end) break;
      pos = end.end;
      const top = stack[stack.length - 1]!;
      if (top === end.name && stack.length > 1) stack.pop();
      else if ((end.name === 'p' || end.name === 'br') && foreign()) leaveForeign();
      continue;
    }
    if (!isAlpha(c)) {
      pos = lt + 1;
      continue;
    }
    const tag = readTag(html, lt + 1);
    if (!tag) break;
    for (const attr of tag.attrs) {
      if (attr.value === null) continue;
      const row = lookupUrlAttribute(tag.name, attr.name.toLowerCase());
      if (!row) continue;
      const next = rewrite(row, attr.value, tag.name);
      if (next === null || next === attr.value) continue;
      const quote = attr.quote === "'" && !next.includes("'") ? "'" : '"';
      out += html.slice(copied, attr.start) + `${attr.name}=${quote}${quote === '"' ? next.replace(/"/g, '&quot;') : next}${quote}`;
      copied = attr.end;
    }
    pos = tag.end;
    if (foreign()) {
      const top = stack[stack.length - 1]!;
      if (BREAKOUT.has(tag.name) || (tag.name === 'font' && tag.attrs.some((a) => /^(color|face|size)$/i.test(a.name)))) {
        leaveForeign(); // the tag itself is HTML
      } else {
        const htmlInside =
          INTEGRATION_POINTS[top]!.has(tag.name) ||
          (top === 'math' && tag.name === 'annotation-xml' && tag.attrs.some((a) => a.name.toLowerCase() === 'encoding' && /^(text\/html|application\/xhtml\+xml)$/i.test(a.value ?? '')));
        if (!tag.selfClosing && (htmlInside || tag.name === 'svg' || tag.name === 'math')) stack.push(tag.name);
        // A foreign element: only an SVG/MathML <style> holds text (CSS) up to its end tag.
        if (tag.name !== 'style' || tag.selfClosing) continue;
      }
    } else if (!tag.selfClosing && (tag.name === 'svg' || tag.name === 'math')) {
      stack.push(tag.name);
      continue;
    }
    if (tag.name === 'plaintext') break;
    if (TEXT_CONTENT.has(tag.name)) {
      const end = contentEnd(html, pos, tag.name);
      if (tag.name === 'style' && rewriteStyle) {
        const css = html.slice(pos, end);
        const next = rewriteStyle(css);
        if (next !== css) {
          out += html.slice(copied, pos) + next;
          copied = end;
        }
      }
      pos = end;
    }
  }
  return copied === 0 ? html : out + html.slice(copied);
}
