/**
 * CSS selectors for the fast HTML engine: the subset edgemirror needs, parsed once per selector.
 *
 * Supported: type selectors and `*`, `#id`, `.class`, `[attr]`, `[attr=v]`, `[attr~=v]`, `[attr|=v]`,
 * `[attr^=v]`, `[attr$=v]`, `[attr*=v]` (values quoted or bare, optional ` i` flag), compound selectors,
 * the descendant (` `) and child (`>`) combinators, `:not(…)` of compound selectors without
 * combinators, and selector lists (`a, b`). Tag and attribute names match ASCII case-insensitively,
 * attribute values case-sensitively (as lol-html does). Anything else (other pseudo-classes, `+`, `~`,
 * namespaces, CSS escapes) is rejected with a message naming it, so a config using it fails at start-up.
 */

export type AttrOp = 'exists' | '=' | '~=' | '|=' | '^=' | '$=' | '*=';

export interface AttrTest {
  /** Lower-case attribute name. */
  name: string;
  op: AttrOp;
  value: string;
  /** The ` i` flag: compare ASCII case-insensitively. */
  ci: boolean;
}

export interface Compound {
  /** Lower-case tag name, or null for any element. */
  tag: string | null;
  attrs: AttrTest[];
  /** `:not(…)` arguments: the element must match none of them. */
  nots: Compound[];
}

/** A complex selector, right to left: `parts[0]` is the subject; `combinators[i]` joins parts[i] to parts[i+1]. */
export interface ComplexSelector {
  parts: Compound[];
  combinators: ('descendant' | 'child')[];
}

/** What matching needs to know about an element. */
export interface MatchTarget {
  /** Lower-case local name. */
  name: string;
  /** The first attribute with this lower-case name, raw as written (no entity decoding); null if absent. */
  attr(name: string): string | null;
  /** Whether the element has this attribute (optional: lets `[name]` be tested without reading the value). */
  has?(name: string): boolean;
}

export class SelectorError extends Error {}

const IDENT_CHAR = /[A-Za-z0-9_\-\u0080-\uffff]/;

class Parser {
  pos = 0;
  constructor(readonly src: string) {}

  fail(message: string): never {
    throw new SelectorError(message);
  }
  peek(): string {
    return this.src[this.pos] ?? '';
  }
  skipWs(): boolean {
    const start = this.pos;
    while (/[ \t\n\r\f]/.test(this.peek())) this.pos++;
    return this.pos > start;
  }
  ident(what: string): string {
    const start = this.pos;
    if (this.peek() === '\\') this.fail(`CSS escapes are not supported (at ${this.pos})`);
    while (this.pos < this.src.length && IDENT_CHAR.test(this.src[this.pos]!)) this.pos++;
    if (this.peek() === '\\') this.fail(`CSS escapes are not supported (at ${this.pos})`);
    const id = this.src.slice(start, this.pos);
    if (!id || /^-?[0-9]/.test(id) || id === '-') this.fail(`expected ${what} at ${start}${this.peek() ? ` (found ${JSON.stringify(this.peek())})` : ' (end of selector)'}`);
    return id;
  }

  list(): ComplexSelector[] {
    const out: ComplexSelector[] = [];
    for (;;) {
      this.skipWs();
      out.push(this.complex());
      this.skipWs();
      if (this.pos >= this.src.length) return out;
      if (this.peek() !== ',') this.fail(`unexpected ${JSON.stringify(this.peek())} at ${this.pos}`);
      this.pos++;
    }
  }

  complex(): ComplexSelector {
    const parts: Compound[] = [this.compound(false)];
    const combinators: ('descendant' | 'child')[] = [];
    for (;;) {
      const ws = this.skipWs();
      const c = this.peek();
      if (c === '' || c === ',') break;
      if (c === '+' || c === '~') this.fail(`the ${c} combinator is not supported`);
      if (c === '>') {
        this.pos++;
        this.skipWs();
        combinators.push('child');
      } else if (ws) {
        combinators.push('descendant');
      } else {
        this.fail(`unexpected ${JSON.stringify(c)} at ${this.pos}`);
      }
      parts.push(this.compound(false));
    }
    parts.reverse();
    combinators.reverse();
    return { parts, combinators };
  }

  compound(inNot: boolean): Compound {
    const compound: Compound = { tag: null, attrs: [], nots: [] };
    let any = false;
    if (this.peek() === '*') {
      this.pos++;
      any = true;
    } else if (this.peek() !== '' && IDENT_CHAR.test(this.peek()) && !/[0-9]/.test(this.peek())) {
      compound.tag = this.ident('a tag name').toLowerCase();
      any = true;
    }
    if (this.peek() === '|') this.fail('namespaces are not supported');
    for (;;) {
      const c = this.peek();
      if (c === '#') {
        this.pos++;
        compound.attrs.push({ name: 'id', op: '=', value: this.ident('an id'), ci: false });
      } else if (c === '.') {
        this.pos++;
        compound.attrs.push({ name: 'class', op: '~=', value: this.ident('a class name'), ci: false });
      } else if (c === '[') {
        this.pos++;
        compound.attrs.push(this.attribute());
      } else if (c === ':') {
        this.pos++;
        if (this.peek() === ':') this.fail('pseudo-elements are not supported');
        const name = this.ident('a pseudo-class').toLowerCase();
        if (name !== 'not') this.fail(`the :${name} pseudo-class is not supported (only :not(…))`);
        if (inNot) this.fail(':not() inside :not() is not supported');
        if (this.peek() !== '(') this.fail('expected ( after :not');
        this.pos++;
        for (;;) {
          this.skipWs();
          compound.nots.push(this.compound(true));
          this.skipWs();
          if (this.peek() === ',') {
            this.pos++;
            continue;
          }
          if (this.peek() !== ')') this.fail(`expected ) to close :not( at ${this.pos}: only compound selectors without combinators are supported inside :not()`);
          this.pos++;
          break;
        }
      } else {
        break;
      }
      any = true;
    }
    if (!any) this.fail(this.peek() ? `unexpected ${JSON.stringify(this.peek())} at ${this.pos}` : 'empty selector');
    return compound;
  }

