/**
 * A line diff for `edgemirror rewrite --diff`: Myers' O(ND) algorithm on lines, printed as unified-diff
 * hunks. Minified HTML is one enormous line, so long lines are first broken between tags (`><`, both
 * sides alike), which turns "the page changed" into "these tags changed".
 */

export type Edit = { op: ' ' | '-' | '+'; line: string; a: number; b: number };

export interface DiffOptions {
  /** Unchanged lines shown around each change (default 3). */
  context?: number;
  /** Lines longer than this are split between tags (default 200). */
  splitAbove?: number;
  /** Past this many differing lines, the middle is reported as one replaced block (default 4000). */
  maxEdits?: number;
}

/**
 * Splits text into lines (without their newlines). A line longer than `splitAbove` is broken between
 * adjacent tags (`><`), and a piece still four times that long after every `>`. Short lines stay whole:
 * hand-formatted HTML diffs line by line, as written.
 */
export function diffLines(text: string, splitAbove = 200): string[] {
  if (text === '') return [];
  const lines = text.split(/\r?\n/);
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  const out: string[] = [];
  for (const line of lines) {
    if (line.length <= splitAbove) out.push(line);
    else for (const piece of splitAfter(line, /></g)) out.push(...(piece.length <= 4 * splitAbove ? [piece] : splitAfter(piece, />(?=.)/gs)));
  }
  return out;
}

/** Breaks `text` after the first character of every match of `pattern`. */
function splitAfter(text: string, pattern: RegExp): string[] {
  const pieces: string[] = [];
  let start = 0;
  for (const m of text.matchAll(pattern)) {
    pieces.push(text.slice(start, m.index + 1));
    start = m.index + 1;
  }
  pieces.push(text.slice(start));
  return pieces;
}

/**
 * The shortest edit script turning `a` into `b` (Myers 1986, greedy forward search with a saved trace).
 * Common prefix and suffix are trimmed first; past `maxEdits` the remaining middle is replaced wholesale.
 */
export function diff(a: readonly string[], b: readonly string[], maxEdits = 4000): Edit[] {
  let prefix = 0;
  while (prefix < a.length && prefix < b.length && a[prefix] === b[prefix]) prefix++;
  let suffix = 0;
  while (suffix < a.length - prefix && suffix < b.length - prefix && a[a.length - 1 - suffix] === b[b.length - 1 - suffix]) suffix++;
  const edits: Edit[] = [];
  for (let i = 0; i < prefix; i++) edits.push({ op: ' ', line: a[i]!, a: i, b: i });
  const A = a.slice(prefix, a.length - suffix);
  const B = b.slice(prefix, b.length - suffix);
  for (const e of middle(A, B, maxEdits)) edits.push({ ...e, a: e.a + prefix, b: e.b + prefix });
  for (let i = suffix; i > 0; i--) edits.push({ op: ' ', line: a[a.length - i]!, a: a.length - i, b: b.length - i });
  return edits;
}

function middle(a: readonly string[], b: readonly string[], maxEdits: number): Edit[] {
  const n = a.length;
  const m = b.length;
  const replaceAll = (): Edit[] => [
    ...a.map((line, i): Edit => ({ op: '-', line, a: i, b: 0 })),
    ...b.map((line, j): Edit => ({ op: '+', line, a: n, b: j })),
  ];
  if (n === 0 || m === 0) return replaceAll();
  const max = Math.min(n + m, maxEdits);
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  // trace[d] holds v[-d..d] as it was before step d.
  const trace: Int32Array[] = [];
  let found = -1;
  for (let d = 0; d <= max && found < 0; d++) {
    trace.push(v.slice(offset - d, offset + d + 1));
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!) ? v[offset + k + 1]! : v[offset + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) {
        found = d;
        break;
      }
    }
  }
  if (found < 0) return replaceAll();
  // Walk the trace back from (n, m).
  const reversed: Edit[] = [];
  let x = n;
  let y = m;
  for (let d = found; d > 0; d--) {
    const prev = trace[d]!; // v[-d..d] before step d, at index k + d
    const at = (k: number) => prev[k + d]!;
    const k = x - y;
    const down = k === -d || (k !== d && at(k - 1) < at(k + 1));
    const prevK = down ? k + 1 : k - 1;
    const prevX = at(prevK);
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      x--;
      y--;
      reversed.push({ op: ' ', line: a[x]!, a: x, b: y });
    }
    if (down) {
      y--;
      reversed.push({ op: '+', line: b[y]!, a: x, b: y });
    } else {
      x--;
      reversed.push({ op: '-', line: a[x]!, a: x, b: y });
    }
  }
  while (x > 0 && y > 0) {
    x--;
    y--;
    reversed.push({ op: ' ', line: a[x]!, a: x, b: y });
  }
  return reversed.reverse();
}

export interface UnifiedDiff {
  text: string;
  added: number;
  removed: number;
}

/**
 * Unified-diff text (`--- a`, `+++ b`, `@@ -l,s +l,s @@` hunks) of two texts; empty text when equal.
 * `paint` colours the markers (identity when not on a terminal).
 */
export function unifiedDiff(
  before: string,
  after: string,
  labels: { a: string; b: string },
  options: DiffOptions = {},
  paint: (code: number, text: string) => string = (_c, t) => t,
): UnifiedDiff {
  const context = options.context ?? 3;
  const a = diffLines(before, options.splitAbove);
  const b = diffLines(after, options.splitAbove);
  const edits = diff(a, b, options.maxEdits);
  const added = edits.filter((e) => e.op === '+').length;
  const removed = edits.filter((e) => e.op === '-').length;
  if (added === 0 && removed === 0) return { text: '', added, removed };
  const out: string[] = [paint(1, `--- ${labels.a}`), paint(1, `+++ ${labels.b}`)];
  let i = 0;
  while (i < edits.length) {
    // Next change.
    while (i < edits.length && edits[i]!.op === ' ') i++;
    if (i >= edits.length) break;
    const start = Math.max(0, i - context);
    // Extend while the gap between changes is at most 2 × context.
    let end = i;
    while (end < edits.length) {
      if (edits[end]!.op !== ' ') {
        end++;
        continue;
      }
      let run = end;
      while (run < edits.length && edits[run]!.op === ' ') run++;
      if (run >= edits.length || run - end > 2 * context) {
        end = Math.min(run, end + context);
        break;
      }
      end = run;
    }
    const hunk = edits.slice(start, end);
    const first = hunk[0]!;
    const aCount = hunk.filter((e) => e.op !== '+').length;
    const bCount = hunk.filter((e) => e.op !== '-').length;
    const aStart = aCount ? first.a + 1 : first.a;
    const bStart = bCount ? first.b + 1 : first.b;
    out.push(paint(36, `@@ -${aStart},${aCount} +${bStart},${bCount} @@`));
    for (const e of hunk) {
      const line = `${e.op}${e.line}`;
      out.push(e.op === '-' ? paint(31, line) : e.op === '+' ? paint(32, line) : line);
    }
    i = end;
  }
  return { text: out.join('\n') + '\n', added, removed };
}
