import { escapeHtml } from '../http/escape.ts';
import { formatBytes } from './format.ts';
import type { Observer } from './observer.ts';

/** GET /_mirror/ — a small page for operators: the last hour per site as bar charts, and leaked hosts. */
export function statusPage(observer: Observer, sites: string[], cache: { bytes: number; entries: number } | null): string {
  const health = observer.health();
  const sections = sites.map((site) => {
    const hour = observer.lastHour(site);
    const total = hour.reduce((n, m) => n + m.requests, 0);
    const latencies = hour.filter((m) => m.originMs !== null).map((m) => m.originMs!);
    const avgLatency = latencies.length ? latencies.reduce((a, b) => a + b, 0) / latencies.length : null;
    const leaks = observer.topLeaks(site);
    const siteHealth = health.sites[site];
    return `<section>
<h2>${escapeHtml(site)} <small class="${siteHealth?.status}">${siteHealth?.status}</small></h2>
<p>${total} requests in the last hour · origin ${avgLatency === null ? '—' : `${avgLatency.toFixed(0)} ms average`}${
      siteHealth?.lastOriginError ? ` · last origin error ${escapeHtml(siteHealth.lastOriginError.at)}: ${escapeHtml(siteHealth.lastOriginError.message)} (${escapeHtml(siteHealth.lastOriginError.url)})` : ''
    }</p>
<h3>Requests per minute</h3>${bars(hour.map((m) => m.requests), (v) => `${v}`)}
<h3>Cache hit ratio</h3>${bars(hour.map((m) => m.hitRatio), (v) => `${(v * 100).toFixed(0)}%`, 1)}
<h3>Origin latency</h3>${bars(hour.map((m) => m.originMs ?? 0), (v) => `${v.toFixed(0)} ms`)}
<h3>Top leaked hosts</h3>${
      leaks.length
        ? `<table><tr><th>host</th><th>URLs left in pages</th></tr>${leaks.map(([h, n]) => `<tr><td>${escapeHtml(h)}</td><td>${n}</td></tr>`).join('')}</table><p>Resources on these hosts are not mirrored: add them to <code>origins</code> with a mount.</p>`
        : '<p>None: every resource URL in rewritten pages points at the mirror.</p>'
    }
</section>`;
  });
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><meta name="robots" content="noindex"><title>edgemirror status</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:960px}svg{display:block;overflow:visible}.plot{fill:#f6f6f6}rect.bar{fill:#3a7bd5}line{stroke:#999}text{font:11px system-ui,sans-serif;fill:#555}.ok{color:#2a2}.degraded{color:#c22}.unknown{color:#a60}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}</style></head>
<body><h1>edgemirror status: <span class="${health.status}">${health.status}</span></h1>
<p>Cache: ${cache ? `${cache.entries} entries, ${formatBytes(cache.bytes)}` : 'not measurable on this runtime'}. <a href="metrics">metrics</a> · <a href="health">health</a></p>
${sections.join('\n')}
</body></html>`;
}

/**
 * A bar per minute, oldest on the left, as inline SVG (no scripts, no external assets): a y axis from 0
 * to the largest value, an x axis from 60 minutes ago to now, and the latest and largest values written
 * out. Each bar's exact value is its tooltip.
 */
function bars(values: number[], label: (v: number) => string, max = Math.max(1, ...values)): string {
  const width = 6;
  const height = 60;
  const left = 44; // room for the y labels
  const plot = values.length * (width + 2);
  const rects = values
    .map((v, i) => {
      const h = Math.round((v / max) * height);
      return h > 0 ? `<rect class="bar" x="${left + i * (width + 2)}" y="${height - h}" width="${width}" height="${h}"><title>${escapeHtml(label(v))}</title></rect>` : '';
    })
    .join('');
  const axes =
    `<rect class="plot" x="${left}" y="0" width="${plot}" height="${height}"/>` +
    `<line x1="${left}" y1="0" x2="${left}" y2="${height}"/><line x1="${left}" y1="${height}" x2="${left + plot}" y2="${height}"/>` +
    `<text x="${left - 4}" y="9" text-anchor="end">${escapeHtml(label(max))}</text><text x="${left - 4}" y="${height}" text-anchor="end">${escapeHtml(label(0))}</text>` +
    `<text x="${left}" y="${height + 13}">−60 min</text><text x="${left + plot / 2}" y="${height + 13}" text-anchor="middle">−30 min</text><text x="${left + plot}" y="${height + 13}" text-anchor="end">now</text>`;
  const latest = values.at(-1) ?? 0;
  const peak = Math.max(0, ...values);
  return `<svg width="${left + plot}" height="${height + 16}" role="img" aria-label="last 60 minutes">${axes}${rects}</svg><p class="values">this minute: ${escapeHtml(label(latest))} · highest: ${escapeHtml(label(peak))}</p>`;
}
