/**
 * A GBK encoder for the demo origin. Neither Node nor the web platform encodes to GBK, so the
 * table is built once, lazily, by decoding every two-byte sequence with TextDecoder('gbk')
 * (lead byte 0x81–0xFE, trail byte 0x40–0xFE except 0x7F).
 */
let table: Map<number, number> | null = null;

function encodeTable(): Map<number, number> {
  if (table) return table;
  const decoder = new TextDecoder('gbk');
  const pair = new Uint8Array(2);
  const map = new Map<number, number>();
  for (let lead = 0x81; lead <= 0xfe; lead++) {
    for (let trail = 0x40; trail <= 0xfe; trail++) {
      if (trail === 0x7f) continue;
      pair[0] = lead;
      pair[1] = trail;
      const text = decoder.decode(pair);
      const cp = text.codePointAt(0);
      // One character, not U+FFFD; the first (lowest) byte sequence wins.
      if (cp === undefined || cp === 0xfffd || text.length !== (cp > 0xffff ? 2 : 1)) continue;
      if (!map.has(cp)) map.set(cp, (lead << 8) | trail);
    }
  }
  table = map;
  return map;
}

/** Encodes text as GBK; throws on a character GBK cannot represent (a mistake in the demo page). */
export function encodeGbk(text: string): Uint8Array {
  const map = encodeTable();
  const out: number[] = [];
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp < 0x80) {
      out.push(cp);
      continue;
    }
    const code = map.get(cp);
    if (code === undefined) throw new Error(`GBK cannot encode U+${cp.toString(16).toUpperCase().padStart(4, '0')} (${ch})`);
    out.push(code >> 8, code & 0xff);
  }
  return Uint8Array.from(out);
}
