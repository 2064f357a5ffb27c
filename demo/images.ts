import { deflateSync } from 'node:zlib';

/**
 * The demo image host (stands in for i.epochtimes.com): every image is generated in code, so the
 * repository holds no binary files. Most are SVG; logo.png and favicon.png are real PNGs so that
 * binary pass-through through the mirror is exercised too.
 */
export interface DemoImage {
  contentType: string;
  body: Uint8Array;
}

const FONT = `-apple-system, 'PingFang SC', 'Microsoft YaHei', 'Noto Sans CJK SC', sans-serif`;

/** Photos in /assets/uploads/2021/03/<name>-<w>x<h>.svg: a label and a hue each. */
const PHOTOS: Record<string, { label: string; hue: number }> = {
  library: { label: '青河市图书馆新馆', hue: 212 },
  'reading-room': { label: '三楼阅览室', hue: 32 },
  'garden-fair': { label: '社区春季花市', hue: 130 },
  weather: { label: '本周天气', hue: 196 },
  river: { label: '河滨步道', hue: 170 },
};

function xmlEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function svg(width: number, height: number, inner: string): DemoImage {
  const text = `<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${inner}</svg>\n`;
  return { contentType: 'image/svg+xml', body: new TextEncoder().encode(text) };
}

function photo(label: string, hue: number, w: number, h: number): DemoImage {
  const size = Math.round(Math.min(w / 12, h / 6));
  const y = (f: number) => Math.round(h * f);
  return svg(
    w,
    h,
    `<defs><linearGradient id="g" x1="0" y1="0" x2="0" y2="1">` +
      `<stop offset="0" stop-color="hsl(${hue},60%,70%)"/><stop offset="1" stop-color="hsl(${hue},55%,40%)"/></linearGradient></defs>` +
      `<rect width="${w}" height="${h}" fill="url(#g)"/>` +
      `<circle cx="${Math.round(w * 0.8)}" cy="${y(0.25)}" r="${y(0.12)}" fill="hsl(50,95%,80%)" opacity=".85"/>` +
      `<path d="M0 ${y(0.75)} Q ${Math.round(w / 4)} ${y(0.55)} ${Math.round(w / 2)} ${y(0.72)} T ${w} ${y(0.68)} V ${h} H 0 Z" fill="hsl(${hue},45%,28%)" opacity=".7"/>` +
      `<text x="50%" y="48%" text-anchor="middle" font-family="${FONT}" font-size="${size}" fill="#fff" font-weight="bold">${xmlEscape(label)}</text>` +
      `<text x="50%" y="64%" text-anchor="middle" font-family="${FONT}" font-size="${Math.round(size / 2.2)}" fill="#fff" opacity=".85">演示图片 ${w}×${h}</text>`,
  );
}

const ICONS: Record<string, () => DemoImage> = {
  'icon-rss': () =>
    svg(24, 24, `<rect width="24" height="24" rx="5" fill="#f26522"/><circle cx="7" cy="17" r="2.2" fill="#fff"/>` +
      `<path d="M5 11a8 8 0 0 1 8 8M5 5a14 14 0 0 1 14 14" stroke="#fff" stroke-width="2.6" fill="none"/>`),
  'icon-book': () =>
    svg(24, 24, `<rect x="3" y="4" width="18" height="16" rx="2" fill="#1d4f91"/><path d="M12 5v14" stroke="#fff" stroke-width="1.5"/>` +
      `<path d="M6 8h4M6 11h4M14 8h4M14 11h4" stroke="#cfe0f7" stroke-width="1.2"/>`),
  'icon-rain': () =>
    svg(24, 24, `<ellipse cx="12" cy="9" rx="8" ry="5" fill="#8aa4bf"/>` +
      `<path d="M7 15l-1.5 4M12 15l-1.5 4M17 15l-1.5 4" stroke="#2f80ed" stroke-width="2" stroke-linecap="round"/>`),
};

const ASSETS: Record<string, () => DemoImage> = {
  '/assets/logo.svg': () =>
    svg(160, 40, `<rect x="1" y="4" width="32" height="32" rx="6" fill="#fff"/><text x="17" y="28" text-anchor="middle" font-family="${FONT}" font-size="20" font-weight="bold" fill="#8c1d18">青</text>` +
      `<text x="42" y="28" font-family="${FONT}" font-size="20" font-weight="bold" fill="#fff">青河新闻网</text>`),
  '/assets/bg-header.svg': () =>
    svg(300, 80, `<g fill="none" stroke="#fff" stroke-opacity=".18" stroke-width="3">` +
      `<path d="M0 60 Q 50 40 100 60 T 200 60 T 300 60"/><path d="M0 72 Q 50 52 100 72 T 200 72 T 300 72"/><path d="M0 48 Q 50 28 100 48 T 200 48 T 300 48"/></g>`),
  '/assets/paper.svg': () =>
    svg(40, 40, `<rect width="40" height="40" fill="#f3f1ec"/><circle cx="10" cy="10" r="1" fill="#e4e0d6"/><circle cx="30" cy="30" r="1" fill="#e4e0d6"/>`),
  '/assets/logo.png': () => ({ contentType: 'image/png', body: logoPng(160, 40) }),
  '/assets/favicon.png': () => ({ contentType: 'image/png', body: logoPng(32, 32) }),
};

const UPLOAD = /^\/assets\/uploads\/2021\/03\/([a-z-]+?)(?:-(\d{2,4})x(\d{2,4}))?\.svg$/;

/** The image at `path` on the image host, or null (404). */
export function renderImage(path: string): DemoImage | null {
  const asset = ASSETS[path];
  if (asset) return asset();
  const m = UPLOAD.exec(path);
  if (!m) return null;
  const [, name, w, h] = m;
  const icon = ICONS[name!];
  if (icon) return w ? null : icon();
  const p = PHOTOS[name!];
  if (!p) return null;
  const width = w ? Number(w) : 600;
  const height = h ? Number(h) : 400;
  if (width > 2000 || height > 2000) return null;
  return photo(p.label, p.hue, width, height);
}

// ── a minimal PNG encoder (8-bit RGB, no interlace) ──

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

function encodePng(width: number, height: number, pixel: (x: number, y: number) => [number, number, number]): Uint8Array {
  const raw = new Uint8Array((width * 3 + 1) * height);
  let i = 0;
  for (let y = 0; y < height; y++) {
    raw[i++] = 0; // filter: none
    for (let x = 0; x < width; x++) {
      const [r, g, b] = pixel(x, y);
      raw[i++] = r;
      raw[i++] = g;
      raw[i++] = b;
    }
  }
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  ihdr.set([8, 2, 0, 0, 0], 8); // bit depth 8, colour type RGB, deflate, adaptive filters, no interlace
  const parts = [
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A red tile with a white "open book" and a gold stripe: recognisable at any size. */
function logoPng(width: number, height: number): Uint8Array {
  const s = Math.min(width, height);
  return encodePng(width, height, (x, y) => {
    const bx = x - s * 0.2;
    const by = y - s * 0.25;
    const inBook = bx >= 0 && bx < s * 0.6 && by >= 0 && by < s * 0.45 && Math.abs(bx - s * 0.3) > s * 0.03;
    if (inBook) return [255, 255, 255];
    if (y >= s * 0.8 && y < s * 0.88) return [242, 201, 76];
    return [140, 29, 24];
  });
}
