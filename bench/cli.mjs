// Shared by the benchmark scripts: their command-line flags and their printed tables.

/**
 * Readers of `--name value` flags for the script `label` (used in error messages): arg(name, dflt) gives the
 * string, intArg(name, dflt, min) an integer >= min, or exits 2 with a message.
 */
export function benchArgs(label) {
  const arg = (name, dflt) => {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 ? process.argv[i + 1] : dflt;
  };
  const intArg = (name, dflt, min) => {
    const v = Number(arg(name, dflt));
    if (!Number.isInteger(v) || v < min) {
      console.error(`${label}: --${name} must be an integer >= ${min}, got ${arg(name, dflt)}`);
      process.exit(2);
    }
    return v;
  };
  return { arg, intArg };
}

/** Prints rows of strings (the first one the header) as columns: the first left-aligned, the others right. */
export function printTable(rows) {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows) console.log(r.map((v, c) => (c === 0 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join('  '));
}
