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
import { decode, encode, equalsLower, escapeText, isAlpha, isWs, lowerName, Output } from './fast-html/bytes.ts';
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
 * - Open elements are tracked the way lol-html tracks them (see README-level notes in the report):
 *   void elements are not pushed, an end tag pops up to the nearest open element of that name (or is
 *   ignored), no implied end tags. Foreign content (svg/math, integration points, break-out tags) is
 *   tracked to know when `<style>`, `<script>`… are raw text and when `<![CDATA[` is CDATA.
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
      const cand = { reg, sel };
      const subject = sel.parts[0]!;
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
  /** Lower-case name (matching). */
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

interface Entry extends MatchTarget {
  el: FastElement | null;
  text: Registration[] | null;
  removed: boolean;
}

class OpenElement implements Entry {
  el: FastElement | null = null;
  text: Registration[] | null = null;
  removed = false;
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

  private materialize(): AttrRecord[] {
    if (this.attrs) return this.attrs;
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
        list[i] = { lname: lowerName(buf, ns, rw.aNE[i]!), ns: ns - from, ne: rw.aNE[i]! - from, vs: vs < 0 ? -1 : vs - from, ve: rw.aVE[i]! - from, re: rw.aRE[i]! - from };
      }
    }
    this.attrs = list;
    return list;
  }

  /** Called when the start tag's handlers are done: the tokenizer's spans are about to be reused. */
  detach(): void {
    if (this.endHandlers.length > 0) this.materialize();
    this.live = false;
  }

  getAttribute(name: string): string | null {
    const lname = String(name).toLowerCase();
    if (!this.attrs) {
      if (!this.live) return null;
      const i = this.rw.findAttr(nameBytes(lname));
      return i < 0 ? null : this.rw.attrValue(i);
    }
    for (const a of this.attrs) {
      if (a.lname !== lname) continue;
      if (a.set !== undefined) return a.set;
      return a.vs < 0 ? '' : decode(this.tag, a.vs, a.ve);
    }
    return null;
  }
  hasAttribute(name: string): boolean {
    const lname = String(name).toLowerCase();
    if (!this.attrs) return this.live && this.rw.findAttr(nameBytes(lname)) >= 0;
    return this.attrs.some((a) => a.lname === lname);
  }
  setAttribute(name: string, value: string): this {
    const lname = String(name).toLowerCase();
    const list = this.materialize();
    const found = list.find((a) => a.lname === lname);
    if (found) found.set = String(value);
    else list.push({ lname, ns: -1, ne: -1, vs: -1, ve: -1, re: -1, set: String(value) });
    this.modified = true;
    return this;
  }
  removeAttribute(name: string): this {
    const lname = String(name).toLowerCase();
    const list = this.materialize();
    const i = list.findIndex((a) => a.lname === lname);
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

  private readonly stack: Entry[] = [];
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

  constructor(private readonly h: Handlers) {
    const rw = this;
    this.target = {
      name: '',
      attr(name: string) {
        const i = rw.findAttr(nameBytes(name));
        return i < 0 ? null : rw.attrValue(i);
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
    switch (this.state) {
      case S.Data:
      case S.RawText:
      case S.Script:
      case S.PlainText:
      case S.Cdata:
      case S.TagOpen:
      case S.EndTagOpen:
        this.flushText(this.textStart, this.len);
        break;
      default:
        this.endTextNode();
        this.emitRaw(this.ts, this.len);
    }
    this.endTextNode();
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
    const seen = new Set<Registration>();
    for (const e of this.stack) if (e.text) for (const r of e.text) seen.add(r);
    this.textRegs = [...seen].sort((a, b) => a.index - b.index);
    return this.textRegs;
  }

  private flushText(a: number, b: number): void {
    if (b <= a) return;
    if (this.textCount === 0) {
      this.emitRaw(a, b);
      return;
    }
    if (!this.textOpen) {
      this.textOpen = true;
      this.decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
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
    this.decoder = null;
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
    const name = lowerName(buf, this.nameS, this.nameE);
    const selfClosing = this.selfClosing;

    // Namespace (a simulation of the tree builder's foreign-content rules, as lol-html keeps one).
    let nsTop = this.ns[this.ns.length - 1]!;
    if (nsTop.ns !== Ns.Html && (BREAKOUT.has(name) || (name === 'font' && (this.has('color') || this.has('face') || this.has('size'))))) {
      this.ns.pop();
      nsTop = this.ns[this.ns.length - 1]!;
    }
    let elNs: Ns;
    if (nsTop.ns === Ns.Html) {
      if (name === 'svg') elNs = Ns.Svg;
      else if (name === 'math') elNs = Ns.Math;
      else elNs = Ns.Html;
      if (elNs !== Ns.Html && !selfClosing) this.ns.push({ ns: elNs, depth: this.stack.length });
    } else if (nsTop.ns === Ns.Math && name === 'svg' && this.stack[this.stack.length - 1]?.name === 'annotation-xml') {
      elNs = Ns.Svg;
      if (!selfClosing) this.ns.push({ ns: Ns.Svg, depth: this.stack.length });
    } else {
      elNs = nsTop.ns;
      if (!selfClosing) {
        if (elNs === Ns.Svg ? SVG_HTML_POINTS.has(name) : MATH_TEXT_POINTS.has(name) || (name === 'annotation-xml' && this.htmlAnnotation())) {
          this.ns.push({ ns: Ns.Html, depth: this.stack.length });
        }
      }
    }
    const pushed = elNs === Ns.Html ? !VOID.has(name) : !selfClosing;

    // Selectors.
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
      this.emitStrings(el.befores);
      if (!el.removedFlag && this.suppress === 0) {
        if (el.modified) {
          this.flushPending();
          el.serialize(this.out, selfClosing, buf.subarray(this.nameS, this.nameE));
        } else this.emitRaw(this.ts, end);
        if (pushed) this.emitStrings(el.prepends, true);
      }
      if (!pushed) this.emitStrings(el.afters, true);
    } else {
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
        this.textRegs = null;
      }
      if (entry.el || entry.text) this.special++;
      this.stack.push(entry);
    }

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

  private endTag(end: number): void {
    const name = lowerName(this.buf, this.nameS, this.nameE);
    const stack = this.stack;
    let idx = stack.length - 1;
    while (idx >= 0 && stack[idx]!.name !== name) idx--;
    if (idx < 0) {
      this.emitRaw(this.ts, end); // no such open element: ignored
      return;
    }
    if (this.special === 0) {
      // Nothing open has handlers, text handlers or a removal: just pop.
      stack.length = idx;
      while (this.ns.length > 1 && this.ns[this.ns.length - 1]!.depth >= stack.length) this.ns.pop();
      this.emitRaw(this.ts, end);
      return;
    }
    const outer = stack[idx]!;
    // lol-html: when the element this end tag names has append()/after() content, the elements it
    // closes implicitly get nothing at this end tag (no end-tag handlers, content, or removal of it).
    const shadows = !!outer.el && (outer.el.appends.length > 0 || outer.el.afters.length > 0);
    let removedHere = 0;
    for (let k = 0; k <= idx; k++) if (stack[k]!.removed) removedHere++;
    if (!shadows) for (let k = idx + 1; k < stack.length; k++) if (stack[k]!.removed) removedHere++;
    const dropTag = removedHere > 0;

    const beforeList: string[] = [];
    let afterList: string[] = [];
    // A renamed element renames the end tag that closes it, implicitly too (the outermost one wins).
    let renamed: string | null = null;
    for (let k = stack.length - 1; k >= idx; k--) {
      const e = stack[k]!;
      const el = e.el;
      if (el && (k === idx || !shadows)) {
        if (el.renamed !== null) renamed = el.renamed;
        const visible = this.suppress - (e.removed ? 1 : 0) === 0;
        const mut = new EndTagMutations();
        for (const handler of el.endHandlers) {
          try {
            handler(mut);
          } catch (err) {
            reportHandlerError(err);
          }
        }
        if (visible) {
          beforeList.push(...el.appends, ...mut.beforeList);
          afterList = [...mut.afterList.reverse(), ...el.afters.slice().reverse(), ...afterList];
        }
      }
      if (e.text) {
        this.textCount--;
        this.textRegs = null;
      }
      if (e.removed) this.suppress--;
      if (e.el || e.text) this.special--;
      stack.pop();
    }
    // Foreign content / integration points opened by the popped elements end with them.
    while (this.ns.length > 1 && this.ns[this.ns.length - 1]!.depth >= stack.length) this.ns.pop();
    for (const s of beforeList) this.outStr(s);
    if (!dropTag && this.suppress === 0) {
      if (renamed !== null) this.outStr(`</${renamed}>`);
      else this.emitRaw(this.ts, end);
    }
    for (const s of afterList) this.outStr(s);
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
    for (let i = 0; i < this.nAttrs; i++) list.push([lowerName(this.buf, this.aNS[i]!, this.aNE[i]!), this.attrValue(i)]);
    return list;
  }

  private tryList(list: Candidate[], gen: number, found: Registration[] | null): Registration[] | null {
    const mark = this.matchMark;
    for (const c of list) {
      const reg = c.reg;
      if (mark[reg.index] === gen) continue;
      if (complexMatches(c.sel, this.target, this.stack, this.stack.length)) {
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
        const list = h.byAttr.get(lowerName(buf, this.aNS[i]!, this.aNE[i]!));
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
}

export class FastHtmlEngine implements HtmlEngine {
  constructor(private readonly options: FastHtmlEngineOptions = {}) {}

  rewrite(body: ReadableStream<Uint8Array>, register: (registry: HtmlHandlerRegistry) => void): ReadableStream<Uint8Array> {
    const handlers = new Handlers();
    register(handlers);
    const rw = new FastRewriter(handlers);
    const reader = body.getReader();
    const onRewriteTime = this.options.onRewriteTime;
    return new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          // Read until there is output (an incomplete token may hold it back) or the input ends.
          for (;;) {
            const { done, value } = await reader.read();
            const t0 = onRewriteTime ? performance.now() : 0;
            if (done) rw.end();
            else rw.write(value);
            if (onRewriteTime) onRewriteTime((performance.now() - t0) / 1000);
            const out = rw.out.take();
            if (out) controller.enqueue(out);
            if (done) {
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
