import type { SiteConfig } from '../config/types.ts';
import { readBytes } from '../http/bytes.ts';
import type { Observer } from '../observe/observer.ts';
import { cspHeaders, isDocumentType } from '../rewrite/csp.ts';
import { withHeaders } from './response-headers.ts';
import type { Site } from './site-router.ts';

/**
 * POST /_mirror/csp-report: violation reports of the mirror's Content-Security-Policy, in either
 * format browsers send (`report-uri`: application/csp-report, one `{"csp-report": {…}}`; Reporting API:
 * application/reports+json, an array of `{type: "csp-violation", body: {…}}`). Only the blocked
 * URL's host is kept, and counted as a leak of the site the Host header names: no path, no query,
 * no reader address. Bounded: body size, reports per body, and a shared token bucket; the cache
 * is never involved.
 */
export interface CspReportLimits {
  maxBodyBytes: number;
  maxReportsPerBody: number;
  /** Token bucket: sustained reports per second, and the burst it allows. */
  perSecond: number;
  burst: number;
}

export const CSP_REPORT_LIMITS: CspReportLimits = { maxBodyBytes: 64 * 1024, maxReportsPerBody: 100, perSecond: 50, burst: 500 };

const REPORT_TYPES = new Set(['application/csp-report', 'application/reports+json', 'application/json']);
const NO_STORE = { 'cache-control': 'no-store' };

function answer(status: number, text: string): Response {
  return new Response(text ? text + '\n' : null, { status, headers: { ...NO_STORE, ...(text ? { 'content-type': 'text/plain; charset=utf-8' } : {}) } });
}

/** The host of a blocked URL, or null for keywords ("inline", "eval"), local schemes and junk. */
export function blockedHost(raw: unknown): string | null {
  if (typeof raw !== 'string' || raw.length > 8192 || !/^(https?|wss?):\/\//i.test(raw)) return null;
  try {
    const host = new URL(raw).hostname.toLowerCase();
    return host && host.length <= 253 ? host : null;
  } catch {
    return null;
  }
}

/** Blocked URLs in a parsed report body of either format. */
function blockedUrls(json: unknown, max: number): unknown[] {
  if (Array.isArray(json)) {
    return json
      .slice(0, max)
      .filter((r) => r && typeof r === 'object' && (r as { type?: unknown }).type === 'csp-violation')
      .map((r) => (r as { body?: { blockedURL?: unknown } }).body?.blockedURL);
  }
  const report = (json as { 'csp-report'?: { 'blocked-uri'?: unknown } } | null)?.['csp-report'];
  return report && typeof report === 'object' ? [report['blocked-uri']] : [];
}

/** Reads at most `max` bytes; null when the body is larger (the rest is not read). */
async function readCapped(body: ReadableStream<Uint8Array> | null, max: number): Promise<string | null> {
  const { bytes, overflowed } = await readBytes(body, max);
  return overflowed ? null : new TextDecoder().decode(bytes);
}

export class CspReportEndpoint {
  private tokens: number;
  private last: number;

  constructor(
    private readonly observer: Observer,
    private readonly limits: CspReportLimits = CSP_REPORT_LIMITS,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = limits.burst;
    this.last = now();
  }

  private take(): boolean {
    const t = this.now();
    this.tokens = Math.min(this.limits.burst, this.tokens + ((t - this.last) / 1000) * this.limits.perSecond);
    this.last = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  async handle(request: Request, site: Site | null): Promise<Response> {
    const tooLarge = () => answer(413, `reports are limited to ${this.limits.maxBodyBytes} bytes`);
    // A body declared too large is refused unread; any other is read (it is small) before an answer,
    // refusals included: an unread body left on a kept-alive connection breaks its next request on workerd.
    if (Number(request.headers.get('content-length') ?? 0) > this.limits.maxBodyBytes) return tooLarge();
    const text = await readCapped(request.body, this.limits.maxBodyBytes);
    if (text === null) return tooLarge();
    if (request.method !== 'POST') return new Response('POST only\n', { status: 405, headers: { ...NO_STORE, allow: 'POST' } });
    const type = request.headers.get('content-type')?.split(';', 1)[0]!.trim().toLowerCase() ?? '';
    if (!REPORT_TYPES.has(type)) return answer(415, 'expected application/csp-report or application/reports+json');
    if (!this.take()) return new Response('too many reports\n', { status: 429, headers: { ...NO_STORE, 'retry-after': '60' } });
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return answer(400, 'not JSON');
    }
    if (site) {
      const own = new URL(request.url).hostname.toLowerCase();
      for (const url of blockedUrls(json, this.limits.maxReportsPerBody)) {
        const host = blockedHost(url);
        if (host && host !== own) this.observer.leak(site.config.name, host);
      }
    }
    return answer(204, '');
  }
}

/** Adds the site's CSP (report-only or enforced) to a document response. */
export function withCspHeaders(response: Response, site: SiteConfig | undefined): Response {
  if (!site || !isDocumentType(response.headers.get('content-type'))) return response;
  const headers = cspHeaders(site.leaks);
  return headers ? withHeaders(response, headers) : response;
}
