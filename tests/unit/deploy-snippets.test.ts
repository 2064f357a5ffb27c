import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * The reverse-proxy configs in docs/deploy-vps.md, checked by the real tools as the docs write them
 * (extracted from the Markdown, so docs and test cannot drift): `nginx -t` with Debian 12's nginx and
 * `caddy validate` with Debian 12's Caddy. .ci/run installs both; without them locally the tests are
 * skipped, saying so.
 */
const ROOT = path.resolve(import.meta.dirname, '../..');
const DOC = readFileSync(path.join(ROOT, 'docs/deploy-vps.md'), 'utf8');

function blocks(lang: string): string[] {
  return [...DOC.matchAll(new RegExp('^```' + lang + '\\n([\\s\\S]*?)^```$', 'gm'))].map((m) => m[1]!);
}

function which(names: string[]): string | null {
  return names.find((n) => existsSync(n)) ?? null;
}

function run(cmd: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 30_000, env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, output: stdout + stderr });
    });
  });
}

const NGINX = which(['/usr/sbin/nginx', '/usr/bin/nginx']);
const CADDY = which(['/usr/bin/caddy', '/usr/local/bin/caddy']);
const OPENSSL = which(['/usr/bin/openssl']);
const dir = mkdtempSync(path.join(tmpdir(), 'edgemirror-snippets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('docs/deploy-vps.md', () => {
  it('has one nginx site config and one Caddyfile', () => {
    expect(blocks('nginx')).toHaveLength(1);
    expect(blocks('caddyfile')).toHaveLength(1);
    // What the guide promises: keep-alive through an upstream block, health open to monitors.
    const nginx = blocks('nginx')[0]!;
    expect(nginx).toMatch(/upstream edgemirror \{[^}]*keepalive \d+;/);
    expect(nginx).toContain('location = /_mirror/health');
  });

  it.skipIf(!NGINX || !OPENSSL)(
    `nginx -t accepts the site config${NGINX && OPENSSL ? '' : ' (SKIPPED: nginx or openssl not installed; apt-get install nginx, as .ci/run does)'}`,
    async () => {
      // nginx -t loads the certificates: a throwaway self-signed pair stands in for certbot's.
      const key = path.join(dir, 'privkey.pem');
      const cert = path.join(dir, 'fullchain.pem');
      const made = await run(OPENSSL!, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=mirror-one.example', '-days', '1', '-keyout', key, '-out', cert]);
      expect(made.code, made.output).toBe(0);
      const site = blocks('nginx')[0]!
        .replaceAll('/etc/letsencrypt/live/mirror-one.example/fullchain.pem', cert)
        .replaceAll('/etc/letsencrypt/live/mirror-one.example/privkey.pem', key);
      const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `${t}_temp_path ${dir}/${t};`).join('\n');
      const conf = path.join(dir, 'nginx.conf');
      // The http {} context of Debian's /etc/nginx/nginx.conf, where sites-enabled/* is included.
      writeFileSync(conf, `pid ${dir}/nginx.pid;\nerror_log ${dir}/error.log;\nevents {}\nhttp {\n${temp}\n${site}\n}\n`);
      const r = await run(NGINX!, ['-t', '-p', dir, '-c', conf, '-e', `${dir}/error.log`]);
      expect(r.output).toContain('syntax is ok');
      expect(r.output).toContain('test is successful');
      expect(r.code, r.output).toBe(0);
    },
  );

  it.skipIf(!CADDY)(`caddy validate accepts the Caddyfile${CADDY ? '' : ' (SKIPPED: caddy not installed; apt-get install caddy, as .ci/run does)'}`, async () => {
    const file = path.join(dir, 'Caddyfile');
    writeFileSync(file, blocks('caddyfile')[0]!);
    // Caddy keeps its state under HOME/XDG dirs: a temporary one, nothing of the user's touched.
    const r = await run(CADDY!, ['validate', '--config', file, '--adapter', 'caddyfile'], { HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir });
    expect(r.output).toContain('Valid configuration');
    expect(r.code, r.output).toBe(0);
  });
});
