/**
 * Epoch-Times-like pages built from the real articles in ../shared/fixtures, for the test origin
 * (tests/helpers/origin.ts routes them) and the browser suite (tests/e2e/).
 *
 * Every article of both fixture feeds is served at its real path (e.g. /gb/22/4/15/n13712292.htm),
 * its content verbatim except that images go through a WordPress lazy-load plugin's markup
 * (placeholder `src`, `data-src`/`data-srcset`, a `<noscript>` fallback), wrapped in a page the
 * way the theme does it: a stylesheet on i.epochtimes.com that loads web fonts through @font-face
 * and background images (relative, root-relative, absolute, protocol-relative, image-set()), a
 * lazy-loading script on www that swaps data-src into src and builds one URL from the page's
 * wp_localize_script config, a sidebar iframe of a channel page, tag links, a search form.
 *
 * Test-only: nothing here ships in the product.
 */
import fs from 'node:fs';

/** The article the browser suite looks at closely: 10 WordPress figures, 8 tag links, no third-party embeds. */
export const FIXTURE_ARTICLE_PATH = '/gb/22/4/15/n13712292.htm';
export const FIXTURE_ARTICLE_URL = `https://www.epochtimes.com${FIXTURE_ARTICLE_PATH}`;
/** On www.epochtimes.com. */
export const LAZYLOAD_JS_PATH = '/assets/js/lazyload.js';
/** On i.epochtimes.com. */
export const THEME_CSS_PATH = '/assets/themes/et/css/article.css';
/** On i.epochtimes.com: web fonts of the theme (served with the test origin's font bytes). */
export const THEME_FONT_RE = /^\/assets\/themes\/et\/fonts\/[\w-]+\.woff2?$/;
/** The theme's images live under /assets/themes/et/images/ on i.epochtimes.com (any image path is served). */
export const THEME_IMAGES = 'https://i.epochtimes.com/assets/themes/et/images/';
/** The 1×1 GIF a lazy-load plugin puts in `src` until its script runs. */
export const LAZY_PLACEHOLDER = 'data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7';

export interface FixtureArticle {
  /** Original URL as the feed spells it (https:// in nsc412, http:// in nsc418). */
  url: string;
  path: string;
  title: string;
  pubDate: string;
  categories: string[];
  description: string;
  /** The article HTML (content / content:encoded). */
  content: string;
  /** File name of the feed it came from. */
  feed: string;
}

const ARTICLES = new Map<string, Map<string, FixtureArticle>>();

/** Every article of the given feed files, keyed by path (read once per file set). */
export function fixtureArticles(files: readonly string[]): Map<string, FixtureArticle> {
  const key = files.join('\n');
  let map = ARTICLES.get(key);
  if (map) return map;
  map = new Map();
  for (const file of files) {
    const xml = fs.readFileSync(file, 'utf8');
    const feed = file.slice(file.lastIndexOf('/') + 1);
    for (const [, item] of xml.matchAll(/<item>([\s\S]*?)<\/item>/g)) {
      const url = /<link>([^<]*)<\/link>/.exec(item!)?.[1]?.trim();
      const content = /<content(?::encoded)?><!\[CDATA\[([\s\S]*?)\]\]><\/content(?::encoded)?>/.exec(item!)?.[1];
      if (!url || content === undefined) continue;
      const path = new URL(url).pathname;
      map.set(path, {
        url,
        path,
        title: /<title>([\s\S]*?)<\/title>/.exec(item!)?.[1]?.trim() ?? '',
        pubDate: /<pubDate>([^<]*)<\/pubDate>/.exec(item!)?.[1] ?? '',
        categories: [...item!.matchAll(/<category><!\[CDATA\[([\s\S]*?)\]\]><\/category>/g)].map((m) => m[1]!),
        description: /<description><!\[CDATA\[([\s\S]*?)\]\]><\/description>/.exec(item!)?.[1] ?? '',
        content,
        feed,
      });
    }
  }
  ARTICLES.set(key, map);
  return map;
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A WordPress "-600x399.jpg" size → the "-300x200.jpg" size next to it (any image path is served). */
function smallerSize(src: string): string {
  return src.replace(/-\d+x\d+(\.\w+)$/, '-300x200$1');
}

/** What a lazy-load plugin does to every <img> in post content (src → data-src, <noscript> fallback). */
export function lazifyImages(html: string): string {
  return html.replace(/<img\b([^>]*?)\s*\/?>/gi, (whole, attrs: string) => {
    const src = /\ssrc="([^"]*)"/.exec(attrs)?.[1];
    if (!src || src.startsWith('data:')) return whole;
    const rest = attrs.replace(/\ssrc="[^"]*"/, '').replace(/\sclass="([^"]*)"/, '');
    const cls = /\sclass="([^"]*)"/.exec(attrs)?.[1] ?? '';
    return (
      `<img class="lazy lazy-hidden ${cls}" src="${LAZY_PLACEHOLDER}" data-lazy-type="image" data-src="${src}" ` +
      `data-srcset="${src} 600w, ${smallerSize(src)} 300w" sizes="(max-width: 600px) 100vw, 600px"${rest}>` +
      `<noscript><img class="${cls}" src="${src}"${rest}></noscript>`
    );
  });
}

