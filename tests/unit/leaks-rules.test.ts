/**
 * The HTML rules of leaks.*: where the client shim goes (first child of <head> as the browser builds
 * it, whatever the document omits), and the embeds policy (keep / placeholder / drop, allow-list,
 * the mirror's own and mirrored hosts left alone). Both engines, parsed with parse5.
 */
import { describe, expect, it } from 'vitest';
import { SHIM_PATH } from '../../src/client/shim-file.ts';
import type { LeaksConfig } from '../../src/config/types.ts';
import { SiteMapper, type DocContext } from '../../src/mapping/url-mapper.ts';
import { WasmHtmlEngine } from '../../src/node/wasm-html-engine.ts';
import { FastHtmlEngine } from '../../src/rewrite/fast-html-engine.ts';
import type { HtmlEngine } from '../../src/rewrite/html-engine.ts';
import { registerHtmlRules } from '../../src/rewrite/html-rules.ts';
import { stringStream } from '../../src/rewrite/streams.ts';
import { attr, byTag, isElement, parseHtml, textOf } from '../helpers/html.ts';
import { validateConfig } from '../../src/config/validate.ts';
import { resolve, testSiteConfig } from '../helpers/mirror.ts';

const base = resolve({ sites: [testSiteConfig('http://127.0.0.1:9')] }).sites[0]!;
const mapper = new SiteMapper(base);
const doc: DocContext = { origin: mapper.root, url: 'https://www.epochtimes.com/gb/x.htm', mirrorOrigin: 'http://mirror.test' };
const ENGINES: [string, HtmlEngine][] = [
  ['fast', new FastHtmlEngine()],
  ['lol-html', new WasmHtmlEngine()],
];

async function rewrite(engine: HtmlEngine, html: string, leaks: Partial<LeaksConfig>, mode: 'page' | 'fragment' = 'page'): Promise<string> {
  const site = { ...base, leaks: { ...base.leaks, ...leaks } };
  const out = engine.rewrite(stringStream(html), (registry) => registerHtmlRules(registry, { mapper, site, doc, mode, transcodedToUtf8: false }));
  return new Response(out).text();
}

