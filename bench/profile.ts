/**
 * Where edgemirror's CPU goes on one page under load:
 *   node --import tsx bench/profile.ts [--page tiny|article|dense|bbc|real] [--seconds 8] [--cache on] [--top 25]
 * Starts the bench origin and edgemirror (cache off unless --cache on; `node --cpu-prof`) on 127.0.0.1,
 * loads one page with autocannon for the given time, stops edgemirror (SIGTERM: the profile is written
 * on exit) and prints CPU ms per request and the top functions by self time, then the top files.
 * `--prof off` only measures CPU ms per request; `--main DIR/src/node/main.ts` runs another copy of the code
 * (before/after comparisons). `--access-log off` measures without the access log (default: json lines to a pipe, as in bench/run.ts).
 * Bounded: one page, one server, a time limit; every child is stopped by PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { BBC_MIRROR_HOST } from './pages.ts';
import { cpuMs } from './procstat.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({
  options: {
    page: { type: 'string', default: 'tiny' },
    seconds: { type: 'string', default: '8' },
    cache: { type: 'string', default: 'off' },
    top: { type: 'string', default: '25' },
    connections: { type: 'string', default: '20' },
    keep: { type: 'string' },
    'access-log': { type: 'string', default: 'json' },
    prof: { type: 'string', default: 'on' },
    main: { type: 'string', default: 'src/node/main.ts' },
  },
});
const seconds = Math.min(60, Math.max(1, Number(values.seconds)));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'edgemirror-profile-'));
const children: ChildProcess[] = [];

function start(args: string[], ready: RegExp): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err = (err + d).slice(-2000)));
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`start-up timed out: ${args.join(' ')}\n${err}`)), 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = ready.exec(buf);
      if (m) {
        clearTimeout(timer);
        buf = '';
        child.stdout!.removeAllListeners('data');
        child.stdout!.resume();
        resolve({ child, port: Number(m[1]) });
      } else buf = buf.slice(-4000);
    });
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${args.join(' ')}\n${err}`)));
  });
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

/** Self time per function and per file, from a V8 .cpuprofile. */
function selfTimes(file: string, fromUs: number, toUs: number): { total: number; byFunction: [string, number][]; byFile: [string, number][]; inclusive: [string, number][] } {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number };
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const incl = new Map<string, number>();
  const fn = new Map<string, number>();
  const files = new Map<string, number>();
  let total = 0;
  // Sample times are on the monotonic clock, like process.hrtime: only the measured load counts.
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]!)!;
    const us = profile.timeDeltas[i] ?? 0;
    t += us;
    if (t < fromUs || t > toUs) continue;
    const { functionName, url } = node.callFrame;
    if (functionName === '(idle)' || functionName === '(program)') continue;
    total += us;
    const where = url ? url.replace(/^file:\/\//, '').replace(ROOT, '').replace(/^.*node_modules\//, 'node_modules/') : '';
    const key = frameKey(node);
    fn.set(key, (fn.get(key) ?? 0) + us);
    // Inclusive time: every distinct function on the sampled stack (the project's own code only).
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const k = frameKey(byId.get(id)!);
      if (!k.includes(' src/') || seen.has(k)) continue;
      seen.add(k);
      incl.set(k, (incl.get(k) ?? 0) + us);
    }
    const fileKey = where ? where.replace(/^node_modules\/((@[^/]+\/)?[^/]+).*/, 'node_modules/$1') : functionName;
    files.set(fileKey, (files.get(fileKey) ?? 0) + us);
  }
  const sort = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);
  return { total, byFunction: sort(fn), byFile: sort(files), inclusive: sort(incl) };
}

