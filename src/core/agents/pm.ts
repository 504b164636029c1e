import * as z from "zod";
import { CancelledError, type AgentModels } from "../models/manager";
import type { ChatMessage } from "../models/types";
import type { PmPhase } from "./pmPhases";
import { principlesFor } from "./principles";

// The PM's turn in the chat: classify what the human wants (a constrained, validated reply),
// answer in streamed prose, and for a change request propose a structured edit of the spec.
// Nothing here changes the spec or the project: the human confirms approvals and accepts edits.

export const INTENTS = ["approve", "change", "question", "other"] as const;
export const intentSchema = z.object({ intent: z.enum(INTENTS) });
export type Intent = (typeof INTENTS)[number];

/** A proposed change: the body of one section (by its heading's text), replaced or added. */
export const specEditSchema = z.object({
  summary: z.string().trim().min(1).max(300),
  section: z.string().trim().min(1).max(120),
  text: z.string().trim().min(1).max(8000),
});
export type SpecEdit = z.infer<typeof specEditSchema>;


export interface PmTurnInput {
  projectName: string;
  spec: string;
  /** Earlier conversation, oldest first (the new message not included). */
  history: { from: string; text: string }[];
  message: string;
  onToken?: (text: string) => void;
  /** The turn moves on to its next phase. */
  onPhase?: (phase: PmPhase) => void;
  signal?: AbortSignal;
}

export interface PmTurnResult {
  intent: Intent;
  reply: string;
  stopped: boolean;
  proposal?: SpecEdit;
}

const HISTORY_TURNS = 10;
const SPEC_CHARS = 6000;

export class PmAgent {
  constructor(private readonly models: AgentModels) {}

  /** The whole turn; Stop (the signal) at any step ends it with what was said so far. */
  async turn(input: PmTurnInput): Promise<PmTurnResult> {
    const said = { reply: "" };
    try {
      return await this.steps(input, said);
    } catch (error) {
      if (error instanceof CancelledError) return { intent: "other", reply: said.reply, stopped: true };
      throw error;
    }
  }

  private async steps(input: PmTurnInput, said: { reply: string }): Promise<PmTurnResult> {
    const context = this.context(input);
    input.onPhase?.("classifying");
    const { value } = await this.models.ask(
      "pm",
      {
        messages: [
          ...context,
          {
            role: "user",
            content:
              `Classify the human's last message. "approve": they accept the spec as it is (e.g. "looks good", "go ahead"). ` +
              `"change": they want the spec changed. "question": they ask something. "other": anything else.\n` +
              `Message: ${JSON.stringify(input.message)}\nAnswer with JSON only.`,
          },
        ],
        maxTokens: 32,
        temperature: 0,
      },
      { schema: intentSchema, signal: input.signal },
    );
    const intent = value.intent;

    input.onPhase?.("answering");
    const answer = await this.models.ask("pm", { messages: [...context, { role: "user", content: `${input.message}\n\n(${GUIDANCE[intent]})` }], maxTokens: 400, temperature: 0.3 }, {
      signal: input.signal,
      onToken: (text) => {
        said.reply += text;
        input.onToken?.(text);
      },
    });
    const reply = answer.text;
    said.reply = reply;
    if (intent !== "change") return { intent, reply, stopped: false };

    input.onPhase?.("drafting");
    const { value: proposal } = await this.models.ask(
      "pm",
      {
        messages: [
          ...context,
          {
            role: "user",
            content:
              `The human asked: ${JSON.stringify(input.message)}\nPropose one edit of the spec as JSON: "section" is the exact text of the heading ` +
              `whose body you replace (or a new heading to add), "text" is the section's complete new body in Markdown, "summary" says what changes in one sentence.`,
          },
        ],
        maxTokens: 600,
        temperature: 0.2,
      },
      { schema: specEditSchema, signal: input.signal },
    );
    return { intent, reply, stopped: false, proposal };
  }

  private context(input: PmTurnInput): ChatMessage[] {
    const spec = input.spec.length > SPEC_CHARS ? `${input.spec.slice(0, SPEC_CHARS)}\n…(the rest is cut)` : input.spec;
    return [
      { role: "system", content: `${principlesFor("pm")}\n\nProject: ${input.projectName}\nIts current spec:\n\n${spec}` },
      ...input.history.slice(-HISTORY_TURNS).map((turn): ChatMessage =>
        turn.from === "pm" ? { role: "assistant", content: turn.text } : { role: "user", content: turn.text },
      ),
    ];
  }
}

const GUIDANCE: Record<Intent, string> = {
  approve: "The human seems to approve the spec. Say in one or two sentences that you understood, and that the approval happens when they confirm with the Approve button.",
  change: "The human wants the spec changed. Say briefly what you will change; the exact edit is proposed separately for them to accept or reject.",
  question: "Answer the question briefly.",
  other: "If it is unclear what the human wants, ask one short clarifying question; otherwise answer briefly.",
};

/** The spec with `edit` applied: the named section's body replaced, or a new section appended. */
export function applySpecEdit(spec: string, edit: SpecEdit): string {
  const lines = spec.split("\n");
  const wanted = normalizeHeading(edit.section);
  const start = lines.findIndex((line) => /^#{1,6}\s/.test(line) && normalizeHeading(line) === wanted);
  const body = edit.text.replace(/\s+$/, "");
  if (start === -1) {
    const heading = /^#{1,6}\s/.test(edit.section) ? edit.section.trim() : `## ${edit.section.trim()}`;
    return `${spec.replace(/\s*$/, "")}\n\n${heading}\n\n${body}\n`;
  }
  const level = /^#+/.exec(lines[start]!)![0].length;
  let end = start + 1;
  while (end < lines.length && !(/^#{1,6}\s/.test(lines[end]!) && /^#+/.exec(lines[end]!)![0].length <= level)) end++;
  const after = lines.slice(end);
  return [...lines.slice(0, start + 1), "", body, ...(after.length ? [""] : []), ...after].join("\n").replace(/\n*$/, "\n");
}

function normalizeHeading(text: string): string {
  return text.replace(/^#{1,6}\s*/, "").trim().toLowerCase();
}
