// Plain-text tables for the lab's terminal output (CLI, demo, bench): left-aligned columns, two spaces apart.

/** Rows of cells → lines; the last column is not padded; every line starts with `indent`. */
export function table(rows: readonly (readonly string[])[], indent = ''): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => indent + r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}
