import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNtdtvOrigin, type NtdtvOrigin } from '../../demo/ntdtv-origin.ts';
import { get, ROOT, startServe, tempDir } from './cli-helpers.ts';

/** config/examples/*.json with every origin's upstream pointed at `upstream`. */
function exampleConfig(name: string, upstream: string): { sites: { name: string; hosts: string[]; nav: { label: string; href: string }[]; origins: { upstream?: string; mount: string }[] }[] } {
  const input = JSON.parse(readFileSync(path.join(ROOT, 'config/examples', name), 'utf8'));
  for (const site of input.sites) for (const o of site.origins) o.upstream = upstream;
  input.server = { accessLog: 'off' };
  return input;
}

describe('edgemirror serve (real binary)', () => {
  let origin: NtdtvOrigin;
  beforeAll(async () => {
    origin = await startNtdtvOrigin(0);
  });
  afterAll(() => origin.close());

  it('SIGHUP reloads a good config without a restart, and keeps the old one when the new one is bad', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'mirror.json');
    const config = exampleConfig('ntdtv.json', origin.url);
    config.sites[0]!.hosts = ['ntd.test'];
    writeFileSync(file, JSON.stringify(config));
    const server = await startServe(['serve', '--config', file, '--port', '0', '--host', '127.0.0.1']);
    try {
      const before = await get(server.url, '/gb/', { host: 'ntd.test' });
      expect(before.text).toMatch(/<a href="\/gb\/"[^>]*>新唐人首页<\/a>/);
      expect((await get(server.url, '/gb/', { host: 'other.test' })).status).toBe(421);

      // A changed nav label and a new mirror host, from the same file.
      config.sites[0]!.nav[0]!.label = '首页（已重新加载）';
      config.sites[0]!.hosts = ['ntd.test', 'other.test'];
      writeFileSync(file, JSON.stringify(config));
      server.child.kill('SIGHUP');
      await server.waitFor('stdout', `edgemirror: SIGHUP: reloaded ${file}: serving ntdtv`);
      const after = await get(server.url, '/gb/', { host: 'ntd.test' });
      expect(after.text).toMatch(/<a href="\/gb\/"[^>]*>首页（已重新加载）<\/a>/);
      expect(after.headers['x-cache']).toBe('MISS'); // the old cache went with the old rules
      expect((await get(server.url, '/gb/', { host: 'other.test' })).status).toBe(200);

      // A broken config: rejected with its problems, the previous one keeps serving.
      const broken = structuredClone(config);
      broken.sites[0]!.origins[1]!.mount = '_i';
      broken.sites[0]!.nav[0]!.label = 'SHOULD NOT APPEAR';
      writeFileSync(file, JSON.stringify(broken));
      server.child.kill('SIGHUP');
      await server.waitFor('stderr', 'sites[0].origins[1].mount must start and end with "/" (got "_i")');
      expect(server.stderr()).toContain(`edgemirror: SIGHUP: config ${file} rejected; still serving the previous config:`);
      const still = await get(server.url, '/gb/', { host: 'ntd.test' });
      expect(still.status).toBe(200);
      expect(still.text).toContain('首页（已重新加载）');
      expect(still.text).not.toContain('SHOULD NOT APPEAR');

      // Not JSON at all: same.
      writeFileSync(file, '{ "sites": [');
      server.child.kill('SIGHUP');
      await server.waitFor('stderr', 'not valid JSON');
      expect((await get(server.url, '/gb/china.html', { host: 'ntd.test' })).status).toBe(200);

      // Fixed again, with a new site: it appears.
      const twoSites = exampleConfig('two-sites.json', origin.url);
      writeFileSync(file, JSON.stringify(twoSites));
      server.child.kill('SIGHUP');
      await server.waitFor('stdout', 'serving epochtimes, ntdtv');
      expect((await get(server.url, '/gb/', { host: 'www.ntd-mirror.example' })).text).toContain('新唐人首页');
      expect((await get(server.url, '/gb/', { host: 'ntd.test' })).status).toBe(421);
    } finally {
      expect(await server.stop()).toBe(0);
    }
    expect(server.stdout()).toContain('SIGTERM: no new connections');
  }, 60_000);

  it('npm start compatibility: no command, options first (node --import tsx src/node/main.ts)', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'mirror.json');
    writeFileSync(file, JSON.stringify(exampleConfig('ntdtv.json', origin.url)));
    const server = await startServe(['--config', file, '--port', '0', '--host', '127.0.0.1'], { command: ['--import', 'tsx', path.join(ROOT, 'src/node/main.ts')] });
    try {
      const version = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version;
      expect(server.stdout()).toContain(`edgemirror: serving ntdtv on ${server.url} (edgemirror ${version}, node ${process.version}, config ${file}, pid ${server.child.pid})`);
      const page = await get(server.url, '/gb/china.html');
      expect(page.status).toBe(200);
      expect(page.text).toContain(`class="mirror-nav"`);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  }, 60_000);
});
