import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NTDTV_ARTICLE, startNtdtvOrigin, type NtdtvOrigin } from '../../demo/ntdtv-origin.ts';
import { validateConfig } from '../../src/config/validate.ts';
import { get, ROOT, runCli, startServe, tempDir } from './cli-helpers.ts';

describe('edgemirror init against the NTDTV stand-in (real binary)', () => {
  let origin: NtdtvOrigin;
  beforeAll(async () => {
    origin = await startNtdtvOrigin(0);
  });
  afterAll(() => origin.close());

  it('discovers the asset hosts, proposes mounts, writes a valid config that serves the site', async () => {
    const dir = tempDir();
    const out = path.join(dir, 'my-ntdtv.json');
    const r = await runCli(['init', 'https://www.ntdtv.com', '--upstream', origin.url, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    // The front page redirects to /gb/; the stand-in was reached with the public Host.
    expect(origin.requests).toContain('GET www.ntdtv.com/ 302');
    expect(origin.requests).toContain('GET www.ntdtv.com/gb/ 200');
    expect(origin.requests).toContain('GET www.ntdtv.com/assets/ntd.css 200'); // its stylesheet scanned too
    expect(r.stderr).toContain(`edgemirror init: https://www.ntdtv.com/ → 302 https://www.ntdtv.com/gb/ → 200`);
    expect(r.stderr).toMatch(/^  i\.ntdtv\.com +\d+ URLs  mount \/_i\/$/m);
    expect(r.stderr).toMatch(/^  video\.ntdtv\.com +\d+ URLs  mount \/_video\/$/m);
    expect(r.stderr).toMatch(/^  www\.ntdtv\.com +\d+ URLs? +root origin, mount \/$/m);
    expect(r.stderr).toMatch(/^  www\.youtube\.com +1 URL +not mounted \(third party/m);
    expect(r.stderr).toContain(`Wrote ${out}`);

    const written = JSON.parse(readFileSync(out, 'utf8'));
    expect(written.$schema).toBe(path.join(ROOT, 'config/schema.json')); // outside the repo: absolute
    const site = written.sites[0];
    expect(site.name).toBe('ntdtv');
    expect(site.hosts).toEqual(['*']);
    expect(site.origins).toEqual([
      { url: 'https://www.ntdtv.com', mount: '/', aliases: ['http://www.ntdtv.com', 'https://ntdtv.com', 'http://ntdtv.com'], upstream: origin.url },
      { url: 'https://i.ntdtv.com', mount: '/_i/', aliases: ['http://i.ntdtv.com'], upstream: origin.url },
      { url: 'https://video.ntdtv.com', mount: '/_video/', aliases: ['http://video.ntdtv.com'], upstream: origin.url },
    ]);
    expect(site.nav).toEqual([{ label: '首页', href: '/gb/' }]);
    expect(validateConfig(written).ok).toBe(true);
    const check = await runCli(['check', out]);
    expect(check.code).toBe(0);

    // Serve it and read an article through it.
    const server = await startServe(['serve', '--config', out, '--port', '0', '--host', '127.0.0.1']);
    try {
      const page = await get(server.url, NTDTV_ARTICLE);
      expect(page.status).toBe(200);
      expect(page.text).toContain('src="/_i/assets/uploads/2021/03/a103012345-1200x675.jpg"');
      expect(page.text).toContain('srcset="/_i/assets/uploads/2021/03/a103012345-600x338.jpg 600w, /_i/assets/uploads/2021/03/a103012345-1200x675.jpg 1200w"');
      expect(page.text).toContain('poster="/_video/posters/a103012345-640x360.jpg"');
      expect(page.text).not.toMatch(/https?:\/\/(i|video)\.ntdtv\.com/);
      expect(page.text).toContain('原文链接（需翻墙）：<a href="https://www.ntdtv.com/gb/2021/03/02/a103012345.html" style="all:revert;');
      const image = await get(server.url, '/_i/assets/uploads/2021/03/a103012345-600x338.jpg');
      expect(image.status).toBe(200);
      expect(image.headers['content-type']).toBe('image/png');
      const video = await get(server.url, '/_video/mp4/a103012345-480p.mp4', { range: 'bytes=0-9' });
      expect(video.status).toBe(206);
      expect(video.text).toBe('NTD-DEMO-V');
    } finally {
      expect(await server.stop()).toBe(0);
    }
  }, 60_000);

  it('writes to standard output by default, $schema relative inside the repo, --name and --hosts', async () => {
    const r = await runCli(['init', 'https://www.ntdtv.com/gb/china.html', '--upstream', origin.url, '--name', 'ntd', '--hosts', 'ntd.example.org, *.ntd.example.org'], {
      cwd: path.join(ROOT, 'config'),
    });
    expect(r.code, r.stderr).toBe(0);
    const config = JSON.parse(r.stdout);
    expect(config.$schema).toBe('./schema.json');
    expect(config.sites[0].name).toBe('ntd');
    expect(config.sites[0].hosts).toEqual(['ntd.example.org', '*.ntd.example.org']);
    expect(config.sites[0].nav).toEqual([{ label: '首页', href: '/' }]);
    expect(config.sites[0].origins.map((o: { mount: string }) => o.mount)).toEqual(['/', '/_i/']);
    expect(r.stderr).not.toContain('Wrote');
  });

  it('never overwrites without --force; --force replaces', async () => {
    const dir = tempDir();
    const out = path.join(dir, 'existing.json');
    writeFileSync(out, 'keep me');
    const refused = await runCli(['init', 'https://www.ntdtv.com', '--upstream', origin.url, '--out', out]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('exists; not overwriting it (use --force');
    expect(readFileSync(out, 'utf8')).toBe('keep me');
    // A failed run leaves the file alone, --force or not.
    const failed = await runCli(['init', 'https://www.ntdtv.com', '--upstream', 'http://127.0.0.1:1', '--out', out, '--force']);
    expect(failed.code).toBe(1);
    expect(readFileSync(out, 'utf8')).toBe('keep me');
    const forced = await runCli(['init', 'https://www.ntdtv.com', '--upstream', origin.url, '--out', out, '--force']);
    expect(forced.code).toBe(0);
    expect(JSON.parse(readFileSync(out, 'utf8')).sites[0].name).toBe('ntdtv');
  });

  it('fails cleanly: unreachable origin, non-HTML page, 404, bad arguments', async () => {
    const dir = tempDir();
    const out = path.join(dir, 'never.json');
    const [down, css, missing, noUrl, ftp, badHosts] = await Promise.all([
      runCli(['init', 'https://www.ntdtv.com', '--upstream', 'http://127.0.0.1:1', '--out', out]),
      runCli(['init', 'https://www.ntdtv.com/assets/ntd.css', '--upstream', origin.url]),
      runCli(['init', 'https://www.ntdtv.com/gb/nope.html', '--upstream', origin.url]),
      runCli(['init']),
      runCli(['init', 'ftp://www.ntdtv.com']),
      runCli(['init', 'https://www.ntdtv.com', '--hosts', 'https://mirror.example:8443']),
    ]);
    expect(down.code).toBe(1);
    expect(down.stderr).toContain(`could not fetch https://www.ntdtv.com/ via http://127.0.0.1:1`);
    expect(existsSync(out)).toBe(false); // nothing left behind
    expect(css.code).toBe(1);
    expect(css.stderr).toContain('not an HTML page');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('answered 404');
    expect(noUrl.code).toBe(2);
    expect(ftp.code).toBe(2);
    expect(badHosts.code).toBe(2);
    expect(badHosts.stderr).toContain('is not a host name');
  });
});
