import { describe, expect, it } from 'vitest';
import type { DocContext } from '../../src/mapping/url-mapper.ts';
import { SiteMapper } from '../../src/mapping/url-mapper.ts';
import { WasmHtmlEngine } from '../../src/node/wasm-html-engine.ts';
import { FastHtmlEngine } from '../../src/rewrite/fast-html-engine.ts';
import { registerHtmlRules } from '../../src/rewrite/html-rules.ts';
import { stringStream } from '../../src/rewrite/streams.ts';
import { resolve, testSiteConfig } from '../helpers/mirror.ts';

const site = resolve({ sites: [testSiteConfig('http://127.0.0.1:9')] }).sites[0]!;
const mapper = new SiteMapper(site);
const doc: DocContext = { origin: mapper.root, url: 'https://www.epochtimes.com/gb/x.htm', mirrorOrigin: 'http://mirror.test' };

async function rewrite(html: string): Promise<string> {
  const engine = new WasmHtmlEngine();
  const out = engine.rewrite(stringStream(html), (registry) =>
    registerHtmlRules(registry, { mapper, site: { ...site, nav: [], footer: '' }, doc, mode: 'page', transcodedToUtf8: false }),
  );
  return new Response(out).text();
}

describe('CSS in attributes with character references (lol-html hands values over undecoded)', () => {
  it('maps url(&quot;…&quot;) and url(&#39;…&#39;) in style attributes, as editors and DOM serialisation write them', async () => {
    const html = await rewrite(
      '<div id="a" style="background-image: url(&quot;https://i.epochtimes.com/assets/a.png&quot;); height: 1px"></div>' +
        '<div id="b" style="background:url(&#39;//i.epochtimes.com/assets/b.png&#39;)"></div>' +
        '<div id="c" style="background:url(&#34;https://i.epochtimes.com/assets/c.png?x=1&amp;y=2&#x22;)"></div>',
    );
    expect(html).toContain('<div id="a" style="background-image: url(&quot;/_i/assets/a.png&quot;); height: 1px">');
    expect(html).toContain(`<div id="b" style="background:url('/_i/assets/b.png')">`);
    expect(html).toContain('<div id="c" style="background:url(&quot;/_i/assets/c.png?x=1&amp;y=2&quot;)">');
    expect(html).not.toContain('epochtimes.com');
  });

  it('maps data-bg="url(&quot;…&quot;)" for lazy-loading scripts', async () => {
    const html = await rewrite('<div data-bg="url(&quot;https://i.epochtimes.com/assets/bg.jpg&quot;)"></div>');
    expect(html).toContain('data-bg="url(&quot;/_i/assets/bg.jpg&quot;)"');
  });

  it('maps entity-quoted URLs inside <noscript> too', async () => {
    const html = await rewrite('<noscript><div style="background:url(&quot;https://i.epochtimes.com/assets/n.png&quot;)"></div></noscript>');
    expect(html).toContain('url(&quot;/_i/assets/n.png&quot;)');
  });

  it('leaves attributes without origin URLs byte for byte, and decodes only quote references', async () => {
    const input =
      '<p style="font-family: &quot;ET Heading&quot;, serif; content: &#345;">x</p>' + '<p style="background:url(&quot;https://example.org/&#x2F;a.png&quot;)">y</p>';
    expect(await rewrite(input)).toBe(input);
  });
});

// Both engines on Node: the fast engine (default) and lol-html (reference; the Worker's native one).
const engines = [
  ['fast', () => new FastHtmlEngine()],
  ['lol-html', () => new WasmHtmlEngine()],
] as const;

