/**
 * A realistic fake ORIGIN web server for integration tests.
 *
 * One plain `node:http` server on 127.0.0.1 (ephemeral port) plays both
 * `www.epochtimes.com` and `i.epochtimes.com`, routing on the `Host` header
 * (port ignored, unknown host → 421). Pages spell URLs the way the real site
 * does: absolute https, http:// alias spellings, protocol-relative,
 * root-relative and relative URLs.
 *
 * Nothing here talks to the network beyond the loopback listener.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Socket } from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import { Readable, pipeline } from 'node:stream';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { fixtureArticleHtml, fixtureArticles, LAZYLOAD_JS, LAZYLOAD_JS_PATH, THEME_CSS, THEME_CSS_PATH, THEME_FONT_RE } from './fixture-pages.ts';
import { routeZoo } from './zoo.ts';

/** Epoch-Times-like pages around the real fixture articles (browser suite): see fixture-pages.ts. */
export { FIXTURE_ARTICLE_PATH, FIXTURE_ARTICLE_URL, LAZYLOAD_JS_PATH, THEME_CSS_PATH } from './fixture-pages.ts';

// ---------------------------------------------------------------------------
// Public API types
// ---------------------------------------------------------------------------

export interface OriginRequestLog {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface TestOrigin {
  port: number;
  /** http://127.0.0.1:PORT */
  url: string;
  /** Every request received, in arrival order (body filled in once fully read). */
  requests: OriginRequestLog[];
  /** Let every currently waiting `/gb/slow.htm` response send its second part. */
  releaseSlow(): void;
  /** Empty `requests` (convenience for tests that share one origin). */
  clearRequests(): void;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------
// Hosts and origins
// ---------------------------------------------------------------------------

export const WWW_HOST = 'www.epochtimes.com';
export const IMG_HOST = 'i.epochtimes.com';
export const WWW_ORIGIN = 'https://www.epochtimes.com';
export const IMG_ORIGIN = 'https://i.epochtimes.com';

// ---------------------------------------------------------------------------
// Paths (www.epochtimes.com unless noted)
// ---------------------------------------------------------------------------

export const ARTICLE_PATH = '/gb/21/3/2/n12784933.htm';
export const ARTICLE_URL = `${WWW_ORIGIN}${ARTICLE_PATH}`;
/** Traditional-Chinese twin of the article; configured as a "keep" link rule. */
export const ARTICLE_B5_URL = `${WWW_ORIGIN}/b5/21/3/2/n12784933.htm`;
export const HOME_PATH = '/';
export const GB_HOME_PATH = '/gb/';
export const CHANNEL_PATH = '/gb/nsc412.htm';
/** Tag page (UTF-8 path). Request path is percent-encoded: TAG_PATH_ENCODED. */
export const TAG_NAME = '美国';
export const TAG_PATH_ENCODED = '/gb/tag/%E7%BE%8E%E5%9B%BD.html';

export const GBK_HEADER_PATH = '/gb/gbk-header.htm';
export const GBK_META_PATH = '/gb/gbk-meta.htm';
export const GB18030_PATH = '/gb/gb18030.htm';
export const BIG5_HEADER_PATH = '/b5/big5-header.htm';
export const BIG5_META_PATH = '/b5/big5-meta.htm';
/** Legacy-charset pages are written in writes of this many bytes (odd → multi-byte chars get split). */
export const LEGACY_CHUNK_BYTES = 7;

export const GZIP_PATH = '/gb/gzip.htm';
export const BR_PATH = '/gb/br.htm';
export const DEFLATE_PATH = '/gb/deflate.htm';

export const REDIRECT_ABS_PATH = '/gb/redirect-abs';
export const REDIRECT_ABS_LOCATION = ARTICLE_URL;
export const REDIRECT_REL_PATH = '/gb/redirect-rel';
export const REDIRECT_REL_LOCATION = CHANNEL_PATH;
export const REDIRECT_IMG_PATH = '/gb/redirect-img';
export const REDIRECT_IMG_LOCATION = 'http://i.epochtimes.com/assets/a.jpg';
export const REDIRECT_EXTERNAL_PATH = '/gb/redirect-external';
export const REDIRECT_EXTERNAL_LOCATION = 'https://example.org/x';
export const REFRESH_HEADER_PATH = '/gb/refresh-header';
export const REFRESH_HEADER_VALUE = `0; url=${WWW_ORIGIN}/gb/`;

export const COOKIE_PATH = '/gb/cookie';
export const COOKIE_HEADERS = [
  'sid=abc; Domain=.epochtimes.com; Path=/; HttpOnly',
  'pref=1; Domain=www.epochtimes.com; Path=/gb; Secure',
] as const;
export const CSP_HEADER =
  "default-src 'self' https://www.epochtimes.com https://i.epochtimes.com; img-src 'self' https://i.epochtimes.com data:; report-uri https://www.epochtimes.com/csp-report";
export const HSTS_HEADER = 'max-age=31536000; includeSubDomains; preload';
export const HPKP_HEADER =
  'pin-sha256="cUPcTAZWKaASuYWhhneDttWpY3oBAkE3h2+soZS7sWs="; pin-sha256="M8HztCzM3elUxkcjR2S5P4hhyBNf6lHkmjAHKhpGPWE="; max-age=5184000; includeSubDomains';
export const CLEAR_SITE_DATA_HEADER = '"cache", "cookies", "storage"';
/** On i.epochtimes.com. */
export const IMG_COOKIE_PATH = '/cookie';
export const IMG_COOKIE_HEADER = 'img=1; Path=/assets; Domain=i.epochtimes.com';

export const SLOW_PATH = '/gb/slow.htm';
/** The slow page waits at most this long for releaseSlow(). */
export const SLOW_MAX_WAIT_MS = 3000;

export const BASE_PATH = '/gb/base.htm';
export const LARGE_PATH = '/gb/large.htm';
export const LARGE_CHUNK_BYTES = 64 * 1024;

export const FEED_NSC412_PATH = '/gb/nsc412.xml';
export const FEED_NSC418_PATH = '/gb/nsc418.xml';
export const ATOM_PATH = '/gb/atom.xml';

export const STYLE_CSS_PATH = '/assets/style.css';
export const PRINT_CSS_PATH = '/assets/print.css';
export const APP_JS_PATH = '/assets/app.js';
export const DATA_JSON_PATH = '/api/data.json';

export const SEARCH_PATH = '/gb/search.htm';
export const POST_PATH = '/gb/post';

export const ERROR500_PATH = '/gb/error500';
export const RESET_PATH = '/gb/reset';
export const HANG_PATH = '/gb/hang';
export const NOT_FOUND_PATH = '/gb/does-not-exist.htm';

export const NOHTML_PATH = '/gb/nohtml.txt';
export const NO_BODY_PATH = '/gb/no-body.htm';
export const TWO_HEADS_PATH = '/gb/two-heads.htm';

/** On i.epochtimes.com (also answered on www for /assets/ images). */
export const IMAGE_PATH = '/assets/a.jpg';
/** Every image path is served with the same PNG bytes and this content type. */
export const IMAGE_CONTENT_TYPE = 'image/png';
export const BIG_BIN_PATH = '/assets/big.bin';
export const BIG_BIN_SIZE = 1024 * 1024;
export const FONT_PATH = '/assets/font.woff2';

// ---------------------------------------------------------------------------
// Fixture feeds (../shared/fixtures relative to the repo root)
// ---------------------------------------------------------------------------

const HERE: string = import.meta.dirname ?? path.dirname(fileURLToPath(import.meta.url));
export const FIXTURES_DIR = path.resolve(HERE, '../../../shared/fixtures');
export const FEED_NSC412_FILE = path.join(FIXTURES_DIR, 'epochtimes-nsc412-2022.xml');
export const FEED_NSC418_FILE = path.join(FIXTURES_DIR, 'epochtimes-nsc418-2018.xml');

// ---------------------------------------------------------------------------
// Small utilities
// ---------------------------------------------------------------------------

export function escapeHtml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

function weakEtag(buf: Buffer | string): string {
  // FNV-1a over the bytes: cheap, deterministic, good enough for a test ETag.
  const b = typeof buf === 'string' ? Buffer.from(buf) : buf;
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) {
    h ^= b[i]!;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return `"${h.toString(16).padStart(8, '0')}-${b.length.toString(16)}"`;
}

const LAST_MODIFIED = 'Tue, 02 Mar 2021 10:30:00 GMT';

// ---------------------------------------------------------------------------
// Legacy encoders (GBK / GB18030 / Big5) built from TextDecoder
// ---------------------------------------------------------------------------

let gbkTable: Map<string, Uint8Array> | undefined;
let gb18030FourByteTable: Map<string, Uint8Array> | undefined;
let big5Table: Map<string, Uint8Array> | undefined;

function buildTwoByteTable(
  label: string,
  leads: number[],
  trails: number[],
): Map<string, Uint8Array> {
  const dec = new TextDecoder(label);
  const table = new Map<string, Uint8Array>();
  const pair = new Uint8Array(2);
  for (const a of leads) {
    for (const b of trails) {
      pair[0] = a;
      pair[1] = b;
      const s = dec.decode(pair);
      if (s.length !== 1 || s === '\uFFFD' || table.has(s)) continue;
      table.set(s, Uint8Array.of(a, b));
    }
  }
  return table;
}

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i <= to; i++) out.push(i);
  return out;
}

