import type { LogLine } from '../observe/observer.ts';

type Mode = 'auto' | 'json' | 'pretty' | 'off';

/** JSON lines when asked for, or (auto) when standard output is not a terminal, as under systemd. */
export function jsonMode(mode: Mode, out: NodeJS.WriteStream = process.stdout): boolean {
  return mode === 'json' || (mode === 'auto' && out.isTTY !== true);
}

/** The access log on standard output: JSON lines for collectors, or a readable line on a terminal. */
export function createAccessLog(mode: Mode, out: NodeJS.WriteStream = process.stdout): ((line: LogLine) => void) | undefined {
  if (mode === 'off') return undefined;
  // A JSON line has a level, like the start, reload and shutdown lines: "error" when the mirror failed (5xx).
  if (jsonMode(mode, out)) {
    return ({ time, ...rest }) => out.write(JSON.stringify({ time, level: rest.status >= 500 ? 'error' : 'info', ...rest }) + '\n');
  }
  const color = out.isTTY === true;
  const paint = (code: number, text: string) => (color ? `\x1b[${code}m${text}\x1b[0m` : text);
  return (line) => {
    const status = paint(line.status >= 500 ? 31 : line.status >= 400 ? 33 : 32, String(line.status));
    const origin = line.originStatus === null ? '' : ` origin ${line.originStatus} ${line.originMs} ms`;
    const error = line.error === undefined ? '' : ` ${paint(31, line.error)}`;
    out.write(
      `${line.time.slice(11, 23)} ${status} ${line.method} ${line.host ?? '-'}${line.path} ${paint(36, line.cache ?? '-')} ${line.bytes} B ${line.ms} ms${origin}${error} [${line.site ?? '-'}]${line.ip ? ` ${line.ip}` : ''}\n`,
    );
  };
}

export type Level = 'info' | 'warn' | 'error';

/**
 * Start-up, reload and shutdown messages. With a JSON access log they are JSON lines too (`time`,
 * `level`, `msg`, plus fields), so standard output stays pure JSON; otherwise "edgemirror: msg".
 * info goes to standard output, warn and error to standard error.
 */
export function createLifecycleLog(mode: Mode, out: NodeJS.WriteStream = process.stdout, err: NodeJS.WriteStream = process.stderr) {
  const json = jsonMode(mode, out);
  const write = (level: Level, msg: string, fields: Record<string, unknown> = {}, details: string[] = []) => {
    const stream = level === 'info' ? out : err;
    if (json) stream.write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields, ...(details.length ? { details } : {}) }) + '\n');
    else stream.write(`edgemirror: ${level === 'warn' ? 'warning: ' : ''}${msg}\n${details.map((d) => `  ${d.replaceAll('\n', '\n  ')}\n`).join('')}`);
  };
  return {
    json,
    info: (msg: string, fields?: Record<string, unknown>) => write('info', msg, fields),
    warn: (msg: string, fields?: Record<string, unknown>) => write('warn', msg, fields),
    error: (msg: string, fields?: Record<string, unknown>, details?: string[]) => write('error', msg, fields, details),
  };
}
