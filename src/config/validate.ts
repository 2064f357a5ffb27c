import schema from '../../config/schema.json' with { type: 'json' };
import type { MirrorConfig, MirrorConfigInput, OriginConfig, ServerConfig, SiteConfig } from './types.ts';

/**
 * Validates a parsed config against config/schema.json (the one source of field names and types),
 * then applies the rules a JSON Schema cannot say (one root mount, distinct mounts, URL shapes).
 * Every problem is reported with its JSON path, e.g. `sites[0].origins[1].mount must start and end with "/"`.
 */
export type ValidationResult = { ok: true; config: MirrorConfig } | { ok: false; errors: string[] };

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid config:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
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
      else if (node.additionalProperties === false) errors.push(`${childPath(path, key)} is not a known field`);
    }
  }
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
  shutdownTimeout: 10,
  robots: 'noindex, nofollow',
  accessLog: 'auto',
  logClientIp: false,
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

/** Parses JSON text and validates it; JSON syntax errors are reported like schema problems. */
export function parseConfig(text: string, source = 'config'): ValidationResult {
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (err) {
    return { ok: false, errors: [`${source} is not valid JSON: ${(err as Error).message}`] };
  }
  return validateConfig(input);
}