function getGbkTable(): Map<string, Uint8Array> {
  if (!gbkTable) {
    gbkTable = buildTwoByteTable(
      'gbk',
      range(0x81, 0xfe),
      range(0x40, 0xfe).filter((b) => b !== 0x7f),
    );
  }
  return gbkTable;
}

function getGb18030FourByteTable(): Map<string, Uint8Array> {
  if (!gb18030FourByteTable) {
    // BMP part of the four-byte area: 81 30 81 30 .. 84 31 A4 39.
    const dec = new TextDecoder('gb18030');
    const table = new Map<string, Uint8Array>();
    const q = new Uint8Array(4);
    for (let b1 = 0x81; b1 <= 0x84; b1++) {
      for (let b2 = 0x30; b2 <= 0x39; b2++) {
        for (let b3 = 0x81; b3 <= 0xfe; b3++) {
          for (let b4 = 0x30; b4 <= 0x39; b4++) {
            q[0] = b1;
            q[1] = b2;
            q[2] = b3;
            q[3] = b4;
            const s = dec.decode(q);
            if (s.length !== 1 || s === '\uFFFD' || table.has(s)) continue;
            table.set(s, Uint8Array.of(b1, b2, b3, b4));
          }
        }
      }
    }
    gb18030FourByteTable = table;
  }
  return gb18030FourByteTable;
}

function getBig5Table(): Map<string, Uint8Array> {
  if (!big5Table) {
    // Standard Big5 area (lead A1..F9) first so common characters get their
    // classic codes rather than an HKSCS duplicate.
    const trails = [...range(0x40, 0x7e), ...range(0xa1, 0xfe)];
    const main = buildTwoByteTable('big5', range(0xa1, 0xfe), trails);
    const ext = buildTwoByteTable('big5', range(0x81, 0xa0), trails);
    for (const [k, v] of ext) if (!main.has(k)) main.set(k, v);
    big5Table = main;
  }
  return big5Table;
}

export type LegacyEncoding = 'gbk' | 'gb18030' | 'big5';

/** Encode text to GBK / GB18030 / Big5. Throws on characters the encoding cannot represent. */
export function encodeLegacy(text: string, encoding: LegacyEncoding): Buffer {
  const table = encoding === 'big5' ? getBig5Table() : getGbkTable();
  const out: number[] = [];
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp < 0x80) {
      out.push(cp);
      continue;
    }
    let bytes = table.get(ch);
    if (!bytes && encoding === 'gb18030') bytes = getGb18030FourByteTable().get(ch);
    if (!bytes) {
      throw new Error(`encodeLegacy: ${JSON.stringify(ch)} (U+${cp.toString(16)}) not in ${encoding}`);
    }
    for (const b of bytes) out.push(b);
  }
  return Buffer.from(out);
}

// ---------------------------------------------------------------------------
// Legacy-charset pages
// ---------------------------------------------------------------------------

export const GBK_TITLE = '大纪元新闻网 - 美国新闻';
export const GBK_HEADLINE = '大纪元新闻：美国国会通过新法案';
export const GBK_TEXT =
  '【大纪元2021年3月2日讯】美国国会周二以多数票通过一项新法案，大纪元记者在华盛顿现场报道。新闻发布会上，议员们表示这是“重要的一步”。';
export const GBK_ALT = '大纪元图片';
export const GBK_LINK_TEXT = '美国新闻';
/** Extra text on the GB18030 page, including 㐀 (U+3400), which only has a four-byte GB18030 code. */
export const GB18030_EXTRA = '生僻字：㐀（四字节编码）';

export const BIG5_TITLE = '大紀元新聞網 - 美國新聞';
export const BIG5_HEADLINE = '大紀元新聞：美國國會通過新法案';
export const BIG5_TEXT =
  '【大紀元2021年3月2日訊】美國國會週二以多數票通過一項新法案，大紀元記者在華盛頓現場報導。新聞發佈會上，議員們表示這是「重要的一步」。';
export const BIG5_ALT = '大紀元圖片';
export const BIG5_LINK_TEXT = '美國新聞';

function legacyPageHtml(opts: {
  metaTag: string;
  title: string;
  headline: string;
  text: string;
  alt: string;
  linkText: string;
  section: 'gb' | 'b5';
  extra?: string;
}): string {
  const s = opts.section;
  return [
    '<!DOCTYPE html>',
    '<html>',
    '<head>',
    opts.metaTag,
    `<title>${opts.title}</title>`,
    `<link rel="stylesheet" href="https://www.epochtimes.com/assets/style.css">`,
    '</head>',
    '<body>',
    `<h1 id="headline">${opts.headline}</h1>`,
    `<p id="text">${opts.text}</p>`,
    opts.extra ? `<p id="extra">${opts.extra}</p>` : '',
    `<p><a id="link-abs" href="https://www.epochtimes.com/${s}/21/3/2/n12784933.htm" title="${opts.linkText}">${opts.linkText}</a></p>`,
    `<p><a id="link-http-alias" href="http://www.epochtimes.com/${s}/nsc412.htm">${opts.linkText}</a></p>`,
    `<p><a id="link-rootrel" href="/${s}/nsc412.htm">${opts.linkText}</a></p>`,
    `<img id="img" src="https://i.epochtimes.com/assets/uploads/2021/03/legacy-${s}.jpg" alt="${opts.alt}">`,
    `<img id="img-protorel" src="//i.epochtimes.com/assets/uploads/2021/03/legacy-${s}-2.jpg" alt="${opts.alt}">`,
    `<p id="text2">${opts.text}${opts.text}</p>`,
    '</body>',
    '</html>',
    '',
  ]
    .filter((l) => l !== '')
    .join('\n');
}

export const GBK_HEADER_HTML = legacyPageHtml({
  metaTag: '<meta name="keywords" content="news">',
  title: GBK_TITLE,
  headline: GBK_HEADLINE,
  text: GBK_TEXT,
  alt: GBK_ALT,
  linkText: GBK_LINK_TEXT,
  section: 'gb',
});
export const GBK_META_HTML = legacyPageHtml({
  metaTag: '<meta http-equiv="Content-Type" content="text/html; charset=gb2312">',
  title: GBK_TITLE,
  headline: GBK_HEADLINE,
  text: GBK_TEXT,
  alt: GBK_ALT,
  linkText: GBK_LINK_TEXT,
  section: 'gb',
});
export const GB18030_HTML = legacyPageHtml({
  metaTag: '<meta charset="gb18030">',
  title: GBK_TITLE,
  headline: GBK_HEADLINE,
  text: GBK_TEXT,
  alt: GBK_ALT,
  linkText: GBK_LINK_TEXT,
  section: 'gb',
  extra: GB18030_EXTRA,
});
export const BIG5_HEADER_HTML = legacyPageHtml({
  metaTag: '<meta name="keywords" content="news">',
  title: BIG5_TITLE,
  headline: BIG5_HEADLINE,
  text: BIG5_TEXT,
  alt: BIG5_ALT,
  linkText: BIG5_LINK_TEXT,
  section: 'b5',
});
export const BIG5_META_HTML = legacyPageHtml({
  metaTag: '<meta charset="big5">',
  title: BIG5_TITLE,
  headline: BIG5_HEADLINE,
  text: BIG5_TEXT,
  alt: BIG5_ALT,
  linkText: BIG5_LINK_TEXT,
  section: 'b5',
});

// ---------------------------------------------------------------------------
// The article
// ---------------------------------------------------------------------------

export const ARTICLE_TITLE = '美国参议院确认商务部长提名 重申对华强硬立场';
export const ARTICLE_HEADLINE = ARTICLE_TITLE;
export const ARTICLE_IMAGE_URL = 'https://i.epochtimes.com/assets/uploads/2021/03/id12784940-600x400.jpg';
export const ARTICLE_IMAGE_PROTOREL = '//i.epochtimes.com/assets/uploads/2021/03/id12784941-600x400.jpg';
export const ARTICLE_LINK_HEADER = '<https://i.epochtimes.com/assets/a.jpg>; rel=preload; as=image';
export const ARTICLE_CONTENT_LOCATION = `${WWW_ORIGIN}/gb/`;
/** The element the proxy config removes. */
export const ARTICLE_AD_ID = 'below_article_ad';