function frameKey(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url ? url.replace(/^file:\/\//, '').replace(ROOT, '').replace(/^.*node_modules\//, 'node_modules/') : '';
  return `${functionName || '(anonymous)'} ${where ? `${where}:${lineNumber + 1}` : ''}`.trim();
}

async function main(): Promise<void> {
  const origin = await start(['--import', 'tsx', 'bench/origin.ts'], /"event":"listening","port":(\d+)/);
  const base = `http://127.0.0.1:${origin.port}`;
  const config = JSON.parse(fs.readFileSync(path.join(ROOT, 'config', 'default.json'), 'utf8'));
  delete config.$schema;
  const pagesMod = await import('./pages.ts');
  const bbc = pagesMod.loadRealPage();
  config.sites.unshift({ ...config.sites[0], name: 'bbc', hosts: [BBC_MIRROR_HOST], origins: bbc.origins, links: { external: 'keep' }, remove: [] });
  for (const site of config.sites) for (const o of site.origins) o.upstream = base;
  config.cache = { ...(config.cache ?? {}), enabled: values.cache === 'on' };
  config.server = { ...(config.server ?? {}), accessLog: values['access-log'] };
  const configFile = path.join(tmp, 'config.json');
  fs.writeFileSync(configFile, JSON.stringify(config));
  const profDir = values.keep ?? path.join(tmp, 'prof');
  fs.mkdirSync(profDir, { recursive: true });
  const profArgs = values.prof === 'off' ? [] : ['--cpu-prof', '--cpu-prof-dir', profDir];
  const mirror = await start([...profArgs, '--import', 'tsx', values.main!, '--config', configFile, '--port', '0', '--host', '127.0.0.1'], /serving .* on http:\/\/[^\s:]+:(\d+)/);

  const paths: Record<string, { path: string; host?: string }> = {
    tiny: { path: pagesMod.TINY_PATH },
    article: { path: pagesMod.ARTICLE_PATH },
    dense: { path: pagesMod.DENSE_PATH },
    bbc: { path: bbc.path, host: BBC_MIRROR_HOST },
    real: { path: pagesMod.REAL_DEFAULT_PATH },
  };
  const page = paths[values.page!];
  if (!page) throw new Error(`unknown page ${values.page}`);
  const url = `http://127.0.0.1:${mirror.port}${page.path}`;
  const run = (duration: number) =>
    autocannon({ url, connections: Number(values.connections), duration, headers: page.host ? { host: page.host } : undefined });
  await run(1); // warm-up (JIT), not counted
  const before = cpuMs(mirror.child.pid!);
  const fromUs = Number(process.hrtime.bigint() / 1000n);
  const result = await run(seconds);
  const toUs = Number(process.hrtime.bigint() / 1000n);
  const used = cpuMs(mirror.child.pid!) - before;
  await stop(mirror.child);
  const file = fs.readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile')).map((f) => path.join(profDir, f)).filter((f) => f.includes(`.${mirror.child.pid}.0.`))[0]; // thread 0: the main thread (tsx's loader runs in a worker)
  console.log(`${values.page} (${values.cache === 'on' ? 'cache on' : 'cache off'}): ${result['2xx']} responses in ${seconds} s, ${(result['2xx'] / seconds).toFixed(0)} req/s, ${(used / result['2xx']).toFixed(3)} CPU ms/req${values.prof === 'off' ? '' : ' (profiler on: figures are inflated)'}`);
  if (values.prof === 'off') return;
  if (!file) throw new Error('no profile written');
  const { total, byFunction, byFile, inclusive } = selfTimes(file, fromUs, toUs);
  const top = Number(values.top);
  const pct = (us: number) => `${((us / total) * 100).toFixed(1).padStart(5)}%`;
  console.log(`\ntop ${top} functions by self time (of ${(total / 1000).toFixed(0)} ms sampled, idle excluded):`);
  for (const [name, us] of byFunction.slice(0, top)) console.log(`${pct(us)}  ${name}`);
  console.log(`\nby file / package:`);
  for (const [name, us] of byFile.slice(0, 15)) console.log(`${pct(us)}  ${name}`);
  console.log(`\nthe project's functions by inclusive time (self + callees):`);
  for (const [name, us] of inclusive.slice(0, 20)) console.log(`${pct(us)}  ${name}`);
  if (values.keep) console.log(`\nprofile: ${file}`);
}

main()
  .catch((err) => {
    console.error(err?.stack ?? err);
    process.exitCode = 1;
  })
  .finally(async () => {
    for (const c of children) await stop(c);
    fs.rmSync(tmp, { recursive: true, force: true });
  });
