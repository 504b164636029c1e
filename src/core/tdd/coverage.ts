// The total coverage a coverage command printed, in percent: node's test runner and istanbul
// (nyc, jest, vitest) print an "all files" row, coverage.py a "TOTAL" row, go "coverage: N%".
// The first percentage of that row is taken (node and istanbul: lines or statements).

const ROWS = [/^[#\s]*all files\s*\|\s*([\d.]+)/im, /^TOTAL\b.*?(\d+(?:\.\d+)?)%\s*$/m, /coverage:\s*([\d.]+)% of statements/];

export function totalCoverage(output: string): number | undefined {
  // eslint-disable-next-line no-control-regex -- colour codes are stripped before matching
  const plain = output.replace(/\u001b\[[0-9;]*m/g, "").replace(/\r/g, "");
  for (const row of ROWS) {
    const match = row.exec(plain);
    const total = match ? Number(match[1]) : NaN;
    if (Number.isFinite(total)) return total;
  }
  return undefined;
}
