/**
 * The pages the benchmark origin serves. Built here (not imported from tests/) so the benchmark input
 * stays the same while the test helpers evolve: numbers from different dates stay comparable.
 *
 * - ARTICLE: a synthetic Epoch-Times-like article of ~160 KB carrying every URL context the mirror
 *   rewrites (a[href] absolute / http alias / protocol-relative / root-relative / relative, img src and
 *   srcset, lazy data-src / data-srcset / data-original / data-bg, style attributes and <style> url(),
 *   inline scripts and JSON-LD with plain and `\/`-escaped origin URLs, link rel=stylesheet / preload
 *   imagesrcset, og: / twitter: meta, meta refresh, a form with action / formaction, <noscript>, the
 *   element the default config removes) at a realistic density (~600 URLs, one per ~270 bytes).
 * - REAL: one real article (content of an item of ../shared/fixtures/epochtimes-nsc412-2022.xml,
 *   read at run time, never copied into the repository) wrapped in the same page chrome.
 * - BIG: a ~100 MiB page: the chrome's head, then the same 64 KiB block of article markup over and over.
 * - SLOW: a small page whose head arrives at once and whose rest follows 200 ms later.
 * - DENSE: a link-dense ~160 KB article (≥ 1,000 origin URL mentions: index lists, thumbnails, a lazy-load
 *   script with its URL table), the per-URL cost at its worst.
 * - TINY: a ~420-byte JavaScript file (one origin URL in it): the fixed cost of one uncached response.
 * - BBC: a real 284 KB page from ../shared/fixtures/real-pages/ (bbc/bbc-zhongwen-2023.html, per its
 *   manifest.json), read at run time and served as www.bbc.com; mirrored with the manifest's origins.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

export const WWW = 'https://www.epochtimes.com';
export const IMG = 'https://i.epochtimes.com';

export const ARTICLE_PATH = '/gb/bench/n90000001.htm';
export const BIG_PATH = '/gb/bench/big.htm';
export const SLOW_PATH = '/gb/bench/slow.htm';
export const DENSE_PATH = '/gb/bench/n90000002.htm';
export const TINY_PATH = '/assets/js/bench-tiny.js';
/** The real article used by default (10 WordPress figures, tag links); any item of the feed works. */
export const REAL_DEFAULT_PATH = '/gb/22/4/15/n13712292.htm';
export const FIXTURE_FILE = fileURLToPath(new URL('../../shared/fixtures/epochtimes-nsc412-2022.xml', import.meta.url));
export const REAL_PAGES_DIR = fileURLToPath(new URL('../../shared/fixtures/real-pages/', import.meta.url));
export const BBC_FILE = 'bbc/bbc-zhongwen-2023.html';
/** Host header a client sends to reach the BBC site on the Node/nginx servers under test (not a real name). */
export const BBC_MIRROR_HOST = 'bbc.mirror.test';

export const SLOW_DELAY_MS = 200;
export const BIG_BLOCK_BYTES = 64 * 1024;
export const BIG_TARGET_BYTES = 100 * 1024 * 1024;

// Sentences to build paragraphs from (news-style Simplified Chinese, written for the benchmark).
const SENTENCES = [
  '据报导，多个州的议员本周提出新的法案，要求对关键基础设施的外国投资进行更严格的审查。',
  '分析人士认为，供应链安全已经成为两党少数能够达成共识的议题之一。',
  '一位不愿具名的官员对记者表示，相关部门正在评估新的出口管制措施可能带来的影响。',
  '当地商会负责人说，企业希望政策保持稳定，以便做出长期的投资规划。',
  '专家指出，过去两年间，半导体、稀土和药品原料的短缺暴露出全球产业链的脆弱性。',
  '国会听证会上，议员们就数据安全和技术转让问题向多名证人提出质询。',
  '报告显示，今年第一季度相关进口额同比下降了百分之十二，出口则小幅上升。',
  '多名学者在研讨会上呼吁，民主国家应当在技术标准制定方面加强协调与合作。',
  '白宫发言人在例行记者会上表示，政府将与盟友充分协商后再宣布下一步措施。',
  '消息传出后，相关企业的股价在盘中一度下跌，随后收复大部分失地。',
  '评论人士表示，这一事件再次说明，透明度和法治是吸引长期投资的关键。',
  '据悉，委员会将在下个月举行公开听证，听取各方意见。',
];

