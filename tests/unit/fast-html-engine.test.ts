/**
 * The fast HTML engine (src/rewrite/fast-html-engine.ts) against lol-html (the WASM build) and parse5.
 *
 * 1. Differential against lol-html: the mirror's rules and synthetic rule sets (removal, renames,
 *    injections, text replacement) over the fixture articles, the test origin's pages and generated
 *    malformed HTML, the fast engine's input cut into random chunks: byte-identical output, except
 *    where lol-html deviates from the HTML spec (below), where the fast engine must give the tree
 *    parse5 expects instead.
 * 2. parse5: the output parses to the input's tree with URLs mapped (rewriter-properties.oracle.ts).
 * 3. Chunking invariance, incl. byte by byte and a multi-MB attribute.
 * 4. Selectors and checkSelector.
 *
 * The lol-html comparisons run the fast engine with tree: 'lol-html'; the parse5 and chunking checks
 * run it as it serves traffic (tree: 'browser', see tests/unit/fast-html-engine-tree.test.ts).
 *
 * Known, deliberate differences from lol-html (the fast engine follows the spec / parse5):
 * - SELF-CLOSING <svg/>, <math/> in HTML content: lol-html enters SVG/MathML anyway and stays there
 *   (a later <style>, <script>, <title>, <textarea> is not raw text to it; `<![CDATA[` is CDATA).
 * - INTEGRATION-POINT END TAGS: lol-html leaves an HTML integration point at any end tag named like
 *   one (`<svg><foreignObject><div></desc><style>`: style is SVG to lol-html); the fast engine when
 *   the integration point element itself is closed.
 * - UNMATCHED END TAG IN FOREIGN CONTENT: lol-html does not match selectors on the first start tag after
 *   an end tag with no open element of that name inside SVG/MathML (`<svg></x><title>`: no handler
 *   for title, so e.g. an <image href> there is not rewritten); the fast engine does.
 * Each one needs <svg or <math in the input; generated documents with either that differ from
 * lol-html must fit one of these and pass the parse5 check.
 */
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SiteMapper, type DocContext } from '../../src/mapping/url-mapper.ts';
import { WasmHtmlEngine } from '../../src/node/wasm-html-engine.ts';
import { FastHtmlEngine } from '../../src/rewrite/fast-html-engine.ts';
import type { HtmlEngine } from '../../src/rewrite/html-engine.ts';
import { registerHtmlRules } from '../../src/rewrite/html-rules.ts';
import { parseSelector } from '../../src/rewrite/fast-html/selector.ts';
import { resolve, testSiteConfig } from '../helpers/mirror.ts';
import * as origin from '../helpers/origin.ts';
import { fixtureArticlePages, fragmentRules, pageRules, runEngine, syntheticRules, type Register } from './fast-html-engine.helpers.ts';
import { cutsArbitrary, cutsFor, docArbitrary, toBytes, urlDenseArbitrary, type Doc } from './rewriter-properties.arbitraries.ts';
import { firstDifference, MIRROR_ORIGIN, parseDoc, snapshot } from './rewriter-properties.oracle.ts';

const RUNS = Number(process.env.FC_RUNS) || 150;
const SEED = process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined;

const lol = new WasmHtmlEngine();
/** Compared byte for byte with lol-html: the fast engine tracking elements as lol-html does. */
const fast = new FastHtmlEngine({ tree: 'lol-html' });
/** What serves traffic: the browser's tree (implied end tags, implied body, end-of-file closing). */
const browserFast = new FastHtmlEngine();
const enc = new TextEncoder();
const lossy = (b: Uint8Array) => new TextDecoder().decode(b);
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));
const show = (b: Uint8Array) => {
  const s = Buffer.from(b).toString('latin1');
  return JSON.stringify(s.length > 600 ? `${s.slice(0, 500)}…(${s.length})` : s);
};
/** Where two outputs first differ, with context. */
function where(a: Uint8Array, b: Uint8Array): string {
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  const cut = (x: Uint8Array) => JSON.stringify(Buffer.from(x.subarray(Math.max(0, i - 80), i + 80)).toString('latin1'));
  return `at byte ${i}:\n  lol-html: ${cut(a)}\n  fast:     ${cut(b)}`;
}

