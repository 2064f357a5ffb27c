import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attr, byId, parseHtml } from '../helpers/html.ts';
import { rawRequest, startSetup, TARGET, WORKER_ORIGIN, type Setup } from '../helpers/mirror.ts';
import {
  APP_JS_PATH, BIG_BIN_PATH, BIG_BIN_SIZE, BR_PATH, COOKIE_PATH, DATA_JSON_PATH, DEFLATE_PATH, FONT_BYTES, FONT_PATH, GZIP_PATH,
  IMAGE_PATH, IMG_COOKIE_PATH, NOHTML_PATH, NOHTML_TEXT, NOT_FOUND_PATH, ERROR500_PATH, POST_PATH, PRINT_CSS_PATH, REDIRECT_ABS_PATH,
  REDIRECT_EXTERNAL_LOCATION, REDIRECT_EXTERNAL_PATH, REDIRECT_IMG_PATH, REDIRECT_REL_PATH, REFRESH_HEADER_PATH, STYLE_CSS_PATH,
  TEST_PNG, bigBinBytes, ARTICLE_PATH, BASE_PATH, SEARCH_PATH,
} from '../helpers/origin.ts';

function decode(body: Buffer, encoding: string | undefined): string {
  if (encoding === 'gzip') return zlib.gunzipSync(body).toString('utf8');
  if (encoding === 'br') return zlib.brotliDecompressSync(body).toString('utf8');
  if (encoding === 'deflate') return zlib.inflateSync(body).toString('utf8');
  return body.toString('utf8');
}

/**
 * The Content-Encoding a reader who sends `accept` gets. Node compresses itself: br, gzip or deflate.
 * On Workers, Cloudflare compresses (gzip or br; Miniflare stands in for it locally), so a reader who
 * accepts only deflate gets identity. Either way the body is one the reader can decode.
 */
function expectedEncoding(accept: string): string | undefined {
  if (accept === 'identity' || accept === '') return undefined;
  if (TARGET === 'worker' && accept === 'deflate') return undefined;
  return accept;
}