const TITLES = [
  '国会两党提案加强外资审查',
  '供应链重组 企业加速迁移产能',
  '专家解读新版出口管制规则',
  '州议会通过数据安全法案',
  '半导体补贴计划进入实施阶段',
  '听证会聚焦关键矿产安全',
  '商会调查：多数企业看好本地市场',
  '盟友协商技术标准合作框架',
];

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function paragraph(n: number, sentences = 5): string {
  const parts: string[] = [];
  for (let i = 0; i < sentences; i++) parts.push(SENTENCES[(n * 7 + i * 5) % SENTENCES.length]!);
  // One inline tag link in most paragraphs, spelled differently each time.
  if (n % 4 !== 3) {
    const tag = ['%E7%BE%8E%E5%9B%BD', '%E4%BE%9B%E5%BA%94%E9%93%BE', '%E5%8D%8A%E5%AF%BC%E4%BD%93'][n % 3]!;
    const href = n % 4 === 0 ? `${WWW}/gb/tag/${tag}.html` : n % 4 === 1 ? `http://www.epochtimes.com/gb/tag/${tag}.html` : `/gb/tag/${tag}.html`;
    parts.splice(2, 0, `<a href="${href}">${['美国', '供应链', '半导体'][n % 3]}</a>`);
  }
  return `<p>${parts.join('')}</p>`;
}

function articlePath(n: number): string {
  return `/gb/22/${(n % 12) + 1}/${(n % 28) + 1}/n${13700000 + n * 37}.htm`;
}

/** An image the way WordPress writes it: absolute src, srcset with three widths. */
function figure(n: number): string {
  const base = `${IMG}/assets/uploads/2022/04/id${13700000 + n}`;
  return (
    `<figure id="attachment_${13700000 + n}" class="wp-caption aligncenter" style="width: 600px">` +
    `<img class="size-medium wp-image-${13700000 + n}" src="${base}-600x400.jpg" alt="${TITLES[n % TITLES.length]}" width="600" height="400" ` +
    `srcset="${base}-600x400.jpg 600w, ${base}-300x200.jpg 300w, //i.epochtimes.com/assets/uploads/2022/04/id${13700000 + n}-1200x800.jpg 1200w" sizes="(max-width: 600px) 100vw, 600px">` +
    `<figcaption class="wp-caption-text">${SENTENCES[n % SENTENCES.length]}（大纪元）</figcaption></figure>`
  );
}

/** A lazy-loaded image (placeholder src, data-src / data-srcset, <noscript> fallback). */
function lazyFigure(n: number): string {
  const base = `${IMG}/assets/uploads/2022/04/lazy-${n}`;
  return (
    `<figure class="wp-caption lazy-figure"><img class="lazy" src="data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7" ` +
    `data-src="${base}-600x400.jpg" data-srcset="${base}-600x400.jpg 600w, ${base}-300x200.jpg 300w" alt="图${n}">` +
    `<noscript><img src="${base}-600x400.jpg" alt="图${n}"></noscript>` +
    `<figcaption>${SENTENCES[(n + 3) % SENTENCES.length]}</figcaption></figure>`
  );
}