// Handler errors are logged and swallowed by both engines: a failure here.
let consoleError: { mock: { calls: unknown[][] }; mockRestore(): void };
beforeEach(() => {
  consoleError = vi.spyOn(console, 'error').mockImplementation(() => {});
});
afterEach(() => {
  const calls = consoleError.mock.calls.filter((c) => !String(c[0]).includes('No end tag'));
  consoleError.mockRestore();
  if (calls.length) throw new Error(`handler errors: ${calls.map((c) => c.join(' ')).join('; ')}`);
});

const ALL_RULES: Record<string, Register> = { page: pageRules, fragment: fragmentRules, ...syntheticRules };

// The rules with nothing injected or removed: what the parse5 oracle restates.
const plainSite = (() => {
  const base = resolve({ sites: [testSiteConfig('http://127.0.0.1:9')] }).sites[0]!;
  return { ...base, nav: [], footer: '', remove: [], inject: { head: '', bodyStart: '', bodyEnd: '' } };
})();
const plainMapper = new SiteMapper(plainSite);
const plainDoc: DocContext = { origin: plainMapper.root, url: 'https://www.epochtimes.com/gb/a.htm', mirrorOrigin: MIRROR_ORIGIN };
const plainRules: Register = (reg) => registerHtmlRules(reg, { mapper: plainMapper, site: plainSite, doc: plainDoc, mode: 'page', transcodedToUtf8: false });

function treeDifference(input: Uint8Array, output: Uint8Array): string | null {
  return firstDifference(snapshot(parseDoc(lossy(input)), 'expected'), snapshot(parseDoc(lossy(output)), 'actual'));
}

/** Some chunkings of `n` bytes: whole, halves, odd sizes, and (small inputs) byte by byte. */
function chunkings(n: number): number[][] {
  const list: number[][] = [[], [Math.floor(n / 2)]];
  for (const size of [1, 7, 64, 4093]) {
    if (size === 1 && n > 5000) continue;
    const cuts: number[] = [];
    for (let c = size; c < n; c += size) cuts.push(c);
    list.push(cuts);
  }
  return list;
}

describe('fast engine vs lol-html: real pages', () => {
  const pages = [
    ...fixtureArticlePages(),
    ...['ARTICLE_HTML', 'CHANNEL_HTML', 'GB_HOME_HTML', 'HOME_HTML', 'BASE_HTML', 'TWO_HEADS_HTML', 'NO_BODY_HTML', 'COOKIE_HTML', 'NOT_FOUND_HTML', 'COMPRESSED_PAGE_HTML', 'GBK_HEADER_HTML'].map((k) => ({
      name: k,
      html: String((origin as Record<string, unknown>)[k]),
    })),
  ];
  it(`has fixture articles to test (${pages.length} pages)`, () => {
    expect(pages.length).toBeGreaterThan(20);
  });
  it('gives lol-html’s bytes for every page, rule set and chunking', async () => {
    let checked = 0;
    for (const page of pages) {
      const bytes = enc.encode(page.html);
      for (const [name, rules] of Object.entries(ALL_RULES)) {
        const expected = await runEngine(lol, bytes, rules);
        for (const cuts of [[], [Math.floor(bytes.length / 3)], Array.from({ length: 40 }, (_, i) => Math.floor(((i + 1) * bytes.length) / 41))]) {
          const actual = await runEngine(fast, bytes, rules, cuts);
          if (!same(expected, actual)) throw new Error(`${page.name} [${name}] ${cuts.length} cuts: ${where(expected, actual)}`);
          checked++;
        }
      }
    }
    expect(checked).toBe(pages.length * Object.keys(ALL_RULES).length * 3);
  }, 60_000);
});

