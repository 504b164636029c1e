import type { TestFailure, TestOutcome, TestRunnerName, TestSummary } from "./testRun";

// Reading a test run's output: counts, failing tests and why they failed, for the runners people
// use most. Parsing is best effort: output that is not recognised is judged by its exit code, and
// the raw output always travels with the summary.

/** Why a run is red: the TDD engine accepts "assertion" and "missing" as the right reasons. */
export type FailureKind = "assertion" | "missing" | "syntax" | "other";

type Parsed = { runner: TestRunnerName; passed: number | null; failed: number | null; failures: TestFailure[] };

const MESSAGE_LINES = 30;
const MESSAGE_CHARS = 2000;

export function parseTestOutput(output: string, exitCode: number | null, timedOut: boolean): TestSummary {
  const text = clean(output);
  const parsed = PARSERS.reduce<Parsed | undefined>((found, parse) => found ?? parse(text), undefined)
    ?? { runner: "unknown", passed: null, failed: null, failures: [] };
  // Some runners list each failure twice (in place, then in a closing summary).
  const failures = parsed.failures.filter((f, i, all) => all.findIndex((g) => g.name === f.name && g.message === f.message) === i);
  return { ...parsed, failures, outcome: outcomeOf(parsed, text, exitCode, timedOut) };
}

export function failureKind(summary: TestSummary, output: string): FailureKind {
  return summary.outcome === "pass" ? "other" : kindOf(summary.failures, clean(output));
}

