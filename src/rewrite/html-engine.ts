import { parseSelector, SelectorError } from './fast-html/selector.ts';

/**
 * The streaming HTML engine seen by the rewrite rules: the subset of Cloudflare's HTMLRewriter API we use.
 * Workers pass the native HTMLRewriter (src/worker/), Node a WASM build of the same lol-html (src/node/).
 * Handlers must be synchronous: the WASM build handles async handlers far more slowly.
 */
export interface ContentOptions {
  html?: boolean;
}

export interface HtmlEndTag {
  before(content: string, options?: ContentOptions): unknown;
  after(content: string, options?: ContentOptions): unknown;
}

export interface HtmlElement {
  tagName: string;
  /** The element's namespace (HTML, SVG or MathML), where the engine tells. */
  readonly namespaceURI?: string;
  readonly removed: boolean;
  getAttribute(name: string): string | null;
  hasAttribute(name: string): boolean;
  setAttribute(name: string, value: string): unknown;
  removeAttribute(name: string): unknown;
  before(content: string, options?: ContentOptions): unknown;
  after(content: string, options?: ContentOptions): unknown;
  prepend(content: string, options?: ContentOptions): unknown;
  append(content: string, options?: ContentOptions): unknown;
  remove(): unknown;
  onEndTag(handler: (end: HtmlEndTag) => void): void;
}

export interface HtmlText {
  readonly text: string;
  /** Removed or replaced by an earlier handler. */
  readonly removed: boolean;
  readonly lastInTextNode: boolean;
  replace(content: string, options?: ContentOptions): unknown;
  remove(): unknown;
}

export interface HtmlDocumentEnd {
  append(content: string, options?: ContentOptions): unknown;
}

export interface ElementHandlers {
  element?(element: HtmlElement): void;
  text?(text: HtmlText): void;
}

export interface DocumentHandlers {
  end?(end: HtmlDocumentEnd): void;
}

/** Where rewrite rules register their selectors and handlers for one document. */
export interface HtmlHandlerRegistry {
  on(selector: string, handlers: ElementHandlers): unknown;
  onDocument(handlers: DocumentHandlers): unknown;
}

export interface HtmlEngine {
  /** Streams `body` (UTF-8 bytes) through a rewriter set up by `register`. */
  rewrite(body: ReadableStream<Uint8Array>, register: (registry: HtmlHandlerRegistry) => void): ReadableStream<Uint8Array>;
  /** A problem with a CSS selector, or null if the engine accepts it (checked at start-up for `remove`). */
  checkSelector(selector: string): string | null;
}

/**
 * The `remove` selectors outside the selector language every engine runs (the fast engine's checker,
 * pure JS, is the reference), one line each with its JSON path: the same text, and the same configs
 * accepted, on every runtime and engine.
 */
export function selectorProblems(sites: readonly { remove: readonly string[] }[], checker: Pick<HtmlEngine, 'checkSelector'> = PORTABLE_SELECTORS): string[] {
  const problems: string[] = [];
  sites.forEach((site, i) =>
    site.remove.forEach((selector, j) => {
      const problem = checker.checkSelector(selector);
      if (problem) problems.push(`sites[${i}].remove[${j}] is not a valid selector (${JSON.stringify(selector)}): ${problem}`);
    }),
  );
  return problems;
}

/** The selector language of the fast engine, which lol-html (WASM and native) also runs. */
export const PORTABLE_SELECTORS: Pick<HtmlEngine, 'checkSelector'> = {
  checkSelector(selector) {
    try {
      parseSelector(selector);
      return null;
    } catch (err) {
      if (err instanceof SelectorError) return err.message;
      throw err;
    }
  },
};