/**
 * Not compared: a <noscript> inside SVG/MathML (an SVG element, its text plain text to a browser).
 * html-rules' noscript rule sees its text on both engines, but lol-html drops that rule's replacement
 * where the text is inside CDATA (cause not found); the fast engine applies it, rewriting URLs in markup
 * that is only text. Harmless, but a difference: listed in the report.
 */
const noForeignNoscript = (d: Doc): boolean => !/<(svg|math)\b[\s\S]*<noscript/i.test(d.filter((p) => typeof p === 'string').join(''));

describe('fast engine vs lol-html: generated HTML', () => {
  it(`gives lol-html’s bytes, or the spec’s tree where lol-html deviates (${RUNS} runs × ${Object.keys(ALL_RULES).length} rule sets)`, async () => {
    let deviations = 0;
    await fc.assert(
      fc.asyncProperty(fc.oneof(docArbitrary({ bytes: true }), urlDenseArbitrary()).filter(noForeignNoscript), cutsArbitrary, async (d, cuts) => {
        const bytes = toBytes(d);
        const foreign = /<(svg|math)\b/i.test(Buffer.from(bytes).toString('latin1'));
        for (const [name, rules] of Object.entries(ALL_RULES)) {
          const expected = await runEngine(lol, bytes, rules);
          const actual = await runEngine(fast, bytes, rules, cutsFor(cuts.fine, bytes.length));
          if (same(expected, actual)) continue;
          if (!foreign) throw new Error(`[${name}] input ${show(bytes)}\n${where(expected, actual)}`);
          // A known lol-html deviation (see the top of this file): the fast engine must match parse5.
          deviations++;
          const out = await runEngine(fast, bytes, plainRules);
          const diff = treeDifference(bytes, out);
          if (diff) throw new Error(`[${name}] differs from lol-html, and from parse5 with the plain rules: ${diff}\n  input ${show(bytes)}`);
        }
      }),
      { numRuns: RUNS, seed: SEED },
    );
    // They exist but are rare in this generator.
    expect(deviations).toBeLessThan(RUNS);
  }, 60_000);

  it.each([
    ['<svg/><style><img src="https://www.epochtimes.com/p/1"></style>', '<style><img src="https://www.epochtimes.com/p/1"></style>'],
    ['<math/><title><a href="https://www.epochtimes.com/p/2"></title>', '<title><a href="https://www.epochtimes.com/p/2"></title>'],
    ['<svg><foreignObject><div></desc><style><img src="https://www.epochtimes.com/p/3"></style>', '<style><img src="https://www.epochtimes.com/p/3"></style>'],
    ['<svg><foreignObject><title>t</title><style><img src="https://www.epochtimes.com/p/4"></style>', '<style><img src="https://www.epochtimes.com/p/4"></style>'],
  ])('where lol-html deviates, follows the spec: %s', async (html, expected) => {
    const bytes = enc.encode(html);
    const out = await runEngine(fast, bytes, plainRules);
    expect(lossy(out)).toContain(expected);
    expect(treeDifference(bytes, out)).toBeNull();
    expect(same(out, await runEngine(lol, bytes, plainRules))).toBe(false); // still a deviation?
  });

  it('matches the first start tag after an unmatched end tag in SVG (lol-html does not)', async () => {
    const count = async (engine: HtmlEngine) => {
      let n = 0;
      await runEngine(engine, enc.encode('<svg></noscript><title>t</title><g></x><div></div></svg>'), (r) => r.on('title, div', { element: () => void n++ }));
      return n;
    };
    expect(await count(fast)).toBe(2);
    expect(await count(lol)).toBeLessThan(2);
  });
});

