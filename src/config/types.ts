/** The configuration as written in JSON (see config/schema.json). */
export interface MirrorConfigInput {
  $schema?: string;
  server?: Partial<ServerConfig>;
  cache?: Partial<Omit<CacheConfig, 'overrides' | 'purgeToken'>> & { purgeToken?: string; overrides?: CacheOverride[] };
  sites: SiteConfigInput[];
}

export interface CacheTtls {
  defaultTtl: number;
  maxTtl: number;
  staleWhileRevalidate: number;
  staleIfError: number;
}

export interface CacheOverride extends Partial<CacheTtls> {
  contentType: string;
}

export interface CacheConfig extends CacheTtls {
  enabled: boolean;
  maxBytes: number;
  maxEntryBytes: number;
  negativeTtl: number;
  /** null: the purge endpoint refuses every request. */
  purgeToken: string | null;
  overrides: CacheOverride[];
}

export type LinkAction = 'mirror' | 'keep' | 'neutralize';

export interface SiteConfigInput {
  name: string;
  hosts: string[];
  origins: { url: string; mount: string; aliases?: string[]; upstream?: string }[];
  links?: { external?: 'keep' | 'neutralize'; rules?: { prefix: string; action: LinkAction }[] };
  nav?: { label: string; href: string }[];
  footer?: string;
  remove?: string[];
  inject?: { head?: string; bodyStart?: string; bodyEnd?: string };
  export?: Partial<ExportConfig>;
  language?: ReaderLanguage;
  style?: 'default' | 'none';
  leaks?: Partial<LeaksConfig>;
}

/** What a page may contact at run time, and how the mirror learns about (and stops) what it does. */
export interface LeaksConfig {
  /** Content-Security-Policy: "report" (Report-Only, default), "strict" (enforced) or "off". */
  csp: 'report' | 'strict' | 'off';
  /** Third-party hosts ("host" or "*.domain") readers may contact: allowed by the policy, embeds kept. */
  allow: string[];
  /** The client shim that maps URLs built by page scripts. */
  shim: boolean;
  /** Iframes, scripts and media on hosts outside the mirror and `allow`. */
  embeds: 'keep' | 'placeholder' | 'drop';
}

/** `edgemirror export` settings of a site (docs/export.md). */
export interface ExportConfig {
  from: string[];
  contentSelector: string[];
  articlePattern: string;
  remove: string[];
}

/** The language of the mirror's own pages for readers. */
export type ReaderLanguage = 'zh-CN' | 'zh-TW' | 'en';

/** The configuration after validation, with every default filled in. */
export interface ServerConfig {
  trustForwardedProto: boolean;
  /** Seconds. */
  originTimeout: number;
  originConnectTimeout: number;
  originIdleTimeout: number;
  maxConcurrentOriginRequests: number;
  originQueueTimeout: number;
  maxUrlBytes: number;
  maxHeaderBytes: number;
  maxBodyBytes: number;
  maxOriginHeaderBytes: number;
  clientHeadersTimeout: number;
  clientIdleTimeout: number;
  /** Seconds for a whole request body (408 past it). */
  clientBodyTimeout: number;
  /** Origin body bytes buffered ahead of a slow reader before its slot is released. */
  originReadAheadBytes: number;
  /** Origin slots one client address may hold at once (0: no per-client share). */
  maxOriginRequestsPerClient: number;
  /** Node: cap on a compressed origin body's decoded size. */
  maxDecodedOriginBytes: number;
  shutdownTimeout: number;
  robots: string;
  accessLog: 'auto' | 'json' | 'pretty' | 'off';
  logClientIp: boolean;
  /** Query strings in access-log paths: values REDACTED (default) or as sent; a token never. */
  logQuery: 'redact' | 'full';
  htmlEngine: 'fast' | 'lol-html';
}

export interface MirrorConfig {
  server: ServerConfig;
  cache: CacheConfig;
  sites: SiteConfig[];
}

export interface OriginConfig {
  /** Normalised public origin, e.g. "https://www.epochtimes.com" (no trailing slash, default port dropped). */
  url: string;
  mount: string;
  aliases: string[];
  /** Where to connect instead of url, normalised like url; null to connect to url itself. */
  upstream: string | null;
}

export interface SiteConfig {
  name: string;
  hosts: string[];
  origins: OriginConfig[];
  links: { external: 'keep' | 'neutralize'; rules: { prefix: string; action: LinkAction }[] };
  nav: { label: string; href: string }[];
  footer: string;
  remove: string[];
  inject: { head: string; bodyStart: string; bodyEnd: string };
  export: ExportConfig;
  language: ReaderLanguage;
  /** "default": the built-in inline style on the nav bar and footer; "none": plain markup. */
  style: 'default' | 'none';
  leaks: LeaksConfig;
}
