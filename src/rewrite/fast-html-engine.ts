import type {
  ContentOptions,
  DocumentHandlers,
  ElementHandlers,
  HtmlDocumentEnd,
  HtmlElement,
  HtmlEndTag,
  HtmlEngine,
  HtmlHandlerRegistry,
  HtmlText,
} from './html-engine.ts';
import { PORTABLE_SELECTORS } from './html-engine.ts';
import { decode, encode, equalsLower, escapeText, internName, isAlpha, isWs, Output } from './fast-html/bytes.ts';
import { complexMatches, parseSelector, type ComplexSelector, type MatchTarget } from './fast-html/selector.ts';

/**
 * A streaming HTML rewriter in plain JavaScript (Web standards only), implementing the same HtmlEngine
 * interface as lol-html (src/node/wasm-html-engine.ts, Workers' HTMLRewriter) for what
 * src/rewrite/html-rules.ts and the operator's `remove` selectors use.
 *
 * Design:
 * - A byte-level tokenizer (UTF-8 in, UTF-8 out): tags, comments, doctypes are ASCII-delimited, so the
 *   input is never decoded as a whole. Bytes nothing touches are copied to the output as they are
 *   (byte-for-byte identical, invalid UTF-8 included); only attribute values a handler reads and text
 *   a text handler sees are decoded (invalid sequences as U+FFFD, like lol-html).
 * - The tokenizer follows the HTML spec's states that matter for finding tokens: data, tag open/name,
 *   attribute name/value (double, single, unquoted), self-closing, markup declarations (comments incl.
 *   `<!-->`, `<!--->`, `--!>`; bogus comments `<?…>`, `<!x…>`, `</ …>`; doctype; CDATA only in foreign
 *   content), RAWTEXT/RCDATA/script data (with the escaped and double-escaped states) end-tag
 *   detection, and PLAINTEXT. It is resumable at any byte: a chunk boundary inside a token carries only
 *   that token, and scanning resumes where it stopped (a multi-MB attribute costs linear time).
 * - Open elements: void elements are not pushed, an end tag pops up to the nearest open element of
 *   that name (or is ignored). By default (tree: 'browser') the browser's tree is followed where it
 *   decides what a handler sees or where inserted content lands: start tags end elements whose end tag
 *   HTML implies (`<li>` ends an open li, `<div>` a p, `<td>` a cell…, see `impliedEnd`), a body
 *   starts where the browser starts one even without a `<body>` tag (handlers for `body` see it), an
 *   element left open ends at the end of the document (its end-tag handlers run there), content
 *   inserted at an element's end comes after end tags for what the browser still had open inside it,
 *   and a document cut off inside a construct is closed the way the browser closes it (an unfinished
 *   tag dropped, a comment or raw text ended) before anything is appended. tree: 'lol-html' tracks
 *   elements exactly as lol-html does (no implied end tags): what the differential tests compare.
 *   Foreign content (svg/math, integration points, break-out tags) is tracked to know when `<style>`,
 *   `<script>`… are raw text and when `<![CDATA[` is CDATA.
 * - Bounded and linear: every lookup on the open elements is O(1) (per-name chains, counts kept on
 *   push), at most MAX_OPEN_ELEMENTS are tracked, a tag longer than MAX_TAG_BYTES fails the response
 *   (it cannot be rewritten without holding it whole), comments and bogus comments longer than
 *   STREAM_TOKEN_FROM are copied out as they arrive (nothing in them is rewritten), text is streamed.
 *   The stream adapter hands the event loop back after every TURN_BYTES of input.
 * - Handlers are called only for start tags matching a registered selector (indexed by tag name and by
 *   attribute name); text handlers only while an element matching their selector is open.
 *
 * Deliberate differences from lol-html (the HTML spec / parse5 is followed instead):
 * - `<svg/>` and `<math/>` (self-closing, in HTML content) do not enter foreign content: the elements
 *   are empty. lol-html stays in SVG/MathML after them, so a later `<style>`/`<script>`/`<title>`/
 *   `<textarea>` is not raw text to it and a later `<![CDATA[` is CDATA to it.
 */

// ---------------------------------------------------------------------------------------------
// Constants.

const LT = 60;
const GT = 62;
const SLASH = 47;
const BANG = 33;
const QUESTION = 63;
const DASH = 45;
const DQUOTE = 34;
const SQUOTE = 39;
const EQ = 61;

const enum S {
  Data,
  TagOpen,
  EndTagOpen,
  TagName,
  BeforeAttrName,
  AttrName,
  AfterAttrName,
  BeforeAttrValue,
  AttrValueDq,
  AttrValueSq,
  AttrValueUq,
  AfterAttrValueQuoted,
  SelfClosing,
  Markup,
  Comment,
  Bogus,
  Cdata,
  RawText,
  Script,
  PlainText,
}

const enum Ns {
  Html,
  Svg,
  Math,
}

/** Script data sub-states (HTML spec 13.2.5.4 ff.). */
const enum Sc {
  Normal,
  Esc,
  EscDash,
  EscDashDash,
  Dbl,
  DblDash,
  DblDashDash,
}

const VOID = new Set(['area', 'base', 'basefont', 'bgsound', 'br', 'col', 'embed', 'hr', 'img', 'input', 'keygen', 'link', 'meta', 'param', 'source', 'track', 'wbr']);
const RAWTEXT = new Set(['style', 'xmp', 'iframe', 'noembed', 'noframes', 'noscript']);
const RCDATA = new Set(['title', 'textarea']);
const BREAKOUT = new Set([
  'b', 'big', 'blockquote', 'body', 'br', 'center', 'code', 'dd', 'div', 'dl', 'dt', 'em', 'embed', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'head', 'hr', 'i',
  'img', 'li', 'listing', 'menu', 'meta', 'nobr', 'ol', 'p', 'pre', 'ruby', 's', 'small', 'span', 'strong', 'strike', 'sub', 'sup', 'table', 'tt', 'u',
  'ul', 'var',
]);
const SVG_HTML_POINTS = new Set(['foreignobject', 'desc', 'title']);
const MATH_TEXT_POINTS = new Set(['mi', 'mo', 'mn', 'ms', 'mtext']);

/**
 * Limits per response. A start or end tag is held whole until it ends (handlers read and change its
 * attributes): one longer than this fails the response (the reader sees an aborted transfer). lol-html
 * on Workers stops at 3 MiB for the same reason; legitimate tags this long are multi-MB inline data:
 * URLs (a 3 MB one must pass, as it does on Node's lol-html). 4 MiB keeps 20 hostile responses at once
 * under 256 MB (docs/html-engine.md).
 */
export const MAX_TAG_BYTES = 4 * 1024 * 1024;
/** A comment, doctype or bogus comment longer than this is copied out as it arrives instead of held. */
export const STREAM_TOKEN_FROM = 64 * 1024;
/**
 * Open elements tracked (the stack). Deeper elements are still rewritten but not tracked (no end-tag
 * work, removal covers only their start tag). Browsers flatten trees deeper than a few hundred levels
 * too (Chromium: 512).
 */
export const MAX_OPEN_ELEMENTS = 1024;
/** The stream adapter yields to the event loop after this much input (bounded work per turn). */
export const TURN_BYTES = 64 * 1024;

/** The open-element categories of the HTML tree builder the implied-end-tag rules consult. */
const F_BREAKER = 1; // "special" minus address, div, p: ends the search for an open li/dd/dt
const F_BUTTON_SCOPE = 2; // bounds "has a p element in button scope"
const F_TABLE_SCOPE = 4; // bounds "in table scope"
const F_HEADING = 8;
const CATEGORY = new Map<string, number>();
for (const n of ('applet area article aside base basefont bgsound blockquote body br button caption center col colgroup dd details dir dl dt embed ' +
  'fieldset figcaption figure footer form frame frameset h1 h2 h3 h4 h5 h6 head header hgroup hr html iframe img input keygen li link listing main ' +
  'marquee menu meta nav noembed noframes noscript object ol param plaintext pre script search section select source style summary table tbody td ' +
  'template textarea tfoot th thead title tr track ul wbr xmp mi mo mn ms mtext annotation-xml foreignobject desc').split(' ')) CATEGORY.set(n, F_BREAKER);
