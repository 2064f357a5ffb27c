import { chromium } from 'playwright-core';
import { it } from 'vitest';
import { startSetup } from '../helpers/mirror.ts';
import { CHROMIUM, LAUNCH_ARGS } from './harness.ts';
it('dbg', async () => {
  const setup = await startSetup({}, { accessLog: 'json' });
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...LAUNCH_ARGS, '--short-reporting-delay'] });
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  const r = await page.goto(setup.base + '/gb/zoo/img-src.htm');
  console.log(JSON.stringify(await r!.allHeaders()));
  await new Promise((r) => setTimeout(r, 75000));
  console.log((await (await fetch(setup.base + '/_mirror/metrics')).text()).split('\n').filter((l) => l.includes('leak')).join('\n'));
  await browser.close();
  await setup.close();
}, 120000);
