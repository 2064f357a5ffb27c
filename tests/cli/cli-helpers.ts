import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Runs the real `edgemirror` binary (bin/edgemirror.js) the way npx does: node + the bin file. */
export const ROOT = path.resolve(import.meta.dirname, '../..');
export const BIN = path.join(ROOT, 'bin/edgemirror.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], options: { cwd?: string; input?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: options.cwd ?? ROOT, timeout: options.timeoutMs ?? 20_000, env: { ...process.env, NO_COLOR: '1', ...options.env }, maxBuffer: 32 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err && (err as { killed?: boolean }).killed) return reject(new Error(`edgemirror ${args.join(' ')} timed out\n${stderr}`));
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
    if (options.input !== undefined) child.stdin!.end(options.input);
    else child.stdin!.end();
  });
}

export function tempDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'edgemirror-cli-'));
}

/** A long-running `edgemirror …` (serve): resolves once it prints its URL. */
export interface ServeProcess {
  child: ChildProcessWithoutNullStreams;
  url: string;
  port: number;
  stdout(): string;
  stderr(): string;
  /** Waits until `stream` contains `text` (or times out). */
  waitFor(stream: 'stdout' | 'stderr', text: string | RegExp, timeoutMs?: number): Promise<void>;
  stop(): Promise<number | null>;
}

export async function startServe(args: string[], options: { command?: string[]; timeoutMs?: number } = {}): Promise<ServeProcess> {
  const argv = options.command ?? [BIN];
  const child = spawn(process.execPath, [...argv, ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const waitFor = async (stream: 'stdout' | 'stderr', text: string | RegExp, timeoutMs = 15_000) => {
    const deadline = Date.now() + timeoutMs;
    const has = () => {
      const s = stream === 'stdout' ? out : err;
      return typeof text === 'string' ? s.includes(text) : text.test(s);
    };
    while (!has()) {
      if (child.exitCode !== null) throw new Error(`edgemirror exited (${child.exitCode}) before ${stream} showed ${text}\nstdout: ${out}\nstderr: ${err}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${stream} to show ${text}\nstdout: ${out}\nstderr: ${err}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  try {
    await waitFor('stdout', /serving .* on http:\/\/127\.0\.0\.1:\d+/, options.timeoutMs ?? 20_000);
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  const port = Number(/on http:\/\/127\.0\.0\.1:(\d+)/.exec(out)![1]);
  return {
    child,
    url: `http://127.0.0.1:${port}`,
    port,
    stdout: () => out,
    stderr: () => err,
    waitFor,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        const code = await exited;
        clearTimeout(timer);
        return code;
      }
      return child.exitCode;
    },
  };
}

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/** GET over plain node:http, so the Host header can be anything. */
export function get(base: string, pathAndQuery: string, headers: Record<string, string> = {}): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const url = new URL(base);
    const req = http.request({ host: url.hostname, port: url.port, path: pathAndQuery, method: 'GET', headers: { connection: 'close', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`GET ${pathAndQuery} timed out`)));
    req.on('error', reject);
    req.end();
  });
}
