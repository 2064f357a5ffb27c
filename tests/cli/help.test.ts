import { describe, expect, it } from 'vitest';
import { runCli } from './cli-helpers.ts';

describe('edgemirror --help (real binary)', () => {
  it('lists every command', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const command of ['serve', 'check', 'rewrite', 'init', 'help']) expect(r.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    expect(r.stdout).toContain('--config FILE');
    expect(r.stderr).toBe('');
  });

  it.each([
    ['serve', ['--port N', 'SIGHUP', 'EDGEMIRROR_PURGE_TOKEN']],
    ['check', ['--config FILE', '--quiet', 'Exit status']],
    ['rewrite', ['--diff', '--url URL', '--upstream URL', '--host HOST', '--type TYPE', '--site NAME']],
    ['init', ['ORIGIN_URL', '--out FILE', '--force', '--upstream URL', '--name NAME', '--hosts LIST']],
  ])('%s --help, -h and help %s', async (command, words) => {
    const [long, short, viaHelp] = await Promise.all([runCli([command, '--help']), runCli([command, '-h']), runCli(['help', command])]);
    for (const r of [long, short, viaHelp]) {
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^Usage: edgemirror ${command}`));
      for (const w of words) expect(r.stdout).toContain(w);
    }
    expect(short.stdout).toBe(long.stdout);
    expect(viaHelp.stdout).toBe(long.stdout);
  });

  it('usage errors exit 2 with the usage', async () => {
    const [unknown, badOption, missing, badPort, helpUnknown] = await Promise.all([
      runCli(['frobnicate']),
      runCli(['check', '--colour']),
      runCli(['rewrite']),
      runCli(['serve', '--port', 'eighty']),
      runCli(['help', 'nope']),
    ]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
    expect(unknown.stderr).toContain('Commands:');
    expect(badOption.code).toBe(2);
    expect(badOption.stderr).toMatch(/Unknown option '--colour'/);
    expect(badOption.stderr).toContain('Usage: edgemirror check');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('give a URL or a FILE');
    expect(badPort.code).toBe(2);
    expect(badPort.stderr).toContain('invalid port "eighty"');
    expect(helpUnknown.code).toBe(2);
  });
});
