import fc from 'fast-check';
import { it, expect } from 'vitest';
import { createCssStreamRewriter, rewriteCss } from '../../src/rewrite/css.ts';
const HOST = 'https://i.epochtimes.com/';
const TOKENS = ['url(', 'URL(', 'url( ', ')', '(', '"', "'", ' ', '\n', '\r', '\r\n', '\f', '\\', '\\)', "\\'", '/*', '*/', '*', '/', '@', '@import', '@import ', '@i',
  'image-set(', '-webkit-image-set(', '-x-image-set(', 'type(', ',', ';', '{', '}', '1x', 'data:a,b', HOST + 'a.png', HOST, 'x', 'u', 'rl', 'im', 'age-set(', '\u00e9', '\t', '\x01', '-', 'a', ':', '.'];
const soup = fc.array(fc.constantFrom(...TOKENS), { minLength: 10, maxLength: 80 }).map((t) => t.join(''));
function streamed(chunks: string[], m: (u: string) => string | null) { const rw = createCssStreamRewriter(m); let o = ''; for (const c of chunks) o += rw.push(c); return o + rw.flush(); }
it('stress', () => {
  const mapAll = (u: string) => (u.length % 3 === 0 ? '<' + u + '> \'"()\\' : u.includes('a') ? 'Q' + u : null);
  fc.assert(fc.property(soup, fc.array(fc.nat(), {maxLength: 6}), (css, pts) => {
    const whole = rewriteCss(css, mapAll);
    for (let p = 0; p <= css.length; p++) {
      const got = streamed([css.slice(0, p), css.slice(p)], mapAll);
      if (got !== whole) expect({ p, css, got }).toEqual({ p, css, got: whole });
    }
    expect(streamed([...css], mapAll)).toBe(whole);
    const sorted = [...new Set(pts.map((x) => x % (css.length + 1)))].sort((a, b) => a - b);
    const ch: string[] = []; let prev = 0; for (const x of sorted) { ch.push(css.slice(prev, x)); prev = x; } ch.push(css.slice(prev));
    expect(streamed(ch, mapAll)).toBe(whole);
  }), { numRuns: 60000 });
}, 600000);
