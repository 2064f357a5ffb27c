import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import schema from '../../config/schema.json' with { type: 'json' };

/**
 * docs/configuration.md is checked against config/schema.json: every field of the schema is named
 * there (in backticks), every default the schema declares appears in that field's table row, and every
 * field a table documents exists in the schema. A field added to the schema without docs fails here.
 */
const ROOT = path.resolve(import.meta.dirname, '../..');
const DOC = readFileSync(path.join(ROOT, 'docs/configuration.md'), 'utf8');

interface Node {
  type?: string;
  default?: unknown;
  properties?: Record<string, Node>;
  items?: Node;
}

/** Every field path: "server.originTimeout", "sites[].origins[].upstream", "cache.overrides[].contentType". */
function fields(node: Node, prefix = ''): { path: string; name: string; node: Node }[] {
  const out: { path: string; name: string; node: Node }[] = [];
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    const p = prefix ? `${prefix}.${name}` : name;
    out.push({ path: p, name, node: child });
    out.push(...fields(child, p));
    if (child.items) out.push(...fields(child.items, `${p}[]`));
  }
  return out;
}

const ALL = fields(schema as Node);

/** Table rows whose first cell is one field name in backticks: `| \`name\` | … |`. */
function rows(name: string): string[] {
  return DOC.split('\n').filter((line) => line.startsWith(`| \`${name}\` |`));
}

describe('docs/configuration.md against config/schema.json', () => {
  it('walks the whole schema', () => {
    const paths = ALL.map((f) => f.path);
    expect(paths).toContain('server.originTimeout');
    expect(paths).toContain('sites[].origins[].upstream');
    expect(paths).toContain('cache.overrides[].contentType');
    expect(paths).toContain('sites[].links.rules[].action');
    expect(paths.length).toBeGreaterThan(50);
  });

  it.each(ALL.map((f) => [f.path, f.name]))('mentions %s as `%s`', (_path, name) => {
    expect(DOC).toContain(`\`${name}\``);
  });

  it.each(ALL.filter((f) => f.node.default !== undefined && typeof f.node.default !== 'object').map((f) => [f.path, f.name, f.node.default]))(
    'gives the default of %s',
    (fieldPath, name, value) => {
      const candidates = rows(name as string);
      expect(candidates.length, `no table row for \`${name}\` (${fieldPath})`).toBeGreaterThan(0);
      expect(candidates.some((row) => row.includes(`\`${JSON.stringify(value)}\``)), `row for ${fieldPath} lacks \`${JSON.stringify(value)}\``).toBe(true);
    },
  );

  it('documents no field the schema does not have', () => {
    const known = new Set(ALL.map((f) => f.name));
    const documented = [...DOC.matchAll(/^\| `([A-Za-z$][A-Za-z0-9]*)` \|/gm)].map((m) => m[1]!);
    expect(documented.length).toBeGreaterThan(30);
    expect(documented.filter((name) => !known.has(name))).toEqual([]);
  });
});
