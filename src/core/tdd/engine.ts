import { askDeveloper, askRefactor, askTester, type PairContext } from "../agents/pair";
import type { AgentModels } from "../models/manager";
import { featureBranch, ticketBranch, type Actor, type GitOps } from "../gitops/gitOps";
import { describeError } from "../logger";
import type { MemoryManager } from "../memory/memoryManager";
import type { Project, Ticket } from "../store/records";
import { settingDefault } from "../settings";
import { unansweredChangeRequest } from "../tickets/review";
import { stopNote } from "../tickets/ticketRules";
import { preCommitRefusal, strayWrites, type Applied } from "./commitGate";
import { totalCoverage } from "./coverage";
import type { PairStep } from "./steps";
import { applyEdits, changesTestSettings, checkEdits, filesTestsRun, type EditRole, type FileEdit, type WorktreeFiles } from "./edits";
import { failureKind } from "./testOutput";
import { counted, describeRun, fingerprint, firstLine } from "./runSummary";
import type { TestRun, TestRunner } from "./testRun";

// The red-green-refactor engine: one pair, one ticket, in the ticket's worktree. The engine, not
// the prompt, enforces the discipline: a Tester's test must fail, and for the right reason (an
// assertion or missing code, not a broken test); the Developer may not touch tests and must make
// the whole suite pass; a refactor that breaks it is undone. Every red and green is a commit with
// the ticket's trailers. Everything is bounded: attempts per step, cycles per ticket, and a
// failure seen twice moves to the fallback model, three times blocks the ticket for the human.

export interface TddLimits {
  attemptsPerStep: number;
  cyclesPerTicket: number;
  testTimeoutMs: number;
  outputCapBytes: number;
  /** Tokens for the packed ticket context (goal, criteria, recent turns). */
  contextBudget: number;
  /** A checkpoint commit of work in progress when nothing was committed for this long; 0: none. */
  checkpointMs: number;
  /** Where the project has a coverage command: the total it must reach before review. */
  coverage?: { command: string; target: number };
  maxTokens?: number;
}

/** The limits as the settings' defaults give them (core/settings.ts is the one place they are written). */
export const DEFAULT_TDD_LIMITS: TddLimits = {
  attemptsPerStep: settingDefault("tdd.attemptsPerStep"),
  cyclesPerTicket: settingDefault("tdd.cyclesPerTicket"),
  testTimeoutMs: settingDefault("tdd.testTimeoutSeconds") * 1000,
  checkpointMs: settingDefault("tdd.checkpointMinutes") * 60_000,
  outputCapBytes: 200_000,
  contextBudget: 1500,
};

export interface TddDeps {
  memory: MemoryManager;
  models: AgentModels;
  git: GitOps;
  runner: TestRunner;
  files(worktree: string): WorktreeFiles;
  testPaths: readonly string[];
  limits: TddLimits;
  /** The pair's name, recorded on the ticket. */
  pair: string;
  /** Checked at every step boundary: true stops the pair there, with nothing lost. */
  paused?(): boolean | Promise<boolean>;
  /** The pair begins a step (shown on the ticket's card while it runs). */
  onStep?(step: PairStep): void;
  signal?: AbortSignal;
}

export type TicketOutcome =
  | { kind: "review"; passRate: number; filesChanged: string[] }
  | { kind: "blocked"; reason: string }
  | { kind: "needsClarification"; question: string }
  | { kind: "paused" };

/** How a step ended when it did not succeed: a stop for the human, or a failure to fingerprint. */
type StepEnd = { stop: TicketOutcome } | { failed: string; output?: string };


const LAST_RUN_CHARS = 4000;

export class TicketRun {
  private worktree = "";
  private files!: WorktreeFiles;
  private lastRun: TestRun | undefined;
  private readonly touched = new Set<string>();
  /** How often each failure (by fingerprint) was seen on this ticket. */
  private readonly seen = new Map<string, number>();
  private lastCommitAt = Date.now();
  /** When the ticket came back from review with changes requested and no red since answers them. */
  private changesRequestedAt: Date | undefined;

