/**
 * Shared by tests/unit/fast-html-engine*.test.ts: run an engine over bytes in a given chunking, the rule
 * sets the differential tests use, and the inputs (fixture articles, test-origin pages).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { HtmlElement, HtmlEngine, HtmlHandlerRegistry, HtmlText } from '../../src/rewrite/html-engine.ts';
import { SiteMapper, type DocContext } from '../../src/mapping/url-mapper.ts';
import { registerHtmlRules } from '../../src/rewrite/html-rules.ts';
import { resolve, testSiteConfig } from '../helpers/mirror.ts';
import { FIXTURES_DIR } from '../helpers/origin.ts';

export type Register = (registry: HtmlHandlerRegistry) => void;

export async function runEngine(engine: HtmlEngine, bytes: Uint8Array, register: Register, cuts: number[] = []): Promise<Uint8Array> {
  const pieces: Uint8Array[] = [];
  let at = 0;
  for (const c of [...cuts, bytes.length]) {
    if (c > at) pieces.push(bytes.slice(at, c));
    at = Math.max(at, c);
  }
  let i = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i < pieces.length) controller.enqueue(pieces[i++]!);
      else controller.close();
    },
  });
  return new Uint8Array(await new Response(engine.rewrite(body, register)).arrayBuffer());
}

export const MIRROR = 'http://mirror.test';
const baseSite = resolve({ sites: [testSiteConfig('http://127.0.0.1:9')] }).sites[0]!;
/** The test site with nav, footer, injections and a remove selector: every rule in play. */
export const fullSite = {
  ...baseSite,
  remove: ['#below_article_ad', '.ad', 'div.share > a'],
  inject: { head: '<meta name="mirror" content="1">', bodyStart: '<div id="mirror-start"></div>', bodyEnd: '<script>var m = 1;</script>' },
};
const mapper = new SiteMapper(fullSite);
const doc: DocContext = { origin: mapper.root, url: 'https://www.epochtimes.com/gb/a.htm', mirrorOrigin: MIRROR };

export const pageRules: Register = (reg) => registerHtmlRules(reg, { mapper, site: fullSite, doc, mode: 'page', transcodedToUtf8: true });
export const fragmentRules: Register = (reg) => registerHtmlRules(reg, { mapper, site: fullSite, doc, mode: 'fragment', transcodedToUtf8: false });

/** Buffers a text node and replaces it once complete (chunking-independent). */
function wholeText(transform: (s: string) => string): (t: HtmlText) => void {
  let buffer = '';
  return (t) => {
    buffer += t.text;
    if (!t.lastInTextNode) return void t.remove();
    const s = buffer;
    buffer = '';
    t.replace(transform(s));
  };
}

/** Synthetic rule sets: removal, renames, injections, text replacement. */
export const syntheticRules: Record<string, Register> = {
  removal: (reg) => {
    for (const s of ['.ad', 'div#x', 'span b', 'ul > li', '[data-x]', 'p:not(.keep)', 'table td', '[id^="rm-"]', 'section, aside']) reg.on(s, { element: (el) => void el.remove() });
  },
  renames: (reg) => {
    reg.on('a', { element: (el) => void (el.tagName = 'ok') });
    reg.on('b', { element: (el) => void (el.tagName = 'STRONG') });
    reg.on('img', {
      element: (el) => {
        el.setAttribute('alt', `a"b<&>'${el.getAttribute('alt') ?? ''}`);
        el.removeAttribute('title');
        el.setAttribute('data-new', '');
      },
    });
  },
  injections: (reg) => {
    const inject = (label: string) => (el: HtmlElement) => {
      el.before(`<i>${label}-before</i>`, { html: true });
      el.after(`${label}-after<&>`);
      el.prepend(`<u>${label}-prepend</u>`, { html: true });
      el.append(`${label}-append`);
      try {
        el.onEndTag((end) => {
          end.before(`[${label}-end-before]`);
          end.after(`<s>${label}-end-after</s>`, { html: true });
        });
      } catch {
        // void element: no end tag
      }
    };
    reg.on('div', { element: inject('div') });
    reg.on('p', { element: inject('p') });
    reg.on('head', { element: (el) => el.onEndTag((end) => void end.before('<meta name=x>', { html: true })) });
    reg.on('body', { element: (el) => el.onEndTag((end) => void end.before('<footer>f</footer>', { html: true })) });
    reg.on('br', { element: inject('br') });
    reg.onDocument({ end: (end) => void end.append('<!-- end -->', { html: true }) });
  },
  text: (reg) => {
    reg.on('script', { text: wholeText((s) => s.toUpperCase()) });
    reg.on('style', { text: wholeText((s) => `/*${s.length}*/${s}`) });
    reg.on('title', { text: wholeText((s) => `[${s}]`) });
    reg.on('textarea', { text: wholeText((s) => s.replace(/a/g, '<&>')) });
  },
  mixed: (reg) => {
    pageRules(reg);
    reg.on('div.share', { element: (el) => void el.remove() });
    reg.on('p > img', { element: (el) => el.setAttribute('loading', 'lazy') });
  },
};

/** Article HTML from the fixture feeds (content:encoded / description inside CDATA), each in a full page. */
export function fixtureArticlePages(): { name: string; html: string }[] {
  const pages: { name: string; html: string }[] = [];
  for (const file of fs.readdirSync(FIXTURES_DIR).filter((f) => f.endsWith('.xml')).sort()) {
    const xml = fs.readFileSync(path.join(FIXTURES_DIR, file), 'utf8');
    let n = 0;
    for (const m of xml.matchAll(/<(content:encoded|description)>\s*<!\[CDATA\[([\s\S]*?)\]\]>\s*<\/\1>/g)) {
      const body = m[2]!;
      if (!/<[a-z]/i.test(body)) continue;
      pages.push({
        name: `${file}#${n++}`,
        html: `<!DOCTYPE html><html><head><meta charset="utf-8"><title>t</title><link rel="stylesheet" href="https://www.epochtimes.com/a.css"></head><body><div id="main">${body}</div><div id="below_article_ad">ad</div></body></html>`,
      });
    }
  }
  return pages;
}
