/**
 * What the mirror knows about itself: per-request log lines, Prometheus metrics, health, the last hour
 * of traffic per site (for the status page), and the "leak counter" — absolute URLs to hosts that are
 * not mirrored, left in rewritten pages, by host. Runtime-agnostic; one per process (or isolate).
 */
import { RUNTIME, VERSION } from './version.ts';

/** Filled in as a request passes the cache and the pipeline. */
export interface RequestTrace {
  site: string | null;
  cache?: string;
  originStatus?: number;
  originMs?: number;
  /** Why the origin could not be used, e.g. "getaddrinfo ENOTFOUND www.epochtimes.com". */
  error?: string;
}

export interface LogLine {
  time: string;
  /** The Host the reader asked for (as sent, at most 255 characters), or null. */
  host: string | null;
  site: string | null;
  method: string;
  path: string;
  status: number;
  cache: string | null;
  originStatus: number | null;
  originMs: number | null;
  bytes: number;
  ms: number;
  /** The cause when the origin could not be used (network error, timeout). */
  error?: string;
  ip?: string;
}

/** Health of a site: unknown until its origin has answered (or failed) once. */
export type HealthStatus = 'ok' | 'degraded' | 'unknown';

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const MINUTES = 60;

interface SiteStats {
  requests: Map<string, number>; // "status|cache" → count
  bytesOut: number;
  bytesIn: number;
  originCount: number;
  originSeconds: number;
  originBuckets: number[];
  originErrors: number;
  lastOriginError: { at: string; message: string; url: string } | null;
  lastOriginOkAt: number | null;
  lastOriginErrorAt: number | null;
  leaks: Map<string, number>;
  /** Ring of per-minute buckets for the status page. */
  minutes: { minute: number; requests: number; hits: number; originMs: number; originCount: number }[];
}

export class Observer {
  private readonly sites = new Map<string, SiteStats>();
  /** Configured host names and "*.domain" patterns: the only values of the host label (plus "other"). */
  private readonly exactHosts = new Set<string>();
  private readonly wildcardHosts: string[] = [];
  /** "hostLabel|2xx" → count. */
  private readonly byHost = new Map<string, number>();
  private rewriteSeconds = 0;
  private openConnections = 0;

  constructor(
    siteNames: string[],
    private readonly options: { log?: (line: LogLine) => void; now?: () => number } = {},
  ) {
    for (const name of siteNames) this.sites.set(name, newStats());
  }

  /** The host patterns of the config (sites[].hosts): metrics label requests by these, the rest as "other". */
  configureHosts(patterns: string[]): void {
    for (const p of patterns) {
      if (p.startsWith('*.')) {
        if (!this.wildcardHosts.includes(p)) this.wildcardHosts.push(p);
      } else if (p !== '*') this.exactHosts.add(p);
    }
    this.wildcardHosts.sort((a, b) => b.length - a.length);
  }

