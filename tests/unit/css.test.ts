import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CSS_STREAM_MAX_CARRY, createCssStreamRewriter, rewriteCss } from '../../src/rewrite/css.ts';

const HOST = 'https://i.epochtimes.com/';
const map = (u: string): string | null => (u.startsWith(HOST) ? '/_i/' + u.slice(HOST.length) : null);

function recording(fn: (u: string) => string | null = map) {
  const seen: string[] = [];
  const mapUrl = (u: string) => {
    seen.push(u);
    return fn(u);
  };
  return { seen, mapUrl };
}

/** Streams `chunks` through a fresh rewriter and concatenates everything it emits. */
function streamed(chunks: readonly string[], mapUrl: (u: string) => string | null = map): string {
  const rw = createCssStreamRewriter(mapUrl);
  let out = '';
  for (const c of chunks) out += rw.push(c);
  return out + rw.flush();
}

function splitAt(s: string, points: readonly number[]): string[] {
  const sorted = [...new Set(points.map((p) => p % (s.length + 1)))].sort((a, b) => a - b);
  const out: string[] = [];
  let prev = 0;
  for (const p of sorted) {
    out.push(s.slice(prev, p));
    prev = p;
  }
  out.push(s.slice(prev));
  return out;
}

const REAL_CSS = `@charset "utf-8";
@import "${HOST}css/base.css";
@import '${HOST}css/print.css' print;
@import url(${HOST}css/a.css) screen and (min-width: 600px);
@IMPORT url( "${HOST}css/b.css" ) layer(base);
/* header: url(${HOST}comment.png) "${HOST}in-comment" */
:root{--brand:#c00;--bg:URL(${HOST}img/bg.png)}
.hero{background:#fff url(${HOST}img/hero.jpg?w=1200&h=600) no-repeat center/cover}
.logo{background-image:url( '${HOST}img/logo.svg' ), url("${HOST}img/logo@2x.png");}
.retina{background-image:-webkit-image-set("${HOST}img/r.png" 1x, url(${HOST}img/r2.png) 2x);
  background-image:image-set('${HOST}img/r.avif' type("image/avif") 1x,"${HOST}img/r.jpg" 2x)}
a[href^="${HOST}"]::after{content:"${HOST} \\"quoted\\" url(x)";font-family:'Open Sans'}
@font-face{font-family:X;src:url(data:font/woff2;base64,d09GMgABAAAAA+/=) format("woff2"),
  url(${HOST}fonts/x.woff?v=1#iefix) format('woff'),local("X")}
.esc{background:url(${HOST}img/a\\(1\\).png)}
.bad{background:url(${HOST}img/a b.png) url(${HOST}img/after-bad.png)}
.other{background:url(https://cdn.example/x.png);mask:myurl(${HOST}no.png)}
@media (max-width:600px){.m{background:url(  ${HOST}img/m.png  )}}
.trail{background:url(${HOST}img/eof.png`;

