import { EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, ProblemError, UsageError, write, type Command } from '../cli/args.ts';
import { checkCommand } from '../cli/check.ts';
import { exportCommand } from '../cli/export.ts';
import { initCommand } from '../cli/init.ts';
import { rewriteCommand } from '../cli/rewrite.ts';
import { serveCommand } from '../cli/serve.ts';
import { RUNTIME, VERSION } from '../observe/version.ts';

/**
 * The command line: `edgemirror COMMAND …` (bin/edgemirror.js) and `npm start -- …` (tsx src/node/main.ts).
 * No command, or options first, means `serve`: `npm start -- --config X --port N` works as it always has.
 * Exit status: 0 ok, 1 problems (an invalid config, an unreachable origin), 2 usage errors.
 */
const COMMANDS: Command[] = [serveCommand, checkCommand, rewriteCommand, initCommand, exportCommand];

function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `Usage: edgemirror [COMMAND] [options]      (npm start -- [options] runs serve)

A streaming mirror-rewriting reverse proxy.

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}
  ${'help'.padEnd(width)}  help for a command: edgemirror help rewrite
  ${'version'.padEnd(width)}  print the version (also --version, -V)

Without a command, edgemirror serves (options as for serve):
  --config FILE  mirror config (default: config/default.json)
  --port N       port to listen on (default: $PORT or 8787)
  --host H       address to bind (default: $HOST or 0.0.0.0)

Run edgemirror COMMAND --help for a command's options. Docs: docs/operators.md`;
}

async function main(argv: string[]): Promise<number | null> {
  const first = argv[0];
  if (first === 'version' || first === '--version' || first === '-V') {
    await write(process.stdout, `edgemirror ${VERSION} (${RUNTIME})\n`);
    return EXIT_OK;
  }
  if (first === undefined || first.startsWith('-')) {
    if (first === '--help' || first === '-h') {
      await write(process.stdout, overview() + '\n');
      return EXIT_OK;
    }
    return run(serveCommand, argv);
  }
  if (first === 'help') {
    const topic = argv[1];
    if (topic === undefined) {
      await write(process.stdout, overview() + '\n');
      return EXIT_OK;
    }
    const command = COMMANDS.find((c) => c.name === topic);
    if (!command) return usageError(`unknown command ${JSON.stringify(topic)}`, overview());
    await write(process.stdout, command.usage + '\n');
    return EXIT_OK;
  }
  const command = COMMANDS.find((c) => c.name === first);
  if (!command) return usageError(`unknown command ${JSON.stringify(first)}`, overview());
  return run(command, argv.slice(1));
}

async function run(command: Command, argv: string[]): Promise<number | null> {
  try {
    return await command.run(argv);
  } catch (err) {
    if (err instanceof UsageError) return usageError(err.message, command.usage);
    if (err instanceof ProblemError) {
      console.error(`edgemirror: ${err.headline}`);
      // A config problem may carry the file's line and a caret under it: indented as one block.
      for (const line of err.lines) console.error(`  ${line.replaceAll('\n', '\n  ')}`);
      return EXIT_PROBLEMS;
    }
    throw err;
  }
}

function usageError(message: string, usage: string): number {
  console.error(`edgemirror: ${message}\n\n${usage}`);
  return EXIT_USAGE;
}

main(process.argv.slice(2)).then(
  (code) => {
    // null: the command keeps running (serve). Otherwise let pending output drain and exit.
    if (code === null) return;
    process.exitCode = code;
    // Output has been handed to the OS; if a stray handle kept the process up, do not hang.
    setTimeout(() => process.exit(code), 3_000).unref();
  },
  (err) => {
    console.error(`edgemirror: ${(err as Error)?.stack ?? err}`);
    process.exit(1);
  },
);