/** The Epoch-Times-like page around one fixture article. */
export function fixtureArticleHtml(a: FixtureArticle): string {
  const firstImage = /<img[^>]*\ssrc="([^"]+)"/.exec(a.content)?.[1] ?? `${THEME_IMAGES}default-share.png`;
  const tags = a.categories
    .map((c) => `<a rel="tag" href="https://www.epochtimes.com/gb/tag/${encodeURIComponent(c)}.html">${escapeHtml(c)}</a>`)
    .join(' ');
  // wp_localize_script output: JSON with \/-escaped URLs.
  const vars = JSON.stringify({ cdn: `${THEME_IMAGES}`.replace('/images/', '/'), home: 'https://www.epochtimes.com/gb/' }).replace(/\//g, '\\/');
  return `<!DOCTYPE html>
<html lang="zh-Hans">
<head>
<meta charset="UTF-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${a.title} | 大纪元</title>
<meta name="description" content="${escapeHtml(a.description)}">
<link rel="canonical" href="${a.url}">
<link rel="preconnect" href="https://i.epochtimes.com" crossorigin>
<link rel="dns-prefetch" href="//i.epochtimes.com">
<link rel="preload" as="font" type="font/woff2" href="https://i.epochtimes.com/assets/themes/et/fonts/et-icons.woff2" crossorigin>
<link rel="stylesheet" id="et-theme-css" href="https://i.epochtimes.com${THEME_CSS_PATH}?ver=5.9.3" type="text/css" media="all">
<link rel="icon" href="https://i.epochtimes.com/assets/themes/et/images/favicon-32x32.png" sizes="32x32">
<link rel="apple-touch-icon" href="https://i.epochtimes.com/assets/themes/et/images/apple-touch-icon.png">
<meta property="og:url" content="${a.url}">
<meta property="og:image" content="${firstImage}">
<script type="text/javascript">
/* <![CDATA[ */
var et_vars = ${vars};
/* ]]> */
</script>
<script type="text/javascript" src="https://www.epochtimes.com${LAZYLOAD_JS_PATH}?ver=1.2" defer></script>
</head>
<body class="post-template-default single single-post">
<header id="site-header" class="site-header">
<div class="logo-box"><a href="https://www.epochtimes.com/gb/"><img id="logo" class="logo" src="${THEME_IMAGES}logo.png" srcset="${THEME_IMAGES}logo.png 1x, ${THEME_IMAGES}logo@2x.png 2x" alt="大纪元" width="160" height="40"></a></div>
<nav id="channel-menu" class="channel-menu">
<a href="https://www.epochtimes.com/gb/nsc412.htm">美国</a> <a href="http://www.epochtimes.com/gb/nsc418.htm">国际</a> <a href="//www.epochtimes.com/gb/nsc413.htm">大陆</a> <a href="/gb/nsc1025.htm">评论</a>
</nav>
<form id="searchform" class="search-form" action="https://www.epochtimes.com/gb/search.htm" method="get"><input id="s" type="search" name="q" placeholder="搜索"><button type="submit" class="icon icon-search" aria-label="搜索"></button></form>
</header>
<div id="hero" class="hero lazy" data-bg="https://i.epochtimes.com/assets/themes/et/images/hero-banner.jpg"></div>
<main id="main" class="main">
<article id="post" class="post">
<h1 id="post-title" class="post-title">${a.title}</h1>
<div class="post-meta"><time datetime="${escapeHtml(a.pubDate)}">${escapeHtml(a.pubDate)}</time></div>
<div id="post-content" class="post_content">
${lazifyImages(a.content)}
</div>
<div id="post-tags" class="post_tags">${tags}</div>
</article>
<aside id="sidebar" class="sidebar">
<div id="most-read" class="widget" style="background-image: url(&quot;https://i.epochtimes.com/assets/themes/et/images/widget-bg.png&quot;); min-height: 40px">热门文章</div>
<div id="badge-slot" class="widget"></div>
<iframe id="channel-frame" title="美国" src="https://www.epochtimes.com/gb/nsc412.htm" width="300" height="250"></iframe>
</aside>
</main>
<footer id="site-footer" class="site-footer"><p>&copy; 2000-2022 <a href="https://www.epochtimes.com/">大纪元</a> <a href="https://www.epochtimes.com/gb/about.htm">关于我们</a></p></footer>
</body>
</html>
`;
}

