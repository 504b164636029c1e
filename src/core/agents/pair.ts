import * as z from "zod";
import type { ChatMessage } from "../models/types";
import type { Role } from "../models/registry";
import { fileEditSchema } from "../tdd/edits";
import type { AgentModels } from "../models/manager";
import { principlesFor } from "./principles";

// The Developer/Tester pair's steps as the models see them: what each is asked, and the JSON it
// answers with (constrained by a grammar from these schemas, then validated). What happens with
// the answer (red, green, refusals, escalation) is the TDD engine's business, not the prompt's.

const note = z.string().trim().max(1500);

export const testerStepSchema = z.object({
  /** test: one new failing test in `edits`; covered: every criterion has its test; or a question / a blocker in `note`. */
  status: z.enum(["test", "covered", "needs_clarification", "blocked"]),
  criterion: z.string().trim().max(300),
  note,
  edits: z.array(fileEditSchema).max(4),
});
export type TesterStep = z.infer<typeof testerStepSchema>;

export const developerStepSchema = z.object({
  status: z.enum(["code", "needs_clarification", "blocked"]),
  note,
  edits: z.array(fileEditSchema).max(8),
});
export type DeveloperStep = z.infer<typeof developerStepSchema>;

export const refactorStepSchema = z.object({
  status: z.enum(["refactor", "skip"]),
  note,
  edits: z.array(fileEditSchema).max(8),
});
export type RefactorStep = z.infer<typeof refactorStepSchema>;

export interface PairContext {
  /** The ticket's goal, criteria and recent turns, packed by the Memory Manager. */
  packed: ChatMessage[];
  /** The worktree's files (relative paths) and the contents of the ones that matter now. */
  tree: string[];
  files: { path: string; content: string }[];
  /** The last test run's output (tail), with its outcome. */
  lastRun: string;
  testPaths: readonly string[];
}

const MAX_FILE_CHARS = 6000;
const MAX_TREE = 150;

function workspaceText(context: PairContext): string {
  const files = context.files.map((f) => `--- ${f.path}\n${f.content.length > MAX_FILE_CHARS ? `${f.content.slice(0, MAX_FILE_CHARS)}\n[… cut …]` : f.content}`).join("\n");
  return [
    `Files in the worktree:\n${context.tree.slice(0, MAX_TREE).join("\n")}${context.tree.length > MAX_TREE ? `\n(… ${context.tree.length - MAX_TREE} more)` : ""}`,
    files && `Current contents:\n${files}`,
    `Test files are the paths matching: ${context.testPaths.join(", ")}.`,
    `Last test run:\n${context.lastRun}`,
  ].filter(Boolean).join("\n\n");
}

function messages(role: Role, instructions: string, context: PairContext, ask: string): ChatMessage[] {
  // The packed system message holds the ticket's goal and acceptance criteria: it joins the role's
  // own system message (one system message is all some chat templates take), never dropped.
  const ticket = context.packed.filter((m) => m.role === "system").map((m) => m.content);
  return [
    { role: "system", content: [principlesFor(role), instructions, ...ticket].join("\n\n") },
    ...context.packed.filter((m) => m.role !== "system"),
    { role: "user", content: `${workspaceText(context)}\n\n${ask}\nAnswer with JSON only. Each edit gives a file's whole new content.` },
  ];
}

export function askTester(models: AgentModels, context: PairContext, options: { ticketId: string; functionalityId: string; escalate?: boolean; signal?: AbortSignal; maxTokens?: number }) {
  return models.ask("tester", {
    messages: messages("tester",
      "You are the Tester of a TDD pair. You write ONE new failing test at a time, for the next acceptance criterion that has no test yet; you never write production code.",
      context,
      `Write the next failing test (status "test", name the criterion), or answer "covered" when every acceptance criterion has a passing test, "needs_clarification" with a question, or "blocked" with the reason.`),
    maxTokens: options.maxTokens ?? 2000, temperature: 0.2,
  }, { schema: testerStepSchema, ticketId: options.ticketId, functionalityId: options.functionalityId, signal: options.signal, escalate: options.escalate });
}

export function askDeveloper(models: AgentModels, context: PairContext, options: { ticketId: string; functionalityId: string; escalate?: boolean; signal?: AbortSignal; maxTokens?: number }) {
  return models.ask("developer", {
    messages: messages("developer",
      "You are the Developer of a TDD pair. You write the least production code that makes the failing test pass, and keep every other test passing. You may not create, change or delete test files.",
      context,
      `Make the suite pass (status "code"), or answer "needs_clarification" with a question, or "blocked" with the reason.`),
    maxTokens: options.maxTokens ?? 2500, temperature: 0.2,
  }, { schema: developerStepSchema, ticketId: options.ticketId, functionalityId: options.functionalityId, signal: options.signal, escalate: options.escalate });
}

export function askRefactor(models: AgentModels, context: PairContext, options: { ticketId: string; functionalityId: string; signal?: AbortSignal; maxTokens?: number }) {
  return models.ask("developer", {
    messages: messages("developer",
      "You are the Developer of a TDD pair, in the refactor step: the suite is green. Improve the production code's structure without changing behaviour, or skip. You may not change test files.",
      context,
      `Refactor (status "refactor" with edits) or answer "skip".`),
    maxTokens: options.maxTokens ?? 2500, temperature: 0.2,
  }, { schema: refactorStepSchema, ticketId: options.ticketId, functionalityId: options.functionalityId, signal: options.signal });
}