  attribute(): AttrTest {
    this.skipWs();
    if (this.peek() === '*' || this.peek() === '|') this.fail('namespaces are not supported');
    const name = this.ident('an attribute name').toLowerCase();
    if (this.peek() === '|' && this.src[this.pos + 1] !== '=') this.fail('namespaces are not supported');
    this.skipWs();
    if (this.peek() === ']') {
      this.pos++;
      return { name, op: 'exists', value: '', ci: false };
    }
    let op: AttrOp;
    const two = this.src.slice(this.pos, this.pos + 2);
    if (this.peek() === '=') {
      op = '=';
      this.pos++;
    } else if (['~=', '|=', '^=', '$=', '*='].includes(two)) {
      op = two as AttrOp;
      this.pos += 2;
    } else {
      this.fail(`unexpected ${JSON.stringify(this.peek() || 'end of selector')} in attribute selector at ${this.pos}`);
    }
    this.skipWs();
    let value: string;
    const q = this.peek();
    if (q === '"' || q === "'") {
      const end = this.src.indexOf(q, this.pos + 1);
      if (end < 0) this.fail('unterminated string in attribute selector');
      value = this.src.slice(this.pos + 1, end);
      if (value.includes('\\')) this.fail('CSS escapes are not supported');
      this.pos = end + 1;
    } else {
      value = this.ident('an attribute value');
    }
    this.skipWs();
    let ci = false;
    if (/[iIsS]/.test(this.peek()) && /[\s\]]/.test(this.src[this.pos + 1] ?? '')) {
      ci = /[iI]/.test(this.peek());
      this.pos++;
      this.skipWs();
    }
    if (this.peek() !== ']') this.fail(`expected ] at ${this.pos}`);
    this.pos++;
    return { name, op, value, ci };
  }
}

/** Parses a selector list; throws SelectorError with a readable message. */
export function parseSelector(selector: string): ComplexSelector[] {
  if (!selector.trim()) throw new SelectorError('empty selector');
  return new Parser(selector).list();
}

const WS = /[ \t\n\r\f]+/;

function attrMatches(t: AttrTest, actual: string | null): boolean {
  if (actual === null) return false;
  if (t.op === 'exists') return true;
  let v = t.value;
  let a = actual;
  if (t.ci) {
    v = v.toLowerCase();
    a = a.toLowerCase();
  }
  switch (t.op) {
    case '=':
      return a === v;
    case '~=':
      return v !== '' && !WS.test(v) && a.split(WS).includes(v);
    case '|=':
      return a === v || a.startsWith(v + '-');
    case '^=':
      return v !== '' && a.startsWith(v);
    case '$=':
      return v !== '' && a.endsWith(v);
    case '*=':
      return v !== '' && a.includes(v);
  }
}

export function compoundMatches(c: Compound, el: MatchTarget): boolean {
  if (c.tag !== null && c.tag !== el.name) return false;
  for (const t of c.attrs) {
    if (t.op === 'exists' && el.has) {
      if (!el.has(t.name)) return false;
    } else if (!attrMatches(t, el.attr(t.name))) return false;
  }
  for (const n of c.nots) if (compoundMatches(n, el)) return false;
  return true;
}

/**
 * Whether `sel` matches the element `self` whose open ancestors are `ancestors[0..depth)` (outermost
 * first). The subject compound is assumed to be checked by the caller when `subjectChecked`.
 */
export function complexMatches(sel: ComplexSelector, self: MatchTarget, ancestors: readonly MatchTarget[], depth: number, subjectChecked = false): boolean {
  if (!subjectChecked && !compoundMatches(sel.parts[0]!, self)) return false;
  return matchFrom(sel, 1, ancestors, depth);
}

/** Parts from `i` on must match somewhere in ancestors[0..limit). */
function matchFrom(sel: ComplexSelector, i: number, ancestors: readonly MatchTarget[], limit: number): boolean {
  if (i >= sel.parts.length) return true;
  const part = sel.parts[i]!;
  if (sel.combinators[i - 1] === 'child') {
    const at = limit - 1;
    return at >= 0 && compoundMatches(part, ancestors[at]!) && matchFrom(sel, i + 1, ancestors, at);
  }
  for (let at = limit - 1; at >= 0; at--) {
    if (compoundMatches(part, ancestors[at]!) && matchFrom(sel, i + 1, ancestors, at)) return true;
  }
  return false;
}
