import type { ServerConfig } from '../config/types.ts';
import { FastHtmlEngine } from '../rewrite/fast-html-engine.ts';
import type { HtmlEngine } from '../rewrite/html-engine.ts';
import { WasmHtmlEngine } from './wasm-html-engine.ts';

/** The HTML engine named by server.htmlEngine on Node (src/worker/ picks its own for Workers). */
export function createHtmlEngine(name: ServerConfig['htmlEngine'], options: { onRewriteTime?: (seconds: number) => void } = {}): HtmlEngine {
  return name === 'lol-html' ? new WasmHtmlEngine(options) : new FastHtmlEngine(options);
}
