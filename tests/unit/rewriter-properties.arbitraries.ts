/**
 * fast-check generators of malformed HTML for tests/unit/rewriter-properties.test.ts.
 *
 * A document is a list of pieces (strings, or raw bytes for invalid UTF-8 and BOMs) built from a
 * small grammar that deliberately breaks the rules: unclosed and misnested tags, attributes without
 * quotes or values, duplicate attributes, mixed case, every comment spelling, CDATA, raw-text and
 * RCDATA elements with their end tags hidden in strings, <template>, SVG and MathML with their
 * integration points and break-out tags, entities, stray `<` and `>`, NUL, huge attribute values.
 *
 * URL-bearing attributes carry URLs with a predictable mapping (rewriter-properties.oracle.ts):
 * origin URLs in many spellings, and URLs that must stay as they are.
 *
 * Shapes deliberately NOT generated (L1–L10: the LOL-HTML LIMITS in the test file's header):
 * - character references inside the scheme or host of a URL, or at its start (`&#104;ttps://…`,
 *   `&#32;https://…`): L10;
 * - `<svg/>`, `<math/>` (L1); <svg>/<math> left unclosed, nested directly in SVG/MathML, or whose
 *   `</svg>` a piece of text could swallow (L2, L3); HTML left open, table parts or an HTML <title>
 *   inside an integration point (L4, L5); an integration point or <font> right after an end tag in
 *   SVG/MathML, an unnamable end tag or <annotation-xml> in MathML (L6, L7): see `foreign`;
 * - attribute names starting with `=` (L8); <select> and <frameset> outside properties 1 and 4 (L9);
 * - element children inside SVG/MathML <script>/<style>: lol-html scopes the text of an element
 *   by its own open-element stack, which does not follow the tree builder's break-out rules;
 * - SVG/MathML inside <noscript> (see `noscriptBody`);
 * - `href` on `<img>`: indistinguishable in the parsed tree from `<image href>` (see the oracle);
 * - `xlink:href` with an origin URL: not an attribute the rules cover (a gap, reported);
 * - links under /b5/ (links.rules keep them pointing at the original: not a plain mapping).
 */
import fc from 'fast-check';

/** A 100 KB+ attribute, expanded only into bytes (fast-check prints it short). */
export class HugeAttribute {
  constructor(
    readonly attr: string,
    readonly size: number,
    readonly url: string,
    readonly unit: string,
  ) {}
  html(): string {
    const filler = this.unit.repeat(Math.ceil(this.size / this.unit.length));
    const { attr, url } = this;
    const value = attr === 'alt' ? filler : attr === 'srcset' ? `${url}${filler} 1x, ${url} 2x` : attr === 'style' ? `background:url(${url}${filler})` : url + filler;
    return `<img ${attr}="${value}">`;
  }
  [fc.toStringMethod](): string {
    return `<img ${this.attr}="${this.url}…${this.unit}×${this.size}…">`;
  }
}

export type Piece = string | Uint8Array | HugeAttribute;
export type Doc = Piece[];

// ---------------------------------------------------------------------------------------------
// URLs.

/** Spellings of the two mirrored origins: host case, scheme, protocol-relative, default ports. */
const WWW_SPELLINGS = [
  'https://www.epochtimes.com',
  'http://www.epochtimes.com',
  '//www.epochtimes.com',
  'https://epochtimes.com',
  'http://epochtimes.com',
  'HTTPS://WWW.EpochTimes.COM',
  'https://www.epochtimes.com:443',
  'http://www.epochtimes.com:80',
];
const IMG_SPELLINGS = ['https://i.epochtimes.com', '//i.epochtimes.com', 'http://i.epochtimes.com', '//I.EPOCHTIMES.COM:443'];

const suffix = fc.constantFrom('', '', '?a=1&amp;b=2', '#frag', '?q=中文', '?x=&quot;', '/', ';v=1', '?a=1&b', '?x=\u0000');