describe('rewriteCss', () => {
  it('rewrites unquoted, single- and double-quoted url() keeping quotes and whitespace', () => {
    expect(rewriteCss(`a{b:url(${HOST}x.png)}`, map)).toBe('a{b:url(/_i/x.png)}');
    expect(rewriteCss(`a{b:url( '${HOST}x.png' )}`, map)).toBe("a{b:url( '/_i/x.png' )}");
    expect(rewriteCss(`a{b:url("${HOST}x.png")}`, map)).toBe('a{b:url("/_i/x.png")}');
    expect(rewriteCss(`a{b:url(\n\t${HOST}x.png \n)}`, map)).toBe('a{b:url(\n\t/_i/x.png \n)}');
  });

  it('matches url( case-insensitively', () => {
    expect(rewriteCss(`URL(${HOST}a.png) Url("${HOST}b.png") uRl('${HOST}c.png')`, map)).toBe(
      `URL(/_i/a.png) Url("/_i/b.png") uRl('/_i/c.png')`,
    );
  });

  it('returns the very same string when nothing changed', () => {
    const inputs = [
      '',
      'a{color:red}',
      'a{background:url(https://cdn.example/x.png)}',
      `/* url(${HOST}x.png) */`,
      `a::after{content:"${HOST}x.png"}`,
    ];
    for (const css of inputs) expect(rewriteCss(css, map)).toBe(css);
  });

  it('does not call mapUrl at all when there is no url(/@import/image-set', () => {
    const r = recording();
    rewriteCss(`a{content:"${HOST}x.png";color:red} b[src='${HOST}y']{}`, r.mapUrl);
    expect(r.seen).toEqual([]);
  });

  it('rewrites @import strings and url()s with media, layer and odd spacing', () => {
    expect(rewriteCss(`@import "${HOST}a.css";`, map)).toBe('@import "/_i/a.css";');
    expect(rewriteCss(`@import '${HOST}a.css' screen;`, map)).toBe("@import '/_i/a.css' screen;");
    expect(rewriteCss(`@import url(${HOST}a.css);`, map)).toBe('@import url(/_i/a.css);');
    expect(rewriteCss(`@import url("${HOST}a.css") layer(x);`, map)).toBe('@import url("/_i/a.css") layer(x);');
    expect(rewriteCss(`@IMPORT"${HOST}a.css";`, map)).toBe('@IMPORT"/_i/a.css";');
    expect(rewriteCss(`@import\n  /* c */ "${HOST}a.css";`, map)).toBe('@import\n  /* c */ "/_i/a.css";');
  });

  it('only the first string after @import is a URL', () => {
    const r = recording();
    rewriteCss(`@import "${HOST}a.css" supports(display: "grid") "${HOST}b";`, r.mapUrl);
    expect(r.seen).toEqual([`${HOST}a.css`]);
  });

  it('does not treat other at-rules or @import-prefixed names as @import', () => {
    const r = recording();
    expect(rewriteCss(`@imports "${HOST}a.css"; @charset "${HOST}b"; @import-x "${HOST}c";`, r.mapUrl)).toBe(
      `@imports "${HOST}a.css"; @charset "${HOST}b"; @import-x "${HOST}c";`,
    );
    expect(r.seen).toEqual([]);
  });

  it('rewrites strings and url()s inside image-set and -webkit-image-set', () => {
    expect(rewriteCss(`a{b:image-set("${HOST}a.png" 1x, url(${HOST}b.png) 2x)}`, map)).toBe(
      'a{b:image-set("/_i/a.png" 1x, url(/_i/b.png) 2x)}',
    );
    expect(rewriteCss(`a{b:-webkit-image-set('${HOST}a.png' 1x,'${HOST}b.png' 2x)}`, map)).toBe(
      "a{b:-webkit-image-set('/_i/a.png' 1x,'/_i/b.png' 2x)}",
    );
    expect(rewriteCss(`a{b:IMAGE-SET("${HOST}a.png" 1x)}`, map)).toBe('a{b:IMAGE-SET("/_i/a.png" 1x)}');
  });

  it('does not treat strings nested in functions inside image-set as URLs', () => {
    const r = recording();
    const css = `a{b:image-set("${HOST}a.avif" type("${HOST}not-a-url") 1x, "${HOST}b.jpg" 2x)}`;
    expect(rewriteCss(css, r.mapUrl)).toBe(`a{b:image-set("/_i/a.avif" type("${HOST}not-a-url") 1x, "/_i/b.jpg" 2x)}`);
    expect(r.seen).toEqual([`${HOST}a.avif`, `${HOST}b.jpg`]);
  });

  it('does not rewrite strings after image-set has closed, nor in other functions', () => {
    const css = `a{b:image-set("${HOST}a.png" 1x);content:"${HOST}c";font:x("${HOST}d")} e{f:my-image-set("${HOST}g")}`;
    expect(rewriteCss(css, map)).toBe(
      `a{b:image-set("/_i/a.png" 1x);content:"${HOST}c";font:x("${HOST}d")} e{f:my-image-set("${HOST}g")}`,
    );
  });

  it('recovers from an unclosed image-set at the end of its block', () => {
    const css = `a{b:image-set("${HOST}a.png" 1x} c{content:"${HOST}q"}`;
    expect(rewriteCss(css, map)).toBe(`a{b:image-set("/_i/a.png" 1x} c{content:"${HOST}q"}`);
  });

  it('leaves strings outside URL contexts alone', () => {
    const css = `a[href="${HOST}x"]{content:"url(${HOST}y)";quotes:'${HOST}' '"'}`;
    expect(rewriteCss(css, map)).toBe(css);
  });

  it('does not rewrite inside comments, closed or not', () => {
    const css = `/* url(${HOST}a.png) @import "${HOST}b.css"; */a{b:url(${HOST}c.png)}/* url(${HOST}d.png)`;
    expect(rewriteCss(css, map)).toBe(`/* url(${HOST}a.png) @import "${HOST}b.css"; */a{b:url(/_i/c.png)}/* url(${HOST}d.png)`);
  });

  it('a "/*" inside a string or url is not a comment', () => {
    expect(rewriteCss(`a{content:"/*";b:url(${HOST}x.png)} /* */`, map)).toBe('a{content:"/*";b:url(/_i/x.png)} /* */');
    expect(rewriteCss(`a{b:url(${HOST}x/*y.png);c:url(${HOST}z.png)}`, map)).toBe(
      'a{b:url(/_i/x/*y.png);c:url(/_i/z.png)}',
    );
  });

  it('only matches a whole url function name', () => {
    const css = `a{b:myurl(${HOST}a);c:-url(${HOST}b);d:url (${HOST}c);e:1url(${HOST}d);f:url_(${HOST}e)}`;
    expect(rewriteCss(css, map)).toBe(css);
  });

  it('passes escapes raw and keeps escaped parentheses unquoted', () => {
    const r = recording();
    expect(rewriteCss(`a{b:url(${HOST}a\\(1\\).png)}`, r.mapUrl)).toBe('a{b:url(/_i/a\\(1\\).png)}');
    expect(r.seen).toEqual([`${HOST}a\\(1\\).png`]);
    const r2 = recording();
    expect(rewriteCss(`a{b:url("${HOST}a\\"b.png")}`, r2.mapUrl)).toBe('a{b:url("/_i/a\\"b.png")}');
    expect(r2.seen).toEqual([`${HOST}a\\"b.png`]);
  });

  it('an escaped ")" does not end an unquoted url', () => {
    const r = recording(() => null);
    rewriteCss('a{b:url(x\\)y) c}', r.mapUrl);
    expect(r.seen).toEqual(['x\\)y']);
  });

  it('quotes a replacement that is illegal in an unquoted url()', () => {
    expect(rewriteCss('a{b:url(x)}', () => '/a b.png')).toBe('a{b:url("/a b.png")}');
    expect(rewriteCss('a{b:url(x)}', () => '/a(1).png')).toBe('a{b:url("/a(1).png")}');
    expect(rewriteCss('a{b:url(x)}', () => '/a"b.png')).toBe(`a{b:url('/a"b.png')}`);
    expect(rewriteCss('a{b:url(x)}', () => `/a"b'c.png`)).toBe(`a{b:url("/a\\"b'c.png")}`);
    expect(rewriteCss('a{b:url(x)}', () => '/a\nb')).toBe('a{b:url("/a\\a b")}');
    expect(rewriteCss('a{b:url(x)}', () => '/a\\')).toBe('a{b:url("/a\\\\")}');
  });

  it('escapes the quote character of a quoted url in the replacement', () => {
    expect(rewriteCss("a{b:url('x')}", () => "/it's.png")).toBe("a{b:url('/it\\'s.png')}");
    expect(rewriteCss('a{b:url("x")}', () => "/it's.png")).toBe('a{b:url("/it\'s.png")}');
    expect(rewriteCss('@import "x";', () => '/a"b')).toBe('@import "/a\\"b";');
  });

  it('leaves bad urls alone and continues after them', () => {
    const css = `a{b:url(${HOST}a b.png) url(${HOST}c.png);d:url(${HOST}e"f) url(${HOST}g.png)}`;
    expect(rewriteCss(css, map)).toBe(`a{b:url(${HOST}a b.png) url(/_i/c.png);d:url(${HOST}e"f) url(/_i/g.png)}`);
  });

  it('a bad string (unescaped newline) is not a URL', () => {
    const r = recording();
    expect(rewriteCss(`@import "${HOST}a.css\n; a{b:url(${HOST}x.png)}`, r.mapUrl)).toBe(
      `@import "${HOST}a.css\n; a{b:url(/_i/x.png)}`,
    );
    expect(r.seen).toEqual([`${HOST}x.png`]);
    // The quote after a bad string opens a new (non-URL) string.
    const css = `@import "${HOST}a.css\n"; a{b:url(${HOST}x.png)}`;
    expect(rewriteCss(css, map)).toBe(css);
  });

  it('rewrites urls and strings cut off by the end of input', () => {
    expect(rewriteCss(`a{b:url(${HOST}x.png`, map)).toBe('a{b:url(/_i/x.png');
    expect(rewriteCss(`a{b:url( ${HOST}x.png  `, map)).toBe('a{b:url( /_i/x.png  ');
    expect(rewriteCss(`@import "${HOST}x.css`, map)).toBe('@import "/_i/x.css');
    expect(rewriteCss(`a{b:url("${HOST}x.png`, map)).toBe('a{b:url("/_i/x.png');
  });

  it('does not call mapUrl for empty urls', () => {
    const r = recording();
    expect(rewriteCss('a{b:url();c:url( );d:url("");e:url(\'\')} @import "";', r.mapUrl)).toBe(
      'a{b:url();c:url( );d:url("");e:url(\'\')} @import "";',
    );
    expect(r.seen).toEqual([]);
  });

  it('passes data: urls (with commas) whole', () => {
    const r = recording();
    const css = 'a{b:url(data:image/png;base64,AAA=);c:url("data:image/svg+xml,<svg a=\'1\'/>")}';
    expect(rewriteCss(css, r.mapUrl)).toBe(css);
    expect(r.seen).toEqual(['data:image/png;base64,AAA=', "data:image/svg+xml,<svg a='1'/>"]);
  });

  it('rewrites a realistic stylesheet', () => {
    const r = recording();
    const out = rewriteCss(REAL_CSS, r.mapUrl);
    expect(out).toContain('@import "/_i/css/base.css";');
    expect(out).toContain("@import '/_i/css/print.css' print;");
    expect(out).toContain('@import url(/_i/css/a.css) screen');
    expect(out).toContain('@IMPORT url( "/_i/css/b.css" ) layer(base);');
    expect(out).toContain(`/* header: url(${HOST}comment.png) "${HOST}in-comment" */`);
    expect(out).toContain('--bg:URL(/_i/img/bg.png)');
    expect(out).toContain('url(/_i/img/hero.jpg?w=1200&h=600)');
    expect(out).toContain(`url( '/_i/img/logo.svg' ), url("/_i/img/logo@2x.png")`);
    expect(out).toContain('-webkit-image-set("/_i/img/r.png" 1x, url(/_i/img/r2.png) 2x)');
    expect(out).toContain(`image-set('/_i/img/r.avif' type("image/avif") 1x,"/_i/img/r.jpg" 2x)`);
    expect(out).toContain(`a[href^="${HOST}"]::after{content:"${HOST} \\"quoted\\" url(x)"`);
    expect(out).toContain('url(/_i/fonts/x.woff?v=1#iefix)');
    expect(out).toContain('url(/_i/img/a\\(1\\).png)');
    expect(out).toContain(`url(${HOST}img/a b.png) url(/_i/img/after-bad.png)`);
    expect(out).toContain(`myurl(${HOST}no.png)`);
    expect(out).toContain('url(  /_i/img/m.png  )');
    expect(out.endsWith('url(/_i/img/eof.png')).toBe(true);
    expect(r.seen).not.toContain(`${HOST}comment.png`);
    expect(r.seen).not.toContain('image/avif');
    expect(r.seen).toContain('https://cdn.example/x.png');
    // Only URL text changed: removing the rewrites gives back the input.
    expect(out.replaceAll('/_i/', HOST)).toBe(REAL_CSS);
  });

  it('never throws on garbage and never changes text besides URLs', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (css) => {
        const out = rewriteCss(css, (u) => (u.startsWith('h') ? 'H' + u.slice(1) : null));
        expect(out.length).toBe(css.length);
      }),
      { numRuns: 1000 },
    );
  });
});

