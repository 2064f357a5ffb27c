import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testSiteConfig } from '../helpers/mirror.ts';
import { FEED_NSC412_FILE, FEED_NSC412_PATH, startTestOrigin, type TestOrigin } from '../helpers/origin.ts';
import { runCli, tempDir } from './cli-helpers.ts';

/**
 * `edgemirror export` against the test origin (the real fixture feed /gb/nsc412.xml and article pages
 * built from its items), through an editable front on 127.0.0.1 that can change an article or fail a
 * path, as a live origin does between two runs.
 */

interface Front {
  url: string;
  /** Mirror path → [text, replacement] applied to the body (feed and page alike), with a new ETag. */
  edits: Map<string, [string, string]>;
  /** Paths whose connection is cut; `times` failures, then normal again. */
  failing: Map<string, number>;
  requests: { path: string; conditional: boolean }[];
  close(): Promise<void>;
}

async function startFront(origin: TestOrigin): Promise<Front> {
  const edits = new Map<string, [string, string]>();
  const failing = new Map<string, number>();
  const requests: Front['requests'] = [];
  const server = http.createServer((req, res) => {
    const p = new URL(req.url ?? '/', 'http://front.invalid').pathname;
    requests.push({ path: p, conditional: req.headers['if-none-match'] !== undefined });
    const left = failing.get(p) ?? 0;
    if (left > 0) {
      failing.set(p, left - 1);
      req.socket.destroy();
      return;
    }
    const edit = edits.get(p);
    const headers = { ...req.headers };
    if (edit) delete headers['if-none-match'];
    const up = http.request({ host: '127.0.0.1', port: origin.port, path: req.url, method: req.method, headers }, (upRes) => {
      if (!edit) {
        res.writeHead(upRes.statusCode!, upRes.headers);
        upRes.pipe(res);
        return;
      }
      const chunks: Buffer[] = [];
      upRes.on('data', (c: Buffer) => chunks.push(c));
      upRes.on('end', () => {
        const body = Buffer.from(Buffer.concat(chunks).toString('utf8').replaceAll(edit[0], edit[1]));
        const etag = `"edited-${createHash('sha256').update(body).digest('hex').slice(0, 16)}"`;
        const out = { ...upRes.headers, etag, 'content-length': String(body.length) };
        if (req.headers['if-none-match'] === etag) {
          res.writeHead(304, { etag });
          res.end();
          return;
        }
        res.writeHead(upRes.statusCode!, out);
        res.end(body);
      });
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    edits,
    failing,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

/** The fixture feed's items, newest first (what the export should pick). */
function newestItems(n: number): { path: string; title: string }[] {
  const xml = readFileSync(FEED_NSC412_FILE, 'utf8');
  const items = [...xml.matchAll(/<item>([\s\S]*?)<\/item>/g)].map((m) => ({
    path: new URL(/<link>([^<]*)<\/link>/.exec(m[1]!)![1]!).pathname,
    title: /<title>([\s\S]*?)<\/title>/.exec(m[1]!)![1]!.trim(),
    date: Date.parse(/<pubDate>([^<]*)<\/pubDate>/.exec(m[1]!)![1]!),
  }));
  return items
    .map((item, i) => ({ item, i }))
    .sort((a, b) => b.item.date - a.item.date || a.i - b.i)
    .slice(0, n)
    .map(({ item }) => ({ path: item.path, title: item.title }));
}

/** Every file under `dir` (relative, "/"-separated) → SHA-256. */
function tree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string) => {
    for (const entry of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(r);
      else out.set(r, createHash('sha256').update(readFileSync(path.join(dir, r))).digest('hex'));
    }
  };
  walk('');
  return out;
}

const LIMIT = 5;
const ITEMS = newestItems(LIMIT);
const articleFile = (p: string, ext: string) => p.slice(1).replace(/\.htm$/, ext);

// Each test runs the command two or three times (a few seconds each on a quiet machine).
describe('edgemirror export', { timeout: 180_000 }, () => {
  let origin: TestOrigin;
  let front: Front;
  let config: string;
  let work: string;

  beforeAll(async () => {
    origin = await startTestOrigin();
    front = await startFront(origin);
    work = tempDir();
    config = path.join(work, 'config.json');
    writeFileSync(config, JSON.stringify({ sites: [testSiteConfig(front.url)] }));
  });
  afterAll(async () => {
    await front?.close();
    await origin?.close();
  });

  const exportTo = (out: string, ...args: string[]) =>
    runCli(['export', '--config', config, '--out', out, '--from', FEED_NSC412_PATH, '--limit', String(LIMIT), '--delay', '0', ...args], { timeoutMs: 90_000 });

  it('exports the newest articles of a feed in both formats, linked to each other, with their assets', async () => {
    const out = path.join(work, 'both');
    const r = await exportTo(out, '--format', 'both');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`1 channel, ${LIMIT} pages, \\d+ assets`));
    const files = [...tree(out).keys()];
    for (const item of ITEMS) {
      expect(files).toContain(articleFile(item.path, '.html'));
      expect(files).toContain(articleFile(item.path, '.md'));
    }
    for (const f of ['index.html', 'README.md', 'gb/nsc412/index.html', 'gb/nsc412/README.md', '.edgemirror/manifest.json']) expect(files).toContain(f);
    expect(files.filter((f) => f.startsWith('assets/')).length).toBeGreaterThan(2);
    expect(files.filter((f) => /^assets\/[0-9a-f]{20}\.(png|css|woff2?)$/.test(f)).length).toBe(files.filter((f) => f.startsWith('assets/')).length);

    // The channel index: newest first, relative links to the article files.
    const index = readFileSync(path.join(out, 'gb/nsc412/index.html'), 'utf8');
    const hrefs = [...index.matchAll(/<li><a href="([^"]+)">([^<]*)<\/a>/g)];
    expect(hrefs.map((m) => m[2])).toEqual(ITEMS.map((i) => i.title));
    expect(hrefs.map((m) => path.posix.join('gb/nsc412', m[1]!))).toEqual(ITEMS.map((i) => articleFile(i.path, '.html')));

    // An article: the live mirror's nav and footer, everything relative, images copied.
    const first = ITEMS[0]!;
    const page = readFileSync(path.join(out, articleFile(first.path, '.html')), 'utf8');
    expect(page).toContain('<nav class="mirror-nav"');
    expect(page).toContain(`原文链接（需翻墙）：<a href="https://www.epochtimes.com${first.path}"`);
    expect(page).toMatch(/<link rel="stylesheet"[^>]* href="(\.\.\/)+assets\/[0-9a-f]{20}\.css"/);
    expect(page).not.toMatch(/<script|<noscript/);

    // Markdown: heading, nav line, one HTML block, the footer.
    const md = readFileSync(path.join(out, articleFile(first.path, '.md')), 'utf8');
    const lines = md.split('\n');
    expect(lines[0]).toBe(`# ${first.title}`);
    expect(lines[2]).toMatch(/^首页 \| 评论 \| \[翻墙\]\(https:\/\/github\.com\/gfw-breaker\/nogfw\/blob\/master\/README\.md\)$/);
    const block = md.slice(md.indexOf('\n<div>\n'), md.indexOf('\n</div>\n') + 7);
    expect(block).not.toMatch(/\n\n/); // one HTML block: a blank line would end it
    expect(block).not.toMatch(/\n[ \t]/);
    expect(block).not.toMatch(/<(script|style|iframe|form|nav|footer)\b|\sstyle=|\sclass=/);
    expect(md).toMatch(new RegExp(`\\n---\\n\\n<footer class="mirror-footer"[^>]*>原文链接（需翻墙）：<a href="https://www.epochtimes.com${first.path}"`));
    const readme = readFileSync(path.join(out, 'gb/nsc412/README.md'), 'utf8');
    expect(readme).toContain(`- [${ITEMS[0]!.title}](../${articleFile(ITEMS[0]!.path, '.md').slice(3)})`);
    // Markdown pages link to Markdown pages, HTML pages to HTML pages.
    const mdImages = [...md.matchAll(/<img[^>]* src="([^"]+)"/g)].map((m) => m[1]!);
    for (const src of mdImages) expect(src).toMatch(/^(\.\.\/)+assets\/[0-9a-f]{20}\.png$/);

    // Every relative URL in the copy names a file of the copy.
    for (const f of files.filter((f) => /\.(html|md|css)$/.test(f))) {
      const text = readFileSync(path.join(out, f), 'utf8').replaceAll('&quot;', '"');
      const urls = [...text.matchAll(/(?:href|src)="([^"#]+)|url\(["']?([^"')]+)|\]\(([^)]+)\)|srcset="([^"]+)"/g)].flatMap((m) =>
        m[4] ? m[4].split(',').map((c) => c.trim().split(/\s+/)[0]!) : [m[1] ?? m[2] ?? m[3]!],
      );
      for (const u of urls) {
        if (/^(https?:|data:|mailto:)/.test(u)) continue;
        const target = path.posix.join(path.posix.dirname(f), decodeURIComponent(u));
        expect(existsSync(path.join(out, target)), `${f}: ${u}`).toBe(true);
      }
    }

    // No origin host anywhere but the original-link footers (and not the test origin's address).
    for (const f of files.filter((f) => !f.startsWith('.edgemirror/'))) {
      const text = readFileSync(path.join(out, f), 'latin1');
      const utf8 = readFileSync(path.join(out, f), 'utf8').replace(/<footer class="mirror-footer"[^>]*>.*?<\/footer>/gs, '');
      expect(utf8, f).not.toMatch(/epochtimes\.com/i);
      expect(text, f).not.toContain('127.0.0.1');
      expect(text, f).not.toContain('edgemirror-export.invalid');
    }
  });

  it('gives byte-identical output on two fresh runs', async () => {
    const a = path.join(work, 'fresh-a');
    const b = path.join(work, 'fresh-b');
    expect((await exportTo(a, '--format', 'both')).code).toBe(0);
    expect((await exportTo(b, '--format', 'both')).code).toBe(0);
    const ta = tree(a);
    expect(ta.size).toBeGreaterThan(2 * LIMIT + 5);
    expect([...tree(b)]).toEqual([...ta]);
  });

  it('second run: conditional requests, and one changed article rewrites that file and the channel index only', async () => {
    const out = path.join(work, 'incremental');
    expect((await exportTo(out)).code).toBe(0);
    const before = tree(out);
    const inode = (f: string) => statSync(path.join(out, f)).ino;
    const inodes = new Map([...before.keys()].map((f) => [f, inode(f)]));

    // Nothing changed at the origin: every request is conditional and answered 304; no file is touched.
    front.requests.length = 0;
    const same = await exportTo(out);
    expect(same.code).toBe(0);
    expect(same.stdout).toMatch(/origin: 0 fetched, \d+ not modified; files changed: 0 new, 0 changed, 0 removed/);
    expect(front.requests.length).toBeGreaterThan(LIMIT);
    expect(front.requests.every((r) => r.conditional)).toBe(true);
    expect([...tree(out)]).toEqual([...before]);
    for (const [f, ino] of inodes) expect(inode(f), f).toBe(ino);

    // One article changes its title (in the feed and on its page).
    const changed = ITEMS[2]!;
    const edit: [string, string] = [changed.title, `${changed.title}（更新）`];
    front.edits.set(FEED_NSC412_PATH, edit);
    front.edits.set(changed.path, edit);
    try {
      front.requests.length = 0;
      const r = await exportTo(out);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/origin: 2 fetched, \d+ not modified; files changed: 0 new, 2 changed, 0 removed/);
      const after = tree(out);
      const differ = [...after.keys()].filter((f) => after.get(f) !== before.get(f) && !f.startsWith('.edgemirror/')).sort();
      expect(differ).toEqual([articleFile(changed.path, '.html'), 'gb/nsc412/index.html'].sort());
      for (const [f, ino] of inodes) if (!differ.includes(f) && !f.startsWith('.edgemirror/')) expect(inode(f), f).toBe(ino);
      expect(readFileSync(path.join(out, 'gb/nsc412/index.html'), 'utf8')).toContain(`${changed.title}（更新）`);
    } finally {
      front.edits.clear();
    }
  });

  it('an origin failure mid-export leaves the previous export intact and exits 1', async () => {
    const out = path.join(work, 'failure');
    expect((await exportTo(out)).code).toBe(0);
    const before = tree(out);
    const broken = ITEMS[3]!.path;
    front.edits.set(ITEMS[1]!.path, [ITEMS[1]!.title, '改过的标题']);
    front.failing.set(broken, 100);
    try {
      const r = await exportTo(out, '--retries', '1');
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('export failed: 1 request could not be completed; the previous export in');
      expect(r.stderr).toContain(`https://www.epochtimes.com${broken}: the origin answered 502`);
      expect([...tree(out)]).toEqual([...before]);
      expect(readdirSync(work).filter((f) => f.includes('.export-') || f.includes('.old-'))).toEqual([]);
      // Retried once, with backoff: two attempts at the failing page.
      expect(front.requests.filter((q) => q.path === broken).length).toBeGreaterThanOrEqual(2);
    } finally {
      front.edits.clear();
      front.failing.clear();
    }
    // Once the origin is back, the next run completes.
    expect((await exportTo(out)).code).toBe(0);
  });

  it('retries a request that failed once, and says so', async () => {
    const out = path.join(work, 'retry');
    front.failing.set(ITEMS[0]!.path, 1);
    const r = await exportTo(out, '--format', 'markdown');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('warning: 1 request retried');
    expect(existsSync(path.join(out, articleFile(ITEMS[0]!.path, '.md')))).toBe(true);
    expect(existsSync(path.join(out, articleFile(ITEMS[0]!.path, '.html')))).toBe(false);
  });

  it('--link-base sends pages and assets outside the copy to the live mirror; --dry-run writes nothing', async () => {
    const out = path.join(work, 'linked');
    const r = await exportTo(out, '--assets', 'link', '--link-base', 'https://mirror.example/', '--limit', '2');
    expect(r.code).toBe(0);
    const page = readFileSync(path.join(out, articleFile(ITEMS[0]!.path, '.html')), 'utf8');
    expect(page).toMatch(/<link rel="stylesheet"[^>]* href="https:\/\/mirror\.example\/_i\/assets\/themes\/et\/css\/article\.css\?ver=5\.9\.3"/);
    expect(page).toContain('<a href="https://mirror.example/gb/nsc1025.htm">评论</a>');
    expect(page).toMatch(/<a rel="tag" href="https:\/\/mirror\.example\/gb\/tag\/%[0-9A-F]{2}/);
    expect(page).toContain(`<link rel="canonical" href="https://mirror.example${ITEMS[0]!.path}">`);
    expect(existsSync(path.join(out, 'assets'))).toBe(false);

    const before = tree(out);
    const dry = await exportTo(out, '--assets', 'link', '--link-base', 'https://mirror.example/', '--limit', '3', '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(`+ ${articleFile(ITEMS[2]!.path, '.html')}`);
    expect(dry.stdout).toContain('~ gb/nsc412/index.html');
    expect(dry.stdout).toMatch(/files would change: 1 new, 1 changed, 0 removed/);
    expect([...tree(out)]).toEqual([...before]);
  });

  it('--since takes the articles published since a date, newest first', async () => {
    const out = path.join(work, 'since');
    const since = '2022-04-17T06:00:00Z';
    const r = await exportTo(out, '--since', since, '--limit', '100', '--dry-run');
    expect(r.code).toBe(0);
    const xml = readFileSync(FEED_NSC412_FILE, 'utf8');
    const expected = [...xml.matchAll(/<item>([\s\S]*?)<\/item>/g)].filter((m) => Date.parse(/<pubDate>([^<]*)<\/pubDate>/.exec(m[1]!)![1]!) >= Date.parse(since));
    expect(expected.length).toBeGreaterThan(2);
    expect(expected.length).toBeLessThan(60);
    expect(r.stdout).toContain(`1 channel, ${expected.length} pages`);
    expect(r.stdout.split('\n').filter((l) => /^\+ gb\/\d+\/.*\.html$/.test(l))).toHaveLength(expected.length);
    expect(existsSync(out)).toBe(false); // a dry run writes nothing
  });

  it('takes articles from a channel page (links matching export.articlePattern, in page order); pages gone at the origin are left out', async () => {
    const out = path.join(work, 'channel-page');
    const r = await runCli(['export', '--config', config, '--out', out, '--from', 'https://www.epochtimes.com/gb/nsc412.htm', '--limit', '3', '--delay', '0', '--assets', 'none'], {
      timeoutMs: 90_000,
    });
    expect(r.code).toBe(0);
    // The test origin's channel page lists three articles; two of them are not on the origin (404).
    expect(r.stdout).toContain('1 channel, 1 page, 0 assets');
    expect(r.stdout.match(/warning: page left out: https:\/\/www\.epochtimes\.com\/gb\/21\/3\/\d+\/n\d+\.htm: the origin answered 404/g)).toHaveLength(2);
    const index = readFileSync(path.join(out, 'gb/nsc412/index.html'), 'utf8');
    expect(index).toContain('<li><a href="../21/3/2/n12784933.html">');
    const page = readFileSync(path.join(out, 'gb/21/3/2/n12784933.html'), 'utf8');
    expect(page).toContain('<img id="lazy-data-src"');
    expect(page).not.toMatch(/<img[^>]* (src|srcset)="(?!data:)/); // --assets none: only inline data: images are left
  });

  it('refuses a directory that holds something else, and bad options', async () => {
    const other = tempDir();
    writeFileSync(path.join(other, 'precious.txt'), 'not an export');
    const r = await exportTo(other);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('is not empty and holds no previous export');
    expect(readFileSync(path.join(other, 'precious.txt'), 'utf8')).toBe('not an export');
    const u = await runCli(['export', '--config', config, '--out', path.join(work, 'x'), '--assets', 'link']);
    expect(u.code).toBe(2);
    expect(u.stderr).toContain('--assets link needs --link-base');
  });
});
