import { describe, expect, it } from 'vitest';
import { diff, diffLines, unifiedDiff } from '../../src/cli/diff.ts';
import { registrableDomain } from '../../src/cli/discover.ts';
import { propose } from '../../src/cli/init.ts';
import { formatJson } from '../../src/cli/json.ts';
import { validateConfig } from '../../src/config/validate.ts';

/** Length of a longest common subsequence, by dynamic programming: what Myers must match. */
function lcs(a: string[], b: string[]): number {
  const dp = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) for (let j = b.length - 1; j >= 0; j--) dp[i]![j] = a[i] === b[j] ? dp[i + 1]![j + 1]! + 1 : Math.max(dp[i + 1]![j]!, dp[i]![j + 1]!);
  return dp[0]![0]!;
}

describe('line diff (src/cli/diff.ts)', () => {
  it('is a shortest edit script that rebuilds both sides (random inputs)', () => {
    let seed = 42;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) % n;
    for (let t = 0; t < 500; t++) {
      const a = Array.from({ length: rand(15) }, () => 'abcd'[rand(4)]!);
      const b = Array.from({ length: rand(15) }, () => 'abcd'[rand(4)]!);
      const edits = diff(a, b);
      expect(edits.filter((e) => e.op !== '+').map((e) => e.line)).toEqual(a);
      expect(edits.filter((e) => e.op !== '-').map((e) => e.line)).toEqual(b);
      expect(edits.filter((e) => e.op === ' ').length).toBe(lcs(a, b));
    }
  });

  it('prints unified hunks with context like diff -u', () => {
    const a = 'a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\n';
    const b = 'a\nB\nc\nd\ne\nf\ng\nh\ni\nj\nk\nL\nm\n';
    expect(unifiedDiff(a, b, { a: 'x', b: 'y' }).text).toBe(
      ['--- x', '+++ y', '@@ -1,5 +1,5 @@', ' a', '-b', '+B', ' c', ' d', ' e', '@@ -9,4 +9,5 @@', ' i', ' j', ' k', '-l', '+L', '+m', ''].join('\n'),
    );
    expect(unifiedDiff(a, a, { a: 'x', b: 'y' })).toEqual({ text: '', added: 0, removed: 0 });
    expect(unifiedDiff('', 'new\n', { a: 'x', b: 'y' }).text).toBe('--- x\n+++ y\n@@ -0,0 +1,1 @@\n+new\n');
    // Changes closer than 2 × context share a hunk.
    expect(unifiedDiff('1\n2\n3\n4\n5\n', '1\nX\n3\n4\nY\n', { a: 'x', b: 'y' }, { context: 1 }).text).toContain('@@ -1,5 +1,5 @@');
  });

  it('splits long lines between tags, and very long pieces after every ">"', () => {
    const long = '<div class="a">' + 'x'.repeat(100) + '</div><p>' + 'y'.repeat(150) + '</p>';
    expect(diffLines(long)).toEqual(['<div class="a">' + 'x'.repeat(100) + '</div>', '<p>' + 'y'.repeat(150) + '</p>']);
    expect(diffLines('short<b>line</b>')).toEqual(['short<b>line</b>']);
    const huge = ('<i>' + 'z'.repeat(300) + '</i> ').repeat(4);
    expect(diffLines(huge).every((l) => l.length < 400)).toBe(true);
    expect(diffLines(huge).join('')).toBe(huge);
  });
});

describe('init helpers', () => {
  it('registrable domains by rule of thumb', () => {
    expect(registrableDomain('www.ntdtv.com')).toBe('ntdtv.com');
    expect(registrableDomain('i.ntdtv.com:8443')).toBe('ntdtv.com');
    expect(registrableDomain('ntdtv.com')).toBe('ntdtv.com');
    expect(registrableDomain('img.example.com.tw')).toBe('example.com.tw');
    expect(registrableDomain('news.bbc.co.uk')).toBe('bbc.co.uk');
    expect(registrableDomain('127.0.0.1')).toBe('127.0.0.1');
    expect(registrableDomain('localhost')).toBe('localhost');
  });

  it('proposes root aliases, unique mounts per asset host and leaves third parties alone', () => {
    const use = (host: string, count: number, schemes = ['https:']) => [host, { host, count, schemes: new Set(schemes), kinds: new Set(['img src']) }] as const;
    const p = propose({
      pageUrl: 'https://example.com/news/',
      name: 'example',
      hosts: ['*'],
      upstream: null,
      resources: new Map([use('img.example.com', 9), use('img.cdn.example.com', 3, ['http:']), use('www.example.com', 2), use('fonts.googleapis.com', 1)]),
      links: new Map([use('forum.example.com', 4), use('img.example.com', 1)]),
    });
    const origins = p.config.sites[0]!.origins;
    expect(origins).toEqual([
      { url: 'https://example.com', mount: '/', aliases: ['http://example.com', 'https://www.example.com', 'http://www.example.com'] },
      { url: 'https://img.example.com', mount: '/_img/', aliases: ['http://img.example.com'] },
      { url: 'http://img.cdn.example.com', mount: '/_img2/', aliases: ['https://img.cdn.example.com'] },
    ]);
    expect(p.rows.map((r) => `${r.use.host}: ${r.verdict}`)).toEqual([
      'img.example.com: mount /_img/',
      'img.cdn.example.com: mount /_img2/',
      'www.example.com: alias of the root origin',
      'fonts.googleapis.com: not mounted (third party: left pointing at the original)',
    ]);
    expect(p.linked.map((l) => l.host)).toEqual(['forum.example.com']);
    expect(p.config.sites[0]!.nav).toEqual([{ label: '首页', href: '/news/' }]);
    expect(validateConfig(p.config).ok).toBe(true);
  });

  it('formats JSON compactly where it fits, and as JSON', () => {
    const value = { a: [1, 2], b: { c: 'x'.repeat(200), d: [] }, e: {} };
    const text = formatJson(value);
    expect(JSON.parse(text)).toEqual(value);
    expect(text).toContain('"a": [1, 2]');
    expect(text).toContain('"d": []');
  });
});
