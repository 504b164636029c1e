// Unified diffs of two texts (Myers' O(ND) algorithm, three lines of context, git's layout), for
// the spec against its approved version and a ticket's files against its merge target. Pure.

type Op = { kind: " " | "-" | "+"; line: string };

/** Lines with their newline kept, so that a last line without one differs from the same line with one. */
function lines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

/** The shortest edit script from `a` to `b` (after their common head and tail are set aside). */
function diffLines(a: string[], b: string[]): Op[] {
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const same = (line: string): Op => ({ kind: " ", line });
  const middle = myers(a.slice(head, a.length - tail), b.slice(head, b.length - tail));
  return [...a.slice(0, head).map(same), ...middle, ...a.slice(a.length - tail).map(same)];
}

function myers(a: string[], b: string[]): Op[] {
  const n = a.length;
  const m = b.length;
  const offset = n + m + 1;
  const v = new Int32Array(2 * offset + 1);
  const trace: Int32Array[] = [];
  for (let d = 0; d <= n + m; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!) ? v[offset + k + 1]! : v[offset + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) return backtrack(a, b, trace, offset);
    }
  }
  return [];
}

function backtrack(a: string[], b: string[], trace: Int32Array[], offset: number): Op[] {
  const ops: Op[] = [];
  let x = a.length;
  let y = b.length;
  for (let d = trace.length - 1; d >= 0; d--) {
    const v = trace[d]!;
    const k = x - y;
    const prevK = k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!) ? k + 1 : k - 1;
    const prevX = v[offset + prevK]!;
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      x--;
      y--;
      ops.push({ kind: " ", line: a[x]! });
    }
    if (d > 0) ops.push(x === prevX ? { kind: "+", line: b[prevY]! } : { kind: "-", line: a[prevX]! });
    x = prevX;
    y = prevY;
  }
  return ops.reverse();
}

function render(op: Op): string {
  const text = `${op.kind}${op.line}`;
  return text.endsWith("\n") ? text : `${text}\n\\ No newline at end of file\n`;
}

/** The hunks (`@@ -a,b +c,d @@` and their lines) that turn `before` into `after`; empty when equal. */
export function diffHunks(before: string, after: string, context = 3): string {
  const ops = diffLines(lines(before), lines(after));
  const oldAt: number[] = [];
  const newAt: number[] = [];
  let o = 0;
  let n = 0;
  for (const op of ops) {
    oldAt.push(o);
    newAt.push(n);
    if (op.kind !== "+") o++;
    if (op.kind !== "-") n++;
  }
  const changes = ops.flatMap((op, i) => (op.kind === " " ? [] : [i]));
  let out = "";
  for (let c = 0; c < changes.length; ) {
    const start = Math.max(0, changes[c]! - context);
    let last = changes[c]!;
    while (c + 1 < changes.length && changes[c + 1]! - last <= 2 * context) last = changes[++c]!;
    c++;
    const end = Math.min(ops.length, last + context + 1);
    const hunk = ops.slice(start, end);
    const oldLen = hunk.filter((op) => op.kind !== "+").length;
    const newLen = hunk.filter((op) => op.kind !== "-").length;
    const range = (from: number, len: number) => `${len === 0 ? from : from + 1}${len === 1 ? "" : `,${len}`}`;
    out += `@@ -${range(oldAt[start]!, oldLen)} +${range(newAt[start]!, newLen)} @@\n${hunk.map(render).join("")}`;
  }
  return out;
}

/**
 * One file's diff as git prints it: `before` undefined for an added file, `after` undefined for a
 * deleted one. Binary content (a NUL byte) is named, not shown.
 */
export function fileDiff(file: string, before: string | undefined, after: string | undefined): string {
  if (before === after) return "";
  const header = `diff --git a/${file} b/${file}\n`;
  if ((before ?? "").includes("\0") || (after ?? "").includes("\0")) return `${header}Binary files ${before === undefined ? "/dev/null" : `a/${file}`} and ${after === undefined ? "/dev/null" : `b/${file}`} differ\n`;
  const hunks = diffHunks(before ?? "", after ?? "");
  return `${header}--- ${before === undefined ? "/dev/null" : `a/${file}`}\n+++ ${after === undefined ? "/dev/null" : `b/${file}`}\n${hunks}`;
}
