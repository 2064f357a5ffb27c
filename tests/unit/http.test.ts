import { describe, expect, it } from 'vitest';
import { concatBytes, readBytes } from '../../src/http/bytes.ts';
import {
  BodyTimeoutError,
  DecodedTooLargeError,
  isMirrorError,
  OriginTimeoutError,
  PayloadTooLargeError,
  QueueTimeoutError,
  RevalidationError,
  statusForError,
  type Phase,
} from '../../src/http/errors.ts';
import { escapeHtml } from '../../src/http/escape.ts';
import { once } from '../../src/http/once.ts';
import { parseRefresh, rewriteRefresh } from '../../src/http/refresh.ts';
import { hasNoMessageBody, NULL_BODY_STATUS } from '../../src/http/status.ts';

const upper = (u: string) => u.toUpperCase();

describe('Refresh values (header and meta share one parser)', () => {
  it.each([
    ['5; url=http://a/x', '5; url=HTTP://A/X'],
    ['0;URL=http://a/x', '0;URL=HTTP://A/X'],
    ["5; url='http://a/x'", "5; url='HTTP://A/X'"],
    ['5; url="http://a/x" trailing', '5; url="HTTP://A/X" trailing'],
    ['3, http://a/x', '3, HTTP://A/X'],
    ['http://a/x', 'HTTP://A/X'],
  ])('%s', (value, expected) => {
    expect(rewriteRefresh(value, upper)).toBe(expected);
  });

  it('is null without a URL or when the map declines', () => {
    expect(rewriteRefresh('5', upper)).toBeNull();
    expect(rewriteRefresh('5; url=', upper)).toBeNull();
    expect(rewriteRefresh('5; url=http://a/', () => null)).toBeNull();
  });

  it('splits so that the parts make the value again', () => {
    const value = "1.5 ; URL = 'http://a/b?c=d' x";
    const parts = parseRefresh(value)!;
    expect(parts.url).toBe('http://a/b?c=d');
    expect(parts.before + parts.url + parts.after).toBe(value);
  });
});

describe('status sets', () => {
  it('null body statuses are the Fetch standard’s', () => {
    expect([...NULL_BODY_STATUS].sort()).toEqual([101, 103, 204, 205, 304]);
    for (const s of [204, 205, 304]) expect(() => new Response('x', { status: s })).toThrow();
    expect(NULL_BODY_STATUS.has(200)).toBe(false);
  });

  it('HTTP/1 framing: no body after HEAD, 1xx, 204, 304; a 205 follows its headers', () => {
    expect(hasNoMessageBody('HEAD', 200)).toBe(true);
    expect(hasNoMessageBody('GET', 204)).toBe(true);
    expect(hasNoMessageBody('GET', 304)).toBe(true);
    expect(hasNoMessageBody('GET', 101)).toBe(true);
    expect(hasNoMessageBody('GET', 205)).toBe(false);
    expect(hasNoMessageBody('GET', 200)).toBe(false);
  });
});

describe('small shared helpers', () => {
  it('escapeHtml escapes the five characters', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });

  it('once runs the first call only', () => {
    const calls: number[] = [];
    const f = once((n: number) => void calls.push(n));
    f(1);
    f(2);
    expect(calls).toEqual([1]);
  });

  it('concatBytes joins, and returns a single whole chunk as it is', () => {
    const a = new Uint8Array([1, 2]);
    expect(concatBytes([a, new Uint8Array([3])])).toEqual(new Uint8Array([1, 2, 3]));
    expect(concatBytes([a])).toBe(a);
    expect(concatBytes([])).toEqual(new Uint8Array());
  });

  it('readBytes stops past the cap and cancels the rest', async () => {
    let cancelled = false;
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        pulled++;
        c.enqueue(new Uint8Array(10));
      },
      cancel() {
        cancelled = true;
      },
    });
    const r = await readBytes(body, 25);
    expect(r.overflowed).toBe(true);
    expect(r.bytes.length).toBe(30);
    expect(cancelled).toBe(true);
    expect(pulled).toBeLessThan(10);
    const whole = await readBytes(new Response('hello').body, 5);
    expect(whole.overflowed).toBe(false);
    expect(new TextDecoder().decode(whole.bytes)).toBe('hello');
  });
});

describe('typed errors and the one status mapping', () => {
  it('each error has a stable code, a brand and the status the pipeline answers with', () => {
    const cases: [Error, Phase, number][] = [
      [new PayloadTooLargeError(10), 'request', 413],
      [new BodyTimeoutError(1), 'request', 408],
      [new QueueTimeoutError(1), 'upstream', 503],
      [new OriginTimeoutError(1), 'upstream', 504],
      [new OriginTimeoutError(1), 'body', 504],
      [new DecodedTooLargeError(10), 'body', 502],
      [Object.assign(new Error('idle'), { code: 'UND_ERR_BODY_TIMEOUT' }), 'body', 504],
      [new TypeError('fetch failed'), 'upstream', 502],
      [new TypeError('stream broke'), 'request', 400],
    ];
    for (const [err, phase, status] of cases) expect([err.name, phase, statusForError(err, phase)]).toEqual([err.name, phase, status]);
    expect(new PayloadTooLargeError(10).code).toBe('EM_PAYLOAD_TOO_LARGE');
    expect(isMirrorError(new QueueTimeoutError(1))).toBe(true);
    expect(isMirrorError(Object.assign(new Error('x'), { code: 'EM_QUEUE_TIMEOUT' }))).toBe(false);
  });

  it('a reader who left is answered 499, whatever failed', () => {
    expect(statusForError(new QueueTimeoutError(1), 'upstream', true)).toBe(499);
    expect(statusForError(new TypeError('aborted'), 'request', true)).toBe(499);
  });

  it('wrapping keeps the cause', () => {
    const cause = new Error('connection reset');
    const err = new RevalidationError(cause);
    expect(err.code).toBe('EM_REVALIDATION_FAILED');
    expect(err.cause).toBe(cause);
    expect(new OriginTimeoutError(3, { cause }).cause).toBe(cause);
  });
});
