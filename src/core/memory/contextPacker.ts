import type { ChatMessage } from "../models/types";
import type { Ticket, WorkingEntry } from "../store/records";

// Packs the context of one (role, ticket) prompt into a token budget: the ticket's goal and
// acceptance criteria always, then as many recent working turns as fit (newest first), then
// recalled knowledge in the space left. The budget is checked by counting the final messages
// with the model's own tokenizer, and turns are dropped until it holds.

export interface PackInput {
  role: string;
  ticket: Pick<Ticket, "_id" | "title" | "goal" | "acceptanceCriteria">;
  budget: number;
  /** Oldest first. */
  recent: WorkingEntry[];
  /** Best first. */
  knowledge: { text: string; score: number }[];
  countTokens(text: string): Promise<number>;
}

export interface PackedContext {
  messages: ChatMessage[];
  /** Tokens of `renderForCounting(messages)`, as the model counts them. */
  tokens: number;
  recentIncluded: number;
  knowledgeIncluded: number;
}

export class ContextBudgetError extends Error {}

/** What the budget is measured on: every message's role and content, one per line. */
export function renderForCounting(messages: ChatMessage[]): string {
  return messages.map((message) => `${message.role}: ${message.content}`).join("\n");
}

export function goalBlock(ticket: PackInput["ticket"]): string {
  const criteria = ticket.acceptanceCriteria.map((criterion) => `- ${criterion}`).join("\n");
  return `Ticket ${ticket._id}: ${ticket.title}\nGoal: ${ticket.goal}\nAcceptance criteria:\n${criteria}`;
}

export function turnMessage(role: string, entry: WorkingEntry): ChatMessage {
  if (entry.kind === "summary") return { role: "user", content: `[summary of earlier turns] ${entry.text}` };
  return entry.from === role ? { role: "assistant", content: entry.text } : { role: "user", content: `[${entry.from}] ${entry.text}` };
}

function assemble(input: PackInput, turns: WorkingEntry[], knowledge: string[]): ChatMessage[] {
  let system = goalBlock(input.ticket);
  if (knowledge.length > 0) system += `\n\nRelevant knowledge:\n${knowledge.map((text) => `- ${text}`).join("\n")}`;
  return [{ role: "system", content: system }, ...turns.map((entry) => turnMessage(input.role, entry))];
}

export async function packContext(input: PackInput): Promise<PackedContext> {
  const count = (messages: ChatMessage[]) => input.countTokens(renderForCounting(messages));
  const base = await count(assemble(input, [], []));
  if (base > input.budget) {
    throw new ContextBudgetError(`the goal and acceptance criteria of ticket ${input.ticket._id} alone take ${base} tokens, more than the budget of ${input.budget}`);
  }
  // Greedy selection on per-piece counts (+1 for the joining newline), newest turns first...
  let used = base;
  const turns: WorkingEntry[] = [];
  for (let i = input.recent.length - 1; i >= 0; i--) {
    const entry = input.recent[i]!;
    const cost = (await count([turnMessage(input.role, entry)])) + 1;
    if (used + cost > input.budget) break;
    used += cost;
    turns.unshift(entry);
  }
  const knowledge: string[] = [];
  for (const item of input.knowledge) {
    const cost = (await input.countTokens(`- ${item.text}`)) + 2;
    if (used + cost > input.budget) break;
    used += cost;
    knowledge.push(item.text);
  }
  // ...then the exact count of the whole, since tokens at the joins can differ from the pieces.
  let messages = assemble(input, turns, knowledge);
  let tokens = await count(messages);
  while (tokens > input.budget) {
    if (knowledge.length > 0) knowledge.pop();
    else turns.shift();
    messages = assemble(input, turns, knowledge);
    tokens = await count(messages);
  }
  return { messages, tokens, recentIncluded: turns.length, knowledgeIncluded: knowledge.length };
}
