/** The operator token (cache.purgeToken / EDGEMIRROR_PURGE_TOKEN) that guards purge, metrics and the status page. */

/** The token a request presents: `Authorization: Bearer …`, or (for a browser opening the status page) `?token=…`. */
export function presentedToken(request: Request, allowQuery = false): string {
  const bearer = /^Bearer\s+(.+)$/i.exec(request.headers.get('authorization') ?? '')?.[1]?.trim();
  if (bearer) return bearer;
  return allowQuery ? (new URL(request.url).searchParams.get('token') ?? '') : '';
}

/** Compares in time independent of where the strings differ. */
export function tokenMatches(given: string, token: string): boolean {
  let diff = given.length ^ token.length;
  for (let i = 0; i < Math.max(given.length, token.length); i++) diff |= (given.charCodeAt(i) || 0) ^ (token.charCodeAt(i) || 0);
  return diff === 0;
}