const ARTICLE_PARAGRAPHS = [
  '【大纪元2021年3月2日讯】（大纪元记者李辰综合报导）美国参议院周二以压倒性多数票确认了商务部长的提名。在确认听证会上，被提名人表示，将利用一切工具保护美国的网络和供应链免受中共的干扰与渗透。',
  '多名共和党参议员在听证会上追问被提名人对华为等中共关联企业的态度。被提名人回应说，实体清单上的公司没有理由被移除，商务部将继续执行出口管制措施，确保美国的关键技术不会落入对手手中。',
  '分析人士指出，新一届政府在对华政策上面临国会两党的共同压力。过去一年中，中共在香港、新疆问题上的所作所为以及隐瞒疫情的行为，使美国社会对中共的看法发生了根本性改变。',
  '参议院商务委员会主席在声明中说：“我们期待与新任部长合作，加强美国制造业，振兴中小企业，并确保美国在半导体、人工智能等关键领域保持领先。”',
  '据报导，商务部下属的工业与安全局负责管理实体清单。截至目前，已有数百家中国公司和机构被列入清单，包括多家与中共军方有关联的企业。',
  '美国商会和多个行业团体此前呼吁新政府重新审视对华关税政策。不过，白宫发言人表示，在与盟友充分协商之前，现有关税将维持不变。',
  '一位不愿具名的国会助理告诉大纪元，两党议员正在起草一项新的法案，旨在投资数百亿美元用于美国本土的芯片研发与制造，以减少对海外供应链的依赖。',
  '专家认为，美中之间的竞争将是长期的、全方位的。美国需要联合盟友，在技术标准、贸易规则和人权等领域共同应对中共带来的挑战。',
  '另据美国之音报导，国务院同日发表声明，再次敦促中共释放被任意拘押的人权律师和维权人士，并呼吁国际社会关注新疆的强迫劳动问题。',
  '责任编辑：林妍',
];

const RELATED = [
  ['/gb/21/3/1/n12782000.htm', '拜登政府对华政策初露端倪'],
  ['/gb/21/3/1/n12782113.htm', '美议员提案 禁止联邦资金采购中共无人机'],
  ['/gb/21/2/28/n12780001.htm', '川普CPAC演讲 全文'],
  ['/gb/21/2/27/n12777712.htm', '德州大停电后 电费账单惊人'],
  ['/gb/21/2/26/n12775530.htm', '美国新冠疫苗接种突破七千万剂'],
  ['/gb/21/2/25/n12773318.htm', '众院通过平等法案 引发宗教团体担忧'],
] as const;

