import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, ROOT, runCli, startServe, tempDir } from './cli-helpers.ts';

/**
 * What an operator sees from the real binary: the version, one-line listen errors, the purge token
 * from the environment held to the config's rule, JSON lifecycle lines, and a second SIGINT.
 */
const VERSION = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version as string;

/** A config for a local origin, written to a temp file. */
function configFile(upstream: string, server: Record<string, unknown> = { accessLog: 'off' }): string {
  const file = path.join(tempDir(), 'mirror.json');
  const config = JSON.parse(readFileSync(path.join(ROOT, 'config/default.json'), 'utf8'));
  for (const o of config.sites[0].origins) o.upstream = upstream;
  config.server = server;
  writeFileSync(file, JSON.stringify(config));
  return file;
}

describe('edgemirror version', () => {
  it.each([['--version'], ['-V'], ['version']])('%s prints the version of package.json', async (arg) => {
    const r = await runCli([arg]);
    expect(r).toEqual({ code: 0, stdout: `edgemirror ${VERSION} (node ${process.version})\n`, stderr: '' });
  });

  it('is listed in the overview', async () => {
    expect((await runCli(['--help'])).stdout).toMatch(/^ {2}version +print the version/m);
  });
});

describe('edgemirror serve: problems before serving, in one line each (exit 1, no stack)', () => {
  let origin: http.Server;
  let upstream = '';
  beforeAll(async () => {
    origin = http.createServer((_req, res) => res.end('<p>ok</p>'));
    await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
    upstream = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
  });
  afterAll(() => origin.close());

  const noStack = (stderr: string) => {
    expect(stderr).not.toMatch(/^\s+at /m);
    expect(stderr).not.toContain('Error:');
    expect(stderr.trim().split('\n')).toHaveLength(1);
  };

  it('a port already in use', async () => {
    const port = (origin.address() as AddressInfo).port;
    const r = await runCli(['serve', '--config', configFile(upstream), '--host', '127.0.0.1', '--port', String(port)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`edgemirror: cannot listen on 127.0.0.1:${port}: the port is already in use (another edgemirror or server?); choose another with --port or PORT\n`);
    noStack(r.stderr);
    // As docs/operators.md shows it.
    expect(readFileSync(path.join(ROOT, 'docs/operators.md'), 'utf8')).toContain(r.stderr.trim().replace(`127.0.0.1:${port}`, '0.0.0.0:8787'));
  });

  it('an address that is not this machine’s', async () => {
    const r = await runCli(['serve', '--config', configFile(upstream), '--host', '192.0.2.1', '--port', '0']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('edgemirror: cannot listen on 192.0.2.1:0: 192.0.2.1 is not an address of this machine');
    noStack(r.stderr);
    expect(readFileSync(path.join(ROOT, 'docs/operators.md'), 'utf8')).toContain(r.stderr.trim().replace('192.0.2.1:0', '192.0.2.1:8787'));
  });

  it('a host name that does not resolve', async () => {
    // A label longer than 63 characters fails in the resolver itself: no DNS query leaves the machine.
    const host = `${'a'.repeat(64)}.invalid`;
    const r = await runCli(['serve', '--config', configFile(upstream), '--host', host, '--port', '0']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`edgemirror: cannot listen on ${host}:0: the host name ${host} does not resolve`);
    noStack(r.stderr);
  });

  it('an EDGEMIRROR_PURGE_TOKEN shorter than cache.purgeToken may be', async () => {
    const r = await runCli(['serve', '--config', configFile(upstream), '--host', '127.0.0.1', '--port', '0'], { env: { EDGEMIRROR_PURGE_TOKEN: 'x' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('edgemirror: EDGEMIRROR_PURGE_TOKEN must be at least 16 characters long (got 1)\n');
  });
});

describe('edgemirror serve: JSON mode and signals', () => {
  let origin: http.Server;
  let upstream = '';
  beforeAll(async () => {
    origin = http.createServer((_req, res) => res.end('<p>ok</p>'));
    await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
    upstream = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
  });
  afterAll(() => origin.close());

  it('with a JSON access log, standard output is JSON lines only, each with time, level and msg (start, probe, reload, access, shutdown)', async () => {
    const file = configFile(upstream, { accessLog: 'json' });
    const server = await startServe(['serve', '--config', file, '--port', '0', '--host', '127.0.0.1', '--probe']);
    let code: number | null = null;
    try {
      await server.waitFor('stdout', '"event":"probe"');
      expect((await get(server.url, '/gb/?q=secret', { host: 'm.example' })).status).toBe(200);
      server.child.kill('SIGHUP');
      await server.waitFor('stdout', '"event":"reload"');
    } finally {
      code = await server.stop();
    }
    expect(code).toBe(0);
    const lines = server.stdout().trim().split('\n');
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const p of parsed) {
      expect(typeof p.time).toBe('string');
      expect(['info', 'warn', 'error']).toContain(p.level);
    }
    const start = parsed.find((p) => p.event === 'start')!;
    expect(start).toMatchObject({ level: 'info', version: VERSION, url: server.url, pid: server.child.pid });
    expect(start.msg).toMatch(/^serving epochtimes on http:\/\/127\.0\.0\.1:\d+ \(edgemirror /);
    expect(parsed.find((p) => p.event === 'probe')).toMatchObject({ level: 'info', site: 'epochtimes', status: 'ok' });
    expect(parsed.find((p) => p.path === '/gb/?q=REDACTED')).toMatchObject({ level: 'info', host: 'm.example', status: 200 });
    expect(parsed.find((p) => p.event === 'shutdown')).toMatchObject({ level: 'info', signal: 'SIGTERM' });
    expect(server.stdout()).not.toContain('secret');
  }, 60_000);

  it('a second SIGINT exits at once, saying so', async () => {
    // A response that never ends keeps the first SIGINT's graceful shutdown waiting.
    const slow = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('start');
    });
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
    const file = configFile(`http://127.0.0.1:${(slow.address() as AddressInfo).port}`, { accessLog: 'off', shutdownTimeout: 60 });
    const server = await startServe(['serve', '--config', file, '--port', '0', '--host', '127.0.0.1']);
    const url = new URL(server.url);
    const req = http.get({ host: url.hostname, port: url.port, path: '/slow.txt' });
    req.on('error', () => {});
    try {
      await new Promise<void>((r) => req.once('response', () => r()));
      server.child.kill('SIGINT');
      await server.waitFor('stdout', 'SIGINT: no new connections');
      server.child.kill('SIGINT');
      await server.waitFor('stderr', 'edgemirror: warning: SIGINT again: exiting now; in-flight responses are cut');
      expect(await server.stop()).toBe(1);
    } finally {
      req.destroy();
      slow.closeAllConnections();
      slow.close();
    }
  }, 60_000);
});

describe('npm start', () => {
  it('SIGTERM to the npm process stops the server (npm runs node directly: exec in the start script)', async () => {
    const origin = http.createServer((_req, res) => res.end('ok'));
    await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
    const file = configFile(`http://127.0.0.1:${(origin.address() as AddressInfo).port}`);
    const npm = spawn('npm', ['start', '--', '--config', file, '--port', '0', '--host', '127.0.0.1'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let out = '';
    npm.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    npm.stderr.resume();
    const exited = new Promise<number | null>((r) => npm.once('exit', (code) => r(code)));
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    let serverPid = 0;
    try {
      for (let i = 0; i < 600 && !/pid (\d+)\)/.test(out); i++) await new Promise((r) => setTimeout(r, 50));
      serverPid = Number(/serving .* pid (\d+)\)/.exec(out)?.[1]);
      expect(serverPid).toBeGreaterThan(0);
      npm.kill('SIGTERM');
      await exited;
      for (let i = 0; i < 200 && alive(serverPid); i++) await new Promise((r) => setTimeout(r, 50));
      expect(alive(serverPid), 'the server outlived npm').toBe(false);
      expect(out).toContain('SIGTERM: no new connections');
    } finally {
      if (serverPid && alive(serverPid)) process.kill(serverPid, 'SIGKILL');
      if (npm.exitCode === null) npm.kill('SIGKILL');
      origin.close();
    }
  }, 60_000);
});