/** One related-article entry: link (spelling varies), thumbnail (absolute or protocol-relative), excerpt. */
function relatedItem(n: number): string {
  const p = articlePath(n);
  const href = [`${WWW}${p}`, p, `http://www.epochtimes.com${p}`, `//www.epochtimes.com${p}`][n % 4]!;
  const thumb = n % 2 === 0 ? `${IMG}/assets/uploads/2022/04/thumb-${n}-300x200.jpg` : `//i.epochtimes.com/assets/uploads/2022/04/thumb-${n}-300x200.jpg`;
  const lazy = n % 3 === 0 ? ` data-original="${IMG}/assets/uploads/2022/04/thumb-${n}-600x400.jpg"` : '';
  return (
    `<li class="related-item"><a class="related-link" href="${href}"><img class="related-thumb" src="${thumb}"${lazy} alt="${TITLES[n % TITLES.length]}" width="150" height="100">` +
    `<span class="title">${TITLES[n % TITLES.length]}</span></a><p class="excerpt">${SENTENCES[n % SENTENCES.length]}${SENTENCES[(n + 1) % SENTENCES.length]}</p>` +
    `<div class="meta"><a href="${WWW}/gb/nsc${412 + (n % 8)}.htm">频道</a> <span>2022-04-${String((n % 28) + 1).padStart(2, '0')}</span></div></li>`
  );
}

const INLINE_SCRIPT = String.raw`<script>
var ET = window.ET || {};
ET.home = "https://www.epochtimes.com/gb/";
ET.cdn = "//i.epochtimes.com/assets/";
ET.ajax = "https:\/\/www.epochtimes.com\/gb\/wp-admin\/admin-ajax.php";
ET.share = "https://twitter.com/intent/tweet?url=";
ET.lazy = {threshold: 200, placeholder: "https://i.epochtimes.com/assets/themes/et/images/blank.gif"};
(function () {
  var imgs = document.querySelectorAll('img.lazy');
  for (var i = 0; i < imgs.length; i++) {
    var el = imgs[i];
    if (el.getAttribute('data-src')) el.setAttribute('src', el.getAttribute('data-src'));
    if (el.getAttribute('data-srcset')) el.setAttribute('srcset', el.getAttribute('data-srcset'));
  }
  var base = ET.home.replace(/\/gb\/$/, '');
  window.ET_RELATED = base + '/gb/api/related?id=' + (window.ET_POST_ID || 0);
})();
</script>`;