describe('fast engine vs parse5', () => {
  it(`output parses to the input’s tree, URLs mapped (${RUNS} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(docArbitrary({ bytes: true, huge: true }).filter(noForeignNoscript), async (d) => {
        const bytes = toBytes(d);
        const out = await runEngine(browserFast, bytes, plainRules);
        const diff = treeDifference(bytes, out);
        if (diff) throw new Error(`${diff}\n  input ${show(bytes)}\n  output ${show(out)}`);
      }),
      { numRuns: RUNS, seed: SEED },
    );
  }, 60_000);

  it('the fixture articles: same tree, URLs mapped', async () => {
    for (const page of fixtureArticlePages()) {
      const bytes = enc.encode(page.html);
      const diff = treeDifference(bytes, await runEngine(browserFast, bytes, plainRules));
      if (diff) throw new Error(`${page.name}: ${diff}`);
    }
  });
});

describe('chunking invariance', () => {
  it(`same bytes for every chunking (${RUNS} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(docArbitrary({ bytes: true, huge: true }), cutsArbitrary, fc.constantFrom(...Object.keys(ALL_RULES)), async (d, cuts, rules) => {
        const bytes = toBytes(d);
        for (const engine of [fast, browserFast]) {
          const whole = await runEngine(engine, bytes, ALL_RULES[rules]!);
          for (const c of [cuts.coarse, cuts.fine]) {
            const out = await runEngine(engine, bytes, ALL_RULES[rules]!, cutsFor(c, bytes.length));
            if (!same(out, whole)) throw new Error(`[${rules}] cuts ${JSON.stringify(cutsFor(c, bytes.length))}: ${where(whole, out)}`);
          }
        }
      }),
      { numRuns: RUNS, seed: SEED },
    );
  }, 60_000);

  const nasty = [
    '<!DOCTYPE html><p a=1 b=\'2\' c="3" d e= f>x<!-- c --><!--><!---><!-- a --!><?php x ?><!x></ y><![CDATA[z]]></>',
    '<script>var a = "</script"; "<!--<script>"; "</script>" --></script><img src="https://www.epochtimes.com/p/1">',
    '<svg><![CDATA[<img src="https://www.epochtimes.com/p/2">]]><foreignObject><style>a{b:url(https://www.epochtimes.com/p/3)}</style></foreignObject></svg>',
    '<textarea><a href="https://www.epochtimes.com/p/4"></textarea><title>&amp;</title><plaintext><img src=x>',
    '<div class="ad">x<p>y</div><ul><li>1<li>2</ul><table><tr><td>a<td>b</table><a href="//www.epochtimes.com/p/5">z</a>',
  ];
  it.each(nasty)('every split and byte by byte: %s', async (html) => {
    const bytes = enc.encode(html);
    for (const [name, rules] of Object.entries(ALL_RULES)) {
      expect(same(await runEngine(fast, bytes, rules), await runEngine(lol, bytes, rules)), name).toBe(true);
      for (const engine of [fast, browserFast]) {
        const whole = await runEngine(engine, bytes, rules);
        for (const cuts of [...chunkings(bytes.length), ...Array.from({ length: bytes.length - 1 }, (_, i) => [i + 1])]) {
          const out = await runEngine(engine, bytes, rules, cuts);
          if (!same(out, whole)) throw new Error(`[${name}] cuts ${JSON.stringify(cuts.slice(0, 5))}…: ${where(whole, out)}`);
        }
      }
    }
  });

  it('a 1.5 MB attribute value and a 5 MB comment stream in 64 KB chunks in linear time', async () => {
    const big = 'x'.repeat(5 * 1024 * 1024);
    const html = `<p><img alt="${big.slice(0, 1536 * 1024)}" src="https://www.epochtimes.com/p/6"><!--${big}--><a href='https://www.epochtimes.com/p/7'>y</a>`;
    const bytes = enc.encode(html);
    const cuts: number[] = [];
    for (let c = 65536; c < bytes.length; c += 65536) cuts.push(c);
    const t0 = performance.now();
    const out = lossy(await runEngine(browserFast, bytes, plainRules, cuts));
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(out.length).toBe(html.length - 'https://www.epochtimes.com'.length * 2);
    expect(out).toContain('src="/p/6"');
    expect(out).toContain("href=\"/p/7\"");
  });

  it('invalid UTF-8 passes through byte for byte where nothing changes', async () => {
    const bytes = toBytes(['<p>', Uint8Array.from([0xff, 0xe4, 0xb8]), '</p><img alt="', Uint8Array.from([0xc3]), '" src="https://www.epochtimes.com/p/8">', Uint8Array.from([0xef, 0xbb, 0xbf])]);
    const out = await runEngine(fast, bytes, plainRules, [4, 5, 20]);
    expect(same(out, await runEngine(lol, bytes, plainRules))).toBe(true);
    const noop = await runEngine(fast, bytes, () => {});
    expect(same(noop, bytes)).toBe(true);
  });
});

