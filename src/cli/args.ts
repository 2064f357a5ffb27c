import { parseArgs, type ParseArgsConfig } from 'node:util';

/**
 * What every command shares: argument parsing, exit codes, progress on a terminal, colour.
 *
 * Exit codes: 0 ok, 1 problems (an invalid config, an origin that cannot be reached), 2 usage errors.
 */
export const EXIT_OK = 0;
export const EXIT_PROBLEMS = 1;
export const EXIT_USAGE = 2;

/** A mistake on the command line: printed with the command's usage, exit 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Something wrong with the input (config, origin, files): every line printed, exit 1. */
export class ProblemError extends Error {
  constructor(
    readonly headline: string,
    readonly lines: string[] = [],
  ) {
    super([headline, ...lines.map((l) => `  ${l}`)].join('\n'));
    this.name = 'ProblemError';
  }
}

export interface Command {
  name: string;
  /** One line for `edgemirror --help`. */
  summary: string;
  usage: string;
  /** Resolves with the exit code, or with null when the command keeps running (serve). */
  run(argv: string[]): Promise<number | null>;
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** The `--help`/`-h` option every command has. */
export const HELP = { help: { type: 'boolean', short: 'h' } } as const;

/** node:util parseArgs, strict, positionals allowed (at most `maxPositionals`), errors as UsageErrors. */
export function parseCommandArgs<const O extends Options>(argv: string[], options: O, maxPositionals: number) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
  }
  if (parsed.positionals.length > maxPositionals) {
    throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[maxPositionals])}`);
  }
  return parsed;
}

/** "8787" → 8787, or a UsageError naming the option. */
export function portOption(name: string, text: string): number {
  const port = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`invalid ${name} ${JSON.stringify(text)}: expected an integer from 0 to 65535`);
  }
  return port;
}

/** Progress lines ("fetching …") on stderr, only when stderr is a terminal: pipes and logs stay clean. */
export function progress(stream: NodeJS.WriteStream = process.stderr): (text: string) => void {
  if (!stream.isTTY) return () => {};
  return (text) => stream.write(`\x1b[2m… ${text}\x1b[0m\n`);
}

/** ANSI colour when `stream` is a terminal and NO_COLOR is unset (https://no-color.org), or when forced. */
export function painter(stream: NodeJS.WriteStream, force?: boolean): (code: number, text: string) => string {
  const on = force ?? (stream.isTTY === true && !process.env.NO_COLOR);
  return (code, text) => (on ? `\x1b[${code}m${text}\x1b[0m` : text);
}

/** Writes and resolves once the text has been handed to the OS (large outputs to a pipe included). */
export function write(stream: NodeJS.WritableStream, text: string | Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(text, (err) => (err ? reject(err) : resolve()));
  });
}

export { formatBytes } from '../observe/format.ts';