for (const n of 'applet caption html table td th marquee object template button mi mo mn ms mtext annotation-xml foreignobject desc title'.split(' ')) {
  CATEGORY.set(n, (CATEGORY.get(n) ?? 0) | F_BUTTON_SCOPE);
}
for (const n of ['html', 'table', 'template']) CATEGORY.set(n, CATEGORY.get(n)! | F_TABLE_SCOPE);
for (const n of ['h1', 'h2', 'h3', 'h4', 'h5', 'h6']) CATEGORY.set(n, CATEGORY.get(n)! | F_HEADING);
/** Start tags that close an open p in button scope. */
const CLOSES_P = new Set(
  ('address article aside blockquote center details dialog dir div dl fieldset figcaption figure footer header hgroup main menu nav ol p search ' +
    'section summary ul h1 h2 h3 h4 h5 h6 pre listing form plaintext xmp hr li dd dt').split(' '),
);
/** Start tags that belong to the document's head (or before it): they do not start a body. */
const HEAD_CONTENT = new Set(['html', 'head', 'base', 'basefont', 'bgsound', 'link', 'meta', 'noframes', 'script', 'style', 'template', 'title', 'noscript']);
/** Public identifiers that put a document in quirks mode (prefixes, lower case; HTML spec 13.2.6.4.1). */
const QUIRKS_PUBLIC =
  /^(?:\+\/\/silmaril\/\/|-\/\/as\/\/|-\/\/advasoft|-\/\/ietf\/\/dtd html|-\/\/metrius\/\/|-\/\/microsoft\/\/|-\/\/netscape comm\. corp\.\/\/|-\/\/o'reilly|-\/\/softquad|-\/\/spyglass\/\/|-\/\/sq\/\/|-\/\/sun microsystems corp\.\/\/|-\/\/w3c\/\/dtd html 3|-\/\/w3c\/\/dtd html 4\.0 (?:frameset|transitional)\/\/|-\/\/w3c\/\/dtd html experimental|-\/\/w3c\/\/dtd w3 html\/\/|-\/\/w3o\/\/dtd w3 html 3\.0\/\/|-\/\/webtechs\/\/dtd mozilla html)/;

/** Whether a doctype token (`<!doctype …>`, latin1) puts the document in quirks mode (simplified: public id prefixes). */
export function doctypeQuirks(token: string): boolean {
  const m = /^<!doctype\s*([^\s>]*)\s*([^>]*)/i.exec(token);
  if (!m || m[1]!.toLowerCase() !== 'html') return true;
  const rest = m[2]!;
  const pub = /^public\s*(["'])([^"'>]*)\1?\s*(?:(["'])([^"'>]*)\3?)?/i.exec(rest);
  if (!pub) return false;
  const id = pub[2]!.toLowerCase();
  const hasSystem = pub[4] !== undefined;
  if (id === '-//w3o//dtd w3 html strict 3.0//en//' || id === '-/w3c/dtd html 4.0 transitional/en' || id === 'html') return true;
  if (QUIRKS_PUBLIC.test(id)) return true;
  return !hasSystem && /^-\/\/w3c\/\/dtd html 4\.01 (?:frameset|transitional)\/\//.test(id);
}

const SCRIPT_NAME = encode('script');
const DOCTYPE = encode('doctype');
const CDATA_OPEN = encode('[CDATA[');

// ---------------------------------------------------------------------------------------------
// Handler errors: as in the WASM engine, a throwing handler leaves the page streaming.

let handlerErrors = 0;
function reportHandlerError(err: unknown): void {
  handlerErrors++;
  if (handlerErrors <= 5) console.error(`[edgemirror] HTML handler error (node left unchanged): ${(err as Error)?.message ?? err}`);
}

function content(text: string, options?: ContentOptions): string {
  return options?.html ? text : escapeText(text);
}

// ---------------------------------------------------------------------------------------------
// Registration.

interface Registration {
  index: number;
  element?: (el: HtmlElement) => void;
  text?: (t: HtmlText) => void;
}

interface Candidate {
  reg: Registration;
  sel: ComplexSelector;
  /**
   * For a selector that is one compound of a tag and/or `[name]` tests only (`img[src]`, `[data-src]`):
   * those names' UTF-8, tested on the tag's bytes without the general matcher; null otherwise.
   */
  exists: Uint8Array[] | null;
}

class Handlers implements HtmlHandlerRegistry {
  regs: Registration[] = [];
  byTag = new Map<string, Candidate[]>();
  byAttr = new Map<string, Candidate[]>();
  universal: Candidate[] = [];
  /** Attribute-name lengths some byAttr key has (a cheap filter before building a name string). */
  attrLengths = new Uint8Array(256);
  needAncestorAttrs = false;
  documentEnd: ((end: HtmlDocumentEnd) => void)[] = [];

  on(selector: string, handlers: ElementHandlers): void {
    let list: ComplexSelector[];
    try {
      list = parseSelector(selector);
    } catch (err) {
      throw new TypeError(`Parser error: ${(err as Error).message}`);
    }
    const reg: Registration = { index: this.regs.length, element: handlers.element, text: handlers.text };
    this.regs.push(reg);
    if (!reg.element && !reg.text) return;
    for (const sel of list) {
      const subject = sel.parts[0]!;
      const simple = sel.parts.length === 1 && subject.nots.length === 0 && subject.attrs.every((t) => t.op === 'exists');
      const cand: Candidate = { reg, sel, exists: simple ? subject.attrs.map((t) => encode(t.name)) : null };
      if (sel.parts.slice(1).some((p) => p.attrs.length > 0 || p.nots.length > 0)) this.needAncestorAttrs = true;
      if (subject.tag !== null) push(this.byTag, subject.tag, cand);
      else if (subject.attrs.length > 0) {
        const name = subject.attrs[0]!.name;
        push(this.byAttr, name, cand);
        if (name.length < 256) this.attrLengths[name.length] = 1;
        else this.universal.push(cand);
      } else this.universal.push(cand);
    }
  }

  onDocument(handlers: DocumentHandlers): void {
    if (handlers.end) this.documentEnd.push(handlers.end);
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

// ---------------------------------------------------------------------------------------------
// Elements, end tags, text chunks.

/** An attribute of a start tag a handler changed: offsets into the element's copy of its tag bytes. */
interface AttrRecord {
  /** Lower-case name of an attribute a handler added (ns < 0); '' for one in the source (matched by its bytes). */
  lname: string;
  /** Name [ns, ne), value [vs, ve) (vs < 0: no value), the attribute as written [ns, re); ns < 0: added by a handler. */
  ns: number;
  ne: number;
  vs: number;
  ve: number;
  re: number;
  /** Set by a handler. */
  set?: string;
}

class OpenElement implements MatchTarget {
  el: FastElement | null = null;
  text: Registration[] | null = null;
  removed = false;
  /** Set on push: the next open element of the same name below (-1: none). */
  prevSame = -1;
  /** Set on push: removed elements at or below this one. */
  removedUpTo = 0;
  /** Set on push: the nearest element at or below this one in each CATEGORY (-1: none). */
  breaker = -1;
  buttonScope = -1;
  tableScope = -1;
  heading = false;
  constructor(
    readonly name: string,
    private readonly attrs: [string, string][] | null,
  ) {}
  attr(name: string): string | null {
    if (!this.attrs) return null;
    for (const [n, v] of this.attrs) if (n === name) return v;
    return null;
  }
}

const EMPTY = new Uint8Array(0);
const nameBytesCache = new Map<string, Uint8Array>();
function nameBytes(lname: string): Uint8Array {
  let b = nameBytesCache.get(lname);
  if (!b) {
    b = encode(lname);
    if (nameBytesCache.size < 1000) nameBytesCache.set(lname, b);
  }
  return b;
}

const NONE: string[] = [];
const NONE_HANDLERS: ((end: HtmlEndTag) => void)[] = [];

class FastElement implements HtmlElement {
  /** Reading attributes from the tokenizer's spans (only during the start tag's handlers). */
  live = true;
  attrs: AttrRecord[] | null = null;
  modified = false;
  renamed: string | null = null;
  removedFlag = false;
  // Shared empty lists until a handler adds something (most matched elements only change attributes).
  befores: string[] = NONE;
  afters: string[] = NONE;
  prepends: string[] = NONE;
  appends: string[] = NONE;
  endHandlers: ((end: HtmlEndTag) => void)[] = NONE_HANDLERS;

  constructor(
    private readonly rw: FastRewriter,
    readonly lname: string,
    readonly canHaveEndTag: boolean,
  ) {}

  get tagName(): string {
    return this.renamed === null ? this.lname : this.renamed.toLowerCase();
  }
  set tagName(name: string) {
    this.renamed = String(name);
    this.modified = true;
  }
  get removed(): boolean {
    return this.removedFlag;
  }

  /** The start tag's bytes (copied when attributes are first changed or kept for an end-tag handler). */
  private tag: Uint8Array = EMPTY;

  /**
   * Changes made while the tag is live and nothing was removed, kept without attribute records: new
   * values of source attributes by index, and attributes added (in order). materialize() folds them in.
   */
  private sets: (string | undefined)[] | null = null;
  private added: AttrRecord[] | null = null;

  private materialize(): AttrRecord[] {
    if (this.attrs) return this.attrs;
    const list = this.records();
    if (this.sets) for (let i = 0; i < this.sets.length; i++) if (this.sets[i] !== undefined) list[i]!.set = this.sets[i];
    if (this.added) for (const a of this.added) list.push(a);
    this.sets = this.added = null;
    this.attrs = list;
    return list;
  }

  private records(): AttrRecord[] {
    const rw = this.rw;
    const buf = rw.buf;
    const n = rw.nAttrs;
    const list: AttrRecord[] = new Array(n);
    if (n > 0) {
      const from = rw.aNS[0]!;
      this.tag = buf.slice(from, rw.aRE[n - 1]!);
      for (let i = 0; i < n; i++) {
        const ns = rw.aNS[i]!;
        const vs = rw.aVS[i]!;
        list[i] = { lname: '', ns: ns - from, ne: rw.aNE[i]! - from, vs: vs < 0 ? -1 : vs - from, ve: rw.aVE[i]! - from, re: rw.aRE[i]! - from };
      }
    }
    return list;
  }

  /** An attribute added by a handler (fast mode), or undefined. */
  private addedNamed(lname: string): AttrRecord | undefined {
    if (this.added) for (const a of this.added) if (a.lname === lname) return a;
    return undefined;
  }

  /**
   * Whether attribute `a` is named `lname` (`bytes`: its UTF-8): a source attribute's name is compared
   * as bytes, ASCII case-insensitively (as findAttr does while the tag is live), with no string made.
   */
  private named(a: AttrRecord, lname: string, bytes: Uint8Array): boolean {
    return a.ns < 0 ? a.lname === lname : equalsLower(this.tag, a.ns, a.ne, bytes);
  }

  /** Called when the start tag's handlers are done: the tokenizer's spans are about to be reused. */
  detach(): void {
    // Fast-mode changes are serialized from the live spans right after this; an end-tag handler's
    // element keeps records (and its own copy of the tag).
    if (this.endHandlers.length > 0) this.materialize();
    this.live = false;
  }

  getAttribute(name: string): string | null {
    const lname = String(name).toLowerCase();
    if (!this.attrs) {
      if (!this.live) return null;
      const i = this.rw.findAttr(nameBytes(lname));
      if (i < 0) return this.addedNamed(lname)?.set ?? null;
      const set = this.sets?.[i];
      return set !== undefined ? set : this.rw.attrValue(i);
    }
    const bytes = nameBytes(lname);
    for (const a of this.attrs) {
      if (!this.named(a, lname, bytes)) continue;
      if (a.set !== undefined) return a.set;
      return a.vs < 0 ? '' : decode(this.tag, a.vs, a.ve);
    }
    return null;
  }
  hasAttribute(name: string): boolean {
    const lname = String(name).toLowerCase();
    if (!this.attrs) return this.live && (this.rw.findAttr(nameBytes(lname)) >= 0 || this.addedNamed(lname) !== undefined);
    const bytes = nameBytes(lname);
    return this.attrs.some((a) => this.named(a, lname, bytes));
  }
  setAttribute(name: string, value: string): this {
    const lname = String(name).toLowerCase();
    if (!this.attrs && this.live) {
      // Fast mode: no attribute records until something needs them (see serialize).
      const i = this.rw.findAttr(nameBytes(lname));
      if (i >= 0) (this.sets ??= [])[i] = String(value);
      else {
        const a = this.addedNamed(lname);
        if (a) a.set = String(value);
        else (this.added ??= []).push({ lname, ns: -1, ne: -1, vs: -1, ve: -1, re: -1, set: String(value) });
      }
      this.modified = true;
      return this;
    }
    const list = this.materialize();
    const bytes = nameBytes(lname);
    const found = list.find((a) => this.named(a, lname, bytes));
    if (found) found.set = String(value);
    else list.push({ lname, ns: -1, ne: -1, vs: -1, ve: -1, re: -1, set: String(value) });
    this.modified = true;
    return this;
  }
  removeAttribute(name: string): this {
    const lname = String(name).toLowerCase();
    const list = this.materialize();
    const bytes = nameBytes(lname);
    const i = list.findIndex((a) => this.named(a, lname, bytes));
    if (i >= 0) {
      list.splice(i, 1);
      this.modified = true;
    }
    return this;
  }
  before(text: string, options?: ContentOptions): this {
    if (this.befores === NONE) this.befores = [];
    this.befores.push(content(text, options));
    return this;
  }
  after(text: string, options?: ContentOptions): this {
    if (this.afters === NONE) this.afters = [];
    this.afters.push(content(text, options));
    return this;
  }
  prepend(text: string, options?: ContentOptions): this {
    if (!this.canHaveEndTag) return this;
    if (this.prepends === NONE) this.prepends = [];
    this.prepends.push(content(text, options));
    return this;
  }
  append(text: string, options?: ContentOptions): this {
    if (!this.canHaveEndTag) return this;
    if (this.appends === NONE) this.appends = [];
    this.appends.push(content(text, options));
    return this;
  }
  remove(): this {
    this.removedFlag = true;
    return this;
  }
  onEndTag(handler: (end: HtmlEndTag) => void): void {
    if (!this.canHaveEndTag) throw new TypeError('Parser error: No end tag.');
    if (this.endHandlers === NONE_HANDLERS) this.endHandlers = [];
    this.endHandlers.push(handler);
  }

  /** The start tag as lol-html writes a modified one: attributes as written, changed ones as name="value". */
  serialize(out: Output, selfClosing: boolean, rawName: Uint8Array): void {
    out.string('<');
    if (this.renamed !== null) out.string(this.renamed);
    else out.bytes(rawName, 0, rawName.length);
    if (!this.attrs) {
      // Fast mode, right after the handlers: the tokenizer's spans still hold the tag.
      const rw = this.rw;
      const buf = rw.buf;
      const n = rw.nAttrs;
      const sets = this.sets;
      for (let i = 0; i < n; i++) {
        const set = sets === null ? undefined : sets[i];
        out.string(' ');
        if (set === undefined) out.bytes(buf, rw.aNS[i]!, rw.aRE[i]!);
        else {
          out.bytes(buf, rw.aNS[i]!, rw.aNE[i]!);
          out.string(`="${set.includes('"') ? set.replaceAll('"', '&quot;') : set}"`);
        }
      }
      const added = this.added;
      if (added) for (const a of added) out.string(` ${a.lname}="${a.set!.includes('"') ? a.set!.replaceAll('"', '&quot;') : a.set}"`);
      out.string(selfClosing ? (n + (added ? added.length : 0) > 0 ? ' />' : '/>') : '>');
      return;
    }
    const attrs = this.materialize();
    const tag = this.tag;
    for (const a of attrs) {
      if (a.set === undefined) {
        out.string(' ');
        out.bytes(tag, a.ns, a.re);
      } else if (a.ns >= 0) {
        out.string(' ');
        out.bytes(tag, a.ns, a.ne);
        out.string(`="${a.set.includes('"') ? a.set.replaceAll('"', '&quot;') : a.set}"`);
      } else {
        out.string(` ${a.lname}="${a.set.includes('"') ? a.set.replaceAll('"', '&quot;') : a.set}"`);
      }
    }
    out.string(selfClosing ? (this.attrs!.length > 0 ? ' />' : '/>') : '>');
  }
}

class EndTagMutations implements HtmlEndTag {
  beforeList: string[] = [];
  afterList: string[] = [];
  before(text: string, options?: ContentOptions): this {
    this.beforeList.push(content(text, options));
    return this;
  }
  after(text: string, options?: ContentOptions): this {
    this.afterList.push(content(text, options));
    return this;
  }
}

class TextChunk implements HtmlText {
  removed = false;
  replacement: string | null = null;
  constructor(
    readonly text: string,
    readonly lastInTextNode: boolean,
  ) {}
  replace(text: string, options?: ContentOptions): this {
    this.removed = true;
    this.replacement = content(text, options);
    return this;
  }
  remove(): this {
    this.removed = true;
    this.replacement = null;
    return this;
  }
}

class DocumentEnd implements HtmlDocumentEnd {
  list: string[] = [];
  append(text: string, options?: ContentOptions): this {
    this.list.push(content(text, options));
    return this;
  }
}

// ---------------------------------------------------------------------------------------------
// The rewriter: one per document.

export class FastRewriter {
  // Input: the bytes being scanned (a chunk, or the carry buffer holding an incomplete token + the chunk).
  buf: Uint8Array = new Uint8Array(0);
  len = 0;
  private carry: Uint8Array = new Uint8Array(0);
  private carryLen = 0;

  private state = S.Data;
  private pos = 0;
  /** Start of text not yet written or dispatched. */
  private textStart = 0;
  /** Start of the current token (`<`). */
  private ts = 0;
  private searchFrom = 0;
  private isEnd = false;
  private selfClosing = false;
  private nameS = 0;
  private nameE = 0;
  nAttrs = 0;
  aNS = new Int32Array(16);
  aNE = new Int32Array(16);
  aVS = new Int32Array(16);
  aVE = new Int32Array(16);
  aRE = new Int32Array(16);
  /** RAWTEXT/RCDATA/script: the name its end tag must have. */
  private rawEnd: Uint8Array = SCRIPT_NAME;
  private sc = Sc.Normal;

  private readonly stack: OpenElement[] = [];
  /** The topmost open element of each name (its `prevSame` chain leads to the others). */
  private readonly topByName = new Map<string, number>();
  /** Per registration: open elements whose text it handles. */
  private readonly textRegOpen: Int32Array;
  /** tree: 'browser' (see the top of this file). */
  private readonly browser: boolean;
  /** 0: no body yet, 1: in a body (started by a tag or implied), 2: a frameset document. */
  private bodyState = 0;
  private quirks = true;
  /** The token being scanned in the Bogus state is a doctype. */
  private doctype = false;
  /** Part of the current comment/bogus token was already written out. */
  private streamed = false;
  /** Foreign content and integration points: each entry ends when the element at `depth` is popped. */
  private readonly ns: { ns: Ns; depth: number }[] = [{ ns: Ns.Html, depth: -1 }];
  /** Open elements being removed: while > 0, nothing is written. */
  private suppress = 0;
  /** Open elements with an element object (end-tag work) or text handlers. */
  private special = 0;

  // Text handlers in scope.
  private textCount = 0;
  private textRegs: Registration[] | null = null;
  private textOpen = false;
  private decoder: TextDecoder | null = null;

  readonly out = new Output();
  private readonly target: MatchTarget;
  private readonly matchMark: Int32Array;
  private matchGen = 0;

  constructor(
    private readonly h: Handlers,
    tree: 'browser' | 'lol-html' = 'browser',
  ) {
    const rw = this;
    this.browser = tree === 'browser';
    this.textRegOpen = new Int32Array(h.regs.length);
    this.target = {
      name: '',
      attr(name: string) {
        const i = rw.findAttr(nameBytes(name));
        return i < 0 ? null : rw.attrValue(i);
      },
      has(name: string) {
        return rw.findAttr(nameBytes(name)) >= 0;
      },
    };
    this.matchMark = new Int32Array(h.regs.length);
  }

  // ----- input

  write(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    // `buf` is exactly the bytes to scan (indexOf must not see stale bytes past them in the carry).
    const fromCarry = this.carryLen > 0;
    if (fromCarry) {
      this.ensureCarry(this.carryLen + chunk.length);
      this.carry.set(chunk, this.carryLen);
      this.len = this.carryLen + chunk.length;
      this.buf = this.carry.subarray(0, this.len);
    } else {
      this.buf = chunk;
      this.len = chunk.length;
    }
    this.run();
    this.bound();
    this.flushPending();
    const keep = this.keepFrom();
    const rest = this.len - keep;
    if (rest > 0) {
      if (fromCarry) {
        if (keep > 0) this.carry.copyWithin(0, keep, this.len);
      } else {
        this.ensureCarry(rest);
        this.carry.set(this.buf.subarray(keep, this.len), 0);
      }
    }
    this.carryLen = rest;
    this.shift(keep);
    this.buf = this.carry.subarray(0, rest);
    this.len = rest;
  }

  end(): void {
    this.buf = this.carry.subarray(0, this.carryLen);
    this.len = this.carryLen;
    // What closes a construct the document was cut off in, the way a browser ends it at end of file:
    // appended content must not become part of it (browser tree only).
    let closer = '';
    let rawName = '';
    switch (this.state) {
      case S.Data:
      case S.PlainText:
      case S.TagOpen:
      case S.EndTagOpen:
        this.flushText(this.textStart, this.len);
        break;
      case S.RawText:
      case S.Script:
      case S.Cdata:
        this.flushText(this.textStart, this.len);
        if (this.state === S.Cdata) closer = ']]>';
        else rawName = this.state === S.Script ? 'script' : latin1(this.rawEnd, 0, this.rawEnd.length);
        break;
      case S.Comment:
      case S.Bogus:
      case S.Markup:
        this.endTextNode();
        this.emitRaw(this.ts, this.len);
        closer = this.state === S.Comment || (this.state === S.Markup && this.buf[this.pos] === DASH && this.buf[this.pos + 1] === DASH) ? '-->' : '>';
        break;
      default:
        // Inside a tag: a browser drops an unfinished tag at end of file.
        this.endTextNode();
        if (!this.browser) this.emitRaw(this.ts, this.len);
    }
    this.endTextNode();
    if (this.browser) {
      const top = this.stack.length - 1;
      if (rawName) {
        // The raw-text element ends first (its end tag written, unless it is being removed).
        const visible = this.suppress === 0;
        if (top >= 0 && this.stack[top]!.name === rawName) this.closeTo(top, 0);
        if (visible) this.outStr(`</${rawName}>`);
      }
      if (closer && this.suppress === 0) this.outStr(closer);
      // Elements left open end here: their end-tag handlers run (a footer lands after them).
      if (this.stack.length > 0) this.closeTo(0, 0);
    }
    this.flushPending();
    this.carryLen = 0;
    const end = new DocumentEnd();
    for (const handler of this.h.documentEnd) {
      try {
        handler(end);
      } catch (err) {
        reportHandlerError(err);
      }
    }
    for (const s of end.list) this.out.string(s);
  }

  /** Per-token limits, after each input chunk (see MAX_TAG_BYTES, STREAM_TOKEN_FROM). */
  private bound(): void {
    const state = this.state;
    if (state === S.Comment || state === S.Bogus) {
      if (this.searchFrom - this.ts > STREAM_TOKEN_FROM) {
        // Nothing in a comment is rewritten: what cannot be part of its end goes out now.
        this.endTextNode();
        this.emitRaw(this.ts, this.searchFrom);
        this.ts = this.searchFrom;
        this.streamed = true;
      }
      return;
    }
    if (this.keepFrom() === this.ts && this.len - this.ts > MAX_TAG_BYTES) {
      throw new Error(`HTML tag longer than ${MAX_TAG_BYTES} bytes: the page cannot be rewritten`);
    }
  }

  private ensureCarry(size: number): void {
    if (this.carry.length >= size) return;
    let cap = Math.max(4096, this.carry.length * 2);
    while (cap < size) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.carry.subarray(0, this.carryLen));
    this.carry = next;
  }

  private keepFrom(): number {
    switch (this.state) {
      case S.Data:
      case S.RawText:
      case S.Script:
      case S.PlainText:
      case S.Cdata:
        return this.textStart;
      default:
        return this.ts;
    }
  }

  private shift(d: number): void {
    if (d === 0) return;
    this.pos -= d;
    this.textStart -= d;
    this.ts -= d;
    this.searchFrom -= d;
    this.nameS -= d;
    this.nameE -= d;
    for (let i = 0; i <= this.nAttrs && i < this.aNS.length; i++) {
      this.aNS[i]! -= d;
      this.aNE[i]! -= d;
      if (this.aVS[i]! >= 0) this.aVS[i]! -= d;
      this.aVE[i]! -= d;
      this.aRE[i]! -= d;
    }
  }

  // ----- output

  // Raw bytes are copied lazily: adjacent regions (text, tag, text…) become one copy.
  private pendA = 0;
  private pendB = 0;
  private emitRaw(a: number, b: number): void {
    if (this.suppress !== 0 || b <= a) return;
    if (this.pendB === a && this.pendB > this.pendA) {
      this.pendB = b;
      return;
    }
    this.flushPending();
    this.pendA = a;
    this.pendB = b;
  }
  private flushPending(): void {
    if (this.pendB > this.pendA) this.out.bytes(this.buf, this.pendA, this.pendB);
    this.pendA = this.pendB = 0;
  }
  private outStr(s: string): void {
    this.flushPending();
    this.out.string(s);
  }
  private emitStrings(list: string[], reverse = false): void {
    if (this.suppress !== 0 || list.length === 0) return;
    this.flushPending();
    if (reverse) for (let i = list.length - 1; i >= 0; i--) this.out.string(list[i]!);
    else for (const s of list) this.out.string(s);
  }

  // ----- text

  private activeText(): Registration[] {
    if (this.textRegs) return this.textRegs;
    const list: Registration[] = [];
    for (const r of this.h.regs) if (this.textRegOpen[r.index]! > 0) list.push(r);
    this.textRegs = list;
    return list;
  }

  private flushText(a: number, b: number): void {
    if (b <= a) return;
    if (this.textCount === 0) {
      this.emitRaw(a, b);
      return;
    }
    if (!this.textOpen) {
      this.textOpen = true;
      // One decoder per document: decode() without `stream` at a node's end resets it.
      this.decoder ??= new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
    }
    // (May be '' when the bytes end inside a character: still a chunk, so that a handler removing or
    // replacing the text sees every byte of it.)
    const text = this.decoder!.decode(this.buf.subarray(a, b), { stream: true });
    const chunk = new TextChunk(text, false);
    this.dispatchText(chunk);
    if (!chunk.removed) this.emitRaw(a, b);
    else if (chunk.replacement !== null && this.suppress === 0) this.outStr(chunk.replacement);
  }

  private endTextNode(): void {
    if (!this.textOpen) return;
    this.textOpen = false;
    const rest = this.decoder!.decode();
    const chunk = new TextChunk(rest, true);
    this.dispatchText(chunk);
    if (chunk.replacement !== null && this.suppress === 0) this.outStr(chunk.replacement);
  }

  private dispatchText(chunk: TextChunk): void {
    for (const reg of this.activeText()) {
      try {
        reg.text!(chunk);
      } catch (err) {
        reportHandlerError(err);
      }
    }
  }

  // ----- attributes of the current tag

  findAttr(lname: Uint8Array): number {
    const buf = this.buf;
    for (let i = 0; i < this.nAttrs; i++) if (equalsLower(buf, this.aNS[i]!, this.aNE[i]!, lname)) return i;
    return -1;
  }
  attrValue(i: number): string {
    const vs = this.aVS[i]!;
    return vs < 0 ? '' : decode(this.buf, vs, this.aVE[i]!);
  }

  private finishAttr(vs: number, ve: number, rawEnd: number): void {
    const i = this.nAttrs;
    this.aVS[i] = vs;
    this.aVE[i] = ve;
    this.aRE[i] = rawEnd;
    this.nAttrs = i + 1;
    if (this.nAttrs >= this.aNS.length) {
      const grow = (a: Int32Array) => {
        const n = new Int32Array(a.length * 2);
        n.set(a);
        return n;
      };
      this.aNS = grow(this.aNS);
      this.aNE = grow(this.aNE);
      this.aVS = grow(this.aVS);
      this.aVE = grow(this.aVE);
      this.aRE = grow(this.aRE);
    }
  }
  private startAttr(at: number): void {
    this.aNS[this.nAttrs] = at;
    this.aVS[this.nAttrs] = -1;
  }

  // ----- the tokenizer

  private run(): void {
    const buf = this.buf;
    const len = this.len;
    let pos = this.pos;
    let state = this.state;
    for (;;) {
      switch (state) {
        case S.Data: {
          const i = buf.indexOf(LT, pos);
          if (this.bodyState === 0 && this.browser) this.textBeforeBody(i < 0 ? len : i);
          if (i < 0) {
            this.flushText(this.textStart, len);
            this.textStart = pos = len;
            this.pos = pos;
            this.state = state;
            return;
          }
          this.flushText(this.textStart, i);
          this.textStart = this.ts = i;
          pos = i + 1;
          state = S.TagOpen;
          break;
        }
        case S.TagOpen: {
          if (pos >= len) {
            this.pos = pos;
            this.state = state;
            return;
          }
          const c = buf[pos]!;
          if (isAlpha(c)) {
            this.isEnd = false;
            this.selfClosing = false;
            this.nAttrs = 0;
            this.nameS = pos;
            state = S.TagName;
          } else if (c === BANG) {
            pos++;
            state = S.Markup;
          } else if (c === SLASH) {
            pos++;
            state = S.EndTagOpen;
          } else if (c === QUESTION) {
            this.searchFrom = pos;
            state = S.Bogus;
          } else {
            state = S.Data; // a `<` in text
          }
          break;
        }
        case S.EndTagOpen: {
          if (pos >= len) {
            this.pos = pos;
            this.state = state;
            return;
          }
          const c = buf[pos]!;
          if (isAlpha(c)) {
            this.isEnd = true;
            this.selfClosing = false;
            this.nAttrs = 0;
            this.nameS = pos;
            state = S.TagName;
          } else if (c === GT) {
            // `</>`: no token in the spec; lol-html ends the text node there. Copied as it is.
            pos = this.emitOther(pos + 1);
            state = this.state;
          } else {
            this.searchFrom = pos;
            state = S.Bogus;
          }
          break;
        }
        case S.TagName: {
          while (pos < len) {
            const c = buf[pos]!;
            if (c === GT || c === SLASH || isWs(c)) break;
            pos++;
          }
          if (pos >= len) {
            this.pos = pos;
            this.state = state;
            return;
          }
          this.nameE = pos;
          const c = buf[pos]!;
          if (c === GT) {
            pos = this.emitTag(pos + 1);
            state = this.state;
          } else if (c === SLASH) {
            pos++;
            state = S.SelfClosing;
          } else {
            pos++;
            state = S.BeforeAttrName;
          }
          break;
        }
        case S.BeforeAttrName: {
          while (pos < len && isWs(buf[pos]!)) pos++;
          if (pos >= len) {
            this.pos = pos;
            this.state = state;
            return;
          }
          const c = buf[pos]!;
          if (c === GT) {
            pos = this.emitTag(pos + 1);
            state = this.state;
          } else if (c === SLASH) {
            pos++;
            state = S.SelfClosing;
          } else {
            this.startAttr(pos);
            pos++; // the first character belongs to the name, even `=`
            state = S.AttrName;
          }
          break;
        }
        case S.AttrName: {
          while (pos < len) {
            const c = buf[pos]!;
            if (c === GT || c === SLASH || c === EQ || isWs(c)) break;
            pos++;
          }
          if (pos >= len) {
            this.pos = pos;
            this.state = state;
            return;
          }
          this.aNE[this.nAttrs] = pos;
          const c = buf[pos]!;
          if (c === EQ) {
            pos++;
            state = S.BeforeAttrValue;
          } else if (c === GT) {
            this.finishAttr(-1, pos, pos);
            pos = this.emitTag(pos + 1);
            state = this.state;
          } else if (c === SLASH) {
            this.finishAttr(-1, pos, pos);
            pos++;
            state = S.SelfClosing;
          } else {
            pos++;
            state = S.AfterAttrName;
          }
          break;
        }
        case S.AfterAttrName: {
          while (pos < len && isWs(buf[pos]!)) pos++;
          if (pos >= len) {
            this.pos = pos;
            this.state = state;
            return;
          }
          const c = buf[pos]!;
          if (c === EQ) {
            pos++;
            state = S.BeforeAttrValue;
          } else {
            const ne = this.aNE[this.nAttrs]!;
            this.finishAttr(-1, ne, ne);
            if (c === GT) {
              pos = this.emitTag(pos + 1);
              state = this.state;
            } else if (c === SLASH) {
              pos++;
              state = S.SelfClosing;
            } else {
              this.startAttr(pos);
              pos++;
              state = S.AttrName;
            }
          }
          break;
        }
        case S.BeforeAttrValue: {
          while (pos < len && isWs(buf[pos]!)) pos++;
          if (pos >= len) {
            this.pos = pos;
            this.state = state;
            return;
          }
          const c = buf[pos]!;
          if (c === DQUOTE || c === SQUOTE) {
            pos++;
            this.aVS[this.nAttrs] = pos;
            state = c === DQUOTE ? S.AttrValueDq : S.AttrValueSq;
          } else if (c === GT) {
            // `name=>`: an empty value; lol-html writes such an attribute as its bare name.
            const ne = this.aNE[this.nAttrs]!;
            this.finishAttr(-1, ne, ne);
            pos = this.emitTag(pos + 1);
            state = this.state;
          } else {
            this.aVS[this.nAttrs] = pos;
            state = S.AttrValueUq;
          }
          break;
        }
        case S.AttrValueDq:
        case S.AttrValueSq: {
          const j = buf.indexOf(state === S.AttrValueDq ? DQUOTE : SQUOTE, pos);
          if (j < 0) {
            this.pos = len;
            this.state = state;
            return;
          }
          this.finishAttr(this.aVS[this.nAttrs]!, j, j + 1);
          pos = j + 1;
          state = S.AfterAttrValueQuoted;
          break;
        }
        case S.AttrValueUq: {
          while (pos < len) {
            const c = buf[pos]!;
            if (c === GT || isWs(c)) break;
            pos++;
          }
          if (pos >= len) {
            this.pos = pos;
            this.state = state;
            return;
          }
          this.finishAttr(this.aVS[this.nAttrs]!, pos, pos);
          if (buf[pos] === GT) {
            pos = this.emitTag(pos + 1);
            state = this.state;
          } else {
            pos++;
            state = S.BeforeAttrName;
          }
          break;
        }
        case S.AfterAttrValueQuoted: {
          if (pos >= len) {
            this.pos = pos;
            this.state = state;
            return;
          }
          const c = buf[pos]!;
          if (c === GT) {
            pos = this.emitTag(pos + 1);
            state = this.state;
          } else if (c === SLASH) {
            pos++;
            state = S.SelfClosing;
          } else {
            if (isWs(c)) pos++;
            state = S.BeforeAttrName;
          }
          break;
        }
        case S.SelfClosing: {
          if (pos >= len) {
            this.pos = pos;
            this.state = state;
            return;
          }
          if (buf[pos] === GT) {
            this.selfClosing = true;
            pos = this.emitTag(pos + 1);
            state = this.state;
          } else {
            state = S.BeforeAttrName;
          }
          break;
        }
        case S.Markup: {
          // After `<!`: `--`, DOCTYPE (any case), `[CDATA[` (in foreign content), else a bogus comment.
          const avail = len - pos;
          if (avail >= 2 && buf[pos] === DASH && buf[pos + 1] === DASH) {
            if (avail < 4) {
              this.pos = pos;
              this.state = state;
              return;
            }
            pos += 2;
            if (buf[pos] === GT) {
              pos = this.emitOther(pos + 1);
            } else if (buf[pos] === DASH && buf[pos + 1] === GT) {
              pos = this.emitOther(pos + 2);
            } else {
              this.searchFrom = pos;
              state = S.Comment;
              break;
            }
            state = this.state;
            break;
          }
          if (avail < 2 && (avail === 0 || buf[pos] === DASH)) {
            this.pos = pos;
            this.state = state;
            return;
          }
          const doctype = prefixMatch(buf, pos, len, DOCTYPE, true);
          const cdata = this.ns[this.ns.length - 1]!.ns !== Ns.Html ? prefixMatch(buf, pos, len, CDATA_OPEN, false) : 0;
          if (doctype === 1 || cdata === 1) {
            this.pos = pos;
            this.state = state;
            return;
          }
          if (cdata === 2) {
            this.endTextNode();
            this.emitRaw(this.ts, pos + 7);
            pos += 7;
            this.textStart = pos;
            state = S.Cdata;
            break;
          }
          this.doctype = doctype === 2;
          this.searchFrom = pos;
          state = S.Bogus;
          break;
        }
        case S.Comment: {
          let from = this.searchFrom;
          let end = -1;
          for (;;) {
            const j = buf.indexOf(DASH, from);
            if (j < 0) {
              from = len;
              break;
            }
            if (j + 2 >= len) {
              from = j;
              break;
            }
            if (buf[j + 1] === DASH) {
              const k = buf[j + 2];
              if (k === GT) {
                end = j + 3;
                break;
              }
              if (k === BANG) {
                if (j + 3 >= len) {
                  from = j;
                  break;
                }
                if (buf[j + 3] === GT) {
                  end = j + 4;
                  break;
                }
              }
            }
            from = j + 1;
          }
          if (end < 0) {
            this.searchFrom = from;
            this.pos = len;
            this.state = state;
            return;
          }
          pos = this.emitOther(end);
          state = this.state;
          break;
        }
        case S.Bogus: {
          const j = buf.indexOf(GT, this.searchFrom);
          if (j < 0) {
            this.searchFrom = len;
            this.pos = len;
            this.state = state;
            return;
          }
          pos = this.emitOther(j + 1);
          state = this.state;
          break;
        }
        case S.Cdata: {
          let j = pos;
          let end = -1;
          for (;;) {
            j = buf.indexOf(93 /* ] */, j);
            if (j < 0 || j + 2 >= len) break;
            if (buf[j + 1] === 93 && buf[j + 2] === GT) {
              end = j;
              break;
            }
            j++;
          }
          if (end < 0) {
            const safe = j < 0 ? len : j;
            this.flushText(this.textStart, safe);
            this.textStart = pos = safe;
            this.pos = pos;
            this.state = state;
            return;
          }
          this.flushText(this.textStart, end);
          this.endTextNode();
          this.emitRaw(end, end + 3);
          pos = this.textStart = end + 3;
          state = S.Data;
          break;
        }
        case S.RawText: {
          const name = this.rawEnd;
          const need = name.length + 3;
          let i = pos;
          for (;;) {
            i = buf.indexOf(LT, i);
            if (i < 0) {
              this.flushText(this.textStart, len);
              this.textStart = this.pos = len;
              this.state = state;
              return;
            }
            if (len - i < need) {
              this.flushText(this.textStart, i);
              this.textStart = this.pos = i;
              this.state = state;
              return;
            }
            if (isEndTagOf(buf, i, name)) break;
            i++;
          }
          this.flushText(this.textStart, i);
          this.textStart = this.ts = i;
          this.isEnd = true;
          this.selfClosing = false;
          this.nAttrs = 0;
          this.nameS = i + 2;
          pos = i + 2 + name.length;
          state = S.TagName;
          break;
        }
        case S.Script: {
          const r = this.scanScript(pos);
          if (r < 0) {
            this.state = state;
            return;
          }
          // An end tag `</script` at r.
          this.flushText(this.textStart, r);
          this.textStart = this.ts = r;
          this.isEnd = true;
          this.selfClosing = false;
          this.nAttrs = 0;
          this.nameS = r + 2;
          pos = r + 8;
          state = S.TagName;
          break;
        }
        case S.PlainText: {
          this.flushText(this.textStart, len);
          this.textStart = this.pos = len;
          this.state = state;
          return;
        }
      }
    }
  }

  /**
   * Script data from `pos`: returns the offset of the `</script` that ends it, or -1 when the buffer
   * ends first (text up to a safe point flushed, state saved).
   */
  private scanScript(pos: number): number {
    const buf = this.buf;
    const len = this.len;
    let sc = this.sc;
    const wait = (at: number): number => {
      this.flushText(this.textStart, at);
      this.textStart = this.pos = at;
      this.sc = sc;
      return -1;
    };
    while (pos < len) {
      if (sc === Sc.Normal) {
        const i = buf.indexOf(LT, pos);
        if (i < 0) return wait(len);
        if (len - i < 9) return wait(i);
        if (isEndTagOf(buf, i, SCRIPT_NAME)) {
          this.sc = Sc.Normal;
          return i;
        }
        if (buf[i + 1] === BANG && buf[i + 2] === DASH && buf[i + 3] === DASH) {
          sc = Sc.EscDashDash;
          pos = i + 4;
        } else pos = i + 1;
        continue;
      }
      const c = buf[pos]!;
      if (c === LT) {
        if (len - pos < 9) return wait(pos);
        if (sc === Sc.Esc || sc === Sc.EscDash || sc === Sc.EscDashDash) {
          if (isEndTagOf(buf, pos, SCRIPT_NAME)) {
            this.sc = Sc.Normal;
            return pos;
          }
          if (isStartTagOf(buf, pos, SCRIPT_NAME)) {
            sc = Sc.Dbl;
            pos += 7;
            continue;
          }
          sc = Sc.Esc;
        } else {
          if (isEndTagOf(buf, pos, SCRIPT_NAME)) {
            sc = Sc.Esc;
            pos += 8;
            continue;
          }
          sc = Sc.Dbl;
        }
        pos++;
        continue;
      }
      if (c === DASH) {
        if (sc === Sc.Esc) sc = Sc.EscDash;
        else if (sc === Sc.EscDash) sc = Sc.EscDashDash;
        else if (sc === Sc.Dbl) sc = Sc.DblDash;
        else if (sc === Sc.DblDash) sc = Sc.DblDashDash;
      } else if (c === GT && (sc === Sc.EscDashDash || sc === Sc.DblDashDash)) {
        sc = Sc.Normal;
      } else if (sc === Sc.EscDash || sc === Sc.EscDashDash) {
        sc = Sc.Esc;
      } else if (sc === Sc.DblDash || sc === Sc.DblDashDash) {
        sc = Sc.Dbl;
      }
      pos++;
    }
    return wait(len);
  }

  /** A comment, doctype or bogus comment ending at `end`: copied as it is. */
  private emitOther(end: number): number {
    this.endTextNode();
    if (this.doctype) {
      this.doctype = false;
      // The first doctype, before any element, sets the document's mode (a p before a table differs).
      if (this.stack.length === 0 && this.bodyState === 0) this.quirks = this.streamed || doctypeQuirks(latin1(this.buf, this.ts, end));
    }
    this.streamed = false;
    this.emitRaw(this.ts, end);
    this.textStart = end;
    this.state = S.Data;
    return end;
  }

  /** A complete start or end tag [ts, end). Returns the position to continue at; sets the state. */
  private emitTag(end: number): number {
    this.endTextNode();
    this.textStart = end;
    this.state = S.Data;
    if (this.isEnd) this.endTag(end);
    else this.startTag(end);
    return end;
  }

  // ----- tree

  private startTag(end: number): void {
    const buf = this.buf;
    const name = internName(buf, this.nameS, this.nameE);
    const selfClosing = this.selfClosing;

    // Namespace (a simulation of the tree builder's foreign-content rules, as lol-html keeps one).
    let nsTop = this.ns[this.ns.length - 1]!;
    /** End tags a start tag implied (browser tree), see endTagsFor. */
    let implied = '';
    if (nsTop.ns !== Ns.Html && (BREAKOUT.has(name) || (name === 'font' && (this.has('color') || this.has('face') || this.has('size'))))) {
      this.ns.pop();
      nsTop = this.ns[this.ns.length - 1]!;
    }
    if (this.browser && nsTop.ns === Ns.Html) {
      if (this.bodyState === 0) {
        if (name === 'body') implied = this.enterBody(false);
        else if (name === 'frameset') this.bodyState = 2;
        else if (!HEAD_CONTENT.has(name)) this.enterBody(true);
      }
      const target = this.impliedEnd(name);
      if (target >= 0) implied += this.closeTo(target, 0);
      nsTop = this.ns[this.ns.length - 1]!;
    }
    let elNs: Ns;
    let nsPush: Ns | -1 = -1;
    if (nsTop.ns === Ns.Html) {
      if (name === 'svg') elNs = Ns.Svg;
      else if (name === 'math') elNs = Ns.Math;
      else elNs = Ns.Html;
      if (elNs !== Ns.Html && !selfClosing) nsPush = elNs;
    } else if (nsTop.ns === Ns.Math && name === 'svg' && this.stack[this.stack.length - 1]?.name === 'annotation-xml') {
      elNs = Ns.Svg;
      if (!selfClosing) nsPush = Ns.Svg;
    } else {
      elNs = nsTop.ns;
      if (!selfClosing) {
        if (elNs === Ns.Svg ? SVG_HTML_POINTS.has(name) : MATH_TEXT_POINTS.has(name) || (name === 'annotation-xml' && this.htmlAnnotation())) {
          nsPush = Ns.Html;
        }
      }
    }
    const pushed = (elNs === Ns.Html ? !VOID.has(name) : !selfClosing) && this.stack.length < MAX_OPEN_ELEMENTS;
    if (pushed && nsPush !== -1) this.ns.push({ ns: nsPush, depth: this.stack.length });

    this.openElement(name, pushed, selfClosing, end, false, implied);

    // Tokenizer state for what follows.
    if (elNs === Ns.Html) {
      if (name === 'script') {
        this.state = S.Script;
        this.sc = Sc.Normal;
      } else if (RAWTEXT.has(name) || RCDATA.has(name)) {
        this.state = S.RawText;
        this.rawEnd = nameBytes(name);
      } else if (name === 'plaintext') {
        this.state = S.PlainText;
      }
    }
  }

  /**
   * Handlers, output and the open-element entry for a start tag [ts, end), or (virtual) for an element
   * the browser creates with no tag in the source: nothing is written for its tag unless a handler
   * changes it.
   */
  private openElement(name: string, pushed: boolean, selfClosing: boolean, end: number, virtual: boolean, implied = ''): void {
    const regs = this.match(name);
    let el: FastElement | null = null;
    let texts: Registration[] | null = null;
    if (regs) {
      for (const reg of regs) {
        if (reg.text) (texts ??= []).push(reg);
        if (!reg.element) continue;
        el ??= new FastElement(this, name, pushed);
        try {
          reg.element(el);
        } catch (err) {
          reportHandlerError(err);
        }
      }
      el?.detach();
    }

    // Output.
    if (el) {
      if (implied && this.suppress === 0 && (el.removedFlag || el.befores.length > 0)) this.outStr(implied);
      this.emitStrings(el.befores);
      if (!el.removedFlag && this.suppress === 0) {
        if (el.modified) {
          this.flushPending();
          el.serialize(this.out, selfClosing, virtual ? nameBytes(name) : this.buf.subarray(this.nameS, this.nameE));
        } else if (!virtual) this.emitRaw(this.ts, end);
        if (pushed) this.emitStrings(el.prepends, true);
      }
      if (!pushed) this.emitStrings(el.afters, true);
    } else if (!virtual) {
      this.emitRaw(this.ts, end);
    }

    if (pushed) {
      const entry = new OpenElement(name, this.h.needAncestorAttrs ? this.allAttrs() : null);
      if (el && (el.removedFlag || el.renamed !== null || el.appends.length || el.afters.length || el.endHandlers.length)) entry.el = el;
      if (el?.removedFlag) {
        entry.removed = true;
        this.suppress++;
      }
      if (texts) {
        entry.text = texts;
        this.textCount++;
        for (const r of texts) if (this.textRegOpen[r.index]!++ === 0) this.textRegs = null;
      }
      if (entry.el || entry.text) this.special++;
      this.pushEntry(entry);
    }
  }

  private pushEntry(entry: OpenElement): void {
    const stack = this.stack;
    const i = stack.length;
    const below = i > 0 ? stack[i - 1]! : null;
    const name = entry.name;
    const prev = this.topByName.get(name);
    entry.prevSame = prev === undefined ? -1 : prev;
    this.topByName.set(name, i);
    const cat = CATEGORY.get(name) ?? 0;
    entry.removedUpTo = (below ? below.removedUpTo : 0) + (entry.removed ? 1 : 0);
    entry.breaker = cat & F_BREAKER ? i : below ? below.breaker : -1;
    entry.buttonScope = cat & F_BUTTON_SCOPE ? i : below ? below.buttonScope : -1;
    entry.tableScope = cat & F_TABLE_SCOPE ? i : below ? below.tableScope : -1;
    entry.heading = (cat & F_HEADING) !== 0;
    stack.push(entry);
  }

  private popEntry(): void {
    const e = this.stack.pop()!;
    if (e.prevSame < 0) this.topByName.delete(e.name);
    else this.topByName.set(e.name, e.prevSame);
    if (e.text) {
      this.textCount--;
      for (const r of e.text) if (--this.textRegOpen[r.index]! === 0) this.textRegs = null;
    }
    if (e.removed) this.suppress--;
    if (e.el || e.text) this.special--;
  }

  /** The topmost open element with this name, -1 if none. */
  private nearest(name: string): number {
    const i = this.topByName.get(name);
    return i === undefined ? -1 : i;
  }

  /**
   * The lowest open element the start tag `name` ends (with everything above it), -1 if none: the HTML
   * tree builder's implied end tags for li, dd/dt, option/optgroup, table parts, and a p closed by a
   * block (in quirks mode, not by a table), headings closing a heading. Each check is O(1).
   */
  private impliedEnd(name: string): number {
    const stack = this.stack;
    const n = stack.length;
    if (n === 0) return -1;
    const top = stack[n - 1]!;
    let target = -1;
    switch (name) {
      case 'li': {
        const i = this.nearest('li');
        if (i >= 0 && top.breaker === i) target = i;
        break;
      }
      case 'dd':
      case 'dt': {
        const i = Math.max(this.nearest('dd'), this.nearest('dt'));
        if (i >= 0 && top.breaker === i) target = i;
        break;
      }
      case 'option':
        if (top.name === 'option') target = n - 1;
        break;
      case 'optgroup': {
        let k = n - 1;
        if (stack[k]!.name === 'option') k--;
        if (k >= 0 && stack[k]!.name === 'optgroup' && this.nearest('select') >= 0) k--;
        if (k < n - 1) target = k + 1;
        break;
      }
      case 'td':
      case 'th':
        target = this.lowestInTableScope(top, CELL);
        break;
      case 'tr':
        target = this.lowestInTableScope(top, ROW);
        break;
      case 'tbody':
      case 'thead':
      case 'tfoot':
      case 'caption':
      case 'colgroup':
        target = this.lowestInTableScope(top, SECTION);
        break;
    }
    if (CLOSES_P.has(name) || (name === 'table' && !this.quirks)) {
      const p = this.nearest('p');
      if (p > top.buttonScope && (target < 0 || p < target)) target = p;
    }
    if (name.length === 2 && name[0] === 'h' && name[1]! >= '1' && name[1]! <= '6') {
      const current = target >= 0 ? target - 1 : n - 1;
      if (current >= 0 && stack[current]!.heading) target = current;
    }
    return target;
  }

  private lowestInTableScope(top: OpenElement, names: readonly string[]): number {
    let target = -1;
    for (const name of names) {
      const i = this.nearest(name);
      if (i > top.tableScope && (target < 0 || i < target)) target = i;
    }
    return target;
  }

  /**
   * The document's body starts (browser tree): an open head ends first; `virtual`: the browser creates
   * the body here without a tag in the source (content that cannot go in a head), and handlers for
   * `body` see it.
   */
  private enterBody(virtual: boolean): string {
    this.bodyState = 1;
    const head = this.nearest('head');
    const implied = head >= 0 ? this.closeTo(head, 0) : '';
    if (!virtual) return implied;
    const nAttrs = this.nAttrs;
    this.nAttrs = 0;
    try {
      this.openElement('body', this.stack.length < MAX_OPEN_ELEMENTS, false, 0, true, implied);
    } finally {
      this.nAttrs = nAttrs;
    }
    return '';
  }

  /** Text [textStart, end) in the data state before any body: non-whitespace starts one. */
  private textBeforeBody(end: number): void {
    const buf = this.buf;
    let i = this.textStart;
    while (i < end && isWs(buf[i]!)) i++;
    if (i >= end) return;
    this.flushText(this.textStart, i);
    this.endTextNode();
    this.textStart = i;
    this.enterBody(true);
  }

  private endTag(end: number): void {
    const idx = this.nearest(internName(this.buf, this.nameS, this.nameE));
    if (idx < 0) this.emitRaw(this.ts, end); // no such open element: ignored
    else this.closeTo(idx, end);
  }

  /**
   * Pops the open elements from the top down to `idx`, running their end-tag handlers and writing what
   * they insert around the end tag [ts, end) (end 0: no tag, an implied end).
   */
  private closeTo(idx: number, end: number): string {
    const stack = this.stack;
    if (this.special === 0) {
      // Nothing open has handlers, text handlers or a removal: just pop.
      const closes = end > 0 ? '' : this.endTagsFor(idx, stack.length - 1);
      while (stack.length > idx) this.popEntry();
      this.popNs();
      if (end > 0) this.emitRaw(this.ts, end);
      return closes;
    }
    const outer = stack[idx]!;
    const browser = this.browser;
    // lol-html: when the element this end tag names has append()/after() content, the elements it
    // closes implicitly get nothing at this end tag (no end-tag handlers, content, or removal of it).
    const shadows = !browser && !!outer.el && (outer.el.appends.length > 0 || outer.el.afters.length > 0);
    // The end tag is dropped with a removed element: in the browser's tree, only with the one it names
    // (or one around that); lol-html drops it with any removed element it closes.
    const dropTag = (browser || shadows ? outer.removedUpTo : this.suppress) > 0;

    const beforeList: string[] = [];
    let afterList: string[] = [];
    // A renamed element renames the end tag that closes it, implicitly too (the outermost one wins).
    let renamed: string | null = null;
    // Browser tree: content inserted at an element's end goes after end tags for what is still open
    // inside it (a browser would otherwise nest the content in those elements).
    let unclosed = stack.length - 1;
    for (let k = stack.length - 1; k >= idx; k--) {
      const e = stack[k]!;
      const el = e.el;
      if (!el || (k !== idx && shadows)) continue;
      if (el.renamed !== null) renamed = el.renamed;
      const visible = e.removedUpTo - (e.removed ? 1 : 0) === 0;
      const mut = new EndTagMutations();
      for (const handler of el.endHandlers) {
        try {
          handler(mut);
        } catch (err) {
          reportHandlerError(err);
        }
      }
      if (!visible) continue;
      if (browser && (el.appends.length > 0 || mut.beforeList.length > 0)) {
        for (let j = unclosed; j > k; j--) {
          const c = stack[j]!;
          if (c.removedUpTo === 0) beforeList.push(`</${c.el?.renamed ?? c.name}>`);
        }
        unclosed = k;
      }
      for (const s of el.appends) beforeList.push(s);
      for (const s of mut.beforeList) beforeList.push(s);
      afterList = [...mut.afterList.reverse(), ...el.afters.slice().reverse(), ...afterList];
    }
    const closes = end > 0 || !browser ? '' : this.endTagsFor(idx, unclosed);
    while (stack.length > idx) this.popEntry();
    this.popNs();
    for (const s of beforeList) this.outStr(s);
    if (end > 0 && !dropTag && this.suppress === 0) {
      if (renamed !== null) this.outStr(`</${renamed}>`);
      else this.emitRaw(this.ts, end);
    }
    for (const s of afterList) this.outStr(s);
    return closes;
  }

  /**
   * End tags for open elements [from, to] (top first) the output shows: what an implied end leaves
   * unsaid, written where the start tag that implied it is removed or has content put before it.
   */
  private endTagsFor(from: number, to: number): string {
    if (!this.browser) return '';
    let s = '';
    for (let j = to; j >= from; j--) {
      const e = this.stack[j]!;
      if (e.removedUpTo === 0) s += `</${e.el?.renamed ?? e.name}>`;
    }
    return s;
  }

  /** Foreign content / integration points opened by popped elements end with them. */
  private popNs(): void {
    while (this.ns.length > 1 && this.ns[this.ns.length - 1]!.depth >= this.stack.length) this.ns.pop();
  }

  private has(lname: string): boolean {
    return this.findAttr(nameBytes(lname)) >= 0;
  }

  private htmlAnnotation(): boolean {
    const i = this.findAttr(nameBytes('encoding'));
    if (i < 0) return false;
    const v = this.attrValue(i).toLowerCase();
    return v === 'text/html' || v === 'application/xhtml+xml';
  }

  private allAttrs(): [string, string][] {
    const list: [string, string][] = [];
    for (let i = 0; i < this.nAttrs; i++) list.push([internName(this.buf, this.aNS[i]!, this.aNE[i]!), this.attrValue(i)]);
    return list;
  }

  private tryList(list: Candidate[], gen: number, found: Registration[] | null): Registration[] | null {
    const mark = this.matchMark;
    for (const c of list) {
      const reg = c.reg;
      if (mark[reg.index] === gen) continue;
      const exists = c.exists;
      let matches: boolean;
      if (exists !== null) {
        // The tag name was matched by the index (byTag) or is not tested (byAttr, universal).
        const tag = c.sel.parts[0]!.tag;
        matches = tag === null || tag === (this.target as { name: string }).name;
        for (let k = 0; matches && k < exists.length; k++) matches = this.findAttr(exists[k]!) >= 0;
      } else matches = complexMatches(c.sel, this.target, this.stack, this.stack.length);
      if (matches) {
        mark[reg.index] = gen;
        (found ??= []).push(reg);
      }
    }
    return found;
  }

  /** Registrations whose selectors match the current start tag, in registration order; null if none. */
  private match(name: string): Registration[] | null {
    const h = this.h;
    const byTag = h.byTag.get(name);
    const universal = h.universal;
    let found: Registration[] | null = null;
    const gen = ++this.matchGen;
    const target = this.target as { name: string };
    target.name = name;
    let sources = 0;
    if (byTag) {
      sources++;
      found = this.tryList(byTag, gen, found);
    }
    if (universal.length) {
      sources++;
      found = this.tryList(universal, gen, found);
    }
    if (h.byAttr.size) {
      const buf = this.buf;
      const lengths = h.attrLengths;
      for (let i = 0; i < this.nAttrs; i++) {
        const n = this.aNE[i]! - this.aNS[i]!;
        if (n >= 256 || lengths[n] === 0) continue;
        const list = h.byAttr.get(internName(buf, this.aNS[i]!, this.aNE[i]!));
        if (list) {
          sources++;
          found = this.tryList(list, gen, found);
        }
      }
    }
    if (found && sources > 1 && (found as Registration[]).length > 1) (found as Registration[]).sort((a, b) => a.index - b.index);
    return found;
  }
}

const CELL = ['td', 'th'];
const ROW = ['tr', 'td', 'th'];
const SECTION = ['tbody', 'thead', 'tfoot', 'tr', 'td', 'th', 'caption', 'colgroup'];

function latin1(buf: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end && i < start + 1024; i++) s += String.fromCharCode(buf[i]!);
  return s;
}

/** 0: no match, 1: could match (more bytes needed), 2: match. */
function prefixMatch(buf: Uint8Array, pos: number, len: number, word: Uint8Array, ci: boolean): 0 | 1 | 2 {
  for (let i = 0; i < word.length; i++) {
    if (pos + i >= len) return 1;
    let c = buf[pos + i]!;
    if (ci && c >= 65 && c <= 90) c += 32;
    if (c !== word[i]) return 0;
  }
  return 2;
}

/** `</name` + whitespace, `/` or `>` at `i` (ASCII case-insensitive); the caller made sure the bytes are there. */
function isEndTagOf(buf: Uint8Array, i: number, name: Uint8Array): boolean {
  if (buf[i + 1] !== SLASH) return false;
  const n = name.length;
  if (!equalsLower(buf, i + 2, i + 2 + n, name)) return false;
  const d = buf[i + 2 + n]!;
  return d === GT || d === SLASH || isWs(d);
}

/** `<name` + whitespace, `/` or `>` at `i`. */
function isStartTagOf(buf: Uint8Array, i: number, name: Uint8Array): boolean {
  const n = name.length;
  if (!equalsLower(buf, i + 1, i + 1 + n, name)) return false;
  const d = buf[i + 1 + n]!;
  return d === GT || d === SLASH || isWs(d);
}

// ---------------------------------------------------------------------------------------------
// The engine.

export interface FastHtmlEngineOptions {
  /** Told the CPU seconds spent rewriting each input chunk (as WasmHtmlEngine's option). */
  onRewriteTime?: (seconds: number) => void;
  /** Whose element tree handlers see (see the top of this file); 'lol-html' is for differential tests. */
  tree?: 'browser' | 'lol-html';
}

type Scheduler = (callback: () => void) => void;
/** Back to the event loop (a macrotask: other requests' I/O and timers run first). */
const nextTurn = (): Promise<void> =>
  new Promise((resolve) => ((globalThis as { setImmediate?: Scheduler }).setImmediate ?? ((f: () => void) => void setTimeout(f, 0)))(resolve));

export class FastHtmlEngine implements HtmlEngine {
  constructor(private readonly options: FastHtmlEngineOptions = {}) {}

  rewrite(body: ReadableStream<Uint8Array>, register: (registry: HtmlHandlerRegistry) => void): ReadableStream<Uint8Array> {
    const handlers = new Handlers();
    register(handlers);
    const rw = new FastRewriter(handlers, this.options.tree);
    const reader = body.getReader();
    const onRewriteTime = this.options.onRewriteTime;
    /** Input read but not yet rewritten: chunks are rewritten TURN_BYTES at a time. */
    let rest: Uint8Array | null = null;
    /** Input rewritten since the event loop last had a turn. */
    let turn = 0;
    return new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          // Read until there is output (an incomplete token may hold it back) or the input ends.
          for (;;) {
            if (turn >= TURN_BYTES) {
              // Bounded work per turn: one pathological page must not hold up every other reader.
              turn = 0;
              await nextTurn();
            }
            let chunk: Uint8Array | null = rest;
            rest = null;
            if (!chunk) {
              const r = await reader.read();
              chunk = r.done ? null : r.value;
            }
            if (chunk && chunk.length > TURN_BYTES) {
              rest = chunk.subarray(TURN_BYTES);
              chunk = chunk.subarray(0, TURN_BYTES);
            }
            const t0 = onRewriteTime ? performance.now() : 0;
            if (chunk) {
              rw.write(chunk);
              turn += chunk.length;
            } else rw.end();
            if (onRewriteTime) onRewriteTime((performance.now() - t0) / 1000);
            const out = rw.out.take();
            if (out) controller.enqueue(out);
            if (!chunk) {
              controller.close();
              return;
            }
            if (out) return;
          }
        } catch (err) {
          reader.cancel(err).catch(() => {});
          controller.error(err);
        }
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    });
  }

  checkSelector(selector: string): string | null {
    return PORTABLE_SELECTORS.checkSelector(selector);
  }
}