describe('element API details (as lol-html)', () => {
  const cases: [string, Register][] = [
    ['<img src=a alt=\'x"y\' title="q" data-x checked=>', (r) => r.on('img', { element: (e) => void e.setAttribute('src', 'b"c&d<>\'') })],
    ["<IMG SRC=a ALT='x' />", (r) => r.on('img', { element: (e) => void e.setAttribute('src', 'b') })],
    ['<img  src = a   x = \'y\'  >', (r) => r.on('img', { element: (e) => void e.removeAttribute('src') })],
    ['<a href=x>t</A><b/>', (r) => r.on('a, b', { element: (e) => void (e.tagName = 'Ok') })],
    ['<div id=x>a</div>', (r) => r.on('div', { element: (e) => { e.before('<b>1</b>'); e.after('<i>2</i>', { html: true }); e.prepend('3&'); e.append('<4>', { html: true }); e.onEndTag((t) => { t.before('<5>'); t.after('<6>', { html: true }); }); } })],
    ['<table><tr><td id=x>a<td id=y>b</table>c', (r) => r.on('td', { element: (e) => { const id = e.getAttribute('id'); e.onEndTag((t) => { t.before(`[b${id}]`); t.after(`[a${id}]`); }); } })],
    ['<div><span id=x>a</div>z', (r) => r.on('span', { element: (e) => void e.remove() })],
    ['<body id=b><div id=x>a</body>z', (r) => { r.on('#x', { element: (e) => { e.onEndTag((t) => void t.before('[x]')); e.remove(); } }); r.on('body', { element: (e) => void e.append('[B]') }); }],
    ['<p>a<br id=x>b', (r) => r.on('br', { element: (e) => { e.after('1'); e.after('2'); e.prepend('no'); } })],
  ];
  it.each(cases)('%s', async (html, register) => {
    const bytes = enc.encode(html);
    expect(lossy(await runEngine(fast, bytes, register))).toBe(lossy(await runEngine(lol, bytes, register)));
  });
});