/** CSS-ish token soup: the constructs the scanner cares about, in random order. */
const TOKENS = [
  'url(', 'URL(', 'url( ', ')', '(', '"', "'", ' ', '\n', '\r\n', '\\', '\\)', '/*', '*/', '*', '/', '@', '@import', '@import ',
  'image-set(', '-webkit-image-set(', 'type(', ',', ';', '{', '}', '1x', 'data:a,b', HOST + 'a.png', HOST, 'x', 'u', 'rl',
  'im', 'age-set(', '\u00e9', '\t', '\x01',
];
const cssSoup = fc.array(fc.constantFrom(...TOKENS), { maxLength: 40 }).map((t) => t.join(''));

describe('createCssStreamRewriter', () => {
  it('emits what is final right away and carries only the unfinished url', () => {
    const rw = createCssStreamRewriter(map);
    expect(rw.push(`a{color:red} b{background:url(${HOST}x`)).toBe('a{color:red} b{background:');
    expect(rw.push('.png)} c{}')).toBe('url(/_i/x.png)} c{}');
    expect(rw.flush()).toBe('');
  });

  it('carries an ident that could still become url( or image-set(', () => {
    const rw = createCssStreamRewriter(map);
    expect(rw.push('a{b:ur')).toBe('a{b:');
    expect(rw.push(`l(${HOST}a.png) c:-webkit-image-`)).toBe('url(/_i/a.png) c:');
    expect(rw.push(`set("${HOST}b.png" 1x)}`)).toBe('-webkit-image-set("/_i/b.png" 1x)}');
    expect(rw.flush()).toBe('');
  });

  it('carries @import across chunks, including a comment in between', () => {
    expect(streamed(['@imp', 'ort /* x */ ', `"${HOST}a`, '.css";'])).toBe('@import /* x */ "/_i/a.css";');
  });

  it('flush rewrites a url cut off by the end of the stream', () => {
    const rw = createCssStreamRewriter(map);
    expect(rw.push(`a{b:url(${HOST}x.png`)).toBe('a{b:');
    expect(rw.flush()).toBe('url(/_i/x.png');
  });

  it('emits long comments and non-URL strings as they come (no carry)', () => {
    const rw = createCssStreamRewriter(map);
    const body = 'x'.repeat(1000);
    expect(rw.push('/*' + body)).toBe('/*' + body);
    expect(rw.push(`*`)).toBe('');
    expect(rw.push(`/ a{b:url(${HOST}c.png)}`)).toBe(`*/ a{b:url(/_i/c.png)}`);
    expect(rw.push('a{content:"' + body)).toBe('a{content:"' + body);
    expect(rw.push(`url(${HOST}d.png)" }`)).toBe(`url(${HOST}d.png)" }`);
    expect(rw.flush()).toBe('');
  });

  it('a stalled URL string ended by a newline (bad string) is emitted at once', () => {
    const rw = createCssStreamRewriter(map);
    expect(rw.push(`@import "${HOST}a.css`)).toBe('@import ');
    expect(rw.push(' more')).toBe('');
    expect(rw.push('\n;a{}')).toBe(`"${HOST}a.css more\n;a{}`);
  });

  it('"/*" followed by "/" is not a closed comment', () => {
    expect(rewriteCss(`/*/ url(${HOST}a.png) */ url(${HOST}b.png)`, map)).toBe(`/*/ url(${HOST}a.png) */ url(/_i/b.png)`);
    expect(streamed(['/*', `/ url(${HOST}a.png) */ url(${HOST}b.png)`])).toBe(`/*/ url(${HOST}a.png) */ url(/_i/b.png)`);
  });

  it('equals rewriteCss for every single split point of a realistic stylesheet', () => {
    const whole = rewriteCss(REAL_CSS, map);
    expect(whole).not.toBe(REAL_CSS);
    for (let p = 0; p <= REAL_CSS.length; p++) {
      const got = streamed([REAL_CSS.slice(0, p), REAL_CSS.slice(p)]);
      if (got !== whole) expect({ p, got }).toEqual({ p, got: whole });
    }
  });

  it('equals rewriteCss when fed one character at a time', () => {
    expect(streamed([...REAL_CSS])).toBe(rewriteCss(REAL_CSS, map));
  });

  it('equals rewriteCss for random chunkings of the realistic stylesheet', () => {
    const whole = rewriteCss(REAL_CSS, map);
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 30 }), (points) => {
        expect(streamed(splitAt(REAL_CSS, points))).toBe(whole);
      }),
      { numRuns: 500 },
    );
  });

  it('equals rewriteCss for random chunkings of random CSS-ish text', () => {
    const mapAll = (u: string) => (u.includes('a') ? '<' + u + '>' : null);
    fc.assert(
      fc.property(cssSoup, fc.array(fc.nat(), { maxLength: 12 }), (css, points) => {
        expect(streamed(splitAt(css, points), mapAll)).toBe(rewriteCss(css, mapAll));
        expect(streamed(splitAt(css, points), map)).toBe(rewriteCss(css, map));
      }),
      { numRuns: 3000 },
    );
  });

  it('bounds the carried tail: a huge data: url is emitted as-is and scanning resumes after it', () => {
    const big = 'A'.repeat(200_000);
    const css = `@font-face{src:url(data:font/woff2;base64,${big}) format("woff2")} a{b:url(${HOST}x.png)} c::after{content:"${HOST}y"}`;
    const rw = createCssStreamRewriter(map);
    let out = '';
    let pushed = 0;
    for (let i = 0; i < css.length; i += 1000) {
      const chunk = css.slice(i, i + 1000);
      out += rw.push(chunk);
      pushed += chunk.length;
      expect(pushed - out.length).toBeLessThanOrEqual(CSS_STREAM_MAX_CARRY + 1000);
    }
    out += rw.flush();
    expect(out).toBe(rewriteCss(css, map));
    expect(out).toContain('url(/_i/x.png)');
    expect(out).toContain(`content:"${HOST}y"`);
  });

  it('a mirrored URL longer than the carry limit is left as-is in streaming (documented limit)', () => {
    // Longer than the limit by more than a chunk, so the carry overflows before its end arrives.
    const long = `${HOST}${'p'.repeat(CSS_STREAM_MAX_CARRY + 10_000)}.png`;
    for (const form of [`url(${long})`, `url("${long}")`, `@import '${long}';`, `image-set("${long}" 1x)`]) {
      const css = `a{b:${form}} c{d:url(${HOST}after.png);e:image-set("${HOST}i.png" 1x)} f::after{content:"${HOST}z"}`;
      const chunks = splitAt(css, Array.from({ length: Math.ceil(css.length / 4096) }, (_, k) => k * 4096));
      const out = streamed(chunks);
      // (booleans: a failing diff of 70 KB strings is unreadable)
      expect(out.includes(form)).toBe(true);
      expect(out.includes('url(/_i/after.png)')).toBe(true);
      expect(out.includes('image-set("/_i/i.png" 1x)')).toBe(true);
      expect(out.includes(`content:"${HOST}z"`)).toBe(true);
      expect(out.length).toBe(css.length - 2 * (HOST.length - '/_i/'.length));
      // Whole-input rewriting has no such limit.
      expect(rewriteCss(css, map).includes(form)).toBe(false);
    }
  });

  it('does not rescan a long stalled url for every small chunk (stays fast)', () => {
    const rw = createCssStreamRewriter(map);
    const t0 = performance.now();
    rw.push('a{b:url(data:');
    for (let i = 0; i < 60_000; i++) rw.push('AAAA');
    rw.push(') c{d:url(' + HOST + 'x.png)}');
    expect(rw.flush()).toBe('');
    expect(performance.now() - t0).toBeLessThan(2000);
  });

  it('push("") emits nothing and does not disturb the state', () => {
    expect(streamed(['', `url(${HOST}a`, '', '.png)', ''])).toBe('url(/_i/a.png)');
  });
});