  constructor(private readonly project: Project, private ticket: Ticket, private readonly deps: TddDeps) {}

  run(): Promise<TicketOutcome> {
    return this.cycles();
  }

  private async cycles(): Promise<TicketOutcome> {
    const { memory, git } = this.deps;
    this.deps.onStep?.("starting");
    this.worktree = await git.openTicket(this.ticket._id, this.ticket.functionalityId);
    this.files = this.deps.files(this.worktree);
    await this.discardUnverified();
    if (this.ticket.column === "todo") {
      this.ticket = await memory.tickets.move(this.ticket._id, "inprogress", this.deps.pair, `${this.deps.pair} started`);
    }
    if (this.ticket.assignedPair !== this.deps.pair) this.ticket = await memory.tickets.update(this.ticket._id, { assignedPair: this.deps.pair }, "developer", `assigned to ${this.deps.pair}`);
    // Resumed work: the files this ticket changed so far, and whether it stopped between red and green.
    const feature = featureBranch(this.ticket.functionalityId);
    const branch = ticketBranch(this.ticket._id);
    (await git.branchChanges(feature, branch)).files.forEach((file) => this.touched.add(file.path));
    const commits = await git.commits(feature, branch);
    const [lastCommit] = commits;
    this.changesRequestedAt = unansweredChangeRequest(this.ticket, commits);
    this.lastRun = await this.runSuite();
    let awaitingGreen = this.lastRun.summary.outcome === "fail" && (lastCommit?.subject.endsWith("(red)") ?? false);
    await this.say("tester", `Starting ${this.ticket._id} in ${this.worktree}. The suite now: ${describeRun(this.lastRun)}${awaitingGreen ? "; going on from the last red test" : ""}.`);

    for (let cycle = 1; cycle <= this.deps.limits.cyclesPerTicket; cycle++) {
      if (await this.interrupted()) return { kind: "paused" };
      if (!awaitingGreen) {
        this.deps.onStep?.("red");
        const red = await this.bounded("tester", (escalate) => this.testerAttempt(escalate));
        if (red === "covered") return this.finish();
        if (red !== "done") return red;
      }
      awaitingGreen = false;
      if (await this.interrupted()) return { kind: "paused" };
      this.deps.onStep?.("green");
      const green = await this.bounded("developer", (escalate) => this.developerAttempt(escalate));
      if (green === "covered") return this.finish();
      if (green !== "done") return green;
      if (await this.interrupted()) return { kind: "paused" };
      this.deps.onStep?.("refactor");
      await this.refactor();
    }
    return this.block(`${this.deps.limits.cyclesPerTicket} red-green cycles passed without the Tester declaring the acceptance criteria covered`);
  }

  /** Runs one step's attempts: the same failure twice moves to the fallback model, a third time blocks. */
  private async bounded(role: EditRole, attempt: (escalate: boolean) => Promise<"done" | "covered" | StepEnd>): Promise<"done" | "covered" | TicketOutcome> {
    let escalate = false;
    let last: { failed: string; output?: string } | undefined;
    for (let i = 1; i <= this.deps.limits.attemptsPerStep; i++) {
      if (i > 1 && (await this.interrupted())) return { kind: "paused" };
      const result = await attempt(escalate);
      if (result === "done" || result === "covered") return result;
      if ("stop" in result) return this.stop(result.stop);
      last = result;
      const count = (this.seen.get(result.failed) ?? 0) + 1;
      this.seen.set(result.failed, count);
      await this.say(role, `Attempt ${i} of the ${role === "tester" ? "red" : "green"} step failed: ${result.failed}${count > 1 ? ` (seen ${count} times)` : ""}.`);
      if (count >= 3) break;
      escalate = count === 2;
    }
    return this.block(`the ${role === "tester" ? "Tester" : "Developer"}'s step failed ${this.deps.limits.attemptsPerStep} times; last: ${last?.failed ?? "unknown"}`, last?.output);
  }