// Signatures, checked in this order: a syntax error anywhere means the run proves nothing.
const SYNTAX = [
  // Not the SyntaxError that JSON.parse or RegExp throw at run time, nor an ES module's missing export.
  /^[\s#E]*(?:SyntaxError|IndentationError|TabError)\b(?!.*(?:JSON|Invalid regular expression|does not provide an export named))/m,
  /error TS1\d{3}:/, // TypeScript's syntax errors
  /Jest encountered an unexpected token|Transform failed with \d+ error|Failed to parse source for import analysis/,
];
const MISSING = [
  /ReferenceError: \S+ is not defined/,
  /TypeError(?: \[\w+\])?: .* is not a (?:function|constructor)/,
  // A relative or absolute path is the code under test; a bare name is a dependency (see SETUP).
  /Cannot find module '(?:\.{1,2}[\\/]|\/|[A-Za-z]:[\\/])/,
  /does not provide an export named|has no exported member|Cannot find name '|Property '.+' does not exist on type/,
  /Failed to load url \.{0,2}\/|Failed to resolve import "\.{1,2}\//,
  /ModuleNotFoundError: No module named|ImportError: cannot import name|NameError: name '.+' is not defined|AttributeError: .* has no attribute/,
  /\.go:\d+:\d+: undefined: \w+/, // Go: the function under test does not exist yet
];
// Go's testing package reports a failed check as "--- FAIL: TestName".
const ASSERTION = [/AssertionError|ERR_ASSERTION|expect\(.*\)\.\w+\(|^E\s+assert |^\s*--- FAIL: /m];
// A dependency that is not installed: the project is not set up, nothing to do with the ticket.
const SETUP = /Cannot find (?:module|package) '(?![A-Za-z]:)[^./\\']/;
// 126/127: the shell could not run the command; 9009: cmd.exe did not find it.
const NOT_RUN_CODES = [126, 127, 9009];

function kindOf(failures: TestFailure[], text: string): FailureKind {
  const all = `${failures.map((f) => f.message).join("\n")}\n${text}`;
  if (SYNTAX.some((re) => re.test(all))) return "syntax";
  if (MISSING.some((re) => re.test(all))) return "missing";
  if (ASSERTION.some((re) => re.test(all))) return "assertion";
  return "other";
}

function outcomeOf(parsed: Parsed, text: string, exitCode: number | null, timedOut: boolean): TestOutcome {
  if (timedOut || exitCode === null || NOT_RUN_CODES.includes(exitCode)) return "error";
  if (/is not recognized as an internal or external command/.test(text)) return "error";
  const nothingRan = parsed.passed === 0 && parsed.failed === 0;
  // A run where no test ran is neither red nor green: the engine must not read it as either.
  if (exitCode === 0 && !(parsed.failed && parsed.failed > 0)) return nothingRan ? "error" : "pass";
  const kind = kindOf(parsed.failures, text);
  if (kind === "syntax") return "error";
  if (kind === "missing" || kind === "assertion") return "fail";
  if (SETUP.test(text) || nothingRan) return "error";
  return "fail";
}

const PARSERS: ((text: string) => Parsed | undefined)[] = [parseJest, parseVitest, parsePytest, parseMocha, parseNodeTap, parseNodeSpec];

// ---- node --test, TAP reporter (its default when the output is not a terminal, as here)

function parseNodeTap(text: string): Parsed | undefined {
  if (!/^TAP version \d+$/m.test(text)) return undefined;
  const lines = text.split("\n");
  const failures: TestFailure[] = [];
  const titles: string[] = []; // "# Subtest:" names by depth, to name nested tests
  let comments: string[] = []; // diagnostics since the last result: a crashed file's stderr
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const subtest = /^(\s*)# Subtest: (.*)$/.exec(line);
    if (subtest) {
      titles.length = depth(subtest[1]!);
      titles.push(unescapeTap(subtest[2]!));
      continue;
    }
    const comment = /^\s*# ?(.*)$/.exec(line);
    if (comment) {
      comments.push(comment[1]!);
      continue;
    }
    const result = /^(\s*)(not ok|ok) \d+(?: - (.*?))?(\s+# (?:TODO|SKIP)\b.*)?$/i.exec(line);
    if (!result) continue;
    const yaml = yamlBlock(lines, i + 1);
    i += yaml.length;
    if (result[2] === "not ok" && !result[4] && !yaml.some((l) => /failureType: 'subtestsFailed'/.test(l))) {
      const level = depth(result[1]!);
      const name = [...titles.slice(0, level), unescapeTap(result[3] ?? "")].join(" > ");
      // A file that failed to load is reported as "test failed" with its exit code: its stderr says why.
      const crashed = yaml.some((l) => /^\s*exitCode: /.test(l)) && comments.length > 0;
      failures.push({ name, message: crashed ? (crashBefore(comments, comments.length) ?? message(comments)) : yamlError(yaml) });
    }
    comments = [];
  }
  return { runner: "node-test", passed: count(text, /^# pass (\d+)$/m), failed: count(text, /^# fail (\d+)$/m), failures };
}

const depth = (indent: string) => Math.floor(indent.length / 4);
const unescapeTap = (name: string) => name.replace(/\\#/g, "#").replace(/\\\\/g, "\\");

function yamlBlock(lines: string[], start: number): string[] {
  if (lines[start]?.trim() !== "---") return [];
  const end = lines.findIndex((l, i) => i > start && l.trim() === "...");
  return lines.slice(start, end < 0 ? lines.length : end + 1);
}

/** The error of a TAP YAML block, prefixed with its class ("TypeError: x is not a function"). */
function yamlError(yaml: string[]): string {
  const base = /^\s*/.exec(yaml[0] ?? "")![0];
  const field = (key: string) => yaml.findIndex((l) => l.startsWith(`${base}${key}: `));
  const at = field("error");
  if (at < 0) return "";
  const value = yaml[at]!.slice(`${base}error: `.length);
  let error: string;
  if (/^[|>]-?$/.test(value)) {
    const block: string[] = [];
    for (const l of yaml.slice(at + 1)) {
      if (l.trim() && !l.startsWith(`${base}  `)) break;
      block.push(l);
    }
    error = message(block);
  } else {
    error = /^'(.*)'$/.exec(value)?.[1]?.replace(/''/g, "'") ?? value;
  }
  const name = field("name") >= 0 ? /'(.*)'/.exec(yaml[field("name")]!)?.[1] : undefined;
  return name && !error.startsWith(name) ? `${name}: ${error}` : error;
}

// ---- node --test, spec reporter ("ℹ pass 1", "✖ name (1.2ms)" then the indented error)

function parseNodeSpec(text: string): Parsed | undefined {
  if (!/^ℹ (?:tests|pass|fail) \d+$/m.test(text)) return undefined;
  const lines = text.split("\n");
  // The closing "failing tests" list repeats every failure once; without it, read them in place.
  const section = lines.indexOf("✖ failing tests:");
  const failures: TestFailure[] = [];
  for (let i = section + 1; i < lines.length; i++) {
    const failed = /^(\s*)✖ (.*) \([\d.]+m?s\)$/.exec(lines[i]!);
    if (!failed) continue;
    const body = indentedAfter(lines, i, failed[1]!.length);
    // A suite's own ✖ line has no error under it: its tests are listed on their own.
    if (!body.some((l) => l.trim())) continue;
    const name = failed[2]!;
    let reason = message(body).replace(/^'(.*)'$/, "$1");
    // A file that failed to load says only "test failed"; the error it printed comes just before it.
    if (reason === "test failed") reason = crashBefore(lines, lines.findIndex((l) => l.startsWith(`✖ ${name} (`))) ?? reason;
    failures.push({ name, message: reason });
  }
  return { runner: "node-test", passed: count(text, /^ℹ pass (\d+)$/m), failed: count(text, /^ℹ fail (\d+)$/m), failures };
}

/** The last unindented "…Error" a crashed process printed before the reporter's line `at`. */
function crashBefore(lines: string[], at: number): string | undefined {
  for (let i = at - 1; i >= 0 && !/^\s*[✔✖▶ℹ] /.test(lines[i]!); i--) {
    if (/^\w*Error\b/.test(lines[i]!)) return message(lines.slice(i, at));
  }
  return undefined;
}

// ---- mocha, spec reporter ("2 passing (4ms)", "1 failing", then "1) suite\n  test:\n  Error")

function parseMocha(text: string): Parsed | undefined {
  const passed = count(text, /^\s*(\d+) passing\b/m);
  if (passed === null) return undefined;
  const failed = count(text, /^\s*(\d+) failing$/m) ?? 0;
  const failures: TestFailure[] = [];
  const after = text.split(/^\s*\d+ failing$/m)[1];
  if (after) {
    for (const entry of after.split(/^\s*\d+\) /m).slice(1)) {
      const lines = entry.split("\n");
      const end = lines.findIndex((l) => l.trimEnd().endsWith(":"));
      const title = lines.slice(0, end + 1).map((l) => l.trim().replace(/:$/, ""));
      failures.push({ name: title.join(" > "), message: message(lines.slice(end + 1)) });
    }
  }
  return { runner: "mocha", passed, failed, failures };
}

// ---- jest ("Tests:       1 failed, 2 passed, 3 total", "● Suite › name")

function parseJest(text: string): Parsed | undefined {
  const totals = /^Tests:\s+(.*\btotal)$/m.exec(text)?.[1];
  if (!totals) return undefined;
  const lines = text.split("\n");
  const failures: TestFailure[] = [];
  let file = "";
  lines.forEach((line, i) => {
    const fail = /^\s*FAIL\s+(\S+)/.exec(line);
    if (fail) file = fail[1]!;
    const bullet = /^\s*● (.+)$/.exec(line);
    if (!bullet || /^Console$/.test(bullet[1]!)) return;
    const body: string[] = [];
    for (const l of lines.slice(i + 1)) {
      if (/^\s*● |^\s*(?:PASS|FAIL)\s|^Test Suites:/.test(l)) break;
      body.push(l);
    }
    const name = bullet[1] === "Test suite failed to run" ? file : bullet[1]!.replace(/ › /g, " > ");
    failures.push({ name, message: message(body) });
  });
  return { runner: "jest", passed: count(totals, /(\d+) passed/) ?? 0, failed: count(totals, /(\d+) failed/) ?? 0, failures };
}

// ---- vitest ("Tests  1 failed | 2 passed (3)", " FAIL  file > suite > name")

function parseVitest(text: string): Parsed | undefined {
  const totals = /^\s*Tests\s{2,}(.*)$/m.exec(text)?.[1];
  if (!totals || !/^\s*Test Files\s{2,}/m.test(text)) return undefined;
  const lines = text.split("\n");
  const failures: TestFailure[] = [];
  lines.forEach((line, i) => {
    const fail = /^\s*FAIL\s+(\S+)(?: > (.+?)| \[.*\])?\s*$/.exec(line);
    if (!fail) return;
    const body: string[] = [];
    for (const l of lines.slice(i + 1)) {
      if (/^\s*(?:❯ |FAIL\s)|^⎯/.test(l)) break;
      body.push(l);
    }
    failures.push({ name: fail[2] ?? fail[1]!, message: message(body) });
  });
  return { runner: "vitest", passed: count(totals, /(\d+) passed/) ?? 0, failed: count(totals, /(\d+) failed/) ?? 0, failures };
}

// ---- pytest ("=== 1 failed, 2 passed in 0.1s ===", "FAILED test_x.py::test_y - AssertionError")

function parsePytest(text: string): Parsed | undefined {
  const totals = [...text.matchAll(PYTEST_TOTALS)].pop()?.[1];
  if (!totals) return undefined;
  // Each "___ name ___" section's "E   " lines say why a test failed; the short summary names them.
  const sections = new Map<string, string>();
  const parts = text.split(/^_{3,} (.+?) _{3,}$/m);
  for (let i = 1; i < parts.length; i += 2) {
    const reasons = parts[i + 1]!.split("\n").filter((l) => /^E\s/.test(l)).map((l) => l.replace(/^E\s{1,3}/, ""));
    sections.set(parts[i]!, message(reasons));
  }
  const failures: TestFailure[] = [];
  for (const m of text.matchAll(/^(?:FAILED|ERROR) (\S+)(?: - (.*))?$/gm)) {
    const id = m[1]!;
    const key = id.split("::").slice(1).join(".");
    const reason = sections.get(key) ?? sections.get(`ERROR collecting ${id}`) ?? sections.get(`ERROR at setup of ${key}`);
    failures.push({ name: id, message: reason || (m[2] ?? "") });
  }
  // Errors (in collection or fixtures) are failures too: they stop tests from passing.
  const failed = (count(totals, /(\d+) failed/) ?? 0) + (count(totals, /(\d+) errors?/) ?? 0);
  return { runner: "pytest", passed: count(totals, /(\d+) passed/) ?? 0, failed, failures };
}

const PYTEST_TOTALS = /^=*\s*(no tests ran|\d+ (?:passed|failed|errors?|skipped|xfailed|xpassed|warnings?|deselected|rerun)(?:, \d+ \w+)*) in [\d.]+s\b/gm;

// ---- helpers

/** Without colours and carriage returns, whatever the runner did with NO_COLOR. */
function clean(output: string): string {
  // eslint-disable-next-line no-control-regex
  return output.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "").replace(/\r\n?/g, "\n");
}

function count(text: string, re: RegExp): number | null {
  const m = re.exec(text);
  return m ? Number(m[1]) : null;
}

/** The lines under a line, indented deeper than it (blank lines included). */
function indentedAfter(lines: string[], at: number, indent: number): string[] {
  const body: string[] = [];
  for (const l of lines.slice(at + 1)) {
    if (l.trim() && /^\s*/.exec(l)![0].length <= indent) break;
    body.push(l);
  }
  return body;
}

/** An error message from lines: dedented, without its stack or code frame, and short. */
function message(lines: string[]): string {
  const end = lines.findIndex((l) => /^\s*at .+(?:\(.*\)|:\d+)(?: \{)?$|^\s*>?\s*\d+ \|/.test(l));
  const kept = (end < 0 ? lines : lines.slice(0, end)).map((l) => l.trimEnd());
  while (kept.length && !kept[0]) kept.shift();
  while (kept.length && !kept[kept.length - 1]) kept.pop();
  // Dedent by the first line's indent (mocha indents only some lines of a message).
  const indent = new RegExp(`^\\s{0,${/^\s*/.exec(kept[0] ?? "")![0].length}}`);
  const text = kept.slice(0, MESSAGE_LINES).map((l) => l.replace(indent, "")).join("\n");
  return text.length > MESSAGE_CHARS ? `${text.slice(0, MESSAGE_CHARS)}…` : text;
}