describe.each(ENGINES)('leaks rules (%s engine)', (_name, engine) => {
  describe('client shim', () => {
    it.each([
      ['a full document', '<!DOCTYPE html><html><head><script>var a=1</script><title>t</title></head><body><p>x</p></body></html>'],
      ['no <head> tag', '<!DOCTYPE html><html><script>var a=1</script><body><p>x</p></body></html>'],
      ['no <html>, no <head>', '<!DOCTYPE html><script>var a=1</script><body><p>x</p></body>'],
      ['a bare fragment', '<p>hello</p><script>var a=1</script>'],
      ['a <head> with attributes', '<html lang="zh"><head prefix="og: http://ogp.me/ns#"><meta charset="utf-8"><script>var a=1</script></head><body></body></html>'],
      ['two heads', '<html><head><title>1</title></head><head><script>var a=1</script></head><body></body></html>'],
    ])('is the first script the browser runs, once, in %s', async (_what, html) => {
      const out = await rewrite(engine, html, { shim: true });
      const tree = parseHtml(out);
      const scripts = byTag(tree, 'script');
      expect(scripts.filter((s) => attr(s, 'src') === SHIM_PATH)).toHaveLength(1);
      if (html.includes('<head') || html.includes('<html')) {
        const first = byTag(tree, 'head')[0]!.childNodes.find(isElement)!;
        expect(attr(first, 'src')).toBe(SHIM_PATH);
        expect(scripts[0]).toBe(first);
        if (html.includes('prefix=')) expect(attr(byTag(tree, 'head')[0], 'prefix')).toBe('og: http://ogp.me/ns#');
      }
      expect(JSON.parse(attr(scripts.find((s) => attr(s, 'src') === SHIM_PATH), 'data-map')!)).toEqual([
        ['https://www.epochtimes.com', '/', ['http://www.epochtimes.com', 'https://epochtimes.com', 'http://epochtimes.com']],
        ['https://i.epochtimes.com', '/_i/', ['http://i.epochtimes.com']],
      ]);
      expect(out).not.toContain('mirror.test'); // host-agnostic: cached pages serve any mirror host
    });

    it('is not there when leaks.shim is off, nor in HTML inside feeds', async () => {
      expect(await rewrite(engine, '<html><head></head><body></body></html>', { shim: false })).not.toContain('/_mirror/shim');
      expect(await rewrite(engine, '<p>x</p>', { shim: true }, 'fragment')).not.toContain('/_mirror/shim');
    });
  });

  describe('embeds', () => {
    const PAGE =
      '<body><iframe id="yt" width="560" height="315" src="//www.youtube.com/embed/abc" allowfullscreen>fallback</iframe>' +
      '<video src="https://media.other.example/v.mp4" controls><track src="https://media.other.example/t.vtt"></video>' +
      '<audio src="https://cdn.example.org/a.mp3"></audio>' +
      '<script src="https://tags.example.net/gtm.js"></script>' +
      '<iframe id="own" src="https://www.epochtimes.com/gb/frame.htm"></iframe>' +
      '<iframe id="rel" src="/gb/other.htm"></iframe>' +
      '<iframe id="allowed" src="https://player.allowed.example/x"></iframe>' +
      '<img src="https://img.other.example/i.jpg"></body>';

    it('keep (default): unchanged', async () => {
      const out = await rewrite(engine, PAGE, {});
      expect(out).toContain('src="//www.youtube.com/embed/abc"');
      expect(out).toContain('https://tags.example.net/gtm.js');
      expect(out).not.toContain('mirror-embed');
    });

    it('placeholder: a link box naming the host instead of each frame and player; third-party scripts removed', async () => {
      const out = await rewrite(engine, PAGE, { embeds: 'placeholder', allow: ['*.allowed.example'] });
      const boxes = byTag(parseHtml(out), 'a').filter((a) => attr(a, 'class') === 'mirror-embed');
      expect(boxes.map((b) => [textOf(b), attr(b, 'href')])).toEqual([
        ['视频：www.youtube.com（需翻墙）', 'https://www.youtube.com/embed/abc'],
        ['视频：media.other.example（需翻墙）', 'https://media.other.example/v.mp4'],
        ['音频：cdn.example.org（需翻墙）', 'https://cdn.example.org/a.mp3'],
      ]);
      expect(attr(boxes[0], 'style')).toContain('width:560px;height:315px');
      expect(out).not.toContain('youtube.com/embed/abc"  allowfullscreen');
      expect(out).not.toMatch(/<iframe[^>]*youtube/);
      expect(out).not.toContain('fallback');
      expect(out).not.toContain('gtm.js');
      expect(out).toContain('<iframe id="own" src="/gb/frame.htm">');
      expect(out).toContain('<iframe id="rel" src="/gb/other.htm">');
      expect(out).toContain('<iframe id="allowed" src="https://player.allowed.example/x">');
      expect(out).toContain('<img src="https://img.other.example/i.jpg">'); // images are not embeds
    });

    it('drop: gone, with nothing in their place', async () => {
      const out = await rewrite(engine, PAGE, { embeds: 'drop' });
      expect(out).not.toContain('youtube');
      expect(out).not.toContain('media.other.example');
      expect(out).not.toContain('mirror-embed');
      expect(out).toContain('<iframe id="own" src="/gb/frame.htm">');
    });

    it('leaves absolute URLs on the mirror itself alone (feeds)', async () => {
      const out = await rewrite(engine, '<iframe src="https://www.epochtimes.com/gb/f.htm"></iframe>', { embeds: 'drop' }, 'fragment');
      expect(out).toBe('<iframe src="http://mirror.test/gb/f.htm"></iframe>');
    });
  });
});

describe('leaks config', () => {
  const site = (leaks: unknown): any => ({ sites: [{ ...testSiteConfig('http://127.0.0.1:9'), ...(leaks === undefined ? {} : { leaks }) }] });

  it('fills in the defaults: CSP report-only, empty allow-list, no shim, embeds kept', () => {
    expect(resolve(site(undefined)).sites[0]!.leaks).toEqual({ csp: 'report', allow: [], shim: false, embeds: 'keep' });
    expect(resolve(site({ csp: 'strict', allow: ['WWW.YouTube.com', '*.example.org'] })).sites[0]!.leaks.allow).toEqual(['www.youtube.com', '*.example.org']);
  });

  it('names each bad field', () => {
    const result = validateConfig(site({ csp: 'enforce', allow: ['https://x.example/', '*'], embeds: 'hide', shim: 'yes', other: 1 }));
    expect(result.ok).toBe(false);
    const errors = (result as { errors: string[] }).errors.join('\n');
    expect(errors).toContain('sites[0].leaks.csp must be one of "report", "strict", "off"');
    expect(errors).toContain('sites[0].leaks.embeds must be one of "keep", "placeholder", "drop"');
    expect(errors).toContain('sites[0].leaks.allow[0] must be a host name or "*.domain" (got "https://x.example/")');
    expect(errors).toContain('sites[0].leaks.allow[1] must be a host name or "*.domain" (got "*")');
    expect(errors).toMatch(/sites\[0\]\.leaks\.shim/);
    expect(errors).toMatch(/sites\[0\]\.leaks\.other/);
  });
});