  private async testerAttempt(escalate: boolean): Promise<"done" | "covered" | StepEnd> {
    const reply = await this.ask(async () => askTester(this.deps.models, await this.context(), this.askOptions(escalate)));
    if ("failed" in reply || "stop" in reply) return reply;
    const step = reply.value;
    if (step.status === "covered") {
      // Back from review, "covered" at once would return it unchanged: the reviewer asked for more.
      if (this.changesRequestedAt) return { failed: "changes were requested in review: first write the failing test that the reviewer's comment calls for (or ask the human with needs_clarification)" };
      const short = await this.coverageShortfall();
      if (short) return short;
      await this.say("tester", `Every acceptance criterion is covered${step.note ? `: ${step.note}` : "."}`);
      return "covered";
    }
    if (step.status !== "test") return { stop: this.humanStop(step.status, step.note) };
    const applied = await this.apply("tester", step.edits);
    if ("failed" in applied) return applied;
    const run = await this.runSuite();
    const notRed = this.notRed(run);
    if (notRed) return this.refuse(applied, notRed);
    const refused = await this.accept(run, applied, `test: ${step.criterion || this.ticket.title} (red)`, "tester");
    if (refused) return refused;
    this.changesRequestedAt = undefined;
    await this.say("tester", `Red: ${step.criterion}. ${describeRun(run)}.`);
    return "done";
  }

  /** Red, and for the right reason: the new test runs and fails on what it checks. Why not, or undefined. */
  private notRed(run: TestRun): { failed: string; output: string } | undefined {
    const kind = failureKind(run.summary, run.output);
    if (run.summary.outcome === "pass") return { failed: "the new test passes at once: that is not red (test something not built yet)", output: run.output };
    if (run.summary.outcome === "error" || kind === "syntax" || kind === "other") {
      return { failed: `the new test does not fail for the right reason (${kind === "syntax" ? "a syntax error" : "the suite did not run properly"}): ${firstLine(run)}`, output: run.output };
    }
    // When the suite was red already, the red must come from a new failing test, not the old one.
    const before = new Set(this.lastRun?.summary.outcome === "fail" ? this.lastRun.summary.failures.map((f) => f.name) : []);
    if (before.size > 0 && !run.summary.failures.some((f) => !before.has(f.name))) return { failed: "no new test fails: the suite was red already and still fails the same way", output: run.output };
    return undefined;
  }

  private async developerAttempt(escalate: boolean): Promise<"done" | StepEnd> {
    const reply = await this.ask(async () => askDeveloper(this.deps.models, await this.context(), this.askOptions(escalate)));
    if ("failed" in reply || "stop" in reply) return reply;
    const step = reply.value;
    if (step.status !== "code") return { stop: this.humanStop(step.status, step.note) };
    const applied = await this.apply("developer", step.edits);
    if ("failed" in applied) return applied;
    const run = await this.runSuite();
    const notGreen = this.notGreen(run);
    if (notGreen) return this.refuse(applied, { failed: notGreen, output: run.output });
    const refused = await this.accept(run, applied, `feat: ${this.ticket.title} (green)${step.note ? `\n\n${step.note}` : ""}`, "developer");
    if (refused) return refused;
    await this.say("developer", `Green: ${describeRun(run)}.`);
    return "done";
  }

  /** Optional; a refactor that breaks the suite (or touches tests) is undone, and work goes on. */
  private async refactor(): Promise<void> {
    const reply = await this.ask(async () => askRefactor(this.deps.models, await this.context(), this.askOptions(false)));
    if ("failed" in reply || "stop" in reply || reply.value.status === "skip" || reply.value.edits.length === 0) return;
    const applied = await this.apply("developer", reply.value.edits);
    if ("failed" in applied) return;
    const run = await this.runSuite();
    if (this.notGreen(run)) {
      await this.refuse(applied, { failed: "broken suite" });
      await this.say("developer", `Refactor undone: it broke the suite (${run.summary.outcome === "pass" ? "tests disappeared" : firstLine(run)}).`);
      return;
    }
    const refused = await this.accept(run, applied, `refactor: ${reply.value.note || this.ticket.title}`, "developer");
    if (refused && "failed" in refused) await this.say("developer", `Refactor undone: ${refused.failed}.`);
  }