/** An origin URL, e.g. `https://www.epochtimes.com/p/12?a=1` (→ `/p/12?a=1`) or `//i.epochtimes.com/x/3.jpg` (→ `/_i/x/3.jpg`). */
export const originUrl: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(fc.constantFrom(...WWW_SPELLINGS), fc.nat(99), suffix).map(([o, n, s]) => `${o}/p/${n}${s}`),
  fc.tuple(fc.constantFrom(...IMG_SPELLINGS), fc.nat(99), suffix).map(([o, n, s]) => `${o}/x/${n}.jpg${s}`),
  fc.constantFrom('https://www.epochtimes.com', 'https://www.epochtimes.com?x=1', '//www.epochtimes.com#top', 'https://i.epochtimes.com'),
);

/** URLs that stay exactly as they are: other hosts, look-alikes, credentials, other ports and schemes, relative URLs. */
export const otherUrl: fc.Arbitrary<string> = fc.oneof(
  fc.nat(99).map((n) => `https://example.org/p/${n}`),
  fc.constantFrom(
    '//cdn.example.net/a.jpg',
    'https://www.epochtimes.com.evil.test/p/1',
    'https://notepochtimes.com/p/1',
    'https://user@www.epochtimes.com/p/1',
    'https://www.epochtimes.com:8443/p/1',
    '/rel/1',
    'rel/2.htm',
    '../up/3',
    '?q=1',
    '#frag',
    'mailto:a@example.org',
    'javascript:void(0)',
    'data:image/gif;base64,R0lGOD',
    'www.epochtimes.com/p/1',
    'https:/www.epochtimes.com/p/1',
  ),
);

export const anyUrl: fc.Arbitrary<string> = fc.oneof({ weight: 3, arbitrary: originUrl }, { weight: 2, arbitrary: otherUrl });

/** Whitespace HTML strips around a URL (only ever inside quotes). */
const pad = fc.constantFrom('', '', '', ' ', '\n\t', ' \r\n');

const descriptor = fc.constantFrom('', ' 1x', ' 2x', ' 640w', '  1.5x ', ' 100w 2x');
const srcsetValue = fc
  .array(fc.tuple(anyUrl, descriptor), { minLength: 1, maxLength: 4 })
  .chain((cands) => fc.constantFrom(',', ', ', ' ,\n', ',,').map((sep) => cands.map(([u, d]) => u + d).join(sep)));

/** In CSS a `&quot;` in a URL would end the string it sits in once decoded: not generated there. */
const cssUrl = (u: string) => fc.constantFrom(`url(${u})`, `url( ${u} )`, `url('${u}')`, `url("${u}")`, `URL(${u})`);
/** A CSS declaration list with url()s (for style="…" and data-bg). */
const styleValue = fc.array(fc.oneof(anyUrl.filter((u) => !u.includes('&quot;')).chain(cssUrl).map((u) => `background:${u}`), fc.constantFrom('color:red', 'x:y', '/* url(https://www.epochtimes.com/p/c) */', 'font-family:"A B"')), {
  minLength: 1,
  maxLength: 3,
}).map((ds) => ds.join(';'));

// ---------------------------------------------------------------------------------------------
// Attributes.

type Value = { text: string; quotes: 'any' | 'quoted' };

const junkText = fc.constantFrom('x', 'a b', '中文', '&amp;', '&', '&#x41;', '&lt;p&gt;', '>', 'a>b', '"', "'", '=', '`', '<img src=x>', '\u0000', '', 'sha256-abc', '&notit;', '&#0;');

/** Values of attributes that are not URLs (or of URL attributes that hold junk). */
const junkValue: fc.Arbitrary<Value> = fc.array(junkText, { maxLength: 3 }).map((p) => ({ text: p.join(''), quotes: 'any' }));

