import { describe, expect, it } from 'vitest';
import type { DocContext } from '../../src/mapping/url-mapper.ts';
import { SiteMapper } from '../../src/mapping/url-mapper.ts';
import { WasmHtmlEngine } from '../../src/node/wasm-html-engine.ts';
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
