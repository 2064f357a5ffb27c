import type { LogLine } from '../observe/observer.ts';

/** The access log on standard output: JSON lines for collectors, or a readable line on a terminal. */
export function createAccessLog(mode: 'auto' | 'json' | 'pretty' | 'off', out: NodeJS.WriteStream = process.stdout): ((line: LogLine) => void) | undefined {
  if (mode === 'off') return undefined;
  const pretty = mode === 'pretty' || (mode === 'auto' && out.isTTY === true);
  if (!pretty) return (line) => out.write(JSON.stringify(line) + '\n');
  const color = out.isTTY === true;
  const paint = (code: number, text: string) => (color ? `\x1b[${code}m${text}\x1b[0m` : text);
  return (line) => {
    const status = paint(line.status >= 500 ? 31 : line.status >= 400 ? 33 : 32, String(line.status));
    const origin = line.originStatus === null ? '' : ` origin ${line.originStatus} ${line.originMs} ms`;
    out.write(
      `${line.time.slice(11, 23)} ${status} ${line.method} ${line.path} ${paint(36, line.cache ?? '-')} ${line.bytes} B ${line.ms} ms${origin} [${line.site ?? '-'}]${line.ip ? ` ${line.ip}` : ''}\n`,
    );
  };
}