describe('selectors', () => {
  const html = '<div class="a  b" id=q data-x="Foo"><p><a id=y href=1>z</a></p></div><a id=w>';
  const cases: [string, string[]][] = [
    ['.a', ['q']],
    ['.A', []],
    ['#q', ['q']],
    ['#Q', []],
    ['[data-x=Foo]', ['q']],
    ['[data-x=foo]', []],
    ['[data-x="foo" i]', ['q']],
    ['DIV', ['q']],
    ['div.a.b#q', ['q']],
    ['[data-x^=F]', ['q']],
    ['[data-x$=o]', ['q']],
    ['[data-x*=oo]', ['q']],
    ['[data-x~=Foo]', ['q']],
    ['[data-x|=Foo]', ['q']],
    ['div:not(.c)', ['q']],
    ['div:not(.a)', []],
    ['div a', ['y']],
    ['div > a', []],
    ['p > a', ['y']],
    ['div>p>a[href]', ['y']],
    ['a:not(#y)', ['w']],
    ['a, div', ['q', 'y', 'w']],
    ['*', ['q', 'y', 'w']],
  ];
  it.each(cases)('%s matches %j (as lol-html)', async (selector, ids) => {
    for (const engine of [fast, lol]) {
      const seen: string[] = [];
      await runEngine(engine, enc.encode(html), (r) => r.on(selector, { element: (e) => void (e.hasAttribute('id') && seen.push(e.getAttribute('id')!)) }));
      expect(seen).toEqual(ids);
    }
  });

  it('checkSelector accepts what the rules and remove lists use', () => {
    for (const s of ['#below_article_ad', 'a[href]', '[data-src]', 'meta[property^="og:"][content]', 'meta[name^="twitter:"][content]', 'meta[http-equiv][content]', 'meta[charset]', 'div.share > a', 'ul li:not(.keep)', '.a.b, #c']) {
      expect(fast.checkSelector(s), s).toBeNull();
    }
  });
  it.each([
    ['a + b', /combinator is not supported/],
    ['a ~ b', /combinator is not supported/],
    ['a:hover', /:hover pseudo-class is not supported/],
    ['a:first-child', /:first-child pseudo-class is not supported/],
    ['a::before', /pseudo-elements are not supported/],
    ['div[[[', /expected an attribute name/],
    ['svg|a', /namespaces are not supported/],
    ['', /empty selector/],
    ['a,', /empty selector|expected/],
    ['#1a', /expected an id/],
    ['a\\:b', /escapes are not supported/],
    ['a:not(b c)', /only compound selectors/],
  ])('checkSelector rejects %s', (selector, message) => {
    expect(fast.checkSelector(selector)).toMatch(message);
    expect(() => parseSelector(selector)).toThrow();
  });
  it('an invalid selector throws at registration', () => {
    expect(() => fast.rewrite(new ReadableStream(), (r) => r.on('a:hover', {}))).toThrow(/not supported/);
  });
});

describe('attribute changes without attribute records (set, add, read back, then remove)', () => {
  // Each engine runs the same handlers; the fast engine keeps set/added values apart from the tag
  // until a removal or an end-tag handler needs records: both ways must write what lol-html writes.
  const html = '<p><a HREF="/x" id=k data-a=\'1\' href="/dup">t</a><img src=a.jpg/><b class=c>u</b><i  title="q"  >v</i></p>';
  const register: Register = (registry) => {
    registry.on('a', {
      element(el) {
        el.setAttribute('href', '/y"z');
        el.setAttribute('data-new', 'n1');
        el.setAttribute('data-new', `${el.getAttribute('data-new')}+${el.getAttribute('href')}+${el.hasAttribute('data-new')}`);
      },
    });
    registry.on('a[data-a]', { element: (el) => void el.removeAttribute('id') });
    registry.on('img', { element: (el) => void el.setAttribute('src', `${el.getAttribute('src')}?m`) });
    registry.on('b', {
      element(el) {
        el.setAttribute('class', 'd');
        // An end-tag handler: the fast engine keeps records for this element; the value is read now.
        const seen = el.getAttribute('class');
        el.onEndTag((end) => end.before(`[${seen}]`));
        el.setAttribute('title', 't');
      },
    });
    registry.on('i', { element: (el) => void el.setAttribute('lang', 'zh') });
  };
  it('gives the same bytes as lol-html', async () => {
    const bytes = new TextEncoder().encode(html);
    const fast = new TextDecoder().decode(await runEngine(new FastHtmlEngine({ tree: 'lol-html' }), bytes, register));
    const wasm = new TextDecoder().decode(await runEngine(new WasmHtmlEngine(), bytes, register));
    expect(fast).toBe(wasm);
    expect(fast).toContain('data-new="n1+/y&quot;z+true"');
    expect(fast).toContain('<img src="a.jpg/?m">');
    expect(fast).toContain('<b class="d" title="t">u[d]</b>');
  });
});