  private async finish(): Promise<TicketOutcome> {
    const { memory, git } = this.deps;
    this.deps.onStep?.("finishing");
    // The feature branch may have moved on (other tickets merged): this ticket must pass on top of it.
    const merged = await git.mergeInto(this.worktree, featureBranch(this.ticket.functionalityId), this.actor("developer"));
    if (!merged.merged) return this.block(`merging ${featureBranch(this.ticket.functionalityId)} into the ticket conflicts in ${merged.conflicts.join(", ")}`);
    // On a clean checkout of what was committed: what review sees must pass without anything the
    // worktree holds beside it (an ignored or untracked file a test needs).
    const run = await git.withCheckout(ticketBranch(this.ticket._id), (checkout) => this.runSuite(this.project.testCommand, checkout));
    if (run.cancelled || this.deps.signal?.aborted) return { kind: "paused" };
    if (run.summary.outcome !== "pass") return this.block(`the suite fails on the committed branch after merging ${featureBranch(this.ticket.functionalityId)}: ${firstLine(run)}`, run.output);
    const { passed, failed } = run.summary;
    const passRate = passed !== null && failed !== null && passed + failed > 0 ? passed / (passed + failed) : 1;
    const filesChanged = [...this.touched].sort();
    await memory.tickets.update(this.ticket._id, { testPassRate: passRate, filesChanged }, "developer", `finished: ${describeRun(run)}`);
    await memory.tickets.move(this.ticket._id, "review", "developer", "acceptance criteria covered, suite green");
    await this.say("developer", `${this.ticket._id} is ready for review: ${filesChanged.length} files changed, ${describeRun(run)}. PM, it is in the review list.`);
    return { kind: "review", passRate, filesChanged };
  }

  /** Why "covered" does not stand yet: the coverage command's total is under the target (or unreadable). */
  private async coverageShortfall(): Promise<StepEnd | undefined> {
    const coverage = this.deps.limits.coverage;
    if (!coverage) return undefined;
    const run = await this.runSuite(coverage.command);
    const total = totalCoverage(run.output);
    if (total === undefined) return { failed: `no total coverage in the output of \`${coverage.command}\``, output: run.output };
    await this.say("tester", `Coverage: ${total}% (target ${coverage.target}%).`);
    if (total < coverage.target) return { failed: `coverage ${total}% is below the ${coverage.target}% target: test the behaviour that is not covered yet`, output: run.output.slice(-2000) };
    return undefined;
  }

  // ---- helpers ------------------------------------------------------------------------------

  private async ask<T>(call: () => Promise<{ value: T }>): Promise<{ value: T } | StepEnd> {
    try {
      return await call();
    } catch (error) {
      if (this.deps.signal?.aborted) return { stop: { kind: "paused" } };
      return { failed: `no usable reply: ${describeError(error)}` };
    }
  }

  private askOptions(escalate: boolean) {
    return { ticketId: this.ticket._id, functionalityId: this.ticket.functionalityId, escalate, signal: this.deps.signal, maxTokens: this.deps.limits.maxTokens };
  }

  private async apply(role: EditRole, proposed: FileEdit[]): Promise<Applied | { failed: string }> {
    if (proposed.length === 0) return { failed: `the ${role === "tester" ? "Tester" : "Developer"} sent no edits` };
    // Every rule below sees the normalized path, the one that is written.
    const { edits, refused } = checkEdits(proposed, role, { testPaths: this.deps.testPaths, protectedFiles: await this.filesThatRunTests() });
    for (const file of await this.deps.git.ignored(this.worktree, edits.map((edit) => edit.path))) refused.push(`${file} is ignored by git: a write there would not be in the review`);
    if (role === "developer") {
      for (const edit of edits.filter((e) => /(^|\/)package\.json$/.test(e.path))) {
        if (changesTestSettings(await this.files.read(edit.path), edit.content)) refused.push(`the Developer may not change how tests run (the scripts, module resolution or runner settings in ${edit.path})`);
      }
    }
    if (refused.length > 0) {
      await this.deps.memory.transcript.record({ kind: "event", level: "warn", projectId: this.project._id, ticketId: this.ticket._id, functionalityId: this.ticket.functionalityId, from: role, text: `edit refused: ${refused.join("; ")}` });
      return { failed: `edit refused: ${refused.join("; ")}` };
    }
    const base = await this.deps.git.head(this.worktree);
    try {
      const { changed } = await applyEdits(this.files, edits);
      await this.checkpointIfDue(role);
      return { changed, edits, base };
    } catch (error) {
      // A path the file system refuses (a folder, a link): applyEdits has undone the rest.
      return { failed: `edit could not be applied: ${describeError(error)}` };
    }
  }

