import { describe, expect, it } from 'vitest';
import { CharsetSniffer, detectCharset, DEFAULT_LEGACY_CHARSET } from '../../src/rewrite/charset.ts';
import { encodeLegacy } from '../helpers/origin.ts';

const SIMPLIFIED = '大纪元新闻网：美国国会通过新法案，中国人权问题受到关注。我们的记者在现场报道了这一重要的政治事件。';
const TRADITIONAL = '大紀元新聞網：美國國會通過新法案，中國人權問題受到關注。我們的記者在現場報導了這一重要的政治事件。';

describe('detectCharset (pages that declare nothing)', () => {
  it('tells UTF-8, GBK and Big5 apart by their text', () => {
    expect(detectCharset(new TextEncoder().encode(`<p>${SIMPLIFIED}</p>`), true)).toBe('utf-8');
    expect(detectCharset(encodeLegacy(`<p>${SIMPLIFIED}</p>`, 'gbk'), true)).toBe('gbk');
    expect(detectCharset(encodeLegacy(`<p>${TRADITIONAL}</p>`, 'big5'), true)).toBe('big5');
    expect(detectCharset(encodeLegacy(`<p>${TRADITIONAL}</p>`, 'gbk'), true)).toBe('gbk'); // traditional characters in GBK
  });
  it('a UTF-8 sequence cut at the end of the sample is still UTF-8', () => {
    const bytes = new TextEncoder().encode(`<p>${SIMPLIFIED}</p>`);
    const cut = bytes.subarray(0, 3 + 3 * 5 + 1); // one byte into a 3-byte character
    expect(detectCharset(cut, false)).toBe('utf-8');
  });
  it('ASCII only: UTF-8 when that is the whole page, else the locale default', () => {
    const ascii = new TextEncoder().encode('<html><head><title>x</title></head>');
    expect(detectCharset(ascii, true)).toBe('utf-8');
    expect(detectCharset(ascii, false)).toBe(DEFAULT_LEGACY_CHARSET);
  });
});

describe('CharsetSniffer', () => {
  it('finds a <meta charset> split across 7-byte chunks, and stops there', () => {
    const bytes = new TextEncoder().encode(`<html><head><!--${'x'.repeat(5000)}--><meta charset="big5"><title>t</title>`);
    const s = new CharsetSniffer();
    let fed = 0;
    while (!s.enough && fed < bytes.length) {
      s.push(bytes.subarray(fed, fed + 7));
      fed += 7;
    }
    expect(s.enough).toBe(true);
    expect(fed).toBeLessThan(bytes.length);
    expect(s.decide(false)).toBe('big5');
  });
});