/** An attribute name and a value that fits it. */
const attribute: fc.Arbitrary<{ name: string; value: Value | null }> = fc.oneof(
  fc.record({
    name: fc.constantFrom('href', 'src', 'action', 'formaction', 'poster', 'data', 'cite', 'background', 'data-src', 'data-original', 'data-lazy-src'),
    value: fc.oneof(
      fc.tuple(pad, anyUrl, pad).map(([a, u, b]) => ({ text: a + u + b, quotes: a || b ? ('quoted' as const) : ('any' as const) })),
      junkValue,
    ),
  }),
  fc.record({ name: fc.constantFrom('srcset', 'imagesrcset', 'data-srcset', 'data-lazy-srcset'), value: srcsetValue.map((text) => ({ text, quotes: 'quoted' as const })) }),
  fc.record({ name: fc.constantFrom('style', 'data-bg'), value: styleValue.map((text) => ({ text, quotes: 'quoted' as const })) }),
  fc.record({ name: fc.constant('data-bg'), value: anyUrl.map((text) => ({ text, quotes: 'any' as const })) }),
  fc.record({ name: fc.constant('integrity'), value: fc.constant({ text: 'sha384-abc', quotes: 'any' as const }) }),
  fc.record({ name: fc.constant('rel'), value: fc.constantFrom('canonical', 'stylesheet', 'Canonical alternate', 'icon').map((text) => ({ text, quotes: 'any' as const })) }),
  fc.record({ name: fc.constant('property'), value: fc.constantFrom('og:image', 'og:url', 'article:tag').map((text) => ({ text, quotes: 'any' as const })) }),
  fc.record({ name: fc.constant('name'), value: fc.constantFrom('twitter:image', 'description').map((text) => ({ text, quotes: 'any' as const })) }),
  fc.record({ name: fc.constant('http-equiv'), value: fc.constantFrom('refresh', ' Refresh ', 'content-type').map((text) => ({ text, quotes: 'quoted' as const })) }),
  fc.record({
    name: fc.constant('content'),
    value: fc.oneof(
      anyUrl.map((text) => ({ text, quotes: 'any' as const })),
      fc.tuple(fc.constantFrom('0;url=', '5; URL=', '0, ', '1;url= '), anyUrl, fc.constantFrom('', "'")).map(([a, u, q]) => ({
        text: q ? `${a}${q}${u}${q}` : a + u,
        quotes: 'quoted' as const,
      })),
      junkValue,
    ),
  }),
  // No name starting with `=` (L8).
  fc.record({ name: fc.constantFrom('id', 'class', 'alt', 'title', 'data-x', 'xlink:href', 'a"b', "c'd", 'f<g', 'viewbox', 'definitionurl', 'xmlns:xlink'), value: fc.option(junkValue, { nil: null }) }),
);

function withRandomCase(text: string, mask: number): string {
  let out = '';
  for (let i = 0; i < text.length; i++) out += (mask >> i % 30) & 1 ? text[i]!.toUpperCase() : text[i];
  return out;
}
const mixedCase = (s: fc.Arbitrary<string>) => fc.tuple(s, fc.oneof(fc.constant(0), fc.constant(0), fc.nat())).map(([t, m]) => withRandomCase(t, m));

/** One attribute written out: bare, `name=`, unquoted, single- or double-quoted, with odd separators. */
const attributeText: fc.Arbitrary<string> = fc
  .tuple(attribute, fc.nat(5), fc.constantFrom(' ', ' ', '\n', '\t', ' / ', '  '), fc.nat())
  .map(([{ name, value }, style, sep, mask]) => {
    const n = withRandomCase(name, mask & 1 ? mask : 0);
    if (value === null) return sep + n;
    const v = value.text;
    const canUnquote = value.quotes === 'any' && v !== '' && !/[\s>]/.test(v) && !/^["']/.test(v);
    const canSingle = !v.includes("'");
    const canDouble = !v.includes('"');
    if (style === 0 && canUnquote) return `${sep}${n}=${v}`;
    if (style === 1 && canSingle) return `${sep}${n}='${v}'`;
    if (style === 2 && canDouble) return `${sep}${n} = "${v}"`;
    if (canDouble) return `${sep}${n}="${v}"`;
    if (canSingle) return `${sep}${n}='${v}'`;
    return sep + n;
  });

// ---------------------------------------------------------------------------------------------
// Text, comments, bytes.

const TEXT = [
  'hello',
  ' ',
  '\n',
  '\r\n',
  '中文字',
  '&amp;',
  '&#x41;',
  '&#65;',
  '&',
  '& ',
  '&amp',
  '&notit;',
  '&#0;',
  '&#xD800;',
  '&#;',
  '<',
  '< ',
  '<3',
  '<<',
  '>',
  '</',
  '</ >',
  '</>',
  '<!',
  '<?x?>',
  '\u0000',
  '\uFEFF',
  '\u2028',
  'https://www.epochtimes.com/p/t',
  // An unfinished tag: the next piece's markup becomes its attributes (a <video>: no attribute the
  // next piece could bring is a URL to one rule and not to the other, as `href` on <img> would be).
  '<video src="https://www.epochtimes.com/p/h"',
];
const text: fc.Arbitrary<string> = fc.constantFrom(...TEXT);
/** Text pieces that run on into the next piece (`</` + `p>`, `<!` + `</p>`, an unfinished `<video …`). */
const RUNS_ON = new Set(['</', '<!', '<video src="https://www.epochtimes.com/p/h"']);
/** In foreign content, none that could swallow the next piece (e.g. the closing `</svg>`). */
const foreignText: fc.Arbitrary<string> = fc.constantFrom(...TEXT.filter((t) => !RUNS_ON.has(t)));

const comment: fc.Arbitrary<string> = fc.constantFrom(
  '<!-- c -->',
  '<!---->',
  '<!-->',
  '<!--->',
  '<!-- a --!>',
  '<!-- -- -->',
  '<!-- <img src="https://www.epochtimes.com/p/c"> -->',
  '<!--<!-- nested -->',
  '<!x>',
  '<!DOCTYPE late>',
  '<?php echo 1; ?>',
  '</ x>',
  '<![CDATA[ <img src="https://www.epochtimes.com/p/cd"> ]]>',
  '<![CDATA[x]]>',
);

/** Invalid UTF-8: lone continuation, truncated sequences, overlong, surrogate, beyond U+10FFFF; and BOMs. */
const rawBytes: fc.Arbitrary<Uint8Array> = fc
  .constantFrom([0xff], [0x80], [0xc3], [0xe4, 0xb8], [0xf0, 0x9f, 0x98], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xfe, 0xfe], [0xef, 0xbb, 0xbf])
  .map((b) => Uint8Array.from(b));

