import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NTDTV_ARTICLE, startNtdtvOrigin, type NtdtvOrigin } from '../../demo/ntdtv-origin.ts';
import { ROOT, runCli, tempDir } from './cli-helpers.ts';

const PAGE = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>t</title>
<link rel="stylesheet" href="https://www.epochtimes.com/assets/style.css">
<meta property="og:image" content="https://i.epochtimes.com/assets/a.jpg">
</head><body>
<p><a href="https://www.epochtimes.com/gb/21/3/2/n1.htm">next</a> <a href="https://www.epochtimes.com/b5/x.htm">b5</a></p>
<img src="//i.epochtimes.com/assets/b.jpg" srcset="https://i.epochtimes.com/assets/b.jpg 1x, http://i.epochtimes.com/assets/b2.jpg 2x">
<div id="below_article_ad">ad</div>
<script src="https://cdn.thirdparty.example/x.js"></script>
</body></html>
`;

describe('edgemirror rewrite FILE (real binary)', () => {
  const dir = tempDir();
  const file = path.join(dir, 'page.html');
  writeFileSync(file, PAGE);

  it('prints exactly what the mirror would send, with the default config', async () => {
    const r = await runCli(['rewrite', file, '--url', 'https://www.epochtimes.com/gb/21/3/2/n0.htm']);
    expect(r.code).toBe(0);
    const out = r.stdout;
    expect(out).toContain('<link rel="stylesheet" href="/assets/style.css">');
    expect(out).toContain('<meta property="og:image" content="http://localhost:8787/_i/assets/a.jpg">');
    expect(out).toContain('<a href="/gb/21/3/2/n1.htm">next</a>');
    expect(out).toContain('<a href="https://www.epochtimes.com/b5/x.htm">b5</a>'); // links.rules: keep
    expect(out).toContain('src="/_i/assets/b.jpg" srcset="/_i/assets/b.jpg 1x, /_i/assets/b2.jpg 2x"');
    expect(out).not.toContain('below_article_ad'); // remove
    expect(out).toMatch(/<body><nav class="mirror-nav"[ >]/);
    expect(out).toContain('原文链接（需翻墙）：<a href="https://www.epochtimes.com/gb/21/3/2/n0.htm" style="all:revert;');
    expect(r.stderr).toContain('rewrite: https://www.epochtimes.com/gb/21/3/2/n0.htm → http://localhost:8787/gb/21/3/2/n0.htm: 200 text/html');
    expect(r.stderr).toContain('resources left on unmirrored hosts');
    expect(r.stderr).toContain('cdn.thirdparty.example ×1');
  });

  it('--diff prints a unified diff of input → output; --host sets the mirror host', async () => {
    const r = await runCli(['rewrite', file, '--diff', '--host', 'https://mirror.example']);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('--- https://www.epochtimes.com/ (origin)');
    expect(lines[1]).toBe('+++ https://mirror.example/ (mirror)');
    expect(lines[2]).toMatch(/^@@ -\d+,\d+ \+\d+,\d+ @@$/);
    expect(lines).toContain('-<link rel="stylesheet" href="https://www.epochtimes.com/assets/style.css">');
    expect(lines).toContain('+<link rel="stylesheet" href="/assets/style.css">');
    expect(lines).toContain('+<meta property="og:image" content="https://mirror.example/_i/assets/a.jpg">');
    expect(lines).toContain('-<div id="below_article_ad">ad</div>');
    expect(lines).toContain(' <script src="https://cdn.thirdparty.example/x.js"></script>'); // unchanged context
    expect(r.stdout).not.toContain('\x1b['); // no colour off a terminal
    expect(r.stderr).toMatch(/diff: \d+ lines? removed, \d+ added/);
    const coloured = await runCli(['rewrite', file, '--diff', '--color'], { env: { NO_COLOR: '' } });
    expect(coloured.stdout).toContain('\x1b[31m-');
    expect(coloured.stdout).toContain('\x1b[32m+');
  });

  it('minified HTML is diffed tag by tag', async () => {
    const min = path.join(dir, 'min.html');
    writeFileSync(min, PAGE.replace(/\n/g, ''));
    const r = await runCli(['rewrite', min, '--diff', '--context', '0']);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')).toContain('-<link rel="stylesheet" href="https://www.epochtimes.com/assets/style.css">');
    expect(r.stdout.split('\n').every((l) => l.length < 600)).toBe(true); // the whole page would be ~2.5 KB on one line
  });

  it('reads CSS by extension, standard input with -, and shows headers with -i', async () => {
    const css = path.join(dir, 'theme.css');
    writeFileSync(css, 'body{background:url(https://i.epochtimes.com/bg.png)} @import "https://www.epochtimes.com/a.css";');
    const r = await runCli(['rewrite', css, '-i']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^HTTP\/1\.1 200/);
    expect(r.stdout).toContain('content-type: text/css');
    expect(r.stdout).toContain('url(/_i/bg.png)');
    expect(r.stdout).toContain('@import "/a.css"');
    const stdin = await runCli(['rewrite', '-', '--url', 'https://www.epochtimes.com/gb/'], { input: '<p><img src="https://i.epochtimes.com/x.png"></p>' });
    expect(stdin.code).toBe(0);
    expect(stdin.stdout).toContain('<img src="/_i/x.png">');
  });

  it('usage and config problems', async () => {
    const noType = path.join(dir, 'page.unknown');
    writeFileSync(noType, 'x');
    const [r1, r2, r3, r4, r5] = await Promise.all([
      runCli(['rewrite', noType]),
      runCli(['rewrite', file, '--url', 'https://elsewhere.example/']),
      runCli(['rewrite', 'https://unknown.example/page']),
      runCli(['rewrite', path.join(dir, 'missing.html')]),
      runCli(['rewrite', file, '--site', 'nope']),
    ]);
    expect(r1.code).toBe(2);
    expect(r1.stderr).toContain('--type');
    expect(r2.code).toBe(1);
    expect(r2.stderr).toContain('is not on an origin of site "epochtimes"');
    expect(r3.code).toBe(1);
    expect(r3.stderr).toContain('unknown.example is not an origin of any site');
    expect(r4.code).toBe(1);
    expect(r4.stderr).toContain('cannot read');
    expect(r5.code).toBe(1);
    expect(r5.stderr).toContain('no site named "nope"');
  });
});

describe('edgemirror rewrite URL (real binary, local stand-in origin)', () => {
  let origin: NtdtvOrigin;
  beforeAll(async () => {
    origin = await startNtdtvOrigin(0);
  });
  afterAll(() => origin.close());

  it('fetches through --upstream with the origin Host and rewrites with the config', async () => {
    const r = await runCli(['rewrite', `https://www.ntdtv.com${NTDTV_ARTICLE}`, '--config', 'config/examples/ntdtv.json', '--upstream', origin.url]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('src="/_i/assets/uploads/2021/03/a103012345-1200x675.jpg"');
    expect(r.stdout).toContain('poster="/_video/posters/a103012345-640x360.jpg"');
    expect(r.stdout).toContain('<source src="/_video/mp4/a103012345-480p.mp4"');
    expect(r.stdout).not.toContain('class="ad-slot"');
    expect(r.stdout).toMatch(/<nav class="mirror-nav"[^>]*><a href="\/gb\/"[^>]*>新唐人首页<\/a>/);
    expect(origin.requests).toContain(`GET www.ntdtv.com${NTDTV_ARTICLE} 200`);
  });

  it('honours upstream from the config; --diff against the fetched page', async () => {
    const dir = tempDir();
    const config = path.join(dir, 'ntdtv.json');
    const input = JSON.parse(readFileSync(path.join(ROOT, 'config/examples/ntdtv.json'), 'utf8'));
    for (const o of input.sites[0].origins) o.upstream = origin.url;
    writeFileSync(config, JSON.stringify(input));
    // An alias spelling of the root origin: fetched from the root origin (Host www.ntdtv.com).
    const alias = await runCli(['rewrite', 'http://ntdtv.com/gb/china.html', '--config', config]);
    expect(alias.code).toBe(0);
    expect(alias.stderr).toContain('→ http://localhost:8787/gb/china.html: 200 text/html');
    // A redirect is passed on, its Location mapped onto the mirror.
    const redirect = await runCli(['rewrite', 'https://www.ntdtv.com/', '--config', config]);
    expect(redirect.code).toBe(0);
    expect(redirect.stderr).toContain('→ http://localhost:8787/: 302');
    expect(redirect.stderr).toContain('Location: /gb/');
    const page = await runCli(['rewrite', 'https://www.ntdtv.com/gb/', '--config', config, '--diff']);
    expect(page.code).toBe(0);
    expect(page.stdout).toContain('--- https://www.ntdtv.com/gb/ (origin)');
    expect(page.stdout).toContain('-  <video controls preload="none" width="640" height="360" poster="https://video.ntdtv.com/posters/live-640x360.jpg">');
    expect(page.stdout).toContain('+  <video controls preload="none" width="640" height="360" poster="/_video/posters/live-640x360.jpg">');
    expect(page.stderr).toContain('www.youtube.com ×1');
  });

  it('an unreachable origin exits 1 and says so', async () => {
    const r = await runCli(['rewrite', 'https://www.ntdtv.com/gb/', '--config', 'config/examples/ntdtv.json', '--upstream', 'http://127.0.0.1:1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('could not fetch https://www.ntdtv.com/gb/');
    expect(r.stdout).toBe('');
  });
});
