import schema from '../../config/schema.json' with { type: 'json' };
import type { MirrorConfig, MirrorConfigInput, OriginConfig, ServerConfig, SiteConfig } from './types.ts';

/**
 * Validates a parsed config against config/schema.json (the one source of field names and types),
 * then applies the rules a JSON Schema cannot say (one root mount, distinct mounts, URL shapes).
 * Every problem is reported with its JSON path, e.g. `sites[0].origins[1].mount must start and end with "/"`.
 */
export type ValidationResult =
  | { ok: true; config: MirrorConfig }
  /** `excerpts[i]`, when parsed from text: the line of errors[i] and a caret under the spot (two lines). */
  | { ok: false; errors: string[]; excerpts?: string[] };

export class ConfigError extends Error {
  constructor(
    readonly problems: string[],
    readonly excerpts: string[] = [],
  ) {
    super(`invalid config:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }

  /** Each problem, followed by its excerpt from the file when there is one (for people at a terminal). */
  described(): string[] {
    return this.problems.map((p, i) => (this.excerpts[i] ? `${p}\n${this.excerpts[i]}` : p));
  }
}

interface SchemaNode {
  type?: string;
  enum?: unknown[];
  properties?: Record<string, SchemaNode>;
  required?: string[];
  additionalProperties?: boolean;
  items?: SchemaNode;
  minItems?: number;
  minLength?: number;
  minimum?: number;
  exclusiveMinimum?: number;
  default?: unknown;
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function childPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}

function walk(node: SchemaNode, value: unknown, path: string, errors: string[]): void {
  const where = path || '(root)';
  if (node.enum) {
    if (!node.enum.includes(value)) {
      errors.push(`${where} must be one of ${node.enum.map((e) => JSON.stringify(e)).join(', ')} (got ${JSON.stringify(value)})`);
    }
    return;
  }
  if (node.type) {
    const actual = typeOf(value);
    if (actual !== node.type) {
      errors.push(`${where} must be ${node.type === 'array' || node.type === 'object' ? 'an' : 'a'} ${node.type} (got ${actual})`);
      return;
    }
  }
  if (typeof value === 'string' && node.minLength !== undefined && value.length < node.minLength) {
    errors.push(node.minLength === 1 ? `${where} must not be empty` : `${where} must be at least ${node.minLength} characters long`);
  }
  if (typeof value === 'number' && !Number.isFinite(value)) errors.push(`${where} must be a finite number`);
  if (typeof value === 'number' && node.minimum !== undefined && !(value >= node.minimum)) {
    errors.push(`${where} must be at least ${node.minimum}`);
  }
  if (typeof value === 'number' && node.exclusiveMinimum !== undefined && !(value > node.exclusiveMinimum)) {
    errors.push(`${where} must be greater than ${node.exclusiveMinimum}`);
  }
  if (Array.isArray(value)) {
    if (node.minItems !== undefined && value.length < node.minItems) {
      errors.push(`${where} must have at least ${node.minItems} item${node.minItems === 1 ? '' : 's'}`);
    }
    if (node.items) value.forEach((item, i) => walk(node.items!, item, childPath(path, i), errors));
  }
  if (node.type === 'object' && value && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    for (const key of node.required ?? []) {
      if (!(key in obj)) errors.push(`${childPath(path, key)} is required`);
    }
    for (const [key, child] of Object.entries(obj)) {
      const sub = node.properties?.[key];
      if (sub) walk(sub, child, childPath(path, key), errors);
      else if (node.additionalProperties === false) {
        const guess = closest(key, Object.keys(node.properties ?? {}));
        errors.push(`${childPath(path, key)} is not a known field${guess ? `; did you mean "${guess}"?` : ''}`);
      }
    }
  }
}

/** The known name a mistyped one most likely meant: same letters in another case, or at most 2 edits away. */
export function closest(name: string, known: string[]): string | null {
  let best: string | null = null;
  let bestDistance = Math.min(2, Math.floor(name.length / 2));
  for (const k of known) {
    if (k.toLowerCase() === name.toLowerCase()) return k;
    const d = editDistance(name.toLowerCase(), k.toLowerCase(), bestDistance);
    if (d <= bestDistance && (best === null || d < bestDistance)) {
      best = k;
      bestDistance = d;
    }
  }
  return best;
}

/** Levenshtein distance, or more than `limit` as soon as that is certain (names are short). */
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}

/** The only placeholder a footer may use. */
const PLACEHOLDERS = ['originalUrl'];

/** The operator token from the environment must be as strong as cache.purgeToken (config/schema.json). */
export const MIN_TOKEN_LENGTH = (schema as { properties: { cache: { properties: { purgeToken: { minLength: number } } } } }).properties.cache.properties.purgeToken.minLength;
export function purgeTokenProblem(token: string, name: string): string | null {
  return token.length < MIN_TOKEN_LENGTH ? `${name} must be at least ${MIN_TOKEN_LENGTH} characters long (got ${token.length})` : null;
}

/** Parses "scheme://host[:port]" (no path); returns the normalised form or an error phrase. */
export function normaliseOrigin(text: string): { origin: string } | { problem: string } {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { problem: `must be an absolute http(s) URL (got ${JSON.stringify(text)})` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { problem: `must be an http: or https: URL (got ${JSON.stringify(text)})` };
  }
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash || url.username || url.password) {
    return { problem: `must be scheme and host only, without path, query or credentials (got ${JSON.stringify(text)})` };
  }
  return { origin: url.origin };
}

function checkSite(site: SiteConfigInputLoose, i: number, errors: string[]): void {
  const base = `sites[${i}]`;
  const origins = Array.isArray(site.origins) ? site.origins : [];
  const mounts = new Map<string, number>();
  const hostsSeen = new Map<string, string>();
  let roots = 0;
  origins.forEach((o, j) => {
    if (!o || typeof o !== 'object') return;
    const p = `${base}.origins[${j}]`;
    if (typeof o.mount === 'string') {
      if (!o.mount.startsWith('/') || !o.mount.endsWith('/')) {
        errors.push(`${p}.mount must start and end with "/" (got ${JSON.stringify(o.mount)})`);
      } else if (/[?#\s]|\/\//.test(o.mount)) {
        errors.push(`${p}.mount must be a plain path prefix without "?", "#", spaces or "//" (got ${JSON.stringify(o.mount)})`);
      }
      // "/_root/" is where the mapper escapes root-origin paths that look like a mount (src/mapping/url-mapper.ts).
      if (o.mount === '/_root/') errors.push(`${p}.mount "/_root/" is reserved for root-origin paths that collide with a mount`);
      if (o.mount === '/') roots++;
      const prev = mounts.get(o.mount);
      if (prev !== undefined) errors.push(`${p}.mount ${JSON.stringify(o.mount)} is already used by ${base}.origins[${prev}]`);
      else mounts.set(o.mount, j);
    }
    const spellings: [string, unknown][] = [[`${p}.url`, o.url]];
    if (Array.isArray(o.aliases)) o.aliases.forEach((a, k) => spellings.push([`${p}.aliases[${k}]`, a]));
    for (const [where, text] of spellings) {
      if (typeof text !== 'string') continue;
      const r = normaliseOrigin(text);
      if ('problem' in r) {
        errors.push(`${where} ${r.problem}`);
        continue;
      }
      const host = new URL(r.origin).host;
      const owner = hostsSeen.get(host);
      if (owner && !owner.startsWith(`${p}.`)) errors.push(`${where} names host ${host}, already mapped by ${owner}`);
      else if (!owner) hostsSeen.set(host, where);
    }
    if (typeof o.upstream === 'string') {
      const r = normaliseOrigin(o.upstream);
      if ('problem' in r) errors.push(`${p}.upstream ${r.problem}`);
    }
  });
  if (origins.length > 0 && roots !== 1) {
    errors.push(`${base}.origins must have exactly one origin with mount "/" (found ${roots})`);
  }
  // A non-root mount must not hide under another (e.g. "/_i/" and "/_i/x/"): the inverse mapping would be ambiguous.
  const list = [...mounts.keys()].filter((m) => m !== '/');
  for (const a of list) {
    for (const b of list) {
      if (a !== b && b.startsWith(a)) errors.push(`${base}.origins: mount ${JSON.stringify(b)} is nested inside mount ${JSON.stringify(a)}`);
    }
  }
  if (Array.isArray(site.hosts)) {
    site.hosts.forEach((h, k) => {
      if (typeof h !== 'string' || h === '*') return;
      const name = h.startsWith('*.') ? h.slice(2) : h;
      if (!/^[a-z0-9.-]+$/i.test(name) || name.startsWith('.') || name.endsWith('.')) {
        errors.push(`${base}.hosts[${k}] must be a host name, "*.domain" or "*" (got ${JSON.stringify(h)})`);
      }
    });
  }
  if (typeof site.export?.articlePattern === 'string') {
    try {
      new RegExp(site.export.articlePattern);
    } catch (err) {
      errors.push(`${base}.export.articlePattern is not a valid regular expression: ${(err as Error).message}`);
    }
  }
  if (typeof site.footer === 'string') {
    for (const m of site.footer.matchAll(/\{\{\s*([^{}]*?)\s*\}\}/g)) {
      if (PLACEHOLDERS.includes(m[1]!)) continue;
      const guess = closest(m[1]!, PLACEHOLDERS);
      errors.push(`${base}.footer has an unknown placeholder ${m[0]}${guess ? `; did you mean {{${guess}}}?` : ` (known: ${PLACEHOLDERS.map((p) => `{{${p}}}`).join(', ')})`}`);
    }
  }
  if (Array.isArray(site.leaks?.allow)) {
    site.leaks.allow.forEach((h: unknown, k: number) => {
      const name = typeof h === 'string' && h.startsWith('*.') ? h.slice(2) : h;
      if (typeof name !== 'string' || !/^[a-z0-9.-]+$/i.test(name) || name.startsWith('.') || name.endsWith('.')) {
        errors.push(`${base}.leaks.allow[${k}] must be a host name or "*.domain" (got ${JSON.stringify(h)})`);
      }
    });
  }
  if (Array.isArray(site.links?.rules)) {
    site.links.rules.forEach((r, k) => {
      if (r && typeof r.prefix === 'string' && !/^https?:\/\//i.test(r.prefix)) {
        errors.push(`${base}.links.rules[${k}].prefix must be an absolute http(s) URL prefix (got ${JSON.stringify(r.prefix)})`);
      }
    });
  }
}

/** An article's body on Epoch Times pages (#artbody, .post_content) and on most other sites. */
const EXPORT_CONTENT_SELECTORS = ['#artbody', '.post_content', 'article', 'main'];

type SiteConfigInputLoose = Partial<SiteConfigInput> & Record<string, any>;
type SiteConfigInput = MirrorConfigInput['sites'][number];

function resolveSite(s: SiteConfigInput): SiteConfig {
  const origin = (text: string) => (normaliseOrigin(text) as { origin: string }).origin;
  const origins: OriginConfig[] = s.origins.map((o) => ({
    url: origin(o.url),
    mount: o.mount,
    aliases: (o.aliases ?? []).map(origin),
    upstream: o.upstream ? origin(o.upstream) : null,
  }));
  return {
    name: s.name,
    hosts: s.hosts.map((h) => h.toLowerCase()),
    origins,
    links: { external: s.links?.external ?? 'keep', rules: s.links?.rules ?? [] },
    nav: s.nav ?? [],
    footer: s.footer ?? '',
    remove: s.remove ?? [],
    inject: { head: s.inject?.head ?? '', bodyStart: s.inject?.bodyStart ?? '', bodyEnd: s.inject?.bodyEnd ?? '' },
    export: {
      from: s.export?.from ?? [],
      contentSelector: s.export?.contentSelector ?? EXPORT_CONTENT_SELECTORS,
      articlePattern: s.export?.articlePattern ?? '/n\\d+\\.html?$',
      remove: s.export?.remove ?? ['script', 'noscript'],
    },
    language: s.language ?? 'zh-CN',
    style: s.style ?? 'default',
    leaks: { csp: s.leaks?.csp ?? 'report', allow: (s.leaks?.allow ?? []).map((h) => h.toLowerCase()), shim: s.leaks?.shim ?? false, embeds: s.leaks?.embeds ?? 'keep' },
  };
}

export const SERVER_DEFAULTS: ServerConfig = {
  trustForwardedProto: false,
  originTimeout: 30,
  originConnectTimeout: 10,
  originIdleTimeout: 60,
  maxConcurrentOriginRequests: 64,
  originQueueTimeout: 10,
  maxUrlBytes: 8192,
  maxHeaderBytes: 16384,
  maxBodyBytes: 10 * 1024 * 1024,
  maxOriginHeaderBytes: 64 * 1024,
  clientHeadersTimeout: 20,
  clientIdleTimeout: 5,
  clientBodyTimeout: 10,
  originReadAheadBytes: 256 * 1024,
  maxOriginRequestsPerClient: 0,
  maxDecodedOriginBytes: 64 * 1024 * 1024,
  shutdownTimeout: 10,
  robots: 'noindex, nofollow',
  accessLog: 'auto',
  logClientIp: false,
  logQuery: 'redact',
  htmlEngine: 'fast',
};

export function validateConfig(input: unknown): ValidationResult {
  const errors: string[] = [];
  walk(schema as SchemaNode, input, '', errors);
  const sites = (input as { sites?: unknown })?.sites;
  if (Array.isArray(sites)) {
    const names = new Map<string, number>();
    sites.forEach((site, i) => {
      if (!site || typeof site !== 'object') return;
      checkSite(site as SiteConfigInputLoose, i, errors);
      const name = (site as { name?: unknown }).name;
      if (typeof name === 'string') {
        if (names.has(name)) errors.push(`sites[${i}].name ${JSON.stringify(name)} is already used by sites[${names.get(name)}]`);
        else names.set(name, i);
      }
    });
  }
  if (errors.length) return { ok: false, errors };
  const cfg = input as MirrorConfigInput;
  return {
    ok: true,
    config: {
      server: { ...SERVER_DEFAULTS, ...cfg.server },
      cache: {
        enabled: cfg.cache?.enabled ?? true,
        maxBytes: cfg.cache?.maxBytes ?? 256 * 1024 * 1024,
        maxEntryBytes: cfg.cache?.maxEntryBytes ?? 8 * 1024 * 1024,
        defaultTtl: cfg.cache?.defaultTtl ?? 60,
        maxTtl: cfg.cache?.maxTtl ?? 86400,
        staleWhileRevalidate: cfg.cache?.staleWhileRevalidate ?? 60,
        staleIfError: cfg.cache?.staleIfError ?? 86400,
        negativeTtl: cfg.cache?.negativeTtl ?? 10,
        purgeToken: cfg.cache?.purgeToken ?? null,
        overrides: cfg.cache?.overrides ?? [],
      },
      sites: cfg.sites.map(resolveSite),
    },
  };
}

/**
 * Parses JSON text and validates it. Every problem is reported as `source:line:col: problem`, with an
 * excerpt: the line of the file and a caret under the spot (as compilers do). JSON syntax errors point
 * where the parser stopped, schema problems at the field's key (or its parent object, if missing).
 */
export function parseConfig(text: string, source = 'config'): ValidationResult {
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (err) {
    const message = (err as Error).message;
    const at = /at position (\d+)/.exec(message);
    const offset = at ? Number(at[1]) : /end of JSON input/.test(message) ? text.length : 0;
    const reason = message.replace(/\s*in JSON at position \d+.*$/s, '').replace(/\s*\(line \d+ column \d+\)$/, '');
    const problem = located(text, source, offset, `not valid JSON: ${reason}`);
    return { ok: false, errors: [problem.line], excerpts: [problem.excerpt] };
  }
  const result = validateConfig(input);
  if (result.ok) return result;
  let positions: Map<string, number>;
  try {
    positions = locatePaths(text);
  } catch {
    positions = new Map(); // a nesting deeper than the stack: problems without positions
  }
  const errors = result.errors.map((problem) => {
    // Problems start with the JSON path they are about: "sites[0].footer has …", "sites[0].origins: mount …".
    let path = /^[^\s:]*/.exec(problem)![0];
    if (path === '(root)') path = '';
    while (!positions.has(path) && path !== '') path = path.replace(/(\.[^.[\]]*|\[\d+\])$/, '');
    const offset = positions.get(path);
    return { offset: offset ?? Infinity, ...(offset === undefined ? { line: `${source}: ${problem}`, excerpt: '' } : located(text, source, offset, problem)) };
  });
  // In the order of the file, as an editor goes through them.
  errors.sort((a, b) => a.offset - b.offset);
  return { ok: false, errors: errors.map((e) => e.line), excerpts: errors.map((e) => e.excerpt) };
}

/** "file:line:col: problem", and as its excerpt the line itself and a caret under the column. */
function located(text: string, source: string, offset: number, problem: string): { line: string; excerpt: string } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const lineStart = before.lastIndexOf('\n') + 1;
  let lineEnd = text.indexOf('\n', offset);
  if (lineEnd < 0) lineEnd = text.length;
  const col = offset - lineStart + 1;
  // Long lines (a minified config) are cut to 60 characters either side of the spot.
  const from = Math.max(lineStart, offset - 60);
  const shown = text.slice(from, Math.min(lineEnd, offset + 60)).replace(/\r$/, '');
  const pad = text.slice(from, offset).replace(/[^\t]/g, ' ');
  return { line: `${source}:${line}:${col}: ${problem}`, excerpt: `    ${shown}\n    ${pad}^` };
}

/**
 * Where each JSON path starts in valid JSON text: a property at its key, an array item at its value.
 * One pass over the text; paths are spelled as in problems ("sites[0].origins[1].mount").
 */
function locatePaths(text: string): Map<string, number> {
  const at = new Map<string, number>();
  let i = 0;
  const space = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const string = (): string => {
    const start = i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (path: string): void => {
    space();
    if (!at.has(path)) at.set(path, i);
    const c = text[i];
    if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      i++;
      space();
      for (let k = 0; i < text.length && text[i] !== close; k++) {
        if (c === '{') {
          const keyAt = i;
          const child = childPath(path, string());
          at.set(child, keyAt);
          space();
          i++; // ':'
          value(child);
        } else value(childPath(path, k));
        space();
        if (text[i] === ',') {
          i++;
          space();
        }
      }
      i++;
    } else if (c === '"') string();
    else while (i < text.length && !',}] \t\n\r'.includes(text[i]!)) i++;
  };
  value('');
  return at;
}
