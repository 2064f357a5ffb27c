import { escapeHtml } from '../rewrite/html-rules.ts';

/** A small HTML error page. Every request-derived value is escaped. */
export function errorPage(status: number, title: string, message: string, originalUrl?: string, extraHeaders: Record<string, string> = {}): Response {
  const link = originalUrl
    ? `<p>原文链接（需翻墙）／Original URL: <a href="${escapeHtml(originalUrl)}">${escapeHtml(originalUrl)}</a></p>`
    : '';
  const body = `<!DOCTYPE html><html lang="zh"><head><meta charset="utf-8"><meta name="robots" content="noindex"><title>${status} ${escapeHtml(title)}</title></head><body><h1>${status} ${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p>${link}</body></html>`;
  return new Response(body, {
    status,
    headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...extraHeaders },
  });
}
