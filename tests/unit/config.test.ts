import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseConfig, SERVER_DEFAULTS, validateConfig } from '../../src/config/validate.ts';
import schema from '../../config/schema.json' with { type: 'json' };

const ROOT = path.resolve(import.meta.dirname, '../..');
const good = () => JSON.parse(readFileSync(path.join(ROOT, 'config/default.json'), 'utf8'));

describe('config validation', () => {
  it('accepts config/default.json and fills defaults', () => {
    const r = validateConfig(good());
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.server).toEqual(SERVER_DEFAULTS);
    expect(r.config.server.originTimeout).toBe(30);
    expect(r.config.cache.enabled).toBe(true);
    const site = r.config.sites[0]!;
    expect(site.origins.map((o) => o.mount)).toEqual(['/', '/_i/']);
    expect(site.nav.map((n) => n.label)).toEqual(['首页', '评论', '专题', '禁闻', '禁书', '翻墙']);
    expect(site.nav.find((n) => n.label === '翻墙')!.href).toBe('https://github.com/gfw-breaker/nogfw/blob/master/README.md');
  });

  it('reports every problem with its JSON path', () => {
    const cfg = good();
    cfg.sites[0].origins[1].mount = '_i';
    cfg.sites[0].origins.push({ url: 'ftp://files.example', mount: '/' });
    cfg.sites[0].links.external = 'drop';
    cfg.sites[0].nav[0].label = 5;
    cfg.sites[0].colour = 'red';
    cfg.sites[0].hosts = [];
    cfg.server = { originTimeout: -1 };
    const r = validateConfig(cfg);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toEqual(
      expect.arrayContaining([
        'sites[0].origins[1].mount must start and end with "/" (got "_i")',
        'sites[0].origins[2].url must be an http: or https: URL (got "ftp://files.example")',
        'sites[0].origins[2].mount "/" is already used by sites[0].origins[0]',
        'sites[0].origins must have exactly one origin with mount "/" (found 2)',
        'sites[0].links.external must be one of "keep", "neutralize" (got "drop")',
        'sites[0].nav[0].label must be a string (got number)',
        'sites[0].colour is not a known field',
        'sites[0].hosts must have at least 1 item',
        'server.originTimeout must be greater than 0',
      ]),
    );
    expect(r.errors).toHaveLength(9);
  });

  it.each([
    [{ sites: [] }, 'sites must have at least 1 item'],
    [{}, 'sites is required'],
    [[], '(root) must be an object (got array)'],
    [{ sites: [{ name: 'a', hosts: ['*'], origins: [{ url: 'https://a.example/path', mount: '/' }] }] }, 'sites[0].origins[0].url must be scheme and host only, without path, query or credentials (got "https://a.example/path")'],
    [{ sites: [{ name: 'a', hosts: ['*'], origins: [{ url: 'https://a.example', mount: '/' }, { url: 'https://b.example', mount: '/b/' }, { url: 'https://c.example', mount: '/b/c/' }] }] }, 'sites[0].origins: mount "/b/c/" is nested inside mount "/b/"'],
    [{ sites: [{ name: 'a', hosts: ['*'], origins: [{ url: 'https://a.example', mount: '/' }, { url: 'https://b.example', mount: '/_root/' }] }] }, 'sites[0].origins[1].mount "/_root/" is reserved for root-origin paths that collide with a mount'],
    [{ sites: [{ name: 'a', hosts: ['bad host'], origins: [{ url: 'https://a.example', mount: '/' }] }] }, 'sites[0].hosts[0] must be a host name, "*.domain" or "*" (got "bad host")'],
    [{ sites: [{ name: 'a', hosts: ['*'], origins: [{ url: 'https://a.example', mount: '/' }, { url: 'https://a.example', mount: '/x/' }] }] }, 'sites[0].origins[1].url names host a.example, already mapped by sites[0].origins[0].url'],
    [{ sites: [{ name: 'a', hosts: ['*'], origins: [{ url: 'https://a.example', mount: '/', upstream: 'not a url' }] }] }, 'sites[0].origins[0].upstream must be an absolute http(s) URL (got "not a url")'],
  ])('%j → %s', (input, message) => {
    const r = validateConfig(input);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors).toContain(message);
  });

  it('reports broken JSON', () => {
    const r = parseConfig('{"sites": [', 'my.json');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toEqual(['my.json:1:12: not valid JSON: Unexpected end of JSON input']);
    expect(r.excerpts).toEqual(['    {"sites": [\n' + ' '.repeat(15) + '^']);
  });

  it('validates against the same field names config/schema.json publishes', () => {
    const siteProps = Object.keys((schema as any).properties.sites.items.properties);
    expect(siteProps).toEqual(['name', 'hosts', 'origins', 'links', 'nav', 'footer', 'remove', 'inject', 'export', 'language', 'style', 'leaks']);
    expect(good().$schema).toBe('./schema.json');
  });
});

describe('npm start with a bad config', () => {
  it('exits non-zero before listening, one line per problem with its JSON path', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'edgemirror-'));
    const file = path.join(dir, 'bad.json');
    const cfg = good();
    cfg.sites[0].origins[1].mount = '_i/';
    cfg.sites[0].remove = ['#ok', 'div[[['];
    writeFileSync(file, JSON.stringify(cfg));
    const run = promisify(execFile);
    const err = await run(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/node/main.ts'), '--config', file, '--port', '0'], { cwd: ROOT, timeout: 20_000 }).then(
      () => null,
      (e) => e,
    );
    expect(err).not.toBeNull();
    expect(err.code).toBe(1);
    expect(err.stderr).toContain('sites[0].origins[1].mount must start and end with "/" (got "_i/")');
    expect(err.stdout).not.toContain('serving');
  });

  it('reports an invalid remove selector by its path', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'edgemirror-'));
    const file = path.join(dir, 'bad.json');
    const cfg = good();
    cfg.sites[0].remove = ['#ok', 'div[[['];
    writeFileSync(file, JSON.stringify(cfg));
    const run = promisify(execFile);
    const err = await run(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/node/main.ts'), '--config', file, '--port', '0'], { cwd: ROOT, timeout: 20_000 }).then(
      () => null,
      (e) => e,
    );
    expect(err?.code).toBe(1);
    expect(err.stderr).toMatch(/sites\[0\]\.remove\[1\] is not a valid selector \("div\[\[\["\)/);
  });
});