  /** Bounded cardinality: a configured name or pattern, or "other" ("*" included: it says nothing). */
  hostLabel(host: string | null): string {
    if (!host) return 'other';
    let name = host.toLowerCase();
    const colon = name.lastIndexOf(':');
    if (colon > 0 && !name.endsWith(']')) name = name.slice(0, colon);
    if (name.endsWith('.')) name = name.slice(0, -1);
    if (this.exactHosts.has(name)) return name;
    for (const p of this.wildcardHosts) if (name.endsWith(p.slice(1)) && name.length > p.length - 1) return p;
    return 'other';
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  private stats(site: string | null): SiteStats | undefined {
    return site === null ? undefined : this.sites.get(site);
  }

  private minute(stats: SiteStats): SiteStats['minutes'][number] {
    const minute = Math.floor(this.now() / 60_000);
    let last = stats.minutes.at(-1);
    if (!last || last.minute !== minute) {
      last = { minute, requests: 0, hits: 0, originMs: 0, originCount: 0 };
      stats.minutes.push(last);
      while (stats.minutes.length && stats.minutes[0]!.minute <= minute - MINUTES) stats.minutes.shift();
    }
    return last;
  }

  /** A response has been sent completely (or the reader left). */
  requestDone(line: Omit<LogLine, 'time'>): void {
    const hostKey = `${this.hostLabel(line.host)}|${Math.floor(line.status / 100)}xx`;
    this.byHost.set(hostKey, (this.byHost.get(hostKey) ?? 0) + 1);
    const stats = this.stats(line.site);
    if (stats) {
      const key = `${line.status}|${line.cache ?? 'NONE'}`;
      stats.requests.set(key, (stats.requests.get(key) ?? 0) + 1);
      stats.bytesOut += line.bytes;
      const m = this.minute(stats);
      m.requests++;
      if (line.cache === 'HIT' || line.cache === 'STALE' || line.cache === 'REVALIDATED') m.hits++;
    }
    this.options.log?.({ time: new Date(this.now()).toISOString(), ...line });
  }

  originDone(site: string, result: { status?: number; error?: string; ms: number; url: string }): void {
    const stats = this.stats(site);
    if (!stats) return;
    const seconds = result.ms / 1000;
    stats.originCount++;
    stats.originSeconds += seconds;
    const i = LATENCY_BUCKETS.findIndex((b) => seconds <= b);
    stats.originBuckets[i < 0 ? LATENCY_BUCKETS.length : i]!++;
    const m = this.minute(stats);
    m.originMs += result.ms;
    m.originCount++;
    if (result.error !== undefined || (result.status ?? 0) >= 500) {
      stats.originErrors++;
      stats.lastOriginErrorAt = this.now();
      stats.lastOriginError = { at: new Date(this.now()).toISOString(), message: result.error ?? `status ${result.status}`, url: result.url };
    } else {
      stats.lastOriginOkAt = this.now();
    }
  }

  originBytes(site: string, bytes: number): void {
    const stats = this.stats(site);
    if (stats) stats.bytesIn += bytes;
  }

  /** An absolute URL to an unmirrored host was left in a rewritten page (a resource, not a link). */
  leak(site: string, host: string): void {
    const stats = this.stats(site);
    if (!stats) return;
    if (stats.leaks.size >= 1000 && !stats.leaks.has(host)) return; // bounded
    stats.leaks.set(host, (stats.leaks.get(host) ?? 0) + 1);
  }

  rewriteTime(seconds: number): void {
    this.rewriteSeconds += seconds;
  }

  connectionOpened(): void {
    this.openConnections++;
  }

  connectionClosed(): void {
    this.openConnections--;
  }

  topLeaks(site: string, n = 10): [string, number][] {
    return [...(this.stats(site)?.leaks ?? [])].sort((a, b) => b[1] - a[1]).slice(0, n);
  }

  /**
   * Per site: unknown until its origin has been reached (or has failed) once, degraded when the last
   * origin contact failed within the last 5 minutes, else ok. Overall: degraded if any site is, else
   * unknown if any site is, else ok. A mirror that never reached its origin is never "ok".
   */
  health(): { status: HealthStatus; sites: Record<string, { status: HealthStatus; lastOriginError: SiteStats['lastOriginError'] }> } {
    const sites: Record<string, { status: HealthStatus; lastOriginError: SiteStats['lastOriginError'] }> = {};
    let degraded = false;
    let unknown = false;
    for (const [name, s] of this.sites) {
      const recentError = s.lastOriginErrorAt !== null && this.now() - s.lastOriginErrorAt < 300_000 && (s.lastOriginOkAt ?? 0) < s.lastOriginErrorAt;
      const status: HealthStatus = recentError ? 'degraded' : s.lastOriginOkAt === null && s.lastOriginErrorAt === null ? 'unknown' : 'ok';
      if (status === 'degraded') degraded = true;
      if (status === 'unknown') unknown = true;
      sites[name] = { status, lastOriginError: s.lastOriginError };
    }
    return { status: degraded ? 'degraded' : unknown ? 'unknown' : 'ok', sites };
  }

  /** Sites whose origin has never been contacted (health "unknown"). */
  unprobedSites(): string[] {
    return [...this.sites].filter(([, s]) => s.lastOriginOkAt === null && s.lastOriginErrorAt === null).map(([name]) => name);
  }

  /** The last hour per site, a bucket per minute (oldest first), for the status page. */
  lastHour(site: string): { minute: number; requests: number; hitRatio: number; originMs: number | null }[] {
    const stats = this.stats(site);
    const now = Math.floor(this.now() / 60_000);
    const byMinute = new Map((stats?.minutes ?? []).map((m) => [m.minute, m]));
    return Array.from({ length: MINUTES }, (_, i) => {
      const minute = now - MINUTES + 1 + i;
      const m = byMinute.get(minute);
      return {
        minute,
        requests: m?.requests ?? 0,
        hitRatio: m && m.requests ? m.hits / m.requests : 0,
        originMs: m && m.originCount ? m.originMs / m.originCount : null,
      };
    });
  }

  /** Prometheus text exposition format. */
  metrics(extra: { cache?: { bytes: number; entries: number } | null } = {}): string {
    const out: string[] = [];
    const family = (name: string, type: string, help: string) => out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    const label = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

    family('edgemirror_build_info', 'gauge', 'Always 1; the labels say which version runs on which runtime.');
    out.push(`edgemirror_build_info{version="${label(VERSION)}",runtime="${label(RUNTIME)}"} 1`);

    family('edgemirror_requests_total', 'counter', 'Responses sent, by site, status and cache state.');
    for (const [site, s] of this.sites) {
      for (const [key, n] of s.requests) {
        const [status, cache] = key.split('|');
        out.push(`edgemirror_requests_total{site="${label(site)}",status="${status}",cache="${cache}"} ${n}`);
      }
    }
    family('edgemirror_host_requests_total', 'counter', 'Responses sent, by the host the reader asked for (a configured name or pattern, else "other") and status class.');
    for (const [key, n] of this.byHost) {
      const [host, code] = key.split('|');
      out.push(`edgemirror_host_requests_total{host="${label(host!)}",code="${code}"} ${n}`);
    }
    family('edgemirror_origin_duration_seconds', 'histogram', 'Time to the origin response headers, by site.');
    for (const [site, s] of this.sites) {
      let cumulative = 0;
      LATENCY_BUCKETS.forEach((b, i) => {
        cumulative += s.originBuckets[i]!;
        out.push(`edgemirror_origin_duration_seconds_bucket{site="${label(site)}",le="${b}"} ${cumulative}`);
      });
      out.push(`edgemirror_origin_duration_seconds_bucket{site="${label(site)}",le="+Inf"} ${s.originCount}`);
      out.push(`edgemirror_origin_duration_seconds_sum{site="${label(site)}"} ${s.originSeconds.toFixed(6)}`);
      out.push(`edgemirror_origin_duration_seconds_count{site="${label(site)}"} ${s.originCount}`);
    }
    family('edgemirror_origin_errors_total', 'counter', 'Origin requests that failed (network, timeout, 5xx), by site.');
    for (const [site, s] of this.sites) out.push(`edgemirror_origin_errors_total{site="${label(site)}"} ${s.originErrors}`);
    family('edgemirror_out_bytes_total', 'counter', 'Body bytes sent to readers (before compression), by site.');
    for (const [site, s] of this.sites) out.push(`edgemirror_out_bytes_total{site="${label(site)}"} ${s.bytesOut}`);
    family('edgemirror_in_bytes_total', 'counter', 'Body bytes received from origins (decoded), by site.');
    for (const [site, s] of this.sites) out.push(`edgemirror_in_bytes_total{site="${label(site)}"} ${s.bytesIn}`);
    family('edgemirror_leaked_urls_total', 'counter', 'Absolute URLs to unmirrored hosts left in rewritten pages (resources, not links), by site and host.');
    for (const [site, s] of this.sites) for (const [host, n] of s.leaks) out.push(`edgemirror_leaked_urls_total{site="${label(site)}",host="${label(host)}"} ${n}`);
    family('edgemirror_rewrite_seconds_total', 'counter', 'Time spent inside the HTML rewriter.');
    out.push(`edgemirror_rewrite_seconds_total ${this.rewriteSeconds.toFixed(6)}`);
    family('edgemirror_open_connections', 'gauge', 'Client connections open now.');
    out.push(`edgemirror_open_connections ${this.openConnections}`);
    if (extra.cache) {
      family('edgemirror_cache_bytes', 'gauge', 'Bytes held by the response cache.');
      out.push(`edgemirror_cache_bytes ${extra.cache.bytes}`);
      family('edgemirror_cache_entries', 'gauge', 'Entries held by the response cache.');
      out.push(`edgemirror_cache_entries ${extra.cache.entries}`);
    }
    return out.join('\n') + '\n';
  }
}

function newStats(): SiteStats {
  return {
    requests: new Map(),
    bytesOut: 0,
    bytesIn: 0,
    originCount: 0,
    originSeconds: 0,
    originBuckets: new Array(LATENCY_BUCKETS.length + 1).fill(0),
    originErrors: 0,
    lastOriginError: null,
    lastOriginOkAt: null,
    lastOriginErrorAt: null,
    leaks: new Map(),
    minutes: [],
  };
}