describe.each(engines)('spellings and contexts a browser loads (%s engine)', (_name, make) => {
  async function run(html: string): Promise<string> {
    const out = make().rewrite(stringStream(html), (registry) =>
      registerHtmlRules(registry, { mapper, site: { ...site, nav: [], footer: '' }, doc, mode: 'page', transcodedToUtf8: false }),
    );
    return new Response(out).text();
  }

  it('maps URLs whose scheme or host is spelled with character references, tabs, backslashes, userinfo, odd hosts', async () => {
    const cases = [
      '<img src="https:&#x2F;&#x2F;i.epochtimes.com/a1.jpg">',
      '<img src="&#x68;ttps://i.epochtimes.com/a2.jpg">',
      '<img src="https&colon;//i&period;epochtimes.com/a3.jpg">',
      '<img src="ht\ttps://i.epoch\ntimes.com/a4.jpg">',
      '<img src="https:\\\\i.epochtimes.com\\a5.jpg">',
      '<img src="\\\\i.epochtimes.com/a6.jpg">',
      '<img src="/\\i.epochtimes.com/a7.jpg">',
      '<a href="http:www.epochtimes.com/gb/a8.htm">x</a>',
      '<img src="https://user@i.epochtimes.com/a9.jpg">',
      '<img src="https://i.epochtimes.com./a10.jpg">',
      '<img src="https://i.epochtimes.com:0443/a11.jpg">',
      '<img src="https://%69.epochtimes.com/a12.jpg">',
      '<img src="https://ｉ.epochtimes。com/a13.jpg">',
      '<img src="&#1;https://i.epochtimes.com/a14.jpg">',
      '<img srcset="https:&#x2F;&#x2F;i.epochtimes.com/a15.jpg 1x">',
      '<div style="background:url(https&#58;//i.epochtimes.com/a16.jpg)"></div>',
      '<div style="background:u\\72l(https://i.epochtimes.com/a17.jpg)"></div>',
      '<style>b{background:\\75 rl(https://i.epochtimes.com/a18.jpg)}</style>',
      '<style>b{background:url(https\\:\\/\\/i.epochtimes.com/a19.jpg)}</style>',
      '<meta http-equiv="refresh" content="0;url=https:&#x2F;&#x2F;www.epochtimes.com/gb/a20.htm">',
    ];
    for (const input of cases) {
      const out = await run(input);
      const n = /a(\d+)\./.exec(input)![1];
      expect(out, input).toMatch(new RegExp(`/(?:_i/|gb/)a${n}\\.`));
      expect(out.replace(/(?:&#x2F;|\/)(?:_i|gb)\/a\d+/, ''), input).not.toMatch(/epochtimes|&#x68;ttps|&colon;|&#58;/);
    }
  });

  it('maps SVG href/xlink:href, <a ping>, table-section background, twitter/thumbnail meta', async () => {
    const out = await run(
      '<meta property="twitter:image" content="https://i.epochtimes.com/t.jpg"><meta name="thumbnail" content="https://i.epochtimes.com/th.jpg">' +
        '<meta name="image" content="https://i.epochtimes.com/im.jpg"><meta name="list-image" content="https://i.epochtimes.com/li.jpg">' +
        '<meta name="msapplication-TileImage" content="https://i.epochtimes.com/tile.png">' +
        '<svg><use xlink:href="https://i.epochtimes.com/sprite.svg#a"></use><use href="https://i.epochtimes.com/s2.svg#b"></use>' +
        '<image xlink:href="//i.epochtimes.com/img.png"></image><a xlink:href="https://www.epochtimes.com/gb/x.htm"><text>t</text></a></svg>' +
        '<a href="/gb/y.htm" ping="https://www.epochtimes.com/ping https://i.epochtimes.com/p2">y</a>' +
        '<table><thead background="https://i.epochtimes.com/th.gif"><tr background="https://i.epochtimes.com/tr.gif"><td>1</td></tr></thead>' +
        '<tbody background="https://i.epochtimes.com/tb.gif"></tbody><tfoot background="https://i.epochtimes.com/tf.gif"></tfoot></table>',
    );
    expect(out).toContain('content="http://mirror.test/_i/t.jpg"');
    expect(out).toContain('content="http://mirror.test/_i/th.jpg"');
    expect(out).toContain('content="http://mirror.test/_i/im.jpg"');
    expect(out).toContain('content="http://mirror.test/_i/li.jpg"');
    expect(out).toContain('content="http://mirror.test/_i/tile.png"');
    expect(out).toContain('xlink:href="/_i/sprite.svg#a"');
    expect(out).toContain('href="/_i/s2.svg#b"');
    expect(out).toContain('xlink:href="/_i/img.png"');
    expect(out).toContain('xlink:href="/gb/x.htm"');
    expect(out).toContain('ping="/ping /_i/p2"');
    for (const g of ['th', 'tr', 'tb', 'tf']) expect(out).toContain(`background="/_i/${g}.gif"`);
    expect(out).not.toContain('epochtimes.com');
  });

  it('rewrites inline event handlers as script text, and whole-URL data-*/value attributes', async () => {
    const out = await run(
      `<img src="x.jpg" onerror="this.src='https://i.epochtimes.com/fallback.jpg'">` +
        `<button onclick="location.href='https://www.epochtimes.com/gb/a.htm'">b</button>` +
        `<select onchange="window.open(this.value)"><option value="https://www.epochtimes.com/gb/o.htm">o</option><option value="note">n</option></select>` +
        `<object><param name="movie" value="https://i.epochtimes.com/m.swf"></object>` +
        `<div data-url="https://www.epochtimes.com/gb/d.htm" data-href="//i.epochtimes.com/h.jpg" data-base-url="https://www.epochtimes.com" data-portal-url="https://www.epochtimes.com/gb/" data-title="https://www.epochtimes.com is here"></div>`,
    );
    expect(out).toContain(`onerror="this.src='http://mirror.test/_i/fallback.jpg'"`);
    expect(out).toContain(`onclick="location.href='http://mirror.test/gb/a.htm'"`);
    expect(out).toContain('value="http://mirror.test/gb/o.htm"');
    expect(out).toContain('value="note"');
    expect(out).toContain('value="http://mirror.test/_i/m.swf"');
    expect(out).toContain('data-url="http://mirror.test/gb/d.htm"');
    expect(out).toContain('data-href="http://mirror.test/_i/h.jpg"');
    expect(out).toContain('data-base-url="http://mirror.test/"');
    expect(out).toContain('data-portal-url="http://mirror.test/gb/"');
    // Not a whole URL, not a URL attribute: left alone.
    expect(out).toContain('data-title="https://www.epochtimes.com is here"');
  });

  it('rewrites the document in <iframe srcdoc> by the same rules', async () => {
    const out = await run(
      `<iframe srcdoc="<p><img src=&quot;https://i.epochtimes.com/in.jpg&quot;> &amp;amp; <a href='https:&amp;#x2F;&amp;#x2F;www.epochtimes.com/gb/s.htm'>s</a></p>"></iframe>`,
    );
    expect(out).toContain('srcdoc="<p><img src=&quot;/_i/in.jpg&quot;> &amp;amp; <a href=\'/gb/s.htm\'>s</a></p>"');
  });

  it('escapes root-origin paths that look like a mount (/_i/…) instead of sending them to that origin', async () => {
    const out = await run('<img src="https://www.epochtimes.com/_i/logo.png"><img src="/_i/logo2.png"><img src="/_image/ok.png">');
    expect(out).toContain('src="/_root/_i/logo.png"');
    expect(out).toContain('src="/_root/_i/logo2.png"');
    expect(out).toContain('src="/_image/ok.png"');
  });
});