  /**
   * Work in progress is committed when nothing was for a while (SPEC-001's timed commits): the
   * step's edits as the engine wrote them, before any code of theirs runs, so no write of a test
   * run can reach a commit this way. Like `git commit --no-verify`, no hook runs for it.
   */
  private async checkpointIfDue(role: EditRole): Promise<void> {
    const { checkpointMs } = this.deps.limits;
    if (checkpointMs <= 0 || Date.now() - this.lastCommitAt < checkpointMs) return;
    await this.commit(`checkpoint: ${this.ticket._id} work in progress`, role, { allowEmpty: false });
  }

  /** A refused attempt leaves nothing: the worktree and its branch go back to where the step began. */
  private async refuse(applied: Applied, end: { failed: string; output?: string }): Promise<{ failed: string; output?: string }> {
    await this.deps.git.resetWorktree(this.worktree, applied.base, this.actor("developer"));
    return end;
  }

  /** Work a stopped run left uncommitted was never verified: it goes, and the pair is told. */
  private async discardUnverified(): Promise<void> {
    const head = await this.deps.git.head(this.worktree);
    const left = await this.deps.git.changedSince(this.worktree, head);
    if (left.length === 0) return;
    await this.deps.git.resetWorktree(this.worktree, head, this.actor("developer"));
    await this.say("developer", `Discarded unverified changes an interrupted step left behind: ${left.join(", ")}.`);
  }

  /** What the test command runs besides the runner: scripts it or package.json names, and the hooks folder. */
  private async filesThatRunTests(): Promise<string[]> {
    const named = filesTestsRun(this.project.testCommand, await this.files.read("package.json"), await this.files.list());
    const hooks = await this.deps.git.hooksPath(this.worktree);
    return hooks ? [...named, hooks] : named;
  }

  /** The pair stops at a step boundary: paused, or the ticket was withdrawn or moved away meanwhile. */
  private async interrupted(): Promise<boolean> {
    if (this.deps.signal?.aborted || (await this.deps.paused?.())) return true;
    const now = await this.deps.memory.tickets.get(this.ticket._id);
    return !now || now.withdrawn === true || now.column !== "inprogress";
  }

  /**
   * Green: the suite passes, and the tests that ran before still run (a suite that lost tests, or
   * stopped reporting them, is not green whatever its exit code). Why not, or undefined.
   */
  private notGreen(run: TestRun): string | undefined {
    if (run.summary.outcome !== "pass") return fingerprint(run);
    const expected = counted(this.lastRun);
    if (expected !== undefined && (run.summary.passed ?? -1) < expected) return `the suite reports ${run.summary.passed ?? "no"} passing tests where ${expected} ran before: tests may not disappear`;
    return undefined;
  }

  /**
   * A verified step: the pre-commit hook agrees, nothing but the edits changed, its run is the new
   * baseline, its files the ticket's, and it is committed. Otherwise the attempt is refused.
   */
  private async accept(run: TestRun, applied: Applied, message: string, role: EditRole): Promise<StepEnd | undefined> {
    const { limits, signal } = this.deps;
    const hook = await preCommitRefusal({ git: this.deps.git, runner: this.deps.runner, worktree: this.worktree, actor: this.actor(role), timeoutMs: limits.testTimeoutMs, outputCapBytes: limits.outputCapBytes, signal });
    if (hook) return this.refuse(applied, hook);
    const stray = await strayWrites(this.deps.git, this.files, this.worktree, applied);
    if (stray.length > 0) return this.refuse(applied, { failed: `the test run changed files besides the edits (${stray.join(", ")}): code and tests may write only git-ignored files while they run` });
    this.lastRun = run;
    applied.changed.forEach((file) => this.touched.add(file));
    await this.commit(message, role);
    return undefined;
  }

