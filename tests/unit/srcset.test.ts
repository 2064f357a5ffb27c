import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rewriteSrcset } from '../../src/rewrite/srcset.ts';

const HOST = 'https://i.epochtimes.com/';
const map = (u: string): string | null => (u.startsWith(HOST) ? '/_i/' + u.slice(HOST.length) : null);

/** A mapper that records what it was asked. */
function recording(fn: (u: string) => string | null = map) {
  const seen: string[] = [];
  const mapUrl = (u: string) => {
    seen.push(u);
    return fn(u);
  };
  return { seen, mapUrl };
}

describe('rewriteSrcset', () => {
  it('rewrites a single URL without descriptors', () => {
    expect(rewriteSrcset(`${HOST}a.jpg`, map)).toBe('/_i/a.jpg');
  });

  it('rewrites every candidate and keeps descriptors', () => {
    expect(rewriteSrcset(`${HOST}a.jpg 1x, ${HOST}b.jpg 2x`, map)).toBe('/_i/a.jpg 1x, /_i/b.jpg 2x');
    expect(rewriteSrcset(`${HOST}a.jpg 300w,${HOST}b.jpg 1.5x,${HOST}c.jpg 100h`, map)).toBe(
      '/_i/a.jpg 300w, /_i/b.jpg 1.5x, /_i/c.jpg 100h',
    );
  });

  it('keeps multi-token descriptors exactly as written (inner whitespace too)', () => {
    expect(rewriteSrcset(`${HOST}a.jpg 100w   50h ,${HOST}b.jpg`, map)).toBe('/_i/a.jpg 100w   50h, /_i/b.jpg');
  });

  it('returns null when nothing changes (no matching host)', () => {
    expect(rewriteSrcset('https://other.example/a.jpg 1x, /b.jpg 2x', map)).toBeNull();
  });

  it('returns null when mapUrl returns the same URL or an empty string', () => {
    expect(rewriteSrcset(`${HOST}a.jpg 1x`, (u) => u)).toBeNull();
    expect(rewriteSrcset(`${HOST}a.jpg 1x`, () => '')).toBeNull();
  });

  it('returns null on empty, whitespace-only and comma-only values without calling mapUrl', () => {
    for (const v of ['', '   ', ',', ',,,', ' , ,\t,\n', '\f\r']) {
      const r = recording();
      expect(rewriteSrcset(v, r.mapUrl)).toBeNull();
      expect(r.seen).toEqual([]);
    }
  });

  it('keeps commas inside a URL (a URL is a run of non-whitespace)', () => {
    const r = recording();
    expect(rewriteSrcset(`${HOST}a.jpg?w=1,2 2x, ${HOST}b.jpg?c=3,4,5 3x`, r.mapUrl)).toBe(
      '/_i/a.jpg?w=1,2 2x, /_i/b.jpg?c=3,4,5 3x',
    );
    expect(r.seen).toEqual([`${HOST}a.jpg?w=1,2`, `${HOST}b.jpg?c=3,4,5`]);
  });

  it('treats a comma-joined run without whitespace as one URL, as the spec does', () => {
    const r = recording();
    expect(rewriteSrcset(`${HOST}a.jpg,${HOST}b.jpg`, r.mapUrl)).toBe(`/_i/a.jpg,${HOST}b.jpg`);
    expect(r.seen).toEqual([`${HOST}a.jpg,${HOST}b.jpg`]);
  });

  it('strips trailing commas of a URL and ends the candidate there', () => {
    const r = recording();
    expect(rewriteSrcset(`${HOST}a.jpg, ${HOST}b.jpg 2x`, r.mapUrl)).toBe('/_i/a.jpg, /_i/b.jpg 2x');
    expect(r.seen).toEqual([`${HOST}a.jpg`, `${HOST}b.jpg`]);
    const r2 = recording();
    expect(rewriteSrcset(`${HOST}a.jpg,,, ${HOST}b.jpg,,`, r2.mapUrl)).toBe('/_i/a.jpg, /_i/b.jpg');
    expect(r2.seen).toEqual([`${HOST}a.jpg`, `${HOST}b.jpg`]);
  });

  it('a URL ending in a comma takes no descriptors: what follows is the next candidate', () => {
    const r = recording(() => null);
    expect(rewriteSrcset('a.jpg, 2x', r.mapUrl)).toBeNull();
    expect(r.seen).toEqual(['a.jpg', '2x']);
  });

  it('normalises separators only when something changed', () => {
    const v = `https://x.example/a.jpg   1x ,\n\t${HOST}b.jpg 2x`;
    expect(rewriteSrcset(v, map)).toBe('https://x.example/a.jpg 1x, /_i/b.jpg 2x');
    const unchanged = 'https://x.example/a.jpg   1x ,\n\thttps://y.example/b.jpg 2x';
    expect(rewriteSrcset(unchanged, map)).toBeNull();
  });

  it('rebuilds earlier unchanged candidates when a later one changes', () => {
    const v = `/a.jpg 1x,/b.jpg?x=1,2 2x,  /c.jpg,, ${HOST}d.jpg 4x, /e.jpg 5x`;
    expect(rewriteSrcset(v, map)).toBe('/a.jpg 1x, /b.jpg?x=1,2 2x, /c.jpg, /_i/d.jpg 4x, /e.jpg 5x');
  });

  it('handles all ASCII whitespace kinds and leading/trailing junk', () => {
    const v = `\n , ,\t${HOST}a.jpg\t1x,\n  ${HOST}b.jpg\f2x\r\n , `;
    expect(rewriteSrcset(v, map)).toBe('/_i/a.jpg 1x, /_i/b.jpg 2x');
  });

  it('does not treat non-ASCII whitespace as a separator', () => {
    const r = recording(() => null);
    rewriteSrcset('a.jpg\u00a01x', r.mapUrl);
    expect(r.seen).toEqual(['a.jpg\u00a01x']);
  });

  it('keeps commas inside descriptor parentheses', () => {
    const r = recording();
    expect(rewriteSrcset(`${HOST}a.jpg foo(1, 2) 1x, ${HOST}b.jpg 2x`, r.mapUrl)).toBe(
      '/_i/a.jpg foo(1, 2) 1x, /_i/b.jpg 2x',
    );
    expect(r.seen).toEqual([`${HOST}a.jpg`, `${HOST}b.jpg`]);
  });

  it('an unbalanced "(" swallows the rest of the value into descriptors (spec behaviour)', () => {
    const r = recording();
    expect(rewriteSrcset(`${HOST}a.jpg (1x, ${HOST}b.jpg 2x`, r.mapUrl)).toBe(`/_i/a.jpg (1x, ${HOST}b.jpg 2x`);
    expect(r.seen).toEqual([`${HOST}a.jpg`]);
  });

  it('stray ")" is just descriptor text', () => {
    expect(rewriteSrcset(`${HOST}a.jpg 1x), ${HOST}b.jpg`, map)).toBe('/_i/a.jpg 1x), /_i/b.jpg');
  });

  it('passes a data: URL (with its comma) whole and leaves it alone', () => {
    const r = recording();
    expect(rewriteSrcset(`data:image/png;base64,AAA 1x, ${HOST}b.jpg 2x`, r.mapUrl)).toBe(
      'data:image/png;base64,AAA 1x, /_i/b.jpg 2x',
    );
    expect(r.seen).toEqual(['data:image/png;base64,AAA', `${HOST}b.jpg`]);
    expect(rewriteSrcset('data:image/png;base64,AAA 1x', map)).toBeNull();
  });

  it('percent-encodes whitespace and edge commas in replacement URLs', () => {
    expect(rewriteSrcset('a.jpg 1x', () => '/x y\tz.jpg')).toBe('/x%20y%09z.jpg 1x');
    expect(rewriteSrcset('a.jpg 1x', () => ',/x,y,')).toBe('%2C/x,y%2C 1x');
  });

  it('never throws and preserves the candidate structure for arbitrary input', () => {
    const chars = fc.constantFrom(' ', ',', '(', ')', '\t', '\n', 'a', 'b', '1', 'x', 'w', ':', '/', '.');
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: chars })), (v) => {
        const first = recording((u) => 'M' + u);
        const out = rewriteSrcset(v, first.mapUrl);
        if (first.seen.length === 0) {
          expect(out).toBeNull();
          return;
        }
        expect(out).not.toBeNull();
        // Re-parsing the output finds the same candidates, each with its rewritten URL.
        const second = recording(() => null);
        expect(rewriteSrcset(out!, second.mapUrl)).toBeNull();
        expect(second.seen).toEqual(first.seen.map((u) => 'M' + u));
        // Rewriting the output with an identity-ish mapper is a fixed point (normalised form).
        expect(rewriteSrcset(out!, (u) => u.slice(1) + '!')?.length).toBe(out!.length);
      }),
      { numRuns: 2000 },
    );
  });

  it('never calls mapUrl with an empty, whitespace-containing or comma-edged URL', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(' ', ',', '(', ')', 'a', '\n') }), (v) => {
        const r = recording(() => null);
        rewriteSrcset(v, r.mapUrl);
        for (const u of r.seen) {
          expect(u.length).toBeGreaterThan(0);
          expect(u).not.toMatch(/[\s]|^,|,$/);
        }
      }),
    );
  });
});
