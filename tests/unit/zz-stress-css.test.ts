import fc from 'fast-check';
import { it, expect } from 'vitest';
import { createCssStreamRewriter, rewriteCss } from '../../src/rewrite/css.ts';
const HOST = 'https://i.epochtimes.com/';
const TOKENS = ['url(', 'URL(', 'url( ', ')', '(', '"', "'", ' ', '\n', '\r', '\r\n', '\f', '\\', '\\)', "\\'", '/*', '*/', '*', '/', '@', '@import', '@import ', '@i',
  'image-set(', '-webkit-image-set(', '-x-image-set(', 'type(', ',', ';', '{', '}', '1x', 'data:a,b', HOST + 'a.png', HOST, 'x', 'u', 'rl', 'im', 'age-set(', '\u00e9', '\t', '\x01', '-', 'a'];
const soup = fc.array(fc.constantFrom(...TOKENS), { maxLength: 60 }).map((t) => t.join(''));
function streamed(chunks: string[], m: (u: string) => string | null) { const rw = createCssStreamRewriter(m); let o = ''; for (const c of chunks) o += rw.push(c); return o + rw.flush(); }
it('stress', () => {
  const mapAll = (u: string) => (u.length % 3 === 0 ? '<' + u + '> \'"()\\' : u.includes('a') ? 'Q' + u : null);
  fc.assert(fc.property(soup, (css) => {
    const whole = rewriteCss(css, mapAll);
    for (let p = 0; p <= css.length; p++) {
      const got = streamed([css.slice(0, p), css.slice(p)], mapAll);
      if (got !== whole) expect({ p, css, got }).toEqual({ p, css, got: whole });
    }
    expect(streamed([...css], mapAll)).toBe(whole);
  }), { numRuns: 100000 });
}, 600000);
