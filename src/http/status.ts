/** Status codes shared by the pipeline, the cache and the origin clients. */

/**
 * The Fetch standard's null body statuses: a Response with one of these must have a null body (the
 * constructor throws otherwise), so the pipeline and the cache drop any body they were given.
 */
export const NULL_BODY_STATUS: ReadonlySet<number> = new Set([101, 103, 204, 205, 304]);

/**
 * Whether an HTTP/1.1 response carries no message body whatever its headers say (RFC 9112 §6.3):
 * answers to HEAD, 1xx, 204 and 304. Narrower than NULL_BODY_STATUS (a 205's framing follows its
 * headers), so this is what the origin clients use to decide whether there is a body to read.
 */
export function hasNoMessageBody(method: string, status: number): boolean {
  return method === 'HEAD' || status < 200 || status === 204 || status === 304;
}
