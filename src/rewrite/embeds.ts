import type { HtmlElement, HtmlHandlerRegistry } from './html-engine.ts';
import { escapeHtml } from '../http/escape.ts';
import type { HtmlRewriteOptions } from './html-rules.ts';

/**
 * Third-party embeds: iframes, scripts and media whose URL (after the mirror's own rewriting) is on a
 * host that is neither the mirror, a mirrored origin, nor in the site's `leaks.allow`. Behind a firewall
 * they are blank boxes that still tell the firewall where the reader is. `leaks.embeds`:
 * "keep" leaves them; "placeholder" replaces each frame or player with a plain link box naming the host
 * ("视频：www.youtube.com（需翻墙）"), and removes scripts; "drop" removes them. No JavaScript needed.
 */
const EMBEDS: [tag: string, attr: string][] = [
  ['iframe', 'src'],
  ['frame', 'src'],
  ['embed', 'src'],
  ['object', 'data'],
  ['video', 'src'],
  ['audio', 'src'],
  ['source', 'src'],
  ['script', 'src'],
];

/** Player hosts whose frames are videos (the label says 视频 rather than 嵌入内容). */
const VIDEO_HOSTS = /(^|\.)(youtube\.com|youtube-nocookie\.com|youtu\.be|vimeo\.com|dailymotion\.com|ganjingworld\.com|rumble\.com)$/;
const ABSOLUTE = /^[\t\n\f\r ]*((?:https?:)?)\/\/([^/?#\\\s]+)/i;

/** "host" or "*.domain" entries of leaks.allow. */
export function hostAllowed(host: string, allow: readonly string[]): boolean {
  for (const entry of allow) {
    if (entry === host) return true;
    if (entry.startsWith('*.') && host.endsWith(entry.slice(1))) return true;
  }
  return false;
}

/** The host an absolute or protocol-relative URL names, lower-case, without credentials or port. */
function hostOf(authority: string): string {
  const at = authority.lastIndexOf('@');
  const hostPort = at >= 0 ? authority.slice(at + 1) : authority;
  return (hostPort.startsWith('[') ? hostPort.slice(0, hostPort.indexOf(']') + 1) : hostPort.replace(/:\d*$/, '')).toLowerCase();
}

export function placeholderHtml(tag: string, url: string, host: string, el: Pick<HtmlElement, 'getAttribute'>): string {
  const label = tag === 'audio' ? '音频' : tag === 'video' || VIDEO_HOSTS.test(host) ? '视频' : '嵌入内容';
  const width = /^\d{1,4}%?$/.exec(el.getAttribute('width')?.trim() ?? '')?.[0];
  const height = /^\d{1,4}$/.exec(el.getAttribute('height')?.trim() ?? '')?.[0];
  const style =
    'display:flex;align-items:center;justify-content:center;box-sizing:border-box;max-width:100%;padding:1em;' +
    `width:${width ? (width.endsWith('%') ? width : width + 'px') : '100%'};height:${height ? height + 'px' : 'auto'};` +
    'background:#f2f2f2;border:1px solid #ccc;color:#333;text-decoration:none;text-align:center';
  return `<a class="mirror-embed" href="${escapeHtml(url)}" target="_blank" rel="noopener noreferrer" style="${style}">${label}：${escapeHtml(host)}（需翻墙）</a>`;
}

export function registerEmbedRules(registry: HtmlHandlerRegistry, opts: Pick<HtmlRewriteOptions, 'site' | 'mapper' | 'doc'>): void {
  const { embeds, allow } = opts.site.leaks;
  if (embeds === 'keep') return;
  const mirrorHost = hostOf(opts.doc.mirrorOrigin.slice(opts.doc.mirrorOrigin.indexOf('//') + 2));
  for (const [tag, attr] of EMBEDS) {
    registry.on(`${tag}[${attr}]`, {
      element(el) {
        if (el.removed) return;
        const value = el.getAttribute(attr)!;
        const m = ABSOLUTE.exec(value);
        if (!m) return; // relative: on the mirror
        const host = hostOf(m[2]!);
        if (!host || host === mirrorHost || opts.mapper.matchAbsolute(value.trim()) || hostAllowed(host, allow)) return;
        if (embeds === 'placeholder' && tag !== 'script' && tag !== 'source') {
          const url = (m[1] ? '' : 'https:') + value.trim();
          el.before(placeholderHtml(tag, url, host, el), { html: true });
        }
        el.remove();
      },
    });
  }
}
