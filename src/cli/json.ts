/** JSON with small objects and arrays on one line, as config/default.json is written. */
export function formatJson(value: unknown, indent = '', width = 160): string {
  const flat = JSON.stringify(value);
  if (flat === undefined) return 'null';
  if (value === null || typeof value !== 'object') return flat;
  const oneLine = Array.isArray(value)
    ? `[${value.map((v) => formatJson(v, '', Infinity)).join(', ')}]`
    : `{ ${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}: ${formatJson(v, '', Infinity)}`).join(', ')} }`;
  const empty = Array.isArray(value) ? value.length === 0 : Object.keys(value).length === 0;
  if (empty) return Array.isArray(value) ? '[]' : '{}';
  if (indent.length + oneLine.length <= width) return oneLine;
  const inner = indent + '  ';
  const items = Array.isArray(value)
    ? value.map((v) => inner + formatJson(v, inner, width))
    : Object.entries(value).map(([k, v]) => `${inner}${JSON.stringify(k)}: ${formatJson(v, inner, width)}`);
  return Array.isArray(value) ? `[\n${items.join(',\n')}\n${indent}]` : `{\n${items.join(',\n')}\n${indent}}`;
}