function head(title: string, url: string, image: string): string {
  return String.raw`<!DOCTYPE html>
<html lang="zh-Hans">
<head>
<meta charset="utf-8">
<meta http-equiv="X-UA-Compatible" content="IE=edge">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="900; url=${url}">
<title>${title} | 大纪元</title>
<meta name="description" content="${escapeHtml(SENTENCES[0]!)}">
<link rel="canonical" href="${url}">
<link rel="alternate" hreflang="zh-Hant" href="${url.replace('/gb/', '/b5/')}">
<link rel="alternate" type="application/rss+xml" title="大纪元 美国" href="https://www.epochtimes.com/gb/nsc412.xml">
<link rel="icon" type="image/png" href="//i.epochtimes.com/assets/favicon-32x32.png">
<link rel="stylesheet" href="https://i.epochtimes.com/assets/themes/et/css/article.css" integrity="sha384-benchmark" crossorigin="anonymous">
<link rel="stylesheet" href="https://www.epochtimes.com/assets/css/print.css" media="print">
<link rel="preload" as="image" href="${image}" imagesrcset="${image} 600w, //i.epochtimes.com/assets/uploads/2022/04/hero-1200x800.jpg 1200w" imagesizes="100vw">
<link rel="dns-prefetch" href="//i.epochtimes.com">
<meta property="og:url" content="${url}">
<meta property="og:title" content="${title}">
<meta property="og:image" content="${image}">
<meta property="og:site_name" content="大纪元">
<meta name="twitter:card" content="summary_large_image">
<meta name="twitter:image" content="${image}">
<style>
@import url("https://www.epochtimes.com/assets/css/fonts.css");
.header .logo { background: url('https://i.epochtimes.com/assets/themes/et/images/logo.png') no-repeat 0 0; }
.hero { background-image: url(https://i.epochtimes.com/assets/uploads/2022/04/hero.jpg); }
.share .wx { background: url(/assets/themes/et/images/wechat.png); }
.sidebar .icon { background: url(//i.epochtimes.com/assets/themes/et/images/icon.png); }
.post_content p { line-height: 1.8; margin: 0 0 1em; }
.related-item { display: flex; gap: 10px; padding: 8px 0; border-bottom: 1px solid #eee; }
</style>
<script src="https://www.epochtimes.com/assets/js/jquery.min.js" integrity="sha384-benchmark" crossorigin="anonymous"></script>
${INLINE_SCRIPT}
<script type="application/ld+json">
{"@context":"https://schema.org","@type":"NewsArticle","mainEntityOfPage":{"@type":"WebPage","@id":"${url}"},"url":"${url.replace(/\//g, '\\/')}","headline":"${title}","image":{"@type":"ImageObject","url":"${image.replace(/\//g, '\\/')}","width":600,"height":400},"publisher":{"@type":"Organization","name":"大纪元","logo":{"@type":"ImageObject","url":"https://i.epochtimes.com/assets/logo.png"}}}
</script>
</head>
<body class="single single-post">
<div id="header" class="header">
<a class="logo" href="https://www.epochtimes.com/gb/"><img src="https://i.epochtimes.com/assets/themes/et/images/logo.png" alt="大纪元"></a>
<ul class="nav">
<li><a href="https://www.epochtimes.com/gb/nsc412.htm">美国</a></li>
<li><a href="http://epochtimes.com/gb/nsc418.htm">国际</a></li>
<li><a href="http://www.epochtimes.com/gb/nsc1025.htm">评论</a></li>
<li><a href="https://epochtimes.com/gb/nsc2007.htm">专题</a></li>
<li><a href="//www.epochtimes.com/gb/ncid277.htm">禁闻</a></li>
<li><a href="/gb/nsc413.htm">大陆</a></li>
<li><a href="https://www.epochtimes.com/b5/">正體</a></li>
<li><a href="https://twitter.com/dajiyuan">Twitter</a></li>
</ul>
<form class="search" action="https://www.epochtimes.com/gb/search.htm" method="get"><input type="text" name="q" placeholder="搜索"><input type="image" src="https://i.epochtimes.com/assets/themes/et/images/search.png" alt="搜索"><button type="submit" formaction="https://www.epochtimes.com/gb/search/advanced.htm">高级</button></form>
</div>
<div id="main" class="main">
<h1 class="title">${title}</h1>
<div class="info"><span class="time">2022-04-15</span> <a href="#comments">评论</a> <a href="mailto:editor@epochtimes.com">投稿</a> <a href="n13712291.htm">上一篇</a></div>
`;
}