  private runSuite(command = this.project.testCommand, cwd = this.worktree): Promise<TestRun> {
    const { limits } = this.deps;
    return this.deps.runner.run({ cwd, command, timeoutMs: limits.testTimeoutMs, outputCapBytes: limits.outputCapBytes, signal: this.deps.signal });
  }

  private async context(): Promise<PairContext> {
    const packed = await this.deps.memory.knowledge.packContext("developer", this.ticket._id, { budget: this.deps.limits.contextBudget, k: 0 });
    const tree = await this.files.list();
    const relevant = [...new Set([...this.touched, ...tree.filter((f) => /(^|\/)(package\.json|pyproject\.toml)$/.test(f))])];
    const files = (await Promise.all(relevant.map(async (file) => ({ path: file, content: (await this.files.read(file)) ?? "" }))));
    const run = this.lastRun;
    const lastRun = run ? `${describeRun(run)}\n${run.output.slice(-LAST_RUN_CHARS)}` : "(not run yet)";
    return { packed: packed.messages, tree, files, lastRun, testPaths: this.deps.testPaths };
  }

  private actor(role: EditRole): Actor {
    return { role, ticketId: this.ticket._id, functionalityId: this.ticket.functionalityId };
  }

  /** The red and green commits are made even when a checkpoint already holds their content: they mark what was verified. */
  private async commit(message: string, role: EditRole, options: { allowEmpty?: boolean } = { allowEmpty: true }): Promise<void> {
    await this.deps.git.commit(this.worktree, message, this.actor(role), options);
    this.lastCommitAt = Date.now();
  }

  private say(from: string, text: string) {
    return this.deps.memory.transcript.record({ kind: "message", channel: "agents", projectId: this.project._id, ticketId: this.ticket._id, functionalityId: this.ticket.functionalityId, from, text });
  }

  private humanStop(status: "needs_clarification" | "blocked", note: string): TicketOutcome {
    return status === "blocked" ? { kind: "blocked", reason: note || "the pair is blocked" } : { kind: "needsClarification", question: note || "the pair needs a clarification" };
  }

  /** The pair stops; the PM asks the human, with the failing output where there is one. */
  private async stop(outcome: TicketOutcome, output?: string): Promise<TicketOutcome> {
    if (outcome.kind === "paused" || outcome.kind === "review") return outcome;
    const what = outcome.kind === "blocked" ? `is blocked: ${outcome.reason}` : `needs your answer: ${outcome.question}`;
    const text = outcome.kind === "blocked" ? outcome.reason : outcome.question;
    await this.deps.memory.tickets.update(this.ticket._id, { waiting: { kind: outcome.kind, text, since: new Date() } }, this.deps.pair, stopNote(outcome.kind, text));
    await this.say(this.deps.pair, `Stopped on ${this.ticket._id}: it ${what}. It waits for the human; the PM asks in the chat.`);
    const tail = output ? `\n\nThe last test run ended with:\n\n\`\`\`\n${output.slice(-1500)}\n\`\`\`` : "";
    await this.deps.memory.transcript.record({ kind: "message", channel: "human", projectId: this.project._id, ticketId: this.ticket._id, from: "pm", text: `${this.ticket._id} (${this.ticket.title}) ${what}.${tail}` });
    return outcome;
  }

  private block(reason: string, output?: string): Promise<TicketOutcome> {
    return this.stop({ kind: "blocked", reason }, output);
  }
}

export function runTicket(project: Project, ticket: Ticket, deps: TddDeps): Promise<TicketOutcome> {
  return new TicketRun(project, ticket, deps).run();
}