function buildArticleHtml(): string {
  const img = 'https://i.epochtimes.com/assets/uploads/2021/03';
  const paragraphs = ARTICLE_PARAGRAPHS.map((p) => `<p>${p}</p>`).join('\n');
  // Related-article blocks alternate absolute / root-relative / http alias spellings.
  const related: string[] = [];
  for (let round = 0; round < 6; round++) {
    RELATED.forEach(([p, t], i) => {
      const n = round * RELATED.length + i;
      const spelled =
        n % 3 === 0 ? `https://www.epochtimes.com${p}` : n % 3 === 1 ? p : `http://www.epochtimes.com${p}`;
      const thumb =
        n % 2 === 0
          ? `https://i.epochtimes.com/assets/uploads/2021/03/thumb-${n}-300x200.jpg`
          : `//i.epochtimes.com/assets/uploads/2021/03/thumb-${n}-300x200.jpg`;
      related.push(
        `<li class="related-item"><a class="related-link" href="${spelled}"><img class="related-thumb" src="${thumb}" alt="${t}" width="150" height="100"><span class="title">${t}</span></a><p class="excerpt">${ARTICLE_PARAGRAPHS[n % 8]}</p></li>`,
      );
    });
  }

  // String.raw keeps the `\/` escapes in inline JS / JSON-LD literal.
  return String.raw`<!DOCTYPE html>
<html lang="zh-Hans">
<head>
<meta charset="utf-8">
<meta http-equiv="X-UA-Compatible" content="IE=edge">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta id="meta-refresh" http-equiv="refresh" content="600; url=https://www.epochtimes.com/gb/21/3/2/n12784933.htm">
<title>${ARTICLE_TITLE} | 大纪元</title>
<meta name="description" content="美国参议院周二以压倒性多数票确认了商务部长的提名。">
<meta name="keywords" content="美国,参议院,商务部,中共">
<link id="canonical" rel="canonical" href="https://www.epochtimes.com/gb/21/3/2/n12784933.htm">
<link id="alternate-b5" rel="alternate" hreflang="zh-Hant" href="https://www.epochtimes.com/b5/21/3/2/n12784933.htm">
<link id="amphtml" rel="amphtml" href="https://www.epochtimes.com/gb/21/3/2/n12784933.htm/amp">
<link id="rss" rel="alternate" type="application/rss+xml" title="大纪元 美国" href="https://www.epochtimes.com/gb/nsc412.xml">
<link id="icon" rel="icon" type="image/png" href="//i.epochtimes.com/assets/favicon-32x32.png">
<link id="stylesheet" rel="stylesheet" href="https://www.epochtimes.com/assets/style.css" integrity="sha384-xxx" crossorigin="anonymous">
<link id="preload-image" rel="preload" as="image" href="${img}/id12784940-600x400.jpg" imagesrcset="${img}/id12784940-300x200.jpg 300w, ${img}/id12784940-600x400.jpg 600w, //i.epochtimes.com/assets/uploads/2021/03/id12784940-1200x800.jpg 1200w" imagesizes="(max-width: 600px) 100vw, 600px">
<link id="dns-prefetch" rel="dns-prefetch" href="//i.epochtimes.com">
<meta id="og-url" property="og:url" content="https://www.epochtimes.com/gb/21/3/2/n12784933.htm">
<meta id="og-title" property="og:title" content="${ARTICLE_TITLE}">
<meta id="og-image" property="og:image" content="${img}/id12784940-600x400.jpg">
<meta id="og-site-name" property="og:site_name" content="大纪元">
<meta id="twitter-card" name="twitter:card" content="summary_large_image">
<meta id="twitter-image" name="twitter:image" content="${img}/id12784940-600x400.jpg">
<meta id="twitter-site" name="twitter:site" content="@dajiyuan">
<style id="inline-style">
@import url("https://www.epochtimes.com/assets/print.css") print;
.post_content .hero { background-image: url(https://i.epochtimes.com/assets/uploads/2021/03/hero.jpg); }
.header .logo { background: url('https://i.epochtimes.com/assets/logo.png') no-repeat 0 0; }
.footer .badge { background: url("https://i.epochtimes.com/assets/badge.png"); }
.sidebar .icon { background: url(//i.epochtimes.com/assets/icon.png); }
.share .wx { background: url(/assets/wechat.png); }
</style>
<script id="app-js" src="https://www.epochtimes.com/assets/app.js" integrity="sha384-yyy" crossorigin="anonymous"></script>
<script id="inline-script">
var u = "https://www.epochtimes.com/gb/x.htm";
var img = "https:\/\/i.epochtimes.com\/assets\/a.jpg";
var channel = '/gb/nsc412.htm';
var twitter = "https://twitter.com/dajiyuan";
window.ET_CONFIG = {home: "https://www.epochtimes.com/gb/", cdn: "//i.epochtimes.com/assets/"};
</script>
<script id="json-ld" type="application/ld+json">
{"@context":"https://schema.org","@type":"NewsArticle","mainEntityOfPage":{"@type":"WebPage","@id":"https://www.epochtimes.com/gb/21/3/2/n12784933.htm"},"url":"https:\/\/www.epochtimes.com\/gb\/21\/3\/2\/n12784933.htm","headline":"${ARTICLE_TITLE}","image":{"@type":"ImageObject","url":"https:\/\/i.epochtimes.com\/assets\/uploads\/2021\/03\/id12784940-600x400.jpg","width":600,"height":400},"datePublished":"2021-03-02T10:30:00+08:00","author":{"@type":"Person","name":"李辰"},"publisher":{"@type":"Organization","name":"大纪元","logo":{"@type":"ImageObject","url":"https://i.epochtimes.com/assets/logo.png"}}}
</script>
</head>
<body class="single single-post postid-12784933">
<div id="header" class="header">
<a id="logo-link" href="https://www.epochtimes.com/gb/"><img id="logo" src="https://i.epochtimes.com/assets/logo.png" alt="大纪元"></a>
<ul id="nav" class="nav">
<li><a id="link-abs" href="https://www.epochtimes.com/gb/nsc412.htm">美国</a></li>
<li><a id="link-http-alias" href="http://epochtimes.com/gb/nsc418.htm">国际</a></li>
<li><a id="link-http-www" href="http://www.epochtimes.com/gb/nsc1025.htm">评论</a></li>
<li><a id="link-https-bare" href="https://epochtimes.com/gb/nsc2007.htm">专题</a></li>
<li><a id="link-protorel" href="//www.epochtimes.com/gb/ncid277.htm">禁闻</a></li>
<li><a id="link-rootrel" href="/gb/nsc413.htm">大陆</a></li>
<li><a id="link-rel" href="n12784934.htm">下一篇</a></li>
<li><a id="link-b5" href="https://www.epochtimes.com/b5/21/3/2/n12784933.htm">正體</a></li>
<li><a id="link-img-host" href="https://i.epochtimes.com/assets/uploads/2021/03/id12784940.jpg">大图</a></li>
</ul>
</div>
<div id="main" class="main">
<h1 id="headline" class="title">${ARTICLE_HEADLINE}</h1>
<div class="info"><span class="time">2021-03-02 10:30 AM</span> <a id="link-frag" href="#comments">评论</a> <a id="link-mailto" href="mailto:editor@epochtimes.com?subject=%E6%8A%95%E7%A8%BF">投稿</a> <a id="link-js" href="javascript:void(0)" onclick="window.print()">打印</a></div>
<div id="article_body" class="post_content">
<figure id="attachment_12784940" class="wp-caption aligncenter" style="width: 600px"><img id="wp-caption-img" class="size-large wp-image-12784940" src="${img}/id12784940-600x400.jpg" alt="美国参议院" width="600" height="400" srcset="${img}/id12784940-600x400.jpg 600w, ${img}/id12784940-300x200.jpg 300w" sizes="(max-width: 600px) 100vw, 600px"><figcaption class="wp-caption-text">2021年3月2日，美国参议院。（Getty Images）</figcaption></figure>
${paragraphs}
<p><img id="img-https" src="${img}/id12784942-600x400.jpg" alt="图一"></p>
<p><img id="img-protorel" src="${ARTICLE_IMAGE_PROTOREL}" alt="图二"></p>
<p><img id="img-srcset-x" src="${img}/id12784943.jpg" srcset="${img}/id12784943.jpg 1x, //i.epochtimes.com/assets/uploads/2021/03/id12784943@2x.jpg 2x" alt="图三"></p>
<p><img id="img-srcset-w" src="${img}/id12784944-300x200.jpg" srcset="${img}/id12784944-300x200.jpg 300w, https://i.epochtimes.com/assets/uploads/2021/03/id12784944.jpg?resize=600,400&amp;ssl=1 600w,${img}/id12784944-1200x800.jpg 1200w" sizes="(max-width: 600px) 100vw, 600px" alt="图四"></p>
<picture id="picture"><source id="picture-source" type="image/webp" srcset="${img}/id12784945.webp 1x, ${img}/id12784945@2x.webp 2x"><source id="picture-source-w" media="(max-width: 600px)" srcset="//i.epochtimes.com/assets/uploads/2021/03/id12784945-300x200.jpg 300w"><img id="picture-img" src="${img}/id12784945.jpg" alt="图五"></picture>
<img id="img-map" src="${img}/map.png" usemap="#usmap" alt="地图" width="300" height="200">
<map name="usmap" id="usmap"><area id="area-link" shape="rect" coords="0,0,150,200" href="https://www.epochtimes.com/gb/nsc412.htm" alt="美国"><area id="area-rel" shape="rect" coords="150,0,300,200" href="/gb/nsc418.htm" alt="国际"></map>
<img id="lazy-data-src" class="lazy" src="data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7" data-src="${img}/lazy-1.jpg" alt="懒加载一">
<img id="lazy-data-srcset" class="lazy" data-srcset="${img}/lazy-2-300.jpg 300w, ${img}/lazy-2-600.jpg 600w" alt="懒加载二">
<img id="lazy-data-original" class="lazy" data-original="${img}/lazy-3.jpg" alt="懒加载三">
<img id="lazy-data-lazy-src" class="lazy" data-lazy-src="//i.epochtimes.com/assets/uploads/2021/03/lazy-4.jpg" alt="懒加载四">
<div id="lazy-bg-plain" class="lazy-bg" data-bg="${img}/bg-1.jpg"></div>
<div id="lazy-bg-url" class="lazy-bg" data-bg="url(${img}/bg-2.jpg)"></div>
<div id="style-attr" class="hero" style="background-image:url(https://i.epochtimes.com/assets/uploads/2021/03/hero-inline.jpg); height: 200px">&nbsp;</div>
<div class="video_fit_container"><iframe id="iframe-youtube" width="560" height="315" src="//www.youtube.com/embed/dQw4w9WgXcQ" frameborder="0" allowfullscreen></iframe></div>
<iframe id="iframe-origin" src="https://www.epochtimes.com/gb/nsc412.htm" width="300" height="250"></iframe>
<video id="video" poster="${img}/poster.jpg" src="${img}/clip.mp4" controls preload="none"><source id="video-source" src="https://i.epochtimes.com/assets/uploads/2021/03/clip.webm" type="video/webm"><track id="video-track" kind="subtitles" srclang="zh" src="https://www.epochtimes.com/assets/clip.vtt"></video>
<audio id="audio" src="https://i.epochtimes.com/assets/uploads/2021/03/podcast.mp3" controls></audio>
<embed id="embed" src="https://i.epochtimes.com/assets/player.swf" type="application/x-shockwave-flash">
<object id="object" data="https://i.epochtimes.com/assets/uploads/2021/03/report.pdf" type="application/pdf"><a href="https://i.epochtimes.com/assets/uploads/2021/03/report.pdf">报告</a></object>
<blockquote id="blockquote" cite="https://www.epochtimes.com/gb/21/3/1/n12782000.htm"><p>“我们将利用一切工具保护美国。”</p></blockquote>
<noscript id="noscript"><img id="noscript-img" src="https://i.epochtimes.com/assets/uploads/2021/03/noscript.jpg" alt="noscript"></noscript>
<div id="below_article_ad">AD</div>
<div id="tags" class="post_tags">
<a id="tag-utf8" rel="tag" href="https://www.epochtimes.com/gb/tag/美国.html">美国</a>
<a id="tag-pct" rel="tag" href="https://www.epochtimes.com/gb/tag/%E7%BE%8E%E5%9B%BD.html">美国</a>
<a id="tag-rootrel" rel="tag" href="/gb/tag/参议院.html">参议院</a>
</div>
</div>
<div id="search" class="search">
<form id="search-form" action="https://www.epochtimes.com/gb/search.htm" method="get">
<input id="search-q" type="text" name="q" value="" placeholder="搜索">
<input id="input-image" type="image" src="https://i.epochtimes.com/assets/search.png" alt="搜索">
<button id="button-formaction" type="submit" formaction="https://www.epochtimes.com/gb/post" formmethod="post">提交</button>
</form>
</div>
<div id="share" class="share">
<a id="link-external" href="https://twitter.com/intent/tweet?url=https%3A%2F%2Fwww.epochtimes.com%2Fgb%2F21%2F3%2F2%2Fn12784933.htm">Twitter</a>
<a id="link-external-fb" href="https://www.facebook.com/sharer/sharer.php?u=https://www.epochtimes.com/gb/21/3/2/n12784933.htm">Facebook</a>
</div>
<div id="related" class="related">
<h2>相关文章</h2>
<ul>
${related.join('\n')}
</ul>
</div>
<div id="comments" class="comments"><h2>评论</h2></div>
</div>
<div id="footer" class="footer">
<p>&copy; 2000-2021 <a id="footer-home" href="https://www.epochtimes.com/">大纪元</a>. <a id="footer-about" href="/gb/about.htm">关于我们</a></p>
</div>
<script>document.getElementById('comments').setAttribute('data-url', 'https://www.epochtimes.com/gb/21/3/2/n12784933.htm');</script>
</body>
</html>
`;
}

export const ARTICLE_HTML = buildArticleHtml();

// ---------------------------------------------------------------------------
// Other HTML pages
// ---------------------------------------------------------------------------

