import { describe, expect, it } from 'vitest';
import { SiteMapper, type DocContext } from '../../src/mapping/url-mapper.ts';
import { resolve, testSiteConfig } from '../helpers/mirror.ts';

const config = resolve({
  sites: [
    {
      ...testSiteConfig('http://127.0.0.1:1'),
      origins: [
        { url: 'https://www.epochtimes.com', mount: '/', aliases: ['http://www.epochtimes.com', 'https://epochtimes.com', 'http://epochtimes.com'] },
        { url: 'https://i.epochtimes.com', mount: '/_i/', aliases: ['http://i.epochtimes.com'] },
        { url: 'http://media.example:8080', mount: '/_m/' },
      ],
    },
  ],
});
const mapper = new SiteMapper(config.sites[0]!);
const www = mapper.origins[0]!;
const img = mapper.origins[1]!;
const page: DocContext = { origin: www, url: 'https://www.epochtimes.com/gb/21/3/2/n12784933.htm', mirrorOrigin: 'https://mirror.example' };
const imgPage: DocContext = { ...page, origin: img, url: 'https://i.epochtimes.com/assets/page.html' };

describe('SiteMapper.toMirror (origin → mirror)', () => {
  it.each([
    ['https://www.epochtimes.com/gb/x.htm', '/gb/x.htm'],
    ['http://www.epochtimes.com/gb/x.htm', '/gb/x.htm'],
    ['https://epochtimes.com/gb/x.htm', '/gb/x.htm'],
    ['//www.epochtimes.com/gb/x.htm', '/gb/x.htm'],
    ['HTTPS://WWW.EpochTimes.COM/gb/X.htm', '/gb/X.htm'],
    ['https://www.epochtimes.com:443/gb/x.htm', '/gb/x.htm'],
    ['http://www.epochtimes.com:80/gb/x.htm', '/gb/x.htm'],
    ['https://www.epochtimes.com', '/'],
    ['https://www.epochtimes.com?x=1', '/?x=1'],
    ['https://www.epochtimes.com#top', '/#top'],
    ['https://i.epochtimes.com/a.jpg', '/_i/a.jpg'],
    ['//i.epochtimes.com/a.jpg?w=1,2#f', '/_i/a.jpg?w=1,2#f'],
    ['https://i.epochtimes.com', '/_i/'],
    ['http://media.example:8080/v.mp4', '/_m/v.mp4'],
    // bytes of path and query unchanged: no decoding, no re-encoding
    ['https://www.epochtimes.com/gb/tag/%E7%BE%8E%E5%9B%BD.html?q=%20a+b&x=%zz', '/gb/tag/%E7%BE%8E%E5%9B%BD.html?q=%20a+b&x=%zz'],
    ['https://www.epochtimes.com/gb/tag/美国.html', '/gb/tag/美国.html'],
    ['  https://www.epochtimes.com/gb/x.htm\n', '/gb/x.htm'],
  ])('%s → %s', (input, expected) => {
    expect(mapper.toMirror(input, page)).toBe(expected);
  });

  it.each([
    '#comments',
    'mailto:a@epochtimes.com',
    'tel:+1234',
    'javascript:location="https://www.epochtimes.com/"',
    'data:image/png;base64,AAAA',
    'blob:https://www.epochtimes.com/1234',
    'https://www.epochtimes.com.evil.example/x',
    'https://evil.example/https://www.epochtimes.com/',
    'http://media.example/v.mp4', // different port than configured
    'https://twitter.com/x',
    'x.jpg',
    '../gb/x.htm',
    '?page=2',
    '/gb/x.htm', // root-relative on the root origin's page already resolves on the mirror
    '',
  ])('leaves %j alone', (input) => {
    expect(mapper.toMirror(input, page)).toBeNull();
  });

  it('prefixes root-relative URLs with the mount inside a mounted origin’s documents, and leaves path-relative ones', () => {
    expect(mapper.toMirror('/assets/b.png', imgPage)).toBe('/_i/assets/b.png');
    expect(mapper.toMirror('b.png', imgPage)).toBeNull();
    expect(mapper.toMirror('https://www.epochtimes.com/gb/', imgPage)).toBe('/gb/');
  });

  it('produces absolute mirror URLs where only those work', () => {
    expect(mapper.toMirror('https://i.epochtimes.com/a.jpg', page, true)).toBe('https://mirror.example/_i/a.jpg');
    expect(mapper.toMirror('/gb/x.htm', page, true)).toBe('https://mirror.example/gb/x.htm');
    expect(mapper.toMirror('https://twitter.com/', page, true)).toBeNull();
  });
});