function tail(relatedFrom: number, relatedCount: number): string {
  const related: string[] = [];
  for (let i = 0; i < relatedCount; i++) related.push(relatedItem(relatedFrom + i));
  const sidebar: string[] = [];
  for (let i = 0; i < 10; i++) {
    const p = articlePath(500 + i);
    sidebar.push(`<li><a href="${i % 2 ? WWW + p : p}"><img src="//i.epochtimes.com/assets/uploads/2022/04/side-${i}-120x80.jpg" alt=""> ${TITLES[i % TITLES.length]}</a></li>`);
  }
  return `<div id="below_article_ad" class="ad"><a href="https://ads.example.net/click?id=1"><img src="https://ads.example.net/banner.jpg" alt=""></a></div>
<div class="share"><a href="https://www.facebook.com/sharer/sharer.php?u=https://www.epochtimes.com/gb/22/4/15/n13712292.htm">Facebook</a> <a href="https://twitter.com/intent/tweet?url=https%3A%2F%2Fwww.epochtimes.com%2Fgb%2F">Twitter</a></div>
<div id="related" class="related"><h2>相关文章</h2>
<ul>
${related.join('\n')}
</ul></div>
<div id="comments" class="comments"><h2>评论</h2><form action="/gb/wp-comments-post.php" method="post"><textarea name="comment"></textarea><button type="submit" formaction="https://www.epochtimes.com/gb/wp-comments-post.php">发表</button></form></div>
</div>
<div id="sidebar" class="sidebar" style="background-image:url(https://i.epochtimes.com/assets/themes/et/images/sidebar-bg.png)">
<div class="lazy-bg" data-bg="url(https://i.epochtimes.com/assets/themes/et/images/promo.jpg)"></div>
<h3>热门</h3><ul>${sidebar.join('')}</ul>
<iframe src="https://www.epochtimes.com/gb/nsc412.htm?sidebar=1" width="300" height="250"></iframe>
</div>
<div id="footer" class="footer"><p>&copy; 2000-2022 <a href="https://www.epochtimes.com/">大纪元</a>. <a href="/gb/about.htm">关于我们</a> <a href="http://www.epochtimes.com/gb/contact.htm">联系我们</a></p></div>
<script>document.getElementById('comments').setAttribute('data-url', 'https://www.epochtimes.com/gb/22/4/15/n13712292.htm');</script>
</body>
</html>
`;
}

/** Article body of the synthetic page: paragraphs, figures, lazy images, a video, a blockquote. */
function syntheticBody(paragraphs: number): string {
  const out: string[] = ['<div id="article_body" class="post_content">', figure(0)];
  for (let i = 0; i < paragraphs; i++) {
    out.push(paragraph(i));
    if (i % 6 === 5) out.push(figure(i));
    if (i % 9 === 4) out.push(lazyFigure(i));
    if (i === 10) {
      out.push(
        `<div class="hero" style="background-image:url(https://i.epochtimes.com/assets/uploads/2022/04/inline-hero.jpg); height: 200px">&nbsp;</div>`,
        `<video poster="${IMG}/assets/uploads/2022/04/poster.jpg" src="${IMG}/assets/uploads/2022/04/clip.mp4" controls preload="none"><source src="${IMG}/assets/uploads/2022/04/clip.webm" type="video/webm"></video>`,
        `<blockquote cite="${WWW}/gb/22/4/1/n13700001.htm"><p>${SENTENCES[3]}</p></blockquote>`,
        `<div class="video_fit_container"><iframe src="//www.youtube.com/embed/benchmark" width="560" height="315" allowfullscreen></iframe></div>`,
      );
    }
  }
  out.push(
    `<div class="post_tags"><a rel="tag" href="${WWW}/gb/tag/美国.html">美国</a> <a rel="tag" href="${WWW}/gb/tag/%E4%BE%9B%E5%BA%94%E9%93%BE.html">供应链</a> <a rel="tag" href="/gb/tag/半导体.html">半导体</a></div>`,
    '</div>',
  );
  return out.join('\n');
}

/** The synthetic ~160 KB article (UTF-8 bytes). */
export function buildArticle(): Buffer {
  const url = WWW + ARTICLE_PATH;
  const html = head(TITLES[0]!, url, `${IMG}/assets/uploads/2022/04/id13700000-600x400.jpg`) + syntheticBody(90) + '\n' + tail(0, 120);
  return Buffer.from(html, 'utf8');
}

export interface RealArticle {
  path: string;
  title: string;
  html: Buffer;
  /** Bytes of the fixture article HTML alone. */
  contentBytes: number;
}

