import fs from 'node:fs/promises';

/**
 * What an export holds (.edgemirror/manifest.json): every resource fetched (its original URL, the
 * validators for the next run's conditional requests, the hash of what the pipeline gave), and the hash
 * of every output file. Written with sorted keys and no dates: the same export gives the same bytes.
 */
export const EXPORT_FORMAT_VERSION = 1;
export const MANIFEST_FILE = '.edgemirror/manifest.json';
/** A manifest larger than this is not ours (or is damaged): the export starts afresh. */
const MAX_MANIFEST_BYTES = 64 * 1024 * 1024;

export interface ResourceEntry {
  /** The original URL. */
  url: string;
  /** Content-Type as the pipeline answered. */
  type: string;
  /** SHA-256 of the pipeline's output (text resources) or of the bytes (assets). */
  sha256: string;
  etag?: string;
  lastModified?: string;
  /** Where redirects led (a mirror path). */
  redirect?: string;
  /** The copied asset's file. */
  file?: string;
}

export interface Manifest {
  version: number;
  site: string;
  /** The options that shape the output (format, assets, link base). */
  options: string;
  /** By mirror path. */
  resources: Record<string, ResourceEntry>;
  /** Output file (relative, "/"-separated) → SHA-256. */
  files: Record<string, string>;
}

function sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sorted);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sorted((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

export function serializeManifest(m: Manifest): string {
  return JSON.stringify(sorted(m), null, 1) + '\n';
}

/** The manifest of a previous export, or null when there is none (or it cannot be read as one). */
export async function readManifest(file: string): Promise<Manifest | null> {
  let text: string;
  try {
    const stat = await fs.stat(file);
    if (!stat.isFile() || stat.size > MAX_MANIFEST_BYTES) return null;
    text = await fs.readFile(file, 'utf8');
  } catch {
    return null;
  }
  try {
    const m = JSON.parse(text) as Manifest;
    if (typeof m !== 'object' || !m || typeof m.resources !== 'object' || typeof m.files !== 'object') return null;
    return m;
  } catch {
    return null;
  }
}
