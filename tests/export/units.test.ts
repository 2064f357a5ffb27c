import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { resolve as resolveConfig, testSiteConfig } from '../helpers/mirror.ts';
import { FEED_NSC412_FILE } from '../helpers/origin.ts';
import { SiteMapper } from '../../src/mapping/url-mapper.ts';
import { channelDir, EXPORT_MIRROR_ORIGIN, mirrorRef, pageBase, relativeHref } from '../../src/export/paths.ts';
import { politeOriginFetch } from '../../src/export/polite-fetch.ts';
import { parseFeed } from '../../src/export/sources.ts';
import { extractContent, htmlBlock, renderMarkdown } from '../../src/export/markdown.ts';
import { FastHtmlEngine } from '../../src/rewrite/fast-html-engine.ts';
import type { OriginRequest, OriginResponse } from '../../src/proxy/origin-fetch.ts';

const site = resolveConfig({ sites: [testSiteConfig('http://127.0.0.1:9')] }).sites[0]!;
const mapper = new SiteMapper(site);
const root = { origin: mapper.root, url: mapper.root.url + '/', mirrorOrigin: EXPORT_MIRROR_ORIGIN };

describe('export paths', () => {
  it('puts pages at their mirror path', () => {
    expect(pageBase('/gb/21/3/2/n12784933.htm')).toBe('gb/21/3/2/n12784933');
    expect(pageBase('/gb/')).toBe('gb/index');
    expect(pageBase('/')).toBe('index');
    expect(pageBase('/gb/tag/%E7%BE%8E%E5%9B%BD.html')).toBe('gb/tag/美国');
    expect(pageBase('/gb/list.htm?page=2')).toMatch(/^gb\/list_[0-9a-f]{8}$/);
    expect(pageBase('/gb/list.htm?page=2')).not.toBe(pageBase('/gb/list.htm?page=3'));
    expect(pageBase('/a/%2e%2e/b/..%2Fx.htm')).toBe('a/___/b/.._x'); // never leaves its directory
    expect(pageBase('/a/b:c*%3F.htm')).toBe('a/b_c__');
    expect(channelDir('/gb/nsc412.xml')).toBe('gb/nsc412');
    expect(channelDir('/gb/nsc412.htm')).toBe('gb/nsc412');
  });

  it('links relatively, segments encoded', () => {
    expect(relativeHref('gb/21/3/2/a.html', 'gb/21/3/3/b.html')).toBe('../3/b.html');
    expect(relativeHref('gb/nsc412/index.html', 'gb/21/3/2/a.html')).toBe('../21/3/2/a.html');
    expect(relativeHref('index.html', 'gb/tag/美国.html')).toBe('gb/tag/%E7%BE%8E%E5%9B%BD.html');
    expect(relativeHref('gb/a.html', 'gb/a.html')).toBe('a.html');
  });

  it('reads back what the live pipeline left as mirror paths', () => {
    const doc = '/gb/21/3/2/n1.htm';
    expect(mirrorRef('/gb/nsc412.htm', doc, mapper, root)).toEqual({ path: '/gb/nsc412.htm', fragment: '' });
    expect(mirrorRef(`${EXPORT_MIRROR_ORIGIN}/_i/a.jpg?x=1#f`, doc, mapper, root)).toEqual({ path: '/_i/a.jpg?x=1', fragment: '#f' });
    expect(mirrorRef('https://www.epochtimes.com/b5/x.htm', doc, mapper, root)).toEqual({ path: '/b5/x.htm', fragment: '' });
    expect(mirrorRef('//i.epochtimes.com/a.png', doc, mapper, root)).toEqual({ path: '/_i/a.png', fragment: '' });
    expect(mirrorRef('n2.htm', doc, mapper, root)).toEqual({ path: '/gb/21/3/2/n2.htm', fragment: '' });
    expect(mirrorRef('../../1/n3.htm', doc, mapper, root)).toEqual({ path: '/gb/21/1/n3.htm', fragment: '' });
    for (const other of ['#top', 'https://github.com/x', 'mailto:a@b', 'data:,', 'javascript:void(0)', `${EXPORT_MIRROR_ORIGIN}.example/x`]) {
      expect(mirrorRef(other, doc, mapper, root), other).toBeNull();
    }
  });
});

describe('feeds', () => {
  it('reads the fixture feed: 60 items with links, titles and dates', () => {
    const feed = parseFeed(readFileSync(FEED_NSC412_FILE, 'utf8'), 1000);
    expect(feed.title).toContain('大纪元新闻网美国频道');
    expect(feed.items).toHaveLength(60);
    expect(feed.items[0]).toEqual({ link: 'https://www.epochtimes.com/gb/22/4/17/n13713766.htm', title: '外国人被困上海 想回国要闯三关才能到机场', date: Date.parse('Sun, 17 Apr 2022 12:02:31 +0000') });
    expect(feed.items.every((i) => i.date !== null && i.link.startsWith('https://www.epochtimes.com/gb/'))).toBe(true);
    expect(parseFeed(readFileSync(FEED_NSC412_FILE, 'utf8'), 7).items).toHaveLength(7);
  });

  it('reads Atom entries, CDATA and entities, and survives broken input', () => {
    const atom = `<feed><title>T &amp; U</title><entry><title><![CDATA[a <b>]]></title><link rel="self" href="/self"/><link href="https://www.epochtimes.com/gb/1.htm"/><published>2024-05-01T00:00:00Z</published></entry><entry><title>no link</title></entry></feed>`;
    expect(parseFeed(atom, 10)).toEqual({ title: 'T & U', items: [{ link: 'https://www.epochtimes.com/gb/1.htm', title: 'a <b>', date: Date.parse('2024-05-01T00:00:00Z') }] });
    expect(parseFeed('<rss><item><link>x', 10).items).toEqual([]);
    expect(parseFeed('<itemref/><item><link>https://www.epochtimes.com/a</link><pubDate>nonsense</pubDate></item>', 10).items).toEqual([
      { link: 'https://www.epochtimes.com/a', title: '', date: null },
    ]);
  });
});