/** One real article from the fixture feed, wrapped in the same chrome (fewer related entries: a real page's size). */
export function buildRealArticle(file = FIXTURE_FILE, wanted = REAL_DEFAULT_PATH): RealArticle {
  const xml = fs.readFileSync(file, 'utf8');
  let best: { path: string; title: string; content: string; score: number } | null = null;
  for (const m of xml.matchAll(/<item>([\s\S]*?)<\/item>/g)) {
    const item = m[1]!;
    const link = /<link>([^<]*)<\/link>/.exec(item)?.[1]?.trim();
    const content = /<content(?::encoded)?><!\[CDATA\[([\s\S]*?)\]\]><\/content(?::encoded)?>/.exec(item)?.[1];
    if (!link || content === undefined) continue;
    const path = new URL(link).pathname;
    const title = /<title>([\s\S]*?)<\/title>/.exec(item)?.[1]?.trim() ?? '';
    // The wanted article if present, else the one with the most origin URLs.
    const score = path === wanted ? Infinity : (content.match(/epochtimes\.com/g) ?? []).length;
    if (!best || score > best.score) best = { path, title, content, score };
  }
  if (!best) throw new Error(`no article with content found in ${file}`);
  const url = WWW + best.path;
  const image = /<img[^>]+src="([^"]+)"/.exec(best.content)?.[1] ?? `${IMG}/assets/uploads/2022/04/hero.jpg`;
  const html = head(best.title, url, image) + `<div id="article_body" class="post_content">\n${best.content}\n</div>\n` + tail(100, 24);
  return { path: best.path, title: best.title, html: Buffer.from(html, 'utf8'), contentBytes: Buffer.byteLength(best.content) };
}

export interface BigPage {
  head: Buffer;
  /** Exactly BIG_BLOCK_BYTES: whole elements, padded with newlines. */
  block: Buffer;
  blocks: number;
  tail: Buffer;
  totalBytes: number;
}

/** The ~100 MiB page: head, `blocks` × the 64 KiB block, tail. */
export function buildBigPage(targetBytes = BIG_TARGET_BYTES): BigPage {
  const headBuf = Buffer.from(head('大页面', WWW + BIG_PATH, `${IMG}/assets/uploads/2022/04/big.jpg`) + '<div id="article_body" class="post_content">\n', 'utf8');
  const tailBuf = Buffer.from('</div>\n' + tail(200, 8), 'utf8');
  const parts: string[] = [];
  let size = 0;
  for (let i = 0; ; i++) {
    const piece = (i % 5 === 4 ? figure(i) : i % 7 === 6 ? relatedItem(i) : paragraph(i)) + '\n';
    const bytes = Buffer.byteLength(piece);
    if (size + bytes > BIG_BLOCK_BYTES) break;
    parts.push(piece);
    size += bytes;
  }
  const block = Buffer.alloc(BIG_BLOCK_BYTES, 0x0a);
  block.write(parts.join(''), 0, 'utf8');
  const blocks = Math.max(1, Math.round((targetBytes - headBuf.length - tailBuf.length) / BIG_BLOCK_BYTES));
  return { head: headBuf, block, blocks, tail: tailBuf, totalBytes: headBuf.length + blocks * BIG_BLOCK_BYTES + tailBuf.length };
}

/** The slow page: the first part (whole <head>, start of <body>) at once, the rest after SLOW_DELAY_MS. */
export function buildSlowPage(): { first: Buffer; rest: Buffer } {
  const first = head('慢页面', WWW + SLOW_PATH, `${IMG}/assets/uploads/2022/04/slow.jpg`) + paragraph(1) + '\n';
  const rest = syntheticBody(4) + tail(300, 4);
  return { first: Buffer.from(first, 'utf8'), rest: Buffer.from(rest, 'utf8') };
}

/** Counts origin URL mentions (www./i./bare epochtimes.com, with or without scheme, `\/`-escaped too). */
export function countOriginUrls(text: string): number {
  return (text.match(/(?:https?:)?(?:\\?\/){2}(?:www\.|i\.)?epochtimes\.com/gi) ?? []).length;
}