describe('SiteMapper.toMirror: every spelling the URL parser reads as an origin host', () => {
  // [as written, syntax, expected]: expectations are what the WHATWG URL parser (new URL) resolves
  // each spelling to, once decoded for its context, mapped to the mirror.
  it.each([
    ['https:&#x2F;&#x2F;www.epochtimes.com/gb/x.htm', 'html', '/gb/x.htm'],
    ['&#x68;ttps://i.epochtimes.com/a.jpg', 'html', '/_i/a.jpg'],
    ['https&colon;//i.epochtimes.com/a.jpg', 'html', '/_i/a.jpg'],
    ['https://i&period;epochtimes&period;com/a.jpg', 'html', '/_i/a.jpg'],
    ['https&#58;//i.epochtimes.com/a.jpg', 'html', '/_i/a.jpg'],
    ['https&#0058//i.epochtimes.com/a.jpg', 'html', '/_i/a.jpg'],
    ['&#x2F;&#x2F;i.epochtimes.com/a.jpg', 'html', '/_i/a.jpg'],
    ['/&#x2F;i.epochtimes.com/a.jpg', 'html', '/_i/a.jpg'],
    ['https://i.epochtimes.com&#x2F;a.jpg?x=1&amp;y=2', 'html', '/_i/a.jpg?x=1&amp;y=2'],
    ['ht\ttps://i.epoch\ntimes.com/a.jpg', 'url', '/_i/a.jpg'],
    ['https:/\n/i.epochtimes.com/a.jpg', 'url', '/_i/a.jpg'],
    ['https:&Tab;//i.epochtimes.com/a.jpg', 'html', '/_i/a.jpg'],
    ['https:\\\\i.epochtimes.com\\a.jpg', 'url', '/_i/a.jpg'],
    ['\\\\i.epochtimes.com/a.jpg', 'url', '/_i/a.jpg'],
    ['/\\i.epochtimes.com/a.jpg', 'url', '/_i/a.jpg'],
    ['\\/i.epochtimes.com/a.jpg', 'url', '/_i/a.jpg'],
    ['http:www.epochtimes.com/gb/x.htm', 'url', '/gb/x.htm'],
    ['https:/i.epochtimes.com/a.jpg', 'url', '/_i/a.jpg'],
    ['https:////i.epochtimes.com/a.jpg', 'url', '/_i/a.jpg'],
    ['https://user@i.epochtimes.com/a.jpg', 'url', '/_i/a.jpg'],
    ['https://user:pw@i.epochtimes.com/a.jpg', 'url', '/_i/a.jpg'],
    ['https://i.epochtimes.com./a.jpg', 'url', '/_i/a.jpg'],
    ['https://i.epochtimes.com:0443/a.jpg', 'url', '/_i/a.jpg'],
    ['http://i.epochtimes.com:080/a.jpg', 'url', '/_i/a.jpg'],
    ['https://%69.epochtimes.com/a.jpg', 'url', '/_i/a.jpg'],
    ['https://i%2Eepochtimes.com/a.jpg', 'url', '/_i/a.jpg'],
    ['https://i。epochtimes．com/a.jpg', 'url', '/_i/a.jpg'],
    ['https://ｉ.ｅｐｏｃｈｔｉｍｅｓ.ｃｏｍ/a.jpg', 'url', '/_i/a.jpg'],
    ['https://I.EPOCHTIMES.COM/a.jpg', 'url', '/_i/a.jpg'],
    ['\u0001\u0002 https://i.epochtimes.com/a.jpg', 'url', '/_i/a.jpg'],
    ['&#x20;https://i.epochtimes.com/a.jpg', 'html', '/_i/a.jpg'],
    ['https://i.epochtimes.com?x', 'url', '/_i/?x'],
    ['h\\74tps://i.epochtimes.com/a.jpg', 'css', '/_i/a.jpg'],
    ['https\\:\\/\\/i.epochtimes.com\\/a.jpg', 'css', '/_i/a.jpg'],
    ['https:\\2f\\2f i.epochtimes.com/a.jpg', 'css', '/_i/a.jpg'],
    ['https&#58;//i.epochtimes.com/a.jpg', 'html-css', '/_i/a.jpg'],
    ['https:\\&#x32;f\\2f i.epochtimes.com/a.jpg', 'html-css', '/_i/a.jpg'],
  ] as const)('%j (%s) → %s', (input, syntax, expected) => {
    expect(mapper.toMirror(input, page, false, syntax)).toBe(expected);
  });

  it.each([
    ['https://i.epochtimes.com.evil.example/a.jpg', 'url'],
    ['https://i.epochtimes.com@evil.example/a.jpg', 'url'],
    ['https://evil.example\\@i.epochtimes.com/', 'url'],
    ['https://i.epochtimes.com..//a.jpg', 'url'],
    ['https://i.epochtimes.com:8443/a.jpg', 'url'],
    ['https&colon//i.epochtimes.com/a.jpg', 'html'], // not decoded without ";"
    ['ftp://i.epochtimes.com/a.jpg', 'url'],
    ['javascript&colon;alert(1)', 'html'],
    ['https:&#x2F;&#x2F;www.epochtimes.com/gb/x.htm', 'url'], // not decoded outside attributes
  ] as const)('leaves %j (%s) alone', (input, syntax) => {
    const out = mapper.toMirror(input, page, false, syntax);
    if (out !== null) expect(out.startsWith('/_i/')).toBe(false);
    if (out !== null) expect(out).not.toMatch(/^\/gb\//);
  });
});

describe('SiteMapper: a bijection despite mounts (root-origin paths that look like a mount are escaped)', () => {
  it.each([
    ['https://www.epochtimes.com/_i/logo.png', '/_root/_i/logo.png'],
    ['https://www.epochtimes.com/_i', '/_root/_i'],
    ['https://www.epochtimes.com/_i?x', '/_root/_i?x'],
    ['https://www.epochtimes.com/_root/x', '/_root/_root/x'],
    ['https://www.epochtimes.com/_mirror/health', '/_root/_mirror/health'],
    ['https://www.epochtimes.com/_image/x', '/_image/x'],
    ['/_i/logo.png', '/_root/_i/logo.png'],
  ])('%s → %s and back', (input, expected) => {
    expect(mapper.toMirror(input, page)).toBe(expected);
    const back = mapper.toOrigin(expected);
    expect(back.origin.url + back.path).toBe(new URL(input, page.url).href.replace(/\/$/, input.endsWith('/') ? '/' : ''));
  });
  it('escapes in script text too', () => {
    expect(mapper.rewriteText('"https://www.epochtimes.com/_i/logo.png"', 'https://m.example')).toBe('"https://m.example/_root/_i/logo.png"');
    expect(mapper.rewriteText('"https:\\/\\/www.epochtimes.com\\/_i\\/logo.png"', 'https://m.example')).toBe('"https:\\/\\/m.example\\/_root\\/_i\\/logo.png"');
    expect(mapper.rewriteText('"https://www.epochtimes.com/_image/x"', 'https://m.example')).toBe('"https://m.example/_image/x"');
  });
  it('a bare mounted host in script text reaches that origin’s "/"', () => {
    const text = mapper.rewriteText('var cdn="https://i.epochtimes.com"', 'https://m.example');
    const mirrored = /"(.*)"/.exec(text)![1]!;
    const back = mapper.toOrigin(new URL(mirrored).pathname);
    expect(back.origin.url + back.path).toBe('https://i.epochtimes.com/');
  });
});

describe('SiteMapper.toOrigin (mirror → origin)', () => {
  it.each([
    ['/gb/x.htm?a=%E7', 'https://www.epochtimes.com', '/gb/x.htm?a=%E7'],
    ['/_i/a.jpg', 'https://i.epochtimes.com', '/a.jpg'],
    ['/_i/', 'https://i.epochtimes.com', '/'],
    ['/_i', 'https://i.epochtimes.com', '/'],
    ['/_i?x=1', 'https://i.epochtimes.com', '/?x=1'],
    ['/_root/_i/logo.png', 'https://www.epochtimes.com', '/_i/logo.png'],
    ['/_root/_root/x', 'https://www.epochtimes.com', '/_root/x'],
    ['/_root', 'https://www.epochtimes.com', '/'],
    ['/_rootx', 'https://www.epochtimes.com', '/_rootx'],
    ['/_image/x', 'https://www.epochtimes.com', '/_image/x'],
    ['/_m/v.mp4', 'http://media.example:8080', '/v.mp4'],
  ])('%s → %s%s', (input, origin, path) => {
    const hit = mapper.toOrigin(input);
    expect(hit.origin.url).toBe(origin);
    expect(hit.path).toBe(path);
  });

  it('is the inverse of toMirror', () => {
    for (const url of ['https://www.epochtimes.com/gb/a.htm?x=%E7#f', 'https://i.epochtimes.com/2021/03/a.jpg', 'http://media.example:8080/x']) {
      const mirrored = mapper.toMirror(url, page)!;
      const back = mapper.toOrigin(mirrored.split('#')[0]!);
      expect(back.origin.url + back.path).toBe(url.split('#')[0]);
    }
  });

  it('maps mirror URLs (Referer) back, and nothing else', () => {
    expect(mapper.mirrorUrlToOrigin('https://mirror.example/_i/a.jpg', 'https://mirror.example')).toBe('https://i.epochtimes.com/a.jpg');
    expect(mapper.mirrorUrlToOrigin('https://mirror.example', 'https://mirror.example')).toBe('https://www.epochtimes.com/');
    expect(mapper.mirrorUrlToOrigin('https://mirror.example.evil/x', 'https://mirror.example')).toBeNull();
    expect(mapper.mirrorUrlToOrigin('https://other.example/x', 'https://mirror.example')).toBeNull();
  });
});

describe('SiteMapper.rewriteText (scripts, JSON, feeds)', () => {
  const rewrite = (s: string) => mapper.rewriteText(s, 'https://mirror.example');
  it('rewrites absolute, protocol-relative and escaped spellings, keeping the escaping', () => {
    expect(rewrite('"https://www.epochtimes.com/gb/x"')).toBe('"https://mirror.example/gb/x"');
    expect(rewrite('"http://epochtimes.com/gb/x"')).toBe('"https://mirror.example/gb/x"');
    expect(rewrite('"https:\\/\\/i.epochtimes.com\\/a.jpg"')).toBe('"https:\\/\\/mirror.example\\/_i\\/a.jpg"');
    expect(rewrite("'//i.epochtimes.com/a.jpg'")).toBe("'//mirror.example/_i/a.jpg'");
    expect(rewrite('"\\/\\/i.epochtimes.com\\/a.jpg"')).toBe('"\\/\\/mirror.example\\/_i\\/a.jpg"');
    expect(rewrite('x="https://www.epochtimes.com"')).toBe('x="https://mirror.example"');
  });
  it('leaves look-alikes alone', () => {
    for (const s of ['https://www.epochtimes.com.cn/x', 'https://www.epochtimes.community/', 'https://xwww.epochtimes.com/', 'see www.epochtimes.com/x', 'https://www.epochtimes.com:8443/x']) {
      expect(rewrite(s)).toBe(s);
    }
  });
  it('returns the same string when nothing matches', () => {
    const s = 'var a = 1;';
    expect(rewrite(s)).toBe(s);
  });
});

describe('SiteMapper.linkAction', () => {
  it('applies rules to the canonical URL (aliases and relative spellings included), first match wins', () => {
    expect(mapper.linkAction('http://epochtimes.com/b5/x.htm', page).action).toBe('keep');
    expect(mapper.linkAction('/b5/x.htm', page)).toEqual({ action: 'keep', canonical: 'https://www.epochtimes.com/b5/x.htm' });
    expect(mapper.linkAction('../../../../b5/x.htm', page).action).toBe('keep');
    expect(mapper.linkAction('/gb/x.htm', page).action).toBe('mirror');
    expect(mapper.linkAction('https://twitter.com/', page).action).toBe('mirror'); // external: "keep" by default means untouched
  });
});

describe('canonical URLs of root-relative paths', () => {
  it('equal what the URL parser makes of them against the document URL (dot segments, escapes, odd characters)', async () => {
    const fc = await import('fast-check');
    // Characters the fast path accepts and ones it must leave to the URL parser.
    const char = fc.constantFrom(...'az09/._~!$&()*+,;=:@%?-#\\\'"<>`{}^|[] \t2eE\u4e2d');
    const docs = [page.url, 'http://WWW.epochtimes.com:80/a/b?q', 'https://i.epochtimes.com:8443/b/'];
    fc.assert(
      fc.property(fc.string({ unit: char, maxLength: 10 }), fc.constantFrom(...docs), fc.constantFrom('url' as const, 'html' as const), (tail, docUrl, syntax) => {
        const raw = '/' + tail;
        const doc: DocContext = { ...page, url: docUrl };
        if (mapper.matchAbsolute(raw.trim(), syntax)) return; // an origin URL spelled oddly: not this path
        let expected: string | null;
        try {
          expected = new URL(raw, docUrl).href;
        } catch {
          expected = null;
        }
        expect(mapper.canonical(raw, doc, syntax)).toBe(expected);
      }),
      { numRuns: 3000 },
    );
    expect(mapper.canonical('/gb/a.htm?x=1&y=2', page)).toBe('https://www.epochtimes.com/gb/a.htm?x=1&y=2');
    expect(mapper.canonical('/gb/../b5/%2e%2E/x', page)).toBe('https://www.epochtimes.com/x');
  });
});
