import type { ReaderLanguage, SiteConfig } from '../config/types.ts';
import { escapeHtml } from '../http/escape.ts';
import { FOOTER_LINK_STYLE, FOOTER_STYLE, footerHtml, navHtml, readableUrl } from '../rewrite/html-rules.ts';

/**
 * The mirror's own error pages, for readers: in the site's language (zh-CN unless sites[].language says
 * otherwise), in plain words, with a retry link, a link to the mirror's home and the site's nav bar and
 * footer. `title` and `message` are the English, technical wording: shown as the page in English, and
 * as a small status line otherwise. Every request-derived value is escaped.
 */
interface Words {
  title: string;
  message: string;
}

type Texts = { retry: string; home: string; original: string; fallback: Words; byStatus: Record<number, Words> };

const TEXTS: Record<Exclude<ReaderLanguage, 'en'>, Texts> = {
  'zh-CN': {
    retry: '重试',
    home: '返回镜像首页',
    original: '原文链接（需翻墙）：',
    fallback: { title: '页面无法显示', message: '镜像没能显示这个页面。' },
    byStatus: {
      400: { title: '网址无效', message: '这个网址的格式不正确，镜像无法打开。请检查网址。' },
      405: { title: '不支持这种请求', message: '镜像不支持这种请求方式。' },
      413: { title: '提交的内容太大', message: '您提交的内容超过了镜像允许的大小。' },
      414: { title: '网址太长', message: '这个网址太长，镜像无法处理。' },
      421: { title: '本镜像不提供这个网址', message: '这个域名不在本镜像的服务范围内。请检查网址，或换用镜像的其他域名。' },
      500: { title: '镜像出错了', message: '镜像处理这个页面时出了错。请稍后重试。' },
      502: { title: '暂时打不开原网站', message: '镜像暂时连不上原网站，通常过一会儿就好。请稍后点“重试”。' },
      503: { title: '镜像正忙', message: '现在访问的人太多。请过几秒钟再点“重试”。' },
      504: { title: '原网站没有回应', message: '原网站太久没有回应，通常过一会儿就好。请稍后点“重试”。' },
    },
  },
  'zh-TW': {
    retry: '重試',
    home: '返回鏡像首頁',
    original: '原文連結（需翻牆）：',
    fallback: { title: '頁面無法顯示', message: '鏡像沒能顯示這個頁面。' },
    byStatus: {
      400: { title: '網址無效', message: '這個網址的格式不正確，鏡像無法打開。請檢查網址。' },
      405: { title: '不支援這種請求', message: '鏡像不支援這種請求方式。' },
      413: { title: '提交的內容太大', message: '您提交的內容超過了鏡像允許的大小。' },
      414: { title: '網址太長', message: '這個網址太長，鏡像無法處理。' },
      421: { title: '本鏡像不提供這個網址', message: '這個網域不在本鏡像的服務範圍內。請檢查網址，或換用鏡像的其他網域。' },
      500: { title: '鏡像出錯了', message: '鏡像處理這個頁面時出了錯。請稍後重試。' },
      502: { title: '暫時打不開原網站', message: '鏡像暫時連不上原網站，通常過一會兒就好。請稍後點「重試」。' },
      503: { title: '鏡像正忙', message: '現在訪問的人太多。請過幾秒鐘再點「重試」。' },
      504: { title: '原網站沒有回應', message: '原網站太久沒有回應，通常過一會兒就好。請稍後點「重試」。' },
    },
  },
};

const BUTTON_STYLE = 'display:inline-block;box-sizing:border-box;min-height:44px;min-width:44px;padding:10px 18px;margin:0 10px 10px 0;border:1px solid GrayText;border-radius:8px;color:LinkText;text-decoration:none';

const EN = { retry: 'Try again', home: 'Mirror home page', original: 'Original page (blocked in some countries): ' };

export function errorPage(status: number, title: string, message: string, originalUrl?: string, extraHeaders: Record<string, string> = {}, site?: SiteConfig): Response {
  const language: ReaderLanguage = site?.language ?? 'zh-CN';
  const texts = language === 'en' ? null : TEXTS[language];
  const words: Words = texts ? (texts.byStatus[status] ?? texts.fallback) : { title, message };
  const labels = texts ?? EN;
  const styled = site?.style !== 'none';
  // Retry and home look like buttons: the two things a reader can do here.
  const link = (href: string, text: string) => `<a href="${href}"${styled ? ` style="${BUTTON_STYLE}"` : ''}>${text}</a>`;
  // The site's own footer when it has one; otherwise a plain line with the original link.
  const footer = originalUrl
    ? site?.footer
      ? footerHtml(site, originalUrl)
      : `<footer class="mirror-footer"${styled ? ` style="${FOOTER_STYLE}"` : ''}>${escapeHtml(labels.original)}<a href="${escapeHtml(originalUrl)}"${styled ? ` style="${FOOTER_LINK_STYLE}"` : ''}>${escapeHtml(readableUrl(originalUrl))}</a></footer>`
    : '';
  const main = styled ? ' style="display:block;box-sizing:border-box;max-width:40em;margin:0 auto;padding:16px;color-scheme:light dark"' : '';
  const technical = texts ? `<p><small>${status} ${escapeHtml(title)}</small></p>` : '';
  const body =
    `<!DOCTYPE html><html lang="${language}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex">` +
    `<meta name="color-scheme" content="light dark"><title>${escapeHtml(words.title)}</title></head>` +
    `<body${styled ? ' style="margin:0;font:17px/1.6 system-ui,sans-serif;background:Canvas;color:CanvasText"' : ''}>${site ? navHtml(site) : ''}` +
    `<main${main}><h1>${escapeHtml(words.title)}</h1><p>${escapeHtml(words.message)}</p>` +
    `<p>${link('', escapeHtml(labels.retry))}${link('/', escapeHtml(labels.home))}</p>${technical}</main>${footer}</body></html>`;
  return new Response(body, {
    status,
    headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...extraHeaders },
  });
}

/** The adapters' last resort for an error nothing else answered: logged with its stack, answered 500. */
export function unhandledErrorPage(err: unknown): Response {
  console.error(`[edgemirror] unhandled error: ${(err as Error)?.stack ?? err}`);
  return errorPage(500, 'Internal Error', 'The mirror failed to handle this request.');
}