// ---------------------------------------------------------------------------------------------
// Elements.

const PLAIN_TAGS = [
  'p', 'div', 'span', 'a', 'area', 'img', 'image', 'base', 'link', 'meta', 'source', 'video', 'audio', 'track', 'iframe', 'frame', 'embed',
  'object', 'form', 'button', 'input', 'blockquote', 'q', 'del', 'ins', 'table', 'tr', 'td', 'th', 'ul', 'li', 'b', 'i', 'option', 'optgroup',
  'br', 'hr', 'body', 'head', 'html', 'x-foo', 'font', 'pre', 'h1',
];
/** Foreign elements that are neither integration points nor break-out tags (<textarea>/<xmp> are not raw text there). */
const FOREIGN_TAGS = ['g', 'a', 'image', 'use', 'text', 'path', 'noscript', 'textarea', 'xmp', 'mrow'];

const startTag = (tags: fc.Arbitrary<string>) =>
  fc
    .tuple(mixedCase(tags), fc.array(attributeText, { maxLength: 5 }), fc.constantFrom('>', '>', '>', '/>', ' >', ' />'), fc.boolean())
    .map(([tag, attrs, close, slash]) => {
      // `<img/src=…>`: a bare `/` separates too, but only here: after an unquoted value it would be
      // part of the value and could make the next attribute's `=` an attribute name.
      if (slash && attrs.length) attrs = [attrs[0]!.replace(/^\s*(?:\/\s*)?/, '/'), ...attrs.slice(1)];
      // The generator never writes href on <img>: the parsed tree could not tell it from <image href>.
      const list = tag.toLowerCase() === 'img' ? attrs.filter((a) => !/^[\s/]*href\s*=?/i.test(a) && !/^[\s/]*href$/i.test(a)) : attrs;
      return { tag, open: `<${tag}${list.join('')}${close}` };
    });

const endTag = (tag: string) => fc.constantFrom(`</${tag}>`, `</${tag}>`, `</${tag.toUpperCase()} >`, `</${tag} x="y">`, '');
const closeExactly = (tag: string) => fc.constantFrom(`</${tag}>`, `</${tag.toUpperCase()} >`, `</${tag} x="y">`);
/** `<svg …>` / `<math …>`, never self-closing. */
const foreignStart = (tag: 'svg' | 'math') => startTag(fc.constantFrom(tag, tag.toUpperCase())).map((s) => s.open.replace(/\/>$/, '>'));