function channelHtml(title: string, selfPath: string): string {
  const items: string[] = [];
  for (let i = 0; i < 12; i++) {
    const id = 12784933 - i * 17;
    const articlePath = `/gb/21/3/${2 - (i % 2)}/n${id}.htm`;
    const href = i % 2 === 0 ? `https://www.epochtimes.com${articlePath}` : articlePath;
    const thumb =
      i % 3 === 0
        ? `https://i.epochtimes.com/assets/uploads/2021/03/id${id}-300x200.jpg`
        : `//i.epochtimes.com/assets/uploads/2021/03/id${id}-300x200.jpg`;
    items.push(
      `<li class="post_list_item"><a class="post-link" href="${href}"><img class="thumb" src="${thumb}" alt="新闻${i + 1}"></a><a class="title" href="${href}">美国新闻标题第${i + 1}则</a></li>`,
    );
  }
  return `<!DOCTYPE html>
<html lang="zh-Hans">
<head>
<meta charset="utf-8">
<title>${title} | 大纪元</title>
<link rel="canonical" href="https://www.epochtimes.com${selfPath}">
<link rel="stylesheet" href="https://www.epochtimes.com/assets/style.css">
</head>
<body>
<h1 id="channel-title">${title}</h1>
<ul id="post-list">
${items.join('\n')}
</ul>
<p><a id="first-article" href="https://www.epochtimes.com/gb/21/3/2/n12784933.htm">${ARTICLE_TITLE}</a></p>
<p><a id="more" href="/gb/nsc412_2.htm">更多</a> <a id="feed" href="http://www.epochtimes.com/gb/nsc412.xml">RSS</a></p>
</body>
</html>
`;
}

export const CHANNEL_HTML = channelHtml('美国', CHANNEL_PATH);
export const GB_HOME_HTML = channelHtml('大纪元首页', GB_HOME_PATH);

export const HOME_HTML = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>大纪元</title></head>
<body><p><a id="gb" href="https://www.epochtimes.com/gb/">简体</a> <a id="b5" href="https://www.epochtimes.com/b5/">正體</a></p></body></html>
`;

/** Small page served gzip / br / deflate compressed. */
export const COMPRESSED_PAGE_HTML = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>压缩页面</title></head>
<body>
<p id="compressed">压缩内容</p>
<a id="link-abs" href="https://www.epochtimes.com/gb/21/3/2/n12784933.htm">文章</a>
<img id="img" src="https://i.epochtimes.com/assets/uploads/2021/03/compressed.jpg" alt="压缩图片">
</body></html>
`;

export const SLOW_FIRST_PART = (() => {
  let s =
    '<!DOCTYPE html><html><head><meta charset="utf-8"><title>slow</title></head><body><p id="first">first part</p>\n';
  let i = 0;
  while (Buffer.byteLength(s) <= 3072) {
    s += `<p class="pad"><a href="https://www.epochtimes.com/gb/21/3/2/n1278${String(4000 + i)}.htm">新闻 ${i}</a> <img src="https://i.epochtimes.com/assets/uploads/2021/03/pad-${i}.jpg" alt=""></p>\n`;
    i++;
  }
  return s;
})();
export const SLOW_SECOND_PART = '<p id="second">second</p></body></html>';

export const BASE_HTML = `<!DOCTYPE html>
<html><head><meta charset="utf-8">
<base id="base" href="https://www.epochtimes.com/gb/21/3/">
<title>base</title>
</head>
<body>
<a id="base-rel" href="2/n12784933.htm">relative to base</a>
<a id="base-dotdot" href="../4/1/n12900000.htm">dot-dot</a>
<a id="base-rootrel" href="/gb/nsc412.htm">root-relative</a>
<a id="base-abs" href="https://www.epochtimes.com/gb/nsc418.htm">absolute</a>
<a id="base-frag" href="#top">fragment</a>
<img id="base-img" src="2/photo.jpg" alt="relative image">
</body></html>
`;

export const NOT_FOUND_HTML = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>404 找不到页面 | 大纪元</title></head>
<body><h1 id="not-found">404 找不到页面</h1>
<p><a id="home-link" href="https://www.epochtimes.com/gb/">返回首页</a></p>
</body></html>
`;

export const ERROR500_HTML = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>500 Internal Server Error</title></head>
<body><h1 id="error">500 服务器错误</h1><p><a href="https://www.epochtimes.com/gb/">返回首页</a></p></body></html>
`;

export const NOHTML_TEXT = 'Plain text, not HTML: https://www.epochtimes.com/gb/21/3/2/n12784933.htm and //i.epochtimes.com/assets/a.jpg\n';
export const NO_BODY_HTML = '<p>hello</p>';
export const TWO_HEADS_HTML = `<html><head><meta charset="utf-8"><title>one</title></head>
<head><title>two</title><link rel="stylesheet" href="https://www.epochtimes.com/assets/style.css"></head>
<body><p id="p1"><a id="two-heads-link1" href="https://www.epochtimes.com/gb/nsc412.htm">one</a></p></body>
<body class="second"><p id="p2"><a id="two-heads-link2" href="//www.epochtimes.com/gb/nsc418.htm">two</a><img src="https://i.epochtimes.com/assets/a.jpg"></p></body>
</html></html>
`;

export const COOKIE_HTML = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>cookie</title></head><body><p id="cookie">cookies set</p><a href="https://www.epochtimes.com/gb/">home</a></body></html>`;
export const REFRESH_HTML = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>refresh</title></head><body><p id="refresh">refreshing</p></body></html>`;

// ---------------------------------------------------------------------------
// Non-HTML text resources
// ---------------------------------------------------------------------------

export const STYLE_CSS = `@charset "utf-8";
@import url("https://www.epochtimes.com/assets/print.css") print;
@font-face { font-family: "ET"; src: url(https://i.epochtimes.com/assets/font.woff2) format("woff2"), url('//i.epochtimes.com/assets/font.woff') format("woff"); }
body { font-family: "ET", sans-serif; background: url('https://i.epochtimes.com/assets/bg.png') repeat-x; }
.header .logo { background-image: url("https://i.epochtimes.com/assets/logo.png"); }
.sprite { background: url(/assets/sprite.png) no-repeat; }
.arrow { background: url(img/arrow.png); }
.data { background: url(data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7); }
${'.filler { margin: 0; padding: 0; color: #333; }\n'.repeat(40)}`;

export const PRINT_CSS = `body { color: #000; background: #fff; }
.logo { background: url(https://i.epochtimes.com/assets/logo-print.png) no-repeat; }
a[href^="https://www.epochtimes.com/"]:after { content: " (" attr(href) ")"; }
`;

export const APP_JS = String.raw`(function () {
  var home = "https://www.epochtimes.com/gb/";
  var image = 'https://i.epochtimes.com/assets/a.jpg';
  var escaped = "https:\/\/www.epochtimes.com\/gb\/nsc412.htm";
  var escapedImage = "https:\/\/i.epochtimes.com\/assets\/b.png";
  var protorel = "//i.epochtimes.com/assets/c.png";
  var api = "/api/data.json";
  var alias = "http://www.epochtimes.com/gb/nsc418.htm";
  window.ET = { home: home, image: image, escaped: escaped, escapedImage: escapedImage, protorel: protorel, api: api, alias: alias };
})();
`;

export const DATA_JSON = String.raw`{"home":"https://www.epochtimes.com/gb/","escaped":"https:\/\/www.epochtimes.com\/gb\/nsc412.htm","image":"https:\/\/i.epochtimes.com\/assets\/a.jpg","items":[{"title":"美国新闻","url":"https://www.epochtimes.com/gb/21/3/2/n12784933.htm","thumb":"//i.epochtimes.com/assets/uploads/2021/03/id12784940-300x200.jpg"},{"title":"国际","url":"http:\/\/www.epochtimes.com\/gb\/nsc418.htm","thumb":"https://i.epochtimes.com/assets/uploads/2021/03/id12784941-300x200.jpg"}]}
`;