/** The theme's lazy-loading script (served from www.epochtimes.com, so the mirror rewrites it as JavaScript). */
export const LAZYLOAD_JS = `(function () {
  var cdn = (window.et_vars && window.et_vars.cdn) || "https://i.epochtimes.com/assets/themes/et/";
  function show(el) {
    var src = el.getAttribute('data-src'), srcset = el.getAttribute('data-srcset'), bg = el.getAttribute('data-bg');
    if (srcset) el.setAttribute('srcset', srcset);
    if (src) el.setAttribute('src', src);
    if (bg) el.style.backgroundImage = 'url("' + bg + '")';
    el.classList.remove('lazy-hidden');
  }
  function init() {
    var els = document.querySelectorAll('.lazy');
    for (var i = 0; i < els.length; i++) show(els[i]);
    var slot = document.getElementById('badge-slot');
    if (slot) {
      var badge = document.createElement('img');
      badge.id = 'et-badge';
      badge.alt = '大纪元';
      badge.src = cdn + 'images/badge.png';
      slot.appendChild(badge);
    }
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
`;

/** The theme's stylesheet (served from i.epochtimes.com, i.e. under the mirror's /_i/ mount). */
export const THEME_CSS = `@charset "utf-8";
@font-face { font-family: "ET Icons"; src: url("../fonts/et-icons.woff2") format("woff2"), url("https://i.epochtimes.com/assets/themes/et/fonts/et-icons.woff") format("woff"); font-display: block; }
@font-face { font-family: "ET Heading"; src: url(/assets/themes/et/fonts/et-heading.woff2) format("woff2"), url(//i.epochtimes.com/assets/themes/et/fonts/et-heading.woff) format("woff"); font-display: swap; }
body { margin: 0; font: 16px/1.8 "WenQuanYi Micro Hei", "Noto Sans CJK SC", sans-serif; color: #222; }
.site-header { background: #0d2e5c url(../images/header-bg.png) repeat-x; padding: 8px; }
.site-header .logo-box { background-image: url('https://i.epochtimes.com/assets/themes/et/images/logo-bg.png'); display: inline-block; }
.channel-menu a { color: #fff; margin-right: 12px; }
.icon:before { font-family: "ET Icons"; content: "\\e900"; }
.hero { height: 120px; background-size: cover; background-image: image-set(url("../images/hero.jpg") 1x, url("https://i.epochtimes.com/assets/themes/et/images/hero@2x.jpg") 2x); }
.post-title { font-family: "ET Heading", serif; font-size: 28px; }
.post_content figure { margin: 16px 0; }
.post_content img { max-width: 100%; height: auto; }
.post_tags { background: url(/assets/themes/et/images/tag.png) no-repeat left center; padding-left: 20px; }
.sidebar .widget { border-top: 3px solid #0d2e5c; background: url(//i.epochtimes.com/assets/themes/et/images/widget.png) no-repeat; }
.site-footer { background: #eee url("https://i.epochtimes.com/assets/themes/et/images/footer-bg.png"); padding: 8px; }
`;