/** Script text: origin URLs in strings (plain, protocol-relative, JSON-escaped), with `</script` and `<!--` hidden in strings. */
const scriptSnippet: fc.Arbitrary<string> = fc.oneof(
  anyUrl.filter((u) => !u.includes('\u0000')).map((u) => `var u = "${u}";`),
  originUrl.map((u) => `'${u.replace(/\//g, '\\/')}'`),
  originUrl.map((u) => `{"@type":"NewsArticle","url":"${u}"}`),
  fc.constantFrom(
    'var a = "</script";',
    'var b = "<!--";',
    "var c = '-->';",
    'var d = "<script>";',
    'if (a<b && b>c) {}',
    "document.write('<img src=\"x\">');",
    '</scrip',
    '</scriptx>',
    '\n',
    '中文',
    '&amp;',
    '\u0000',
  ),
);
const script = (closed: boolean) =>
  fc
    .tuple(startTag(fc.constant('script')), fc.array(scriptSnippet, { maxLength: 4 }), fc.constantFrom('</script>', '</SCRIPT>', '</script >', '</script\t/>', ...(closed ? [] : [''])))
    .map(([s, body, end]) => s.open + body.join('') + end);

const cssSnippet: fc.Arbitrary<string> = fc.oneof(
  anyUrl.filter((u) => !/[\s'"()\\\u0000]|&quot;/.test(u)).chain(cssUrl).map((u) => `a{background:${u}}`),
  originUrl.map((u) => `@import "${u}";`),
  fc.constantFrom('/* </style */', 'p > a { color: red }', '/* url(https://www.epochtimes.com/p/x) */', '</styl', '中文', '<!-- -->'),
);
const style = (closed: boolean) =>
  fc
    .tuple(startTag(fc.constant('style')), fc.array(cssSnippet, { maxLength: 3 }), fc.constantFrom('</style>', '</STYLE>', ...(closed ? [] : [''])))
    .map(([s, body, end]) => s.open + body.join('') + end);

const rcdata = (closed: boolean) =>
  fc
    .tuple(
      startTag(fc.constantFrom('textarea', 'title', 'TITLE', 'TextArea')),
      fc.array(fc.oneof(text, fc.constantFrom('<img src="https://www.epochtimes.com/p/r">', '</b>', '<!-- x -->', '</textare', '</titl')), { maxLength: 4 }),
      fc.boolean(),
    )
    .map(([s, body, close]) => s.open + body.join('') + (close || closed ? `</${s.tag}>` : ''));

/** Text for SVG/MathML <script>/<style>: no markup (see the note on scoping at the top). */
const foreignRawText = (snippets: fc.Arbitrary<string>) =>
  fc.array(snippets.filter((s) => !/[<&\u0000]/.test(s)), { maxLength: 3 }).map((parts) => parts.join(''));

const huge: fc.Arbitrary<HugeAttribute> = fc
  .tuple(fc.constantFrom('src', 'alt', 'srcset', 'style', 'data-src'), fc.integer({ min: 100_000, max: 140_000 }), originUrl, fc.constantFrom('x', '中', 'a&amp;'))
  .map(([attr, size, url, unit]) => new HugeAttribute(attr, size, url, unit));

export interface DocOptions {
  /** Invalid UTF-8 sequences and BOMs as raw bytes. */
  bytes?: boolean;
  /** 100 KB+ attribute values, now and then. */
  huge?: boolean;
  /** `<select>` and `<frameset>`, after which lol-html cannot tell raw-text tags from ignored ones. */
  ambiguous?: boolean;
}

/** Content: a recursive soup of all of the above. */
export function docArbitrary(options: DocOptions = {}): fc.Arbitrary<Doc> {
  type Keys = { node: Doc; nodes: Doc; closedNode: Doc; closedNodes: Doc; svgNode: Doc; svgNodes: Doc; mathNode: Doc; mathNodes: Doc; noscriptBody: Doc };
  const { node, noscriptBody } = fc.letrec<Keys>((tie) => {
    /**
     * HTML content. `closed`: every element closed by its own end tag, no SVG/MathML and no table
     * parts, for the inside of an integration point (where an element left open would make the tree
     * builder ignore the integration point's end tag, and a <td> in an <svg> inside a <table> would
     * close the <svg>: lol-html's simulator models neither).
     */
    const html = (closed: boolean): fc.Arbitrary<Doc> => {
      const tags = closed ? PLAIN_TAGS.filter((t) => !['table', 'tr', 'td', 'th'].includes(t)) : PLAIN_TAGS;
      const kids = tie(closed ? 'closedNodes' : 'nodes');
      const end = (tag: string) => (closed ? closeExactly(tag) : endTag(tag));
      return fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        { weight: 6, arbitrary: text.map((t) => [t]) },
        { weight: 2, arbitrary: comment.map((c) => [c]) },
        { weight: 6, arbitrary: fc.tuple(startTag(fc.constantFrom(...tags, ...(options.ambiguous && !closed ? ['select', 'frameset'] : []))), kids).chain(([s, k]) => end(s.tag).map((e) => [s.open, ...k, e])) },
        { weight: 2, arbitrary: script(closed).map((s) => [s]) },
        { weight: 2, arbitrary: style(closed).map((s) => [s]) },
        { weight: 2, arbitrary: rcdata(closed).map((s) => [s]) },
        // Closed here: an unclosed <noscript> would swallow SVG/MathML siblings (see noscriptBody); the
        // document may end with one instead.
        { weight: 2, arbitrary: fc.tuple(startTag(fc.constant('noscript')), tie('noscriptBody'), fc.constantFrom('</noscript>', '</NOSCRIPT>', '</noscript >')).map(([s, body, e]) => [s.open, ...body, e]) },
        { weight: 1, arbitrary: fc.tuple(startTag(fc.constant('template')), kids, fc.constantFrom('</template>', ...(closed ? [] : ['']))).map(([s, k, e]) => [s.open, ...k, e]) },
        ...(closed
          ? []
          : [
              // Never self-closing, always closed (L1–L3).
              { weight: 1, arbitrary: fc.tuple(foreignStart('svg'), tie('svgNodes'), closeExactly('svg')).map(([open, k, e]) => [open, ...k, e]) },
              { weight: 1, arbitrary: fc.tuple(foreignStart('math'), tie('mathNodes'), closeExactly('math')).map(([open, k, e]) => [open, ...k, e]) },
            ]),
        ...(options.bytes ? [{ weight: 2, arbitrary: rawBytes.map((b) => [b]) }] : []),
        ...(options.huge ? [{ weight: 1, arbitrary: fc.constantFrom(false, false, false, false, false, false, false, false, false, true).chain((big) => (big ? huge.map((h): Doc => [h]) : text.map((t): Doc => [t]))) }] : []),
      );
    };
    /** Inside <svg> or <math>: foreign elements, its integration points, break-out tags, CDATA, text-only script/style. */
    const foreign = (ns: 'svg' | 'math'): fc.Arbitrary<Doc> => {
      const kids = tie(ns === 'svg' ? 'svgNodes' : 'mathNodes');
      // Before a tag lol-html reads whole to decide the namespace (integration point, <font>): a
      // plain start tag, so that it never comes right after an end tag (L6).
      const reset = ns === 'svg' ? '<g/>' : '<mrow/>';
      return fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        { weight: 3, arbitrary: foreignText.map((t) => [t]) },
        { weight: 1, arbitrary: comment.map((c) => [c]) },
        {
          weight: 3,
          arbitrary: fc.tuple(startTag(fc.constantFrom(...FOREIGN_TAGS)), kids).chain(([s, k]) => fc.constantFrom(`</${s.tag}>`, '').map((e) => [s.open, ...k, e])),
        },
        {
          // Integration points, holding closed HTML: no text that runs on into the end tag, no HTML
          // <title> in SVG and no end tag lol-html cannot name in MathML (L4, L5, L7).
          weight: 2,
          arbitrary: fc
            .tuple(startTag(ns === 'svg' ? fc.constantFrom('foreignObject', 'desc', 'title') : fc.constantFrom('mi', 'mo', 'mn', 'ms', 'mtext')), tie('closedNodes'))
            .chain(([s, k]) =>
              closeExactly(s.tag).map((e) => [
                reset,
                s.open.replace(/\/>$/, '>'),
                ...k
                  .filter((p) => typeof p !== 'string' || !RUNS_ON.has(p))
                  .map((p) => (typeof p !== 'string' ? p : ns === 'svg' ? p.replace(/(<\/?)title\b/gi, '$1textarea') : p.replace(/x-foo/gi, 'xfoo'))),
                e,
              ]),
            ),
        },
        // Break-out: the rest of the foreign element is HTML to both parsers.
        { weight: 1, arbitrary: fc.tuple(fc.constantFrom('<p>', '<b>', '<div>', `${reset}<font color=red>`, '<IMG src="https://www.epochtimes.com/p/bo">', '<span>', '<table>'), tie('nodes')).map(([open, k]) => [open, ...k]) },
        { weight: 1, arbitrary: fc.constantFrom('<![CDATA[ a < b ]]>', '<![CDATA[ <img src="https://www.epochtimes.com/p/cd"> ]]>', '<g/>', '<image href="https://www.epochtimes.com/p/si"/>', `${reset}<font data-src="https://www.epochtimes.com/p/f">x</font>`).map((c) => [c]) },
        { weight: 1, arbitrary: foreignRawText(scriptSnippet).map((t) => [`<script>${t}</script>`]) },
        { weight: 1, arbitrary: foreignRawText(cssSnippet).map((t) => [`<style>${t}</style>`]) },
        { weight: 1, arbitrary: fc.tuple(foreignRawText(cssSnippet), fc.constantFrom('style', 'script')).map(([t, tag]) => [`<${tag}><![CDATA[${t}]]></${tag}>`]) },
      );
    };
    const list = (key: keyof Keys) => fc.array(tie(key), { maxLength: 4 }).map((ns) => ns.flat());
    return {
      node: html(false),
      nodes: list('node'),
      closedNode: html(true),
      closedNodes: list('closedNode'),
      svgNode: foreign('svg'),
      svgNodes: list('svgNode'),
      mathNode: foreign('math'),
      mathNodes: list('mathNode'),
      // <noscript>: any content that does not close it. Its nested <noscript>s lose their end tags
      // that way, and would be left open inside integration points (L4, which the fragment rewriter
      // shares with lol-html): <svg>/<math> become <div> here.
      noscriptBody: fc
        .array(tie('node'), { maxLength: 4 })
        .map((ns) => ns.flat().filter((p) => typeof p !== 'string' || !/<\/noscript/i.test(p)).map((p) => (typeof p === 'string' ? p.replace(/^<(svg|math)\b/i, '<div') : p))),
    };
  });
  return fc
    .tuple(
      fc.constantFrom('', '', '<!DOCTYPE html>', '<!doctype HTML PUBLIC "-//W3C//DTD HTML 4.01//EN">', '<!DOCTYPE html SYSTEM "about:legacy-compat">\n'),
      fc.array(node, { maxLength: 8 }),
      fc.option(noscriptBody, { freq: 8 }),
    )
    .map(([doctype, nodes, unclosed]) => [doctype, ...nodes.flat(), ...(unclosed ? ['<noscript>', ...unclosed] : [])]);
}