describe('markdown', () => {
  it('cuts out the first matching content element as one HTML block, stripped of what renderers drop', async () => {
    const html = `<html><head><title>T &amp; t</title><style>p{}</style></head><body><nav class="mirror-nav"><a href="x">n</a></nav>
      <div id="artbody" class="c" style="color:red">
        <p>one</p>

            <p>indented <ok rel="tag">tag</ok></p>
        <iframe src="x"></iframe><script>alert(1)</script><form><input></form>
      </div><article>not this</article><footer class="mirror-footer">f</footer></body></html>`;
    const { title, body } = await extractContent(new FastHtmlEngine(), html, ['.missing', '#artbody', 'article']);
    expect(title).toBe('T & t');
    const block = htmlBlock(body);
    expect(block).toBe('<div>\n<div>\n<p>one</p>\n<p>indented <span rel="tag">tag</span></p>\n</div>\n</div>');
    const md = renderMarkdown({ title: 'A [b] *c*', nav: ['[x](y.md)', 'z'], body: block, footer: '<footer>原文\n链接</footer>' });
    expect(md).toBe(`# A \\[b\\] \\*c\\*\n\n[x](y.md) | z\n\n${block}\n\n---\n\n<footer>原文 链接</footer>\n`);
  });

  it('falls back to <body>', async () => {
    const { body } = await extractContent(new FastHtmlEngine(), '<body><p>x</p></body>', ['#none']);
    expect(body.trim()).toBe('<p>x</p>');
  });
});

describe('polite origin fetch', () => {
  const ok = (): OriginResponse => ({ status: 200, headers: new Headers(), body: new Response('ok').body });
  const request = (url: string): OriginRequest => ({ url, method: 'GET', headers: new Headers(), body: null, signal: new AbortController().signal });

  it('keeps at most `concurrency` requests in flight, bodies included', async () => {
    let active = 0;
    let peak = 0;
    const inner = async () => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((r) => setTimeout(r, 5));
      const body = new ReadableStream<Uint8Array>({
        async pull(c) {
          await new Promise((r) => setTimeout(r, 5));
          c.enqueue(new Uint8Array(1));
          c.close();
          active--;
        },
      });
      return { status: 200, headers: new Headers(), body };
    };
    const polite = politeOriginFetch(inner, { concurrency: 3, delayMs: 0, retries: 0, backoffMs: 1 });
    await Promise.all(Array.from({ length: 20 }, (_, i) => polite(request(`http://o/${i}`)).then((r) => new Response(r.body).text())));
    expect(peak).toBe(3);
  });

  it('spaces request starts by delayMs', async () => {
    const starts: number[] = [];
    const polite = politeOriginFetch(async () => (starts.push(Date.now()), ok()), { concurrency: 4, delayMs: 100, retries: 0, backoffMs: 1 });
    await Promise.all(Array.from({ length: 4 }, (_, i) => polite(request(`http://o/${i}`)).then((r) => r.body?.cancel())));
    for (let i = 1; i < starts.length; i++) expect(starts[i]! - starts[i - 1]!).toBeGreaterThanOrEqual(75); // a lower bound: a slow machine only adds
  });

  it('retries network errors and 5xx with backoff, then gives up', async () => {
    let calls = 0;
    const retried: string[] = [];
    const flaky = politeOriginFetch(
      async () => {
        calls++;
        if (calls === 1) throw new Error('reset');
        if (calls === 2) return { status: 503, headers: new Headers(), body: null };
        return ok();
      },
      { concurrency: 1, delayMs: 0, retries: 3, backoffMs: 1, onRetry: (_u, n, why) => retried.push(`${n} ${why}`) },
    );
    expect((await flaky(request('http://o/'))).status).toBe(200);
    expect(retried).toEqual(['1 reset', '2 status 503']);

    let tries = 0;
    const down = politeOriginFetch(
      async () => {
        tries++;
        throw new Error('down');
      },
      { concurrency: 1, delayMs: 0, retries: 2, backoffMs: 1 },
    );
    await expect(down(request('http://o/'))).rejects.toThrow('down');
    expect(tries).toBe(3);
    const status = politeOriginFetch(async () => ({ status: 404, headers: new Headers(), body: null }), { concurrency: 1, delayMs: 0, retries: 2, backoffMs: 1 });
    expect((await status(request('http://o/'))).status).toBe(404); // not retried
  });
});
