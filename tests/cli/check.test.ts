import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, runCli, tempDir } from './cli-helpers.ts';

const defaultConfig = () => JSON.parse(readFileSync(path.join(ROOT, 'config/default.json'), 'utf8'));

describe('edgemirror check (real binary)', () => {
  it('prints the verdict only by default: no resolved JSON unless asked', async () => {
    const r = await runCli(['check']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^ok: .*config\/default\.json is valid: 1 site\n  epochtimes: hosts \*; \/ www\.epochtimes\.com, \/_i\/ i\.epochtimes\.com\n$/);
  });

  it('--print (-T) prints the resolved config of config/default.json, every default filled in', async () => {
    const r = await runCli(['check', '-T']);
    expect(r.code).toBe(0);
    const resolved = JSON.parse(r.stdout);
    expect(resolved.server.originTimeout).toBe(30);
    expect(resolved.server.accessLog).toBe('auto');
    expect(resolved.cache.maxBytes).toBe(268435456);
    expect(resolved.sites[0].name).toBe('epochtimes');
    expect(resolved.sites[0].origins[1]).toEqual({ url: 'https://i.epochtimes.com', mount: '/_i/', aliases: ['http://i.epochtimes.com'], upstream: null });
    expect(resolved.sites[0].inject).toEqual({ head: '', bodyStart: '', bodyEnd: '' });
    expect(r.stderr).toMatch(/^ok: .*config\/default\.json is valid: 1 site\n  epochtimes: hosts \*; \/ www\.epochtimes\.com, \/_i\/ i\.epochtimes\.com\n$/);
  });

  it.each(['config/examples/ntdtv.json', 'config/examples/two-sites.json'])('accepts %s (FILE or --config FILE)', async (file) => {
    const [positional, option] = await Promise.all([runCli(['check', '--print', file]), runCli(['check', '--print', '--config', file])]);
    expect(positional.code).toBe(0);
    expect(option.stdout).toBe(positional.stdout);
    const resolved = JSON.parse(positional.stdout);
    expect(resolved.sites.map((s: { name: string }) => s.name)).toContain('ntdtv');
    const ntdtv = resolved.sites.find((s: { name: string }) => s.name === 'ntdtv');
    expect(ntdtv.origins.map((o: { mount: string; url: string }) => `${o.mount} ${o.url}`)).toEqual(['/ https://www.ntdtv.com', '/_i/ https://i.ntdtv.com', '/_video/ https://video.ntdtv.com']);
  });

  it('reports every problem with its JSON path and exits 1', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'bad.json');
    const cfg = defaultConfig();
    cfg.sites[0].origins[1].mount = '_i';
    cfg.sites[0].remove = ['#ok', 'div[[['];
    cfg.server = { originTimeout: -1 };
    writeFileSync(file, JSON.stringify(cfg));
    const r = await runCli(['check', '--config', file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`edgemirror: invalid config ${file}:`);
    expect(r.stderr).toContain(`  ${file}:1:`);
    expect(r.stderr).toContain(': sites[0].origins[1].mount must start and end with "/" (got "_i")');
    expect(r.stderr).toContain(': server.originTimeout must be greater than 0');
    // Selectors are checked by the engine only once the schema passes; fix the rest and they show.
    cfg.sites[0].origins[1].mount = '/_i/';
    cfg.server = {};
    writeFileSync(file, JSON.stringify(cfg));
    const selectors = await runCli(['check', file]);
    expect(selectors.code).toBe(1);
    expect(selectors.stderr).toMatch(/sites\[0\]\.remove\[1\] is not a valid selector \("div\[\[\["\)/);
  });

  it('exits 1 for a missing file and for invalid JSON', async () => {
    const dir = tempDir();
    const missing = await runCli(['check', path.join(dir, 'nope.json')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('cannot read config file');
    writeFileSync(path.join(dir, 'broken.json'), '{"sites": [');
    const broken = await runCli(['check', path.join(dir, 'broken.json')]);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/broken\.json:1:12: not valid JSON/);
  });

  it('points at the spot: FILE:LINE:COL, the line itself and a caret; suggests the field meant', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'typo.json');
    const cfg = defaultConfig();
    cfg.sites[0].fotter = "x";
    delete cfg.sites[0].footer;
    cfg.sites[0].nav[0].lable = 'x';
    const lines = JSON.stringify(cfg, null, 2).split('\n');
    writeFileSync(file, lines.join('\n'));
    const r = await runCli(['check', file]);
    expect(r.code).toBe(1);
    const at = lines.findIndex((l) => l.includes('"fotter"'));
    const col = lines[at]!.indexOf('"fotter"') + 1;
    expect(r.stderr).toContain(`  ${file}:${at + 1}:${col}: sites[0].fotter is not a known field; did you mean "footer"?\n      ${lines[at]}\n      ${' '.repeat(col - 1)}^\n`);
    expect(r.stderr).toMatch(/sites\[0\]\.nav\[0\]\.lable is not a known field; did you mean "label"\?/);

    // JSON syntax errors: line and column instead of a character offset.
    writeFileSync(file, '{\n  "sites": [\n    { "name": "a", }\n  ]\n}\n');
    const syntax = await runCli(['check', file]);
    expect(syntax.code).toBe(1);
    expect(syntax.stderr).toContain(`${file}:3:20: not valid JSON`);
    expect(syntax.stderr).not.toMatch(/position \d+/);
    expect(syntax.stderr).toContain('      { "name": "a", }\n                         ^');
  });

  it('prints exactly what README.md and docs/operators.md show for a broken config', async () => {
    const dir = tempDir();
    const text = readFileSync(path.join(ROOT, 'config/default.json'), 'utf8').replace('"mount": "/_i/"', '"mount": "_i"').replace('"footer":', '"fotter":');
    writeFileSync(path.join(dir, 'my.json'), text);
    const r = await runCli(['check', 'my.json'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr.startsWith('edgemirror: invalid config my.json:\n  my.json:9:46: sites[0].origins[1].mount')).toBe(true);
    for (const doc of ['README.md', 'docs/operators.md']) {
      const shown = readFileSync(path.join(ROOT, doc), 'utf8');
      // The docs show the fotter problem (operators.md) or both (README): each shown line is printed.
      const block = /edgemirror: invalid config my\.json:\n[\s\S]*?(?=\n```|\n\$ )/.exec(shown)?.[0];
      expect(block, doc).toBeDefined();
      for (const line of block!.split('\n')) expect(r.stderr.split('\n'), `${doc}: ${line}`).toContain(line);
    }
  });

  it('rejects an unknown placeholder in the footer, naming the one that exists', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'placeholder.json');
    const cfg = defaultConfig();
    cfg.sites[0].footer = '原文：<a href="{{originalURL}}">{{originalURL}}</a>';
    writeFileSync(file, JSON.stringify(cfg, null, 2));
    const r = await runCli(['check', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('sites[0].footer has an unknown placeholder {{originalURL}}; did you mean {{originalUrl}}?');
  });

  it('--quiet prints nothing; the purge token is redacted; shared host patterns are warned about', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'c.json');
    const cfg = defaultConfig();
    cfg.cache = { purgeToken: 'a-very-secret-token-123' };
    const second = structuredClone(cfg.sites[0]);
    second.name = 'copy';
    second.hosts = ['mirror.example', '*'];
    cfg.sites[0].hosts = ['mirror.example', '*.mirror.example'];
    cfg.sites.push(second);
    writeFileSync(file, JSON.stringify(cfg));
    const quiet = await runCli(['check', '-q', file]);
    expect(quiet).toEqual({ code: 0, stdout: '', stderr: '' });
    const r = await runCli(['check', '--print', file]);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('a-very-secret-token-123');
    expect(JSON.parse(r.stdout).cache.purgeToken).toBe('<redacted>');
    expect(r.stderr).toContain('warning: sites[1].hosts[0] "mirror.example" is also claimed by sites[0] (epochtimes)');
    expect(r.stderr).not.toContain('sites[1].hosts[1]');
  });
});