/** Documents dense in URL attributes (for "no origin URL survives"): tags with several URL attributes each, in every syntax. */
export function urlDenseArbitrary(): fc.Arbitrary<Doc> {
  const tag = startTag(fc.constantFrom('a', 'area', 'img', 'image', 'source', 'link', 'script', 'iframe', 'video', 'form', 'input', 'object', 'div', 'meta', 'base', 'blockquote', 'td', 'body'));
  const el = fc.tuple(tag, fc.array(attributeText, { minLength: 1, maxLength: 6 })).map(([s, more]) => {
    const open = s.open.replace(/\/?>$/, '');
    const list = s.tag.toLowerCase() === 'img' ? more.filter((a) => !/^[\s/]*href\b/i.test(a)) : more;
    return `${open}${list.join('')}>`;
  });
  return fc.array(fc.oneof(el, text, comment), { minLength: 1, maxLength: 12 });
}

export function toBytes(doc: Doc): Uint8Array {
  const enc = new TextEncoder();
  const parts = doc.map((p) => (typeof p === 'string' ? enc.encode(p) : p instanceof HugeAttribute ? enc.encode(p.html()) : p));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Cut positions for a byte input: a coarse and a fine chunking, as sorted unique offsets inside it. */
export const cutsArbitrary: fc.Arbitrary<{ coarse: number[]; fine: number[] }> = fc.record({
  coarse: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 4 }),
  fine: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 10, maxLength: 120 }),
});

export function cutsFor(fractions: number[], length: number): number[] {
  return [...new Set(fractions.map((f) => Math.floor(f * length)).filter((c) => c > 0 && c < length))].sort((a, b) => a - b);
}
