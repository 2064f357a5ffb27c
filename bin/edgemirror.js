#!/usr/bin/env node
// The `edgemirror` command (npx edgemirror …): runs the TypeScript sources through tsx, no build step
// (tsx's register() needs Node ≥ 20.6). Signals reach this one process: no child is spawned.
import { register } from 'tsx/esm/api';

register();
await import('../src/node/main.ts');
