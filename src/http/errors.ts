/**
 * The mirror's own errors (after undici's): each class has a stable `code` to match on (messages and
 * class names are for people), keeps the error it wraps as `cause`, and carries a brand that survives
 * bundling and realms, so `isMirrorError` holds where `instanceof` might not. `statusForError` is the
 * one place that says which HTTP status each failure is answered with.
 */
const BRAND = Symbol.for('edgemirror.error');

export type MirrorErrorCode =
  | 'EM_PAYLOAD_TOO_LARGE'
  | 'EM_BODY_TIMEOUT'
  | 'EM_QUEUE_TIMEOUT'
  | 'EM_ORIGIN_TIMEOUT'
  | 'EM_DECODED_TOO_LARGE'
  | 'EM_REVALIDATION_FAILED'
  | 'EM_START_TAG_TOO_LONG'
  | 'EM_UNDECODABLE_ENCODING';

export class MirrorError extends Error {
  readonly [BRAND] = true;
  constructor(
    readonly code: MirrorErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isMirrorError(err: unknown): err is MirrorError {
  return typeof err === 'object' && err !== null && (err as { [BRAND]?: boolean })[BRAND] === true;
}

/** A request body over maxBodyBytes. */
export class PayloadTooLargeError extends MirrorError {
  constructor(readonly limit: number) {
    super('EM_PAYLOAD_TOO_LARGE', `request body larger than ${limit} bytes`);
    this.name = 'PayloadTooLargeError';
  }
}

/** A request body that did not arrive within clientBodyTimeout. */
export class BodyTimeoutError extends MirrorError {
  constructor(seconds: number) {
    super('EM_BODY_TIMEOUT', `request body not received within ${seconds} s`);
    this.name = 'BodyTimeoutError';
  }
}

/** No origin slot came free within originQueueTimeout. */
export class QueueTimeoutError extends MirrorError {
  constructor(seconds: number) {
    super('EM_QUEUE_TIMEOUT', `no origin slot free within ${seconds} s`);
    this.name = 'QueueTimeoutError';
  }
}

/** Thrown (or used as abort reason) when the origin does not answer, or stops sending, in time. */
export class OriginTimeoutError extends MirrorError {
  constructor(seconds: number, options?: { cause?: unknown }) {
    super('EM_ORIGIN_TIMEOUT', `origin did not answer within ${seconds} s`, options);
    this.name = 'OriginTimeoutError';
  }
}

/** A compressed origin body that expands past maxDecodedBytes. */
export class DecodedTooLargeError extends MirrorError {
  constructor(limit: number) {
    super('EM_DECODED_TOO_LARGE', `origin body expands past ${limit} bytes when decoded`);
    this.name = 'DecodedTooLargeError';
  }
}

/** The origin failed while a stale cached copy was revalidated, and the copy may not be served stale. */
export class RevalidationError extends MirrorError {
  constructor(cause: unknown) {
    super('EM_REVALIDATION_FAILED', 'origin failed during revalidation', { cause });
    this.name = 'RevalidationError';
  }
}

/** Where a failure happened: it picks the words of the error page, not its status. */
export type Phase = 'request' | 'upstream' | 'body';

/**
 * The status a failure is answered with. `readerGone`: the reader's own request was aborted (nobody
 * reads the answer; 499, as nginx logs it, keeps it apart from the mirror's and the origin's failures).
 */
export function statusForError(err: unknown, phase: Phase, readerGone = false): number {
  if (readerGone) return 499;
  const code = (err as { code?: unknown } | null)?.code;
  switch (code) {
    case 'EM_PAYLOAD_TOO_LARGE':
      return 413;
    case 'EM_BODY_TIMEOUT':
      return 408;
    case 'EM_QUEUE_TIMEOUT':
      return 503;
    case 'EM_ORIGIN_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT': // undici's idle timeout between body chunks
      return 504;
  }
  return phase === 'request' ? 400 : 502;
}
