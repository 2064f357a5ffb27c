import type { LeaksConfig } from '../config/types.ts';

/**
 * The Content-Security-Policy the mirror sends with its HTML pages: everything from the mirror itself
 * (inline and eval'd scripts included: pages are copied, not audited), data: and blob:, and the site's
 * third-party allow-list. Reported only by default (the browser tells /_mirror/csp-report which hosts
 * a page tried to reach); enforced in strict mode (the browser never contacts any other host).
 */
export const CSP_REPORT_PATH = '/_mirror/csp-report';

export function cspPolicy(leaks: LeaksConfig): string {
  const sources = ["'self'", ...leaks.allow].join(' ');
  return [
    `default-src ${sources} 'unsafe-inline' 'unsafe-eval' data: blob:`,
    // form-action does not fall back to default-src: without it a form posts anywhere.
    `form-action ${sources}`,
    // report-uri only: with `report-to` (and Reporting-Endpoints) present, Chromium ignores report-uri and
    // queues reports for the Reporting API, which delivered none within 75 s in tests/e2e/zoo.test.ts's
    // browser; report-uri alone is delivered at once by Chromium, Firefox and Safari. The endpoint still
    // accepts the Reporting API's format.
    `report-uri ${CSP_REPORT_PATH}`,
  ].join('; ');
}

/** The headers for an HTML page of a site, or null when its CSP is off. */
export function cspHeaders(leaks: LeaksConfig): Record<string, string> | null {
  if (leaks.csp === 'off') return null;
  const name = leaks.csp === 'strict' ? 'content-security-policy' : 'content-security-policy-report-only';
  return { [name]: cspPolicy(leaks) };
}

/** Documents a browser applies a CSP to. */
export function isDocumentType(contentType: string | null): boolean {
  const type = contentType?.split(';', 1)[0]!.trim().toLowerCase();
  return type === 'text/html' || type === 'application/xhtml+xml' || type === 'image/svg+xml';
}