describe('HTTP behaviour of the Node mirror', () => {
  let setup: Setup;
  beforeAll(async () => {
    setup = await startSetup();
  });
  afterAll(() => setup.close());

  describe('compression', () => {
    for (const path of [GZIP_PATH, BR_PATH, DEFLATE_PATH]) {
      // The Worker's socket client (an upstream on another host) asks for gzip and deflate only, the codings
      // it can decode; this test origin sends br even so. Origins that honour Accept-Encoding are fine.
      const unaskedBr = TARGET === 'worker' && WORKER_ORIGIN === 'socket' && path === BR_PATH;
      for (const accept of ['br', 'gzip', 'deflate', 'identity', '']) {
        it.skipIf(unaskedBr)(`decodes ${path} from the origin and answers Accept-Encoding "${accept}" with a body it can decode`, async () => {
          const res = await rawRequest(setup.base, path, { headers: accept ? { 'accept-encoding': accept } : {} });
          expect(res.status).toBe(200);
          const encoding = res.headers['content-encoding'] as string | undefined;
          expect(encoding).toBe(expectedEncoding(accept));
          if (res.headers['content-length'] !== undefined) expect(Number(res.headers['content-length'])).toBe(res.body.length);
          const html = decode(res.body, encoding);
          const doc = parseHtml(html);
          expect(attr(byId(doc, 'link-abs'), 'href')).toBe('/gb/21/3/2/n12784933.htm');
          expect(attr(byId(doc, 'img'), 'src')).toMatch(/^\/_i\//);
          expect(html).toContain('class="mirror-footer"');
        });
      }
    }
    it('prefers br, honours q-values', async () => {
      const a = await rawRequest(setup.base, ARTICLE_PATH, { headers: { 'accept-encoding': 'gzip, deflate, br' } });
      // Node prefers br; on Workers Cloudflare picks among the encodings it supports (Miniflare: the first listed).
      if (TARGET === 'node') expect(a.headers['content-encoding']).toBe('br');
      else expect(['br', 'gzip']).toContain(a.headers['content-encoding']);
      expect(decode(a.body, a.headers['content-encoding'] as string)).toContain('class="mirror-nav"');
      const b = await rawRequest(setup.base, ARTICLE_PATH, { headers: { 'accept-encoding': 'br;q=0.5, gzip' } });
      expect(b.headers['content-encoding']).toBe('gzip');
      expect(decode(b.body, 'gzip')).toContain('class="mirror-nav"');
    });
    it('rewrites a gzip-encoded stylesheet', async () => {
      const res = await rawRequest(setup.base, STYLE_CSS_PATH, { headers: { 'accept-encoding': 'gzip' } });
      const css = decode(res.body, res.headers['content-encoding'] as string);
      expect(css).not.toMatch(/url\(\s*["']?(https?:)?\/\/(i|www)\.epochtimes\.com/);
      expect(css).toContain('/_i/');
    });
  });

  describe('redirects and headers from the origin', () => {
    it('maps Location and does not follow redirects', async () => {
      const abs = await rawRequest(setup.base, REDIRECT_ABS_PATH);
      expect(abs.status).toBe(301);
      expect(abs.headers.location).toBe('/gb/21/3/2/n12784933.htm');
      const rel = await rawRequest(setup.base, REDIRECT_REL_PATH);
      expect(rel.status).toBe(302);
      expect(rel.headers.location).toBe('/gb/nsc412.htm');
      const img = await rawRequest(setup.base, REDIRECT_IMG_PATH);
      expect(img.headers.location).toBe('/_i/assets/a.jpg');
      const ext = await rawRequest(setup.base, REDIRECT_EXTERNAL_PATH);
      expect(ext.headers.location).toBe(REDIRECT_EXTERNAL_LOCATION);
      const refresh = await rawRequest(setup.base, REFRESH_HEADER_PATH);
      expect(refresh.headers.refresh).toBe('0; url=/gb/');
    });

    it('makes cookies host-only, prefixes Path for mounted origins, and drops security headers that would break the mirror', async () => {
      const res = await rawRequest(setup.base, COOKIE_PATH);
      const cookies = res.headers['set-cookie'] as string[];
      expect(cookies).toHaveLength(2);
      for (const c of cookies) expect(c).not.toMatch(/domain=/i);
      expect(cookies[0]).toMatch(/^sid=abc; Path=\/; HttpOnly$/);
      expect(cookies[1]).toMatch(/^pref=1; Path=\/gb; Secure$/);
      for (const h of ['content-security-policy', 'strict-transport-security', 'public-key-pins', 'clear-site-data']) expect(res.headers[h]).toBeUndefined();
      const img = await rawRequest(setup.base, `/_i${IMG_COOKIE_PATH}`);
      expect(img.headers['set-cookie']).toEqual(['_i~img=1; Path=/_i/assets']);
    });

    it('keeps status codes and rewrites error pages', async () => {
      const nf = await rawRequest(setup.base, NOT_FOUND_PATH);
      expect(nf.status).toBe(404);
      expect(nf.text).toContain('class="mirror-footer"');
      expect(attr(byId(parseHtml(nf.text), 'home-link'), 'href')).toBe('/gb/');
      const err = await rawRequest(setup.base, ERROR500_PATH);
      expect(err.status).toBe(500);
    });
  });

  describe('requests to the origin', () => {
    it('sends the origin Host and mapped path, Referer and Origin, and nothing that identifies the reader', async () => {
      setup.origin.requests.length = 0;
      await rawRequest(setup.base, `/_i${IMAGE_PATH}?v=%E7%BE%8E`, {
        headers: {
          host: 'mirror.test',
          'x-forwarded-for': '203.0.113.9',
          'x-real-ip': '203.0.113.9',
          forwarded: 'for=203.0.113.9',
          'cf-connecting-ip': '203.0.113.9',
          'true-client-ip': '203.0.113.9',
          via: '1.1 reader-proxy',
          referer: 'http://mirror.test/gb/21/3/2/n12784933.htm?x=1',
          origin: 'http://mirror.test',
          'user-agent': 'test-agent',
        },
      });
      const seen = setup.origin.requests.at(-1)!;
      expect(seen.url).toBe(`${IMAGE_PATH}?v=%E7%BE%8E`);
      expect(seen.headers.host).toBe('i.epochtimes.com');
      expect(seen.headers.referer).toBe('https://www.epochtimes.com/gb/21/3/2/n12784933.htm?x=1');
      expect(seen.headers.origin).toBe('https://i.epochtimes.com');
      expect(seen.headers['user-agent']).toBe('test-agent');
      for (const h of ['x-forwarded-for', 'x-real-ip', 'forwarded', 'cf-connecting-ip', 'true-client-ip', 'via', 'x-forwarded-proto', 'x-forwarded-host']) {
        expect(seen.headers[h], h).toBeUndefined();
      }
      expect(JSON.stringify(seen.headers)).not.toContain('203.0.113.9');
    });

    it("passes the origin's cookies and drops the mirror CDN's own", async () => {
      setup.origin.requests.length = 0;
      await rawRequest(setup.base, `${ARTICLE_PATH}?cookie-test`, { headers: { cookie: '__cf_bm=abc; sid=1; cf_clearance=x; _cfuvid=y; pref=2' } });
      expect(setup.origin.requests.at(-1)!.headers.cookie).toBe('sid=1; pref=2');
      await rawRequest(setup.base, `${ARTICLE_PATH}?cookie-test-2`, { headers: { cookie: '__cf_bm=abc' } });
      expect(setup.origin.requests.at(-1)!.headers.cookie).toBeUndefined();
    });

    it('drops a Referer from another site', async () => {
      setup.origin.requests.length = 0;
      // A fresh query string: the article may already be cached.
      await rawRequest(setup.base, `${ARTICLE_PATH}?referer-test`, { headers: { referer: 'https://elsewhere.example/page' } });
      expect(setup.origin.requests.at(-1)!.headers.referer).toBeUndefined();
    });

    it('passes POST form bodies through', async () => {
      const form = 'q=%E7%BE%8E%E5%9B%BD&name=test';
      const res = await rawRequest(setup.base, POST_PATH, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(form.length) },
        body: form,
      });
      expect(res.status).toBe(200);
      const doc = parseHtml(res.text);
      expect(byId(doc, 'body')).toBeDefined();
      expect(setup.origin.requests.at(-1)!.body).toBe(form);
      expect(setup.origin.requests.at(-1)!.method).toBe('POST');
    });

    it('passes the search query through', async () => {
      const res = await rawRequest(setup.base, `${SEARCH_PATH}?q=%E7%BE%8E%E5%9B%BD`);
      expect(res.text).toContain('美国');
    });

    it('answers HEAD without a body', async () => {
      const res = await rawRequest(setup.base, ARTICLE_PATH, { method: 'HEAD' });
      expect(res.status).toBe(200);
      expect(res.body.length).toBe(0);
    });
  });

  describe('bodies that are not HTML', () => {
    it('streams images byte for byte and passes Range through', async () => {
      const img = await rawRequest(setup.base, `/_i${IMAGE_PATH}`);
      expect(img.headers['content-type']).toBe('image/png');
      expect(Buffer.compare(img.body, TEST_PNG)).toBe(0);
      const range = await rawRequest(setup.base, `/_i${BIG_BIN_PATH}`, { headers: { range: 'bytes=1000-1999' } });
      expect(range.status).toBe(206);
      expect(range.headers['content-range']).toBe(`bytes 1000-1999/${BIG_BIN_SIZE}`);
      expect(Buffer.compare(range.body, Buffer.from(bigBinBytes().subarray(1000, 2000)))).toBe(0);
      const font = await rawRequest(setup.base, `/_i${FONT_PATH}`);
      expect(Buffer.compare(font.body, Buffer.from(FONT_BYTES))).toBe(0);
    });

    it('passes text/plain unchanged', async () => {
      const res = await rawRequest(setup.base, NOHTML_PATH);
      expect(res.text).toBe(NOHTML_TEXT);
    });

    it('rewrites CSS responses: url() in every quoting style and @import', async () => {
      const res = await rawRequest(setup.base, PRINT_CSS_PATH);
      expect(res.headers['content-type']).toMatch(/^text\/css/);
      expect(res.text).toContain('url(/_i/assets/logo-print.png)');
      // Only URLs are rewritten: a selector that merely names the origin stays as written.
      expect(res.text).toContain('a[href^="https://www.epochtimes.com/"]');
    });

    it('rewrites absolute and escaped origin URLs in JavaScript and JSON to absolute mirror URLs', async () => {
      const js = await rawRequest(setup.base, APP_JS_PATH, { headers: { host: 'mirror.test' } });
      expect(js.text).toContain('"http://mirror.test/gb/"');
      expect(js.text).toContain('"http:\\/\\/mirror.test\\/gb\\/nsc412.htm"');
      expect(js.text).toContain('"//mirror.test/_i/assets/c.png"');
      expect(js.text).not.toMatch(/epochtimes\.com/);
      const json = await rawRequest(setup.base, DATA_JSON_PATH, { headers: { host: 'mirror.test' } });
      const data = JSON.stringify(JSON.parse(json.text));
      expect(data).not.toMatch(/epochtimes\.com/);
      expect(data).toContain('http://mirror.test/');
    });
  });

  it('rewrites <base href>', async () => {
    const res = await rawRequest(setup.base, BASE_PATH);
    const base = parseHtml(res.text);
    const el = [...(await import('../helpers/html.ts')).walk(base)].find((e) => e.tagName === 'base')!;
    expect(attr(el, 'href')).toBe('/gb/21/3/');
  });
});