export const ATOM_XML = `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="zh-CN">
  <title>大纪元 美国</title>
  <subtitle>大纪元新闻网</subtitle>
  <link rel="self" type="application/atom+xml" href="https://www.epochtimes.com/gb/atom.xml"/>
  <link rel="alternate" type="text/html" href="https://www.epochtimes.com/gb/nsc412.htm"/>
  <id>https://www.epochtimes.com/gb/nsc412.htm</id>
  <updated>2021-03-02T10:30:00Z</updated>
  <icon>https://i.epochtimes.com/assets/favicon-32x32.png</icon>
  <entry>
    <title>${ARTICLE_TITLE}</title>
    <link rel="alternate" type="text/html" href="https://www.epochtimes.com/gb/21/3/2/n12784933.htm"/>
    <link rel="enclosure" type="image/jpeg" length="48213" href="https://i.epochtimes.com/assets/uploads/2021/03/id12784940-600x400.jpg"/>
    <id>https://www.epochtimes.com/gb/21/3/2/n12784933.htm</id>
    <updated>2021-03-02T10:30:00Z</updated>
    <author><name>李辰</name><uri>https://www.epochtimes.com/gb/author/lichen.htm</uri></author>
    <summary>美国参议院周二以压倒性多数票确认了商务部长的提名。</summary>
    <content type="html">&lt;p&gt;美国参议院周二确认提名。&lt;/p&gt;&lt;p&gt;&lt;img src=&quot;https://i.epochtimes.com/assets/uploads/2021/03/id12784940-600x400.jpg&quot; alt=&quot;参议院&quot;&gt;&lt;/p&gt;&lt;p&gt;&lt;a href=&quot;https://www.epochtimes.com/gb/nsc412.htm&quot;&gt;更多美国新闻&lt;/a&gt;&lt;/p&gt;</content>
  </entry>
  <entry>
    <title>拜登政府对华政策初露端倪</title>
    <link rel="alternate" type="text/html" href="http://www.epochtimes.com/gb/21/3/1/n12782000.htm"/>
    <id>https://www.epochtimes.com/gb/21/3/1/n12782000.htm</id>
    <updated>2021-03-01T08:00:00Z</updated>
    <content type="html">&lt;p&gt;&lt;img src=&quot;//i.epochtimes.com/assets/uploads/2021/03/id12782001-600x400.jpg&quot;&gt;&lt;/p&gt;</content>
  </entry>
</feed>
`;

// ---------------------------------------------------------------------------
// Binary resources
// ---------------------------------------------------------------------------

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const typeAndData = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typeAndData));
  return Buffer.concat([len, typeAndData, crc]);
}