/** The link-dense article: ~160 KB with at least 1,000 origin URL mentions (index pages and tag clouds look like this). */
export function buildDenseArticle(targetBytes = 160 * 1024): Buffer {
  const url = WWW + DENSE_PATH;
  const items: string[] = [];
  const lazyTable: string[] = [];
  let size = 0;
  const chrome = Buffer.byteLength(head(TITLES[1]!, url, `${IMG}/assets/uploads/2022/04/dense-600x400.jpg`) + tail(0, 8));
  for (let n = 0; size + chrome < targetBytes - 6000; n++) {
    const p = articlePath(n + 1000);
    const href = [`${WWW}${p}`, `http://www.epochtimes.com${p}`, `//www.epochtimes.com${p}`, p][n % 4]!;
    const thumb = `${IMG}/assets/uploads/2022/${String((n % 12) + 1).padStart(2, '0')}/d${n}-150x100.jpg`;
    const item =
      `<li><a href="${href}"><img src="${thumb}" data-src="${IMG}/assets/uploads/2022/04/d${n}-300x200.jpg" alt="" width="75" height="50">${TITLES[n % TITLES.length]}</a>` +
      ` <a class="tag" href="${WWW}/gb/tag/t${n % 97}.html">${['美国', '供应链', '半导体'][n % 3]}</a></li>`;
    items.push(item);
    size += Buffer.byteLength(item);
    if (n % 8 === 0) lazyTable.push(`"https:\\/\\/i.epochtimes.com\\/assets\\/uploads\\/2022\\/04\\/d${n}-600x400.jpg"`);
  }
  const body =
    `<div id="article_body" class="post_content">${paragraph(1)}\n<ul class="index">\n${items.join('\n')}\n</ul>\n` +
    `<script>window.ET_LAZY = [${lazyTable.join(',')}];</script>\n</div>\n`;
  return Buffer.from(head(TITLES[1]!, url, `${IMG}/assets/uploads/2022/04/dense-600x400.jpg`) + body + tail(0, 8), 'utf8');
}

/** The tiny JavaScript response (~420 bytes, one absolute origin URL). */
export function buildTinyScript(): Buffer {
  const js = `/* bench */
(function (w, d) {
  "use strict";
  var cfg = { api: "https://www.epochtimes.com/gb/api/counter", every: 30000 };
  function ping() {
    var img = new Image();
    img.src = cfg.api + "?p=" + encodeURIComponent(d.location.pathname) + "&t=" + Date.now();
  }
  if (d.readyState !== "loading") ping();
  else d.addEventListener("DOMContentLoaded", ping);
  w.setInterval(ping, cfg.every);
})(window, document);
`;
  return Buffer.from(js, 'utf8');
}

export interface RealPage {
  path: string;
  /** The origin's host (Host header the bench origin routes on). */
  host: string;
  contentType: string;
  html: Buffer;
  /** The manifest's origins for the page's site (edgemirror's site config). */
  origins: { url: string; mount: string; aliases?: string[] }[];
}

/** A page of ../shared/fixtures/real-pages/ with its manifest entry (read at run time, never copied). */
export function loadRealPage(file = BBC_FILE, dir = REAL_PAGES_DIR): RealPage {
  const manifest = JSON.parse(fs.readFileSync(dir + 'manifest.json', 'utf8')) as {
    origins: Record<string, { url: string; mount: string; aliases?: string[] }[]>;
    pages: { file: string; url: string; content_type: string; site: string; wrapper: boolean }[];
  };
  const entry = manifest.pages.find((p) => p.file === file);
  if (!entry) throw new Error(`${file} is not in ${dir}manifest.json`);
  let text = fs.readFileSync(dir + file);
  if (entry.wrapper) {
    // The dataset's first line <text id=URL ...> and last </text> are not part of the page.
    const s = text.toString('latin1');
    text = text.subarray(s.indexOf('\n') + 1, s.lastIndexOf('</text>'));
  }
  const url = new URL(entry.url);
  return { path: url.pathname + url.search, host: url.host, contentType: entry.content_type, html: text, origins: manifest.origins[entry.site] ?? [] };
}
