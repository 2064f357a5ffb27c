import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { buildWorkerBundle } from './worker-bundle.ts';

/** Builds the Worker once per run (as `wrangler deploy --dry-run` does) and hands it to every test file. */
export default async function setup(project: TestProject): Promise<() => void> {
  const outdir = mkdtempSync(path.join(os.tmpdir(), 'edgemirror-worker-'));
  project.provide('workerBundle', await buildWorkerBundle(outdir));
  return () => rmSync(outdir, { recursive: true, force: true });
}
