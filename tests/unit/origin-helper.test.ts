import http from 'node:http';
import fs from 'node:fs';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as O from '../helpers/origin.ts';

let origin: O.TestOrigin;

interface Res {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  chunks: number;
}

function request(
  path: string,
  opts: { host?: string; method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: origin.port,
        path,
        method: opts.method ?? 'GET',
        headers: { host: opts.host ?? O.WWW_HOST, ...opts.headers },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () =>
          resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks), chunks: chunks.length }),
        );
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(opts.body);
  });
}

function count(haystack: Buffer, needle: string): number {
  const n = Buffer.from(needle);
  let c = 0;
  for (let i = haystack.indexOf(n); i !== -1; i = haystack.indexOf(n, i + n.length)) c++;
  return c;
}

beforeAll(async () => {
  origin = await O.startTestOrigin();
});
afterAll(async () => {
  await origin.close();
});

describe('test origin helper', () => {
  it('serves the article with every rewrite context and the extra headers', async () => {
    const r = await request(`${O.ARTICLE_PATH}?utm=1`, { host: 'www.epochtimes.com:443' });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(r.headers.link).toBe(O.ARTICLE_LINK_HEADER);
    expect(r.headers['content-location']).toBe(O.ARTICLE_CONTENT_LOCATION);
    const html = r.body.toString('utf8');
    expect(html).toBe(O.ARTICLE_HTML);
    expect(r.body.length).toBeGreaterThan(20_000);
    for (const id of ['canonical', 'og-url', 'img-srcset-w', 'lazy-bg-url', 'video-track', 'iframe-youtube', 'json-ld', 'below_article_ad', 'tag-pct', 'area-link', 'button-formaction']) {
      expect(html).toContain(`id="${id}"`);
    }
    expect(html).toContain(String.raw`"https:\/\/i.epochtimes.com\/assets\/a.jpg"`);
    expect(html).toContain('?resize=600,400&amp;ssl=1 600w');
    expect(html.trimEnd().endsWith('</body>\n</html>')).toBe(true);
    const last = origin.requests.at(-1)!;
    expect(last.url).toBe(`${O.ARTICLE_PATH}?utm=1`);
    expect(last.headers.host).toBe('www.epochtimes.com:443');
  });

  it('answers 421 for unknown hosts and 304 for a matching ETag', async () => {
    expect((await request('/', { host: 'example.com' })).status).toBe(421);
    const first = await request(O.CHANNEL_PATH);
    expect(first.headers.etag).toBeTruthy();
    const second = await request(O.CHANNEL_PATH, { headers: { 'if-none-match': first.headers.etag! } });
    expect(second.status).toBe(304);
  });

  it('serves GBK / GB18030 / Big5 pages in many small chunks', async () => {
    const h = await request(O.GBK_HEADER_PATH);
    expect(h.headers['content-type']).toBe('text/html; charset=gbk');
    expect(h.chunks).toBeGreaterThan(10);
    const text = new TextDecoder('gbk').decode(h.body);
    expect(text).toBe(O.GBK_HEADER_HTML);
    for (const s of [O.GBK_TITLE, O.GBK_HEADLINE, O.GBK_TEXT, `alt="${O.GBK_ALT}"`]) expect(text).toContain(s);
    expect(h.body.includes(Buffer.from('大纪元'))).toBe(false); // not UTF-8

    const m = await request(O.GBK_META_PATH);
    expect(m.headers['content-type']).toBe('text/html');
    expect(new TextDecoder('gbk').decode(m.body)).toContain('charset=gb2312');
    expect(new TextDecoder('gbk').decode(m.body)).toContain(O.GBK_TEXT);

    const g = await request(O.GB18030_PATH);
    expect(new TextDecoder('gb18030').decode(g.body)).toBe(O.GB18030_HTML);
    expect(new TextDecoder('gb18030').decode(g.body)).toContain(O.GB18030_EXTRA);

    const b = await request(O.BIG5_HEADER_PATH);
    expect(b.headers['content-type']).toBe('text/html; charset=big5');
    expect(new TextDecoder('big5').decode(b.body)).toBe(O.BIG5_HEADER_HTML);
    const bm = await request(O.BIG5_META_PATH);
    expect(bm.headers['content-type']).toBe('text/html');
    const bt = new TextDecoder('big5').decode(bm.body);
    for (const s of ['<meta charset="big5">', O.BIG5_TITLE, O.BIG5_TEXT, `alt="${O.BIG5_ALT}"`]) expect(bt).toContain(s);
  });

  it('serves compressed pages with correct Content-Length', async () => {
    const cases = [
      [O.GZIP_PATH, 'gzip', zlib.gunzipSync],
      [O.BR_PATH, 'br', zlib.brotliDecompressSync],
      [O.DEFLATE_PATH, 'deflate', zlib.inflateSync],
    ] as const;
    for (const [p, enc, decode] of cases) {
      const r = await request(p);
      expect(r.headers['content-encoding']).toBe(enc);
      expect(Number(r.headers['content-length'])).toBe(r.body.length);
      expect(decode(r.body).toString('utf8')).toBe(O.COMPRESSED_PAGE_HTML);
    }
    const gz = await request(O.STYLE_CSS_PATH, { headers: { 'accept-encoding': 'gzip, deflate, br' } });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(zlib.gunzipSync(gz.body).toString()).toBe(O.STYLE_CSS);
    const plain = await request(O.STYLE_CSS_PATH, { headers: { 'accept-encoding': 'identity' } });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.toString()).toBe(O.STYLE_CSS);
  });

  it('serves redirects, refresh and cookie headers', async () => {
    expect((await request(O.REDIRECT_ABS_PATH)).headers.location).toBe(O.REDIRECT_ABS_LOCATION);
    const rel = await request(O.REDIRECT_REL_PATH);
    expect([rel.status, rel.headers.location]).toEqual([302, '/gb/nsc412.htm']);
    expect((await request(O.REDIRECT_IMG_PATH)).headers.location).toBe(O.REDIRECT_IMG_LOCATION);
    expect((await request(O.REDIRECT_EXTERNAL_PATH)).headers.location).toBe(O.REDIRECT_EXTERNAL_LOCATION);
    expect((await request(O.REFRESH_HEADER_PATH)).headers.refresh).toBe(O.REFRESH_HEADER_VALUE);
    const c = await request(O.COOKIE_PATH);
    expect(c.headers['set-cookie']).toEqual([...O.COOKIE_HEADERS]);
    expect(c.headers['content-security-policy']).toBe(O.CSP_HEADER);
    expect(c.headers['strict-transport-security']).toBe(O.HSTS_HEADER);
    expect(c.headers['public-key-pins']).toBe(O.HPKP_HEADER);
    expect(c.headers['clear-site-data']).toBe(O.CLEAR_SITE_DATA_HEADER);
    const ic = await request(O.IMG_COOKIE_PATH, { host: O.IMG_HOST });
    expect(ic.headers['set-cookie']).toEqual([O.IMG_COOKIE_HEADER]);
  });

  it('holds the slow page until releaseSlow()', async () => {
    const started = Date.now();
    const body = await new Promise<string>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port: origin.port, path: O.SLOW_PATH, headers: { host: O.WWW_HOST }, agent: false }, (res) => {
          let text = '';
          let released = false;
          res.setEncoding('utf8');
          res.on('data', (d: string) => {
            text += d;
            if (!released && text.length >= O.SLOW_FIRST_PART.length) {
              released = true;
              expect(text).toBe(O.SLOW_FIRST_PART);
              setTimeout(() => origin.releaseSlow(), 50);
            }
          });
          res.on('end', () => resolve(text));
        })
        .on('error', reject);
    });
    expect(body).toBe(O.SLOW_FIRST_PART + O.SLOW_SECOND_PART);
    expect(Buffer.byteLength(O.SLOW_FIRST_PART)).toBeGreaterThan(2048);
    expect(Date.now() - started).toBeLessThan(O.SLOW_MAX_WAIT_MS);
  });

  it('streams the large page with the advertised length and link count', async () => {
    const r = await request(O.LARGE_PATH);
    expect(r.body.length).toBe(O.LARGE_PAGE_BYTES);
    expect(r.body.length).toBeGreaterThanOrEqual(32 * 1024 * 1024);
    expect(Number(r.headers['content-length'])).toBe(O.LARGE_PAGE_BYTES);
    expect(count(r.body, '<a href="https://www.epochtimes.com/')).toBe(O.LARGE_PAGE_LINKS);
    expect(count(r.body, '<img src="https://i.epochtimes.com/')).toBe(O.LARGE_PAGE_IMAGES);
    expect(r.body.subarray(-60).toString()).toContain('</body></html>');
  });

  it('supports byte ranges on images and big.bin', async () => {
    const full = await request(O.IMAGE_PATH, { host: O.IMG_HOST });
    expect(full.status).toBe(200);
    expect(full.headers['content-type']).toBe(O.IMAGE_CONTENT_TYPE);
    expect(full.headers['accept-ranges']).toBe('bytes');
    expect(full.body.equals(O.TEST_PNG)).toBe(true);
    expect(full.body.subarray(1, 4).toString('latin1')).toBe('PNG');

    const part = await request(O.IMAGE_PATH, { host: O.IMG_HOST, headers: { range: 'bytes=0-99' } });
    expect(part.status).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 0-99/${O.TEST_PNG.length}`);
    expect(part.body.equals(O.TEST_PNG.subarray(0, 100))).toBe(true);

    const expected = O.bigBinBytes();
    expect(expected.length).toBe(O.BIG_BIN_SIZE);
    const mid = await request(O.BIG_BIN_PATH, { host: O.IMG_HOST, headers: { range: 'bytes=1000-1999' } });
    expect(mid.status).toBe(206);
    expect(mid.headers['content-range']).toBe(`bytes 1000-1999/${O.BIG_BIN_SIZE}`);
    expect(mid.body.equals(expected.subarray(1000, 2000))).toBe(true);
    const suffix = await request(O.BIG_BIN_PATH, { host: O.IMG_HOST, headers: { range: 'bytes=-10' } });
    expect(suffix.body.equals(expected.subarray(-10))).toBe(true);
    const bad = await request(O.BIG_BIN_PATH, { host: O.IMG_HOST, headers: { range: `bytes=${O.BIG_BIN_SIZE}-` } });
    expect(bad.status).toBe(416);
    const whole = await request(O.BIG_BIN_PATH, { host: O.IMG_HOST });
    expect(whole.body.equals(expected)).toBe(true);

    const font = await request(O.FONT_PATH, { host: O.IMG_HOST });
    expect(font.headers['content-type']).toBe('font/woff2');
    expect(font.body.equals(O.FONT_BYTES)).toBe(true);
    expect((await request('/nope.txt', { host: O.IMG_HOST })).status).toBe(404);
  });

  it('serves the RSS fixtures and the Atom feed', async () => {
    const r = await request(O.FEED_NSC412_PATH);
    expect(r.headers['content-type']).toBe('application/rss+xml; charset=utf-8');
    expect(r.body.equals(fs.readFileSync(O.FEED_NSC412_FILE))).toBe(true);
    const r2 = await request(O.FEED_NSC418_PATH);
    expect(r2.body.toString()).toContain('<rss');
    const a = await request(O.ATOM_PATH);
    expect(a.headers['content-type']).toBe('application/atom+xml; charset=utf-8');
    expect(a.body.toString()).toContain('&lt;img src=&quot;https://i.epochtimes.com/');
  });

  it('echoes search queries and POST bodies, and serves error routes', async () => {
    const s = await request(`${O.SEARCH_PATH}?q=${encodeURIComponent('<美国>')}`);
    expect(s.body.toString()).toContain('<p id="query">&lt;美国&gt;</p>');

    const p = await request(O.POST_PATH, {
      method: 'POST',
      body: 'name=%E5%A4%A7%E7%BA%AA%E5%85%83&comment=hi+there',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        referer: 'https://www.epochtimes.com/gb/21/3/2/n12784933.htm',
        origin: 'https://www.epochtimes.com',
      },
    });
    const ph = p.body.toString();
    expect(ph).toContain('<span class="value" id="field-name">大纪元</span>');
    expect(ph).toContain('<p id="referer">https://www.epochtimes.com/gb/21/3/2/n12784933.htm</p>');
    expect(ph).toContain('<p id="origin">https://www.epochtimes.com</p>');
    expect(origin.requests.at(-1)!.body).toBe('name=%E5%A4%A7%E7%BA%AA%E5%85%83&comment=hi+there');

    const nf = await request(O.NOT_FOUND_PATH);
    expect(nf.status).toBe(404);
    expect(nf.body.toString()).toContain('https://www.epochtimes.com/gb/');
    expect((await request(O.ERROR500_PATH)).status).toBe(500);
    await expect(request(O.RESET_PATH)).rejects.toThrow();
    expect((await request(O.NOHTML_PATH)).headers['content-type']).toBe('text/plain; charset=utf-8');
    expect((await request(O.NO_BODY_PATH)).body.toString()).toBe(O.NO_BODY_HTML);
    expect((await request(O.TAG_PATH_ENCODED)).body.toString()).toContain(`<h1 id="tag-name">${O.TAG_NAME}</h1>`);
  });

  it('close() tears down hanging requests promptly', async () => {
    const o2 = await O.startTestOrigin();
    const pending = new Promise<string>((resolve) => {
      http
        .get({ host: '127.0.0.1', port: o2.port, path: O.HANG_PATH, headers: { host: O.WWW_HOST }, agent: false }, () =>
          resolve('answered'),
        )
        .on('error', () => resolve('error'));
    });
    while (o2.requests.length === 0) await new Promise((r) => setTimeout(r, 10));
    const t = Date.now();
    await o2.close();
    expect(await pending).toBe('error');
    expect(Date.now() - t).toBeLessThan(1000);
  });
});
