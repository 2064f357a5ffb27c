import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNodeServer, type RunningServer } from '../../src/node/server.ts';
import { rawRequest, resolve, testSiteConfig } from '../helpers/mirror.ts';
import {
  APP_JS_PATH, ARTICLE_PATH, BIG5_META_PATH, FEED_NSC412_PATH, GBK_HEADER_PATH, GZIP_PATH, IMAGE_PATH, NOT_FOUND_PATH, PRINT_CSS_PATH,
  REDIRECT_ABS_PATH, startTestOrigin, type TestOrigin,
} from '../helpers/origin.ts';
import { OFFLINE_ENV, REPO_ROOT } from '../helpers/worker-bundle.ts';

/**
 * `npm run worker:dev` (wrangler dev, local workerd, no account) serves the same mirror as the Node
 * server for the same config: both in front of one test origin, reached through `upstream` (on the
 * Worker: its socket client, so the origin still sees its own Host). One short-lived wrangler dev,
 * a handful of requests (it is not for load: its proxy leaks under load).
 */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe('npm run worker:dev serves the same mirror as the Node server', () => {
  let origin: TestOrigin;
  let node: RunningServer;
  let dev: ChildProcess;
  let devUrl: string;
  let state: string;
  let output = '';

  beforeAll(async () => {
    origin = await startTestOrigin();
    const input = { sites: [testSiteConfig(origin.url)] };
    node = await startNodeServer({ config: resolve(input), port: 0, host: '127.0.0.1' });
    const port = await freePort();
    state = mkdtempSync(path.join(os.tmpdir(), 'edgemirror-wrangler-'));
    const args = ['run', 'worker:dev', '--', '--ip', '127.0.0.1', '--port', String(port), '--inspector-port', String(await freePort())];
    args.push('--persist-to', state, '--show-interactive-dev-session=false', '--var', `MIRROR_CONFIG:${JSON.stringify(input)}`);
    dev = spawn('npm', args, { cwd: REPO_ROOT, env: { ...process.env, ...OFFLINE_ENV, CI: '1' }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    devUrl = `http://127.0.0.1:${port}`;
    await new Promise<void>((ready, fail) => {
      const timer = setTimeout(() => fail(new Error(`wrangler dev did not start:\n${output}`)), 45_000);
      const onData = (d: Buffer) => {
        output += d.toString();
        if (/Ready on http/.test(output)) {
          clearTimeout(timer);
          ready();
        }
      };
      dev.stdout!.on('data', onData);
      dev.stderr!.on('data', onData);
      dev.once('exit', (code) => fail(new Error(`wrangler dev exited (${code}):\n${output}`)));
    });
  }, 60_000);

  afterAll(async () => {
    if (dev?.pid && dev.exitCode === null) {
      const exited = new Promise((r) => dev.once('exit', r));
      process.kill(-dev.pid, 'SIGTERM'); // the npm → wrangler → workerd group started above
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    }
    await node?.close();
    await origin?.close();
    if (state) rmSync(state, { recursive: true, force: true });
  });

  const pages = [ARTICLE_PATH, GBK_HEADER_PATH, BIG5_META_PATH, GZIP_PATH, FEED_NSC412_PATH, PRINT_CSS_PATH, APP_JS_PATH, `/_i${IMAGE_PATH}`, NOT_FOUND_PATH, REDIRECT_ABS_PATH];
  for (const page of pages) {
    it(`same answer for ${page}`, async () => {
      const options = { headers: { host: 'mirror.test', 'accept-encoding': 'identity' } };
      const [fromNode, fromWorker] = await Promise.all([rawRequest(node.url, page, options), rawRequest(devUrl, page, options)]);
      expect(fromWorker.status).toBe(fromNode.status);
      for (const name of ['content-type', 'location', 'x-content-type-options', 'referrer-policy', 'x-robots-tag']) {
        expect(fromWorker.headers[name], name).toEqual(fromNode.headers[name]);
      }
      expect(fromWorker.body.equals(fromNode.body), `body of ${page}`).toBe(true);
    });
  }

  it('sent the origin its own Host from both', () => {
    const hosts = new Set(origin.requests.map((r) => r.headers.host));
    expect([...hosts].sort()).toEqual(['i.epochtimes.com', 'www.epochtimes.com']);
  });
});