function buildPng(size: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: truecolour RGB
  ihdr[10] = 0; // compression
  ihdr[11] = 0; // filter
  ihdr[12] = 0; // interlace
  const raw = Buffer.alloc(size * (1 + size * 3));
  for (let y = 0; y < size; y++) {
    const row = y * (1 + size * 3);
    raw[row] = 0; // filter: none
    for (let x = 0; x < size; x++) {
      const p = row + 1 + x * 3;
      raw[p] = (x * 16) & 0xff;
      raw[p + 1] = (y * 16) & 0xff;
      raw[p + 2] = ((x + y) * 8) & 0xff;
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', zlib.deflateSync(raw)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A valid 16x16 RGB PNG (gradient); served for every image path. */
export const TEST_PNG: Buffer = buildPng(16);

let bigBinCache: Buffer | undefined;
/** The deterministic 1 MiB body of /assets/big.bin (xorshift32 stream). */
export function bigBinBytes(): Buffer {
  if (!bigBinCache) {
    const b = Buffer.alloc(BIG_BIN_SIZE);
    let x = 0x12345678;
    for (let i = 0; i < BIG_BIN_SIZE; i += 4) {
      x ^= x << 13;
      x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      b.writeUInt32LE(x, i);
    }
    bigBinCache = b;
  }
  return bigBinCache;
}

/** Bytes of /assets/font.woff2: the "wOF2" signature followed by deterministic filler. */
export const FONT_BYTES: Buffer = (() => {
  const b = Buffer.alloc(2048);
  b.write('wOF2', 0, 'latin1');
  for (let i = 4; i < b.length; i++) b[i] = (i * 7 + 3) & 0xff;
  return b;
})();

// ---------------------------------------------------------------------------
// The large page (generated, streamed, never held in memory)
// ---------------------------------------------------------------------------

const LARGE_HEAD =
  '<!DOCTYPE html><html><head><meta charset="utf-8"><title>大页面</title></head><body><div id="large">\n';
const LARGE_FOOT = '<p id="large-end">end</p></div></body></html>\n';

function largeItem(i: number): string {
  const n = String(i).padStart(7, '0');
  return `<div class="item"><a href="https://www.epochtimes.com/gb/21/3/2/n${n}.htm">大纪元新闻 ${n}</a> <img src="https://i.epochtimes.com/assets/uploads/2021/03/id${n}.jpg" alt=""> <a href="https://www.epochtimes.com/gb/nsc412.htm">美国</a></div>\n`;
}

const LARGE_ITEM_BYTES = Buffer.byteLength(largeItem(0));
const LARGE_TARGET_BYTES = 32 * 1024 * 1024;
/** Number of repeated item blocks in the large page. */
export const LARGE_PAGE_ITEMS = Math.ceil(
  (LARGE_TARGET_BYTES - Buffer.byteLength(LARGE_HEAD) - Buffer.byteLength(LARGE_FOOT)) / LARGE_ITEM_BYTES,
);
/** Exact byte length of /gb/large.htm (≥ 32 MiB). */
export const LARGE_PAGE_BYTES =
  Buffer.byteLength(LARGE_HEAD) + LARGE_PAGE_ITEMS * LARGE_ITEM_BYTES + Buffer.byteLength(LARGE_FOOT);
/** Number of `<a href="https://www.epochtimes.com/...">` in the large page (2 per item). */
export const LARGE_PAGE_LINKS = LARGE_PAGE_ITEMS * 2;
/** Number of `<img src="https://i.epochtimes.com/...">` in the large page (1 per item). */
export const LARGE_PAGE_IMAGES = LARGE_PAGE_ITEMS;

/** Yields the large page as exact 64 KiB Buffers (the last one shorter). Chunks may split UTF-8 sequences. */
export function* generateLargePage(): Generator<Buffer> {
  let pending: Buffer[] = [Buffer.from(LARGE_HEAD)];
  let pendingBytes = pending[0]!.length;
  let batch: string[] = [];
  const flushFull = function* (): Generator<Buffer> {
    if (pendingBytes < LARGE_CHUNK_BYTES) return;
    let all = Buffer.concat(pending, pendingBytes);
    while (all.length >= LARGE_CHUNK_BYTES) {
      yield all.subarray(0, LARGE_CHUNK_BYTES);
      all = all.subarray(LARGE_CHUNK_BYTES);
    }
    pending = [Buffer.from(all)];
    pendingBytes = all.length;
  };
  for (let i = 0; i < LARGE_PAGE_ITEMS; i++) {
    batch.push(largeItem(i));
    if (batch.length === 256) {
      const b = Buffer.from(batch.join(''));
      pending.push(b);
      pendingBytes += b.length;
      batch = [];
      yield* flushFull();
    }
  }
  batch.push(LARGE_FOOT);
  const b = Buffer.from(batch.join(''));
  pending.push(b);
  pendingBytes += b.length;
  yield* flushFull();
  if (pendingBytes > 0) yield Buffer.concat(pending, pendingBytes);
}

// ---------------------------------------------------------------------------
// Compressed bodies (computed lazily, cached)
// ---------------------------------------------------------------------------

const compressedCache = new Map<string, Buffer>();
function compressed(key: 'gzip' | 'br' | 'deflate' | 'css-gzip'): Buffer {
  let b = compressedCache.get(key);
  if (!b) {
    const page = Buffer.from(COMPRESSED_PAGE_HTML);
    if (key === 'gzip') b = zlib.gzipSync(page);
    else if (key === 'br') b = zlib.brotliCompressSync(page);
    else if (key === 'deflate') b = zlib.deflateSync(page);
    else b = zlib.gzipSync(Buffer.from(STYLE_CSS));
    compressedCache.set(key, b);
  }
  return b;
}

// ---------------------------------------------------------------------------
// Response helpers
// ---------------------------------------------------------------------------

const HTML_UTF8 = 'text/html; charset=utf-8';

function send(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  status: number,
  headers: Record<string, string | number | readonly string[]>,
  body: string | Buffer,
  opts: { etag?: boolean } = {},
): void {
  const buf = typeof body === 'string' ? Buffer.from(body) : body;
  if (opts.etag) {
    const tag = weakEtag(buf);
    res.setHeader('ETag', tag);
    res.setHeader('Last-Modified', LAST_MODIFIED);
    const inm = req.headers['if-none-match'];
    if (status === 200 && inm && inm.split(',').some((t) => t.trim() === tag || t.trim() === '*')) {
      for (const [k, v] of Object.entries(headers)) {
        if (k.toLowerCase() !== 'content-length') res.setHeader(k, v);
      }
      res.writeHead(304);
      res.end();
      return;
    }
  }
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  res.setHeader('Content-Length', buf.length);
  res.writeHead(status);
  res.end(req.method === 'HEAD' ? undefined : buf);
}

function sendHtml(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  html: string,
  status = 200,
  extra: Record<string, string | number | readonly string[]> = {},
): void {
  send(req, res, status, { 'Content-Type': HTML_UTF8, 'Cache-Control': 'max-age=60', ...extra }, html, {
    etag: status === 200,
  });
}

function redirect(req: http.IncomingMessage, res: http.ServerResponse, status: number, location: string): void {
  send(
    req,
    res,
    status,
    { Location: location, 'Content-Type': HTML_UTF8 },
    `<!DOCTYPE html><html><head><title>${status}</title></head><body><p>Moved to <a href="${escapeHtml(location)}">${escapeHtml(location)}</a></p></body></html>`,
  );
}

/** True when an Accept-Encoding value lists gzip (or x-gzip) with a non-zero q. */
function acceptsGzip(acceptEncoding: string): boolean {
  for (const part of acceptEncoding.split(',')) {
    const [name, ...params] = part.split(';').map((x) => x.trim().toLowerCase());
    if (name !== 'gzip' && name !== 'x-gzip') continue;
    const q = params.find((x) => x.startsWith('q='));
    if (!q || Number(q.slice(2)) > 0) return true;
  }
  return false;
}

function sleepImmediate(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Write `body` in tiny pieces with an event-loop turn between writes. */
async function sendTrickled(res: http.ServerResponse, contentType: string, body: Buffer, isHead: boolean): Promise<void> {
  res.setHeader('Content-Type', contentType);
  res.setHeader('Cache-Control', 'no-cache');
  res.writeHead(200);
  if (isHead) {
    res.end();
    return;
  }
  res.flushHeaders();
  for (let off = 0; off < body.length; off += LEGACY_CHUNK_BYTES) {
    if (res.destroyed) return;
    res.write(body.subarray(off, off + LEGACY_CHUNK_BYTES));
    await sleepImmediate();
  }
  res.end();
}

/** Parse a single `bytes=` range. Returns null for "serve whole", 'unsatisfiable' for 416. */
function parseRange(header: string | undefined, size: number): { start: number; end: number } | null | 'unsatisfiable' {
  if (!header) return null;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m) return null; // multi-range or garbage: ignore, serve the whole entity
  const [, a, b] = m;
  if (a === '' && b === '') return null;
  let start: number;
  let end: number;
  if (a === '') {
    const suffix = Number(b);
    if (suffix === 0) return 'unsatisfiable';
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(a);
    end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
    if (start >= size || start > end) return 'unsatisfiable';
  }
  return { start, end };
}

function sendRanged(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  contentType: string,
  body: Buffer,
  extra: Record<string, string> = {},
): void {
  const etag = weakEtag(body);
  const headers: Record<string, string> = {
    'Content-Type': contentType,
    'Accept-Ranges': 'bytes',
    'Cache-Control': 'public, max-age=31536000',
    ETag: etag,
    'Last-Modified': LAST_MODIFIED,
    ...extra,
  };
  const ifRange = req.headers['if-range'];
  const r = ifRange && ifRange !== etag ? null : parseRange(req.headers.range, body.length);
  if (r === 'unsatisfiable') {
    send(req, res, 416, { ...headers, 'Content-Range': `bytes */${body.length}` }, '');
    return;
  }
  if (r) {
    send(req, res, 206, { ...headers, 'Content-Range': `bytes ${r.start}-${r.end}/${body.length}` }, body.subarray(r.start, r.end + 1));
    return;
  }
  send(req, res, 200, headers, body, { etag: true });
}

// ---------------------------------------------------------------------------
// Routing
// ---------------------------------------------------------------------------

interface Ctx {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  path: string;
  query: URLSearchParams;
  body: string;
  waitSlow(): Promise<void>;
}

const IMAGE_RE = /^\/(?:assets|20\d\d)\/.*\.(?:jpe?g|png|gif|webp)$/i;

async function routeWww(ctx: Ctx): Promise<void> {
  const { req, res, path: p, query } = ctx;
  const isHead = req.method === 'HEAD';

  switch (p) {
    case HOME_PATH:
      return sendHtml(req, res, HOME_HTML);
    case ARTICLE_PATH:
      return sendHtml(req, res, ARTICLE_HTML, 200, {
        Link: ARTICLE_LINK_HEADER,
        'Content-Location': ARTICLE_CONTENT_LOCATION,
        'X-Frame-Options': 'SAMEORIGIN',
      });
    case GB_HOME_PATH:
      return sendHtml(req, res, GB_HOME_HTML);
    case CHANNEL_PATH:
      return sendHtml(req, res, CHANNEL_HTML);

    case GBK_HEADER_PATH:
      return sendTrickled(res, 'text/html; charset=gbk', encodeLegacy(GBK_HEADER_HTML, 'gbk'), isHead);
    case GBK_META_PATH:
      return sendTrickled(res, 'text/html', encodeLegacy(GBK_META_HTML, 'gbk'), isHead);
    case GB18030_PATH:
      return sendTrickled(res, 'text/html', encodeLegacy(GB18030_HTML, 'gb18030'), isHead);
    case BIG5_HEADER_PATH:
      return sendTrickled(res, 'text/html; charset=big5', encodeLegacy(BIG5_HEADER_HTML, 'big5'), isHead);
    case BIG5_META_PATH:
      return sendTrickled(res, 'text/html', encodeLegacy(BIG5_META_HTML, 'big5'), isHead);

    case GZIP_PATH:
    case BR_PATH:
    case DEFLATE_PATH: {
      const enc = p === GZIP_PATH ? 'gzip' : p === BR_PATH ? 'br' : 'deflate';
      return send(req, res, 200, { 'Content-Type': HTML_UTF8, 'Content-Encoding': enc, Vary: 'Accept-Encoding' }, compressed(enc));
    }
    case STYLE_CSS_PATH: {
      const ae = String(req.headers['accept-encoding'] ?? '');
      const headers = { 'Content-Type': 'text/css; charset=utf-8', Vary: 'Accept-Encoding', 'Cache-Control': 'public, max-age=3600' };
      if (acceptsGzip(ae)) {
        return send(req, res, 200, { ...headers, 'Content-Encoding': 'gzip' }, compressed('css-gzip'), { etag: true });
      }
      return send(req, res, 200, headers, STYLE_CSS, { etag: true });
    }
    case PRINT_CSS_PATH:
      return send(req, res, 200, { 'Content-Type': 'text/css; charset=utf-8' }, PRINT_CSS, { etag: true });
    case APP_JS_PATH:
      return send(req, res, 200, { 'Content-Type': 'application/javascript; charset=utf-8' }, APP_JS, { etag: true });
    case DATA_JSON_PATH:
      return send(req, res, 200, { 'Content-Type': 'application/json; charset=utf-8' }, DATA_JSON);

    case REDIRECT_ABS_PATH:
      return redirect(req, res, 301, REDIRECT_ABS_LOCATION);
    case REDIRECT_REL_PATH:
      return redirect(req, res, 302, REDIRECT_REL_LOCATION);
    case REDIRECT_IMG_PATH:
      return redirect(req, res, 302, REDIRECT_IMG_LOCATION);
    case REDIRECT_EXTERNAL_PATH:
      return redirect(req, res, 302, REDIRECT_EXTERNAL_LOCATION);
    case REFRESH_HEADER_PATH:
      return sendHtml(req, res, REFRESH_HTML, 200, { Refresh: REFRESH_HEADER_VALUE });

    case COOKIE_PATH:
      return send(req, res, 200, {
        'Content-Type': HTML_UTF8,
        'Set-Cookie': [...COOKIE_HEADERS],
        'Content-Security-Policy': CSP_HEADER,
        'Strict-Transport-Security': HSTS_HEADER,
        'Public-Key-Pins': HPKP_HEADER,
        'Clear-Site-Data': CLEAR_SITE_DATA_HEADER,
        'Cache-Control': 'private, no-store',
      }, COOKIE_HTML);

    case SLOW_PATH: {
      res.setHeader('Content-Type', HTML_UTF8);
      res.setHeader('Cache-Control', 'no-cache');
      res.writeHead(200);
      if (isHead) {
        res.end();
        return;
      }
      res.write(SLOW_FIRST_PART);
      await ctx.waitSlow();
      if (!res.destroyed) res.end(SLOW_SECOND_PART);
      return;
    }

    case BASE_PATH:
      return sendHtml(req, res, BASE_HTML);

    case LARGE_PATH: {
      res.setHeader('Content-Type', HTML_UTF8);
      res.setHeader('Content-Length', LARGE_PAGE_BYTES);
      res.setHeader('Cache-Control', 'no-cache');
      res.writeHead(200);
      if (isHead) {
        res.end();
        return;
      }
      await new Promise<void>((resolve) => {
        pipeline(Readable.from(generateLargePage(), { objectMode: false }), res, () => resolve());
      });
      return;
    }

    case FEED_NSC412_PATH:
    case FEED_NSC418_PATH: {
      const file = p === FEED_NSC412_PATH ? FEED_NSC412_FILE : FEED_NSC418_FILE;
      const data = await fs.promises.readFile(file);
      return send(req, res, 200, { 'Content-Type': 'application/rss+xml; charset=utf-8' }, data, { etag: true });
    }
    case ATOM_PATH:
      return send(req, res, 200, { 'Content-Type': 'application/atom+xml; charset=utf-8' }, ATOM_XML, { etag: true });

    case SEARCH_PATH: {
      const q = query.get('q') ?? '';
      return send(req, res, 200, { 'Content-Type': HTML_UTF8, 'Cache-Control': 'no-store' }, `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>搜索 ${escapeHtml(q)} | 大纪元</title></head>
<body><h1>搜索结果</h1><p id="query">${escapeHtml(q)}</p>
<form id="search-form" action="https://www.epochtimes.com/gb/search.htm" method="get"><input name="q" value="${escapeHtml(q)}"></form>
<ul><li><a class="result" href="https://www.epochtimes.com/gb/21/3/2/n12784933.htm">${ARTICLE_TITLE}</a></li></ul>
</body></html>
`);
    }
    case POST_PATH: {
      if (req.method === 'GET' || req.method === 'HEAD') {
        return sendHtml(req, res, `<!DOCTYPE html><html><head><meta charset="utf-8"><title>post form</title></head><body>
<form id="post-form" action="https://www.epochtimes.com/gb/post" method="post"><input name="name" value=""><textarea name="comment"></textarea><button type="submit">提交</button></form>
</body></html>`);
      }
      if (req.method !== 'POST') {
        return send(req, res, 405, { Allow: 'GET, HEAD, POST', 'Content-Type': 'text/plain; charset=utf-8' }, 'Method Not Allowed\n');
      }
      const ct = String(req.headers['content-type'] ?? '');
      const fields: string[] = [];
      if (/application\/x-www-form-urlencoded/i.test(ct)) {
        for (const [k, v] of new URLSearchParams(ctx.body)) {
          fields.push(`<li class="field" data-name="${escapeHtml(k)}"><span class="name">${escapeHtml(k)}</span>=<span class="value" id="field-${escapeHtml(k)}">${escapeHtml(v)}</span></li>`);
        }
      }
      return send(req, res, 200, { 'Content-Type': HTML_UTF8, 'Cache-Control': 'no-store' }, `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>post echo</title></head>
<body>
<pre id="body">${escapeHtml(ctx.body)}</pre>
<ul id="fields">${fields.join('')}</ul>
<p id="content-type">${escapeHtml(ct)}</p>
<p id="referer">${escapeHtml(String(req.headers.referer ?? ''))}</p>
<p id="origin">${escapeHtml(String(req.headers.origin ?? ''))}</p>
<p><a href="https://www.epochtimes.com/gb/">返回首页</a></p>
</body></html>
`);
    }

    case ERROR500_PATH:
      return send(req, res, 500, { 'Content-Type': HTML_UTF8 }, ERROR500_HTML);
    case RESET_PATH:
      req.socket.destroy();
      return;
    case HANG_PATH:
      return; // never answers; close() destroys the socket

    case NOHTML_PATH:
      return send(req, res, 200, { 'Content-Type': 'text/plain; charset=utf-8' }, NOHTML_TEXT);
    case NO_BODY_PATH:
      return sendHtml(req, res, NO_BODY_HTML);
    case TWO_HEADS_PATH:
      return sendHtml(req, res, TWO_HEADS_HTML);
  }

  const zoo = routeZoo('www', p);
  if (zoo) return send(req, res, 200, { 'Content-Type': zoo.type }, zoo.body);
  const tag = /^\/gb\/tag\/([^/]+)\.html$/.exec(p);
  if (tag) {
    let name: string;
    try {
      name = decodeURIComponent(tag[1]!);
    } catch {
      name = tag[1]!;
    }
    return sendHtml(req, res, `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${escapeHtml(name)} | 大纪元</title></head>
<body><h1 id="tag-name">${escapeHtml(name)}</h1><ul><li><a href="https://www.epochtimes.com/gb/21/3/2/n12784933.htm">${ARTICLE_TITLE}</a></li></ul></body></html>
`);
  }
  if (IMAGE_RE.test(p)) return sendRanged(req, res, IMAGE_CONTENT_TYPE, TEST_PNG);
  // Every article of the fixture feeds, at its real path, in an Epoch-Times-like page.
  const fixture = /^\/gb\/\d\d\/\d+\/\d+\/n\d+\.htm$/.test(p) ? fixtureArticles([FEED_NSC412_FILE, FEED_NSC418_FILE]).get(p) : undefined;
  if (fixture) return sendHtml(req, res, fixtureArticleHtml(fixture));
  if (p === LAZYLOAD_JS_PATH) return send(req, res, 200, { 'Content-Type': 'application/javascript; charset=utf-8' }, LAZYLOAD_JS, { etag: true });

  return send(req, res, 404, { 'Content-Type': HTML_UTF8 }, NOT_FOUND_HTML);
}

async function routeImg(ctx: Ctx): Promise<void> {
  const { req, res, path: p } = ctx;
  if (p === IMG_COOKIE_PATH) {
    return send(req, res, 200, { 'Content-Type': 'text/plain; charset=utf-8', 'Set-Cookie': IMG_COOKIE_HEADER }, 'ok\n');
  }
  if (p === BIG_BIN_PATH) return sendRanged(req, res, 'application/octet-stream', bigBinBytes());
  if (p === FONT_PATH) return sendRanged(req, res, 'font/woff2', FONT_BYTES, { 'Access-Control-Allow-Origin': '*' });
  if (p === THEME_CSS_PATH) return send(req, res, 200, { 'Content-Type': 'text/css; charset=utf-8' }, THEME_CSS, { etag: true });
  if (THEME_FONT_RE.test(p)) return sendRanged(req, res, p.endsWith('2') ? 'font/woff2' : 'font/woff', FONT_BYTES, { 'Access-Control-Allow-Origin': '*' });
  const zoo = routeZoo('i', p);
  if (zoo) return send(req, res, 200, { 'Content-Type': zoo.type }, zoo.body);
  if (IMAGE_RE.test(p)) return sendRanged(req, res, IMAGE_CONTENT_TYPE, TEST_PNG);
  return send(req, res, 404, { 'Content-Type': 'text/plain; charset=utf-8' }, 'Not Found\n');
}

// ---------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------

function hostOf(req: http.IncomingMessage): string {
  const h = String(req.headers.host ?? '').trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  const colon = h.indexOf(':');
  return (colon >= 0 ? h.slice(0, colon) : h).replace(/\.$/, '');
}

export function startTestOrigin(): Promise<TestOrigin> {
  const requests: OriginRequestLog[] = [];
  const slowWaiters = new Set<() => void>();
  const sockets = new Set<Socket>();

  const waitSlow = (): Promise<void> =>
    new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        slowWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, SLOW_MAX_WAIT_MS);
      slowWaiters.add(done);
    });

  const releaseSlow = (): void => {
    for (const done of [...slowWaiters]) done();
  };

  const server = http.createServer({ keepAliveTimeout: 5000 }, (req, res) => {
    const entry: OriginRequestLog = { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body: '' };
    requests.push(entry);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', () => {});
    res.on('error', () => {});
    req.on('end', () => {
      entry.body = Buffer.concat(chunks).toString('utf8');
      const u = new URL(req.url ?? '/', 'http://origin.invalid');
      const ctx: Ctx = { req, res, path: u.pathname, query: u.searchParams, body: entry.body, waitSlow };
      const host = hostOf(req);
      const run =
        host === WWW_HOST
          ? routeWww(ctx)
          : host === IMG_HOST
            ? routeImg(ctx)
            : Promise.resolve(
                send(req, res, 421, { 'Content-Type': 'text/plain; charset=utf-8' }, `Misdirected Request: unknown host ${host}\n`),
              );
      run.catch((err: unknown) => {
        if (!res.headersSent) {
          send(req, res, 500, { 'Content-Type': 'text/plain; charset=utf-8' }, `origin helper error: ${String(err)}\n`);
        } else {
          res.destroy();
        }
      });
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('clientError', (_err, socket) => {
    socket.destroy();
  });

  return new Promise<TestOrigin>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      const port = (server.address() as AddressInfo).port;
      let closing: Promise<void> | undefined;
      resolve({
        port,
        url: `http://127.0.0.1:${port}`,
        requests,
        releaseSlow,
        clearRequests: () => {
          requests.length = 0;
        },
        close: () => {
          closing ??= new Promise<void>((res) => {
            releaseSlow();
            server.close(() => res());
            server.closeAllConnections();
            for (const s of sockets) s.destroy();
          });
          return closing;
        },
      });
    });
  });
}
