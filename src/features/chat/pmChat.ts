// The PM in the Chat view: each human message is recorded through the Memory Manager, the PM's
// reply streams into the page, Stop cancels it, and an approval or a spec edit waits for the
// human's click. Conversations come back from memory when the page (or the window) reloads.
import { promises as fs } from "node:fs";
import * as vscode from "vscode";
import { applySpecEdit, PmAgent, type PmTurnResult, type SpecEdit } from "../../core/agents/pm";
import type { AgentModels } from "../../core/models/manager";
import { describeError, type Logger } from "../../core/logger";
import type { MemoryManager } from "../../core/memory/memoryManager";
import { ModelNotConfiguredError } from "../../core/models/manager";
import type { Conversation, Project } from "../../core/store/records";
import type { ChatEntry, ChatProtocol, chatProtocol, TurnAction } from "../../protocol/chat";
import type { Params, Result } from "../../protocol/rpc";
import type { WebviewViewHost } from "../../platform/webview/viewHost";
import { Commands } from "../../protocol/commands";
import { specFileOf } from "../../core/spec/specFile";
import type { StoreService } from "../store/storeService";

export const PROPOSAL_SCHEME = "redgreen-proposal";

interface Proposal {
  projectId: string;
  edit: SpecEdit;
  /** The spec as it was when proposed; the edit is applied to the file as it is when accepted. */
  proposedText: string;
}

export interface PmChatDeps {
  view: WebviewViewHost<typeof chatProtocol>;
  store: StoreService;
  models: AgentModels;
  log: Logger;
  /** Tells the views that a project changed (approval moves its state). */
  onProjectChanged(): void;
}

export function toEntry(conversation: Conversation): ChatEntry {
  return { id: conversation._id, projectId: conversation.projectId, channel: conversation.channel, from: conversation.from, text: conversation.text, at: conversation.at.getTime() };
}

type Requests = ChatProtocol["toHost"]["requests"];

/** What the chat's handlers share, built once. */
interface PmChat {
  deps: PmChatDeps;
  endpoint: PmChatDeps["view"]["endpoint"];
  agent: PmAgent;
  turns: Map<string, AbortController>;
  /** The turn each project is in: one at a time per project. */
  busy: Map<string, string>;
  proposals: Map<string, Proposal>;
  /** Approvals offered to the human, by id, with their project: each can be used once. */
  approvals: Map<string, string>;
}

/** One PM turn, from the human's message to the end of the reply. */
interface Turn {
  turnId: string;
  controller: AbortController;
  memory: MemoryManager;
  project: Project;
  history: { from: string; text: string }[];
  text: string;
}

export function registerPmChat(deps: PmChatDeps): vscode.Disposable {
  const endpoint = deps.view.endpoint;
  const chat: PmChat = { deps, endpoint, agent: new PmAgent(deps.models), turns: new Map(), busy: new Map(), proposals: new Map(), approvals: new Map() };
  // Every message recorded anywhere (the PM here, planning, the board, agents) reaches the page.
  const live = deps.store.followMemory((m) => m.transcript.onDidRecordMessage((message) => endpoint.notify("entry", toEntry(message))));

  endpoint.handle("history", (params) => history(chat, params));
  endpoint.handle("send", (params) => send(chat, params));
  endpoint.on("stop", ({ turnId }) => chat.turns.get(turnId)?.abort());
  endpoint.handle("approveSpec", (params) => approveSpec(chat, params));
  endpoint.handle("showProposal", (params) => showProposal(chat, params));
  endpoint.handle("decideProposal", (params) => decideProposal(chat, params));

  return vscode.Disposable.from(
    vscode.workspace.registerTextDocumentContentProvider(PROPOSAL_SCHEME, {
      provideTextDocumentContent: (uri) => chat.proposals.get(uri.path.split("/")[1] ?? "")?.proposedText ?? "",
    }),
    { dispose: () => chat.turns.forEach((controller) => controller.abort()) },
    live,
  );
}

async function projectIn(chat: PmChat, id: string): Promise<{ memory: MemoryManager; project: Project }> {
  const m = await chat.deps.store.memory();
  const found = await m.projects.get(id);
  if (!found) throw new Error(`No project ${id}`);
  return { memory: m, project: found };
}

/** Records a chat message; the page shows it through the live subscription in registerPmChat. */
async function post(m: MemoryManager, projectId: string, from: string, text: string): Promise<void> {
  await m.transcript.record({ kind: "message", projectId, channel: "human", from, text });
}

async function history(chat: PmChat, { projectId, channel }: Params<Requests["history"]>): Promise<Result<Requests["history"]>> {
  const m = await chat.deps.store.memory();
  return { entries: (await m.transcript.messages(projectId, { channel })).map(toEntry) };
}

async function send(chat: PmChat, { projectId, text, resend }: Params<Requests["send"]>): Promise<Result<Requests["send"]>> {
  const { turns, busy } = chat;
  if (busy.has(projectId)) throw new Error("The PM is still answering; wait for it or press Stop");
  const { memory: m, project: p } = await projectIn(chat, projectId);
  const history = (await m.transcript.messages(projectId, { channel: "human" })).map((c) => ({ from: c.from, text: c.text }));
  if (resend) {
    // The message is recorded already, maybe followed by a cut-off reply: neither goes in twice.
    while (history.at(-1)?.from === "pm" && history.at(-1)!.text.endsWith("*(interrupted)*")) history.pop();
    if (history.at(-1)?.text === text) history.pop();
  } else {
    await post(m, projectId, "human", text);
  }
  const turnId = globalThis.crypto.randomUUID();
  const controller = new AbortController();
  turns.set(turnId, controller);
  busy.set(projectId, turnId);
  void runTurn(chat, { turnId, controller, memory: m, project: p, history, text }).finally(() => {
    turns.delete(turnId);
    busy.delete(projectId);
  });
  return { turnId };
}

async function runTurn(chat: PmChat, { turnId, controller, memory: m, project: p, history, text }: Turn): Promise<void> {
  const { endpoint } = chat;
  let streamed = "";
  try {
    const spec = await fs.readFile(specFileOf(p), "utf8").catch(() => "(the spec file cannot be read)");
    const result = await chat.agent.turn({
      projectName: p.name, spec, history, message: text, signal: controller.signal,
      onPhase: (phase) => endpoint.notify("turnPhase", { turnId, phase, since: Date.now() }),
      onToken: (token) => {
        streamed += token;
        endpoint.notify("turnToken", { turnId, text: token });
      },
    });
    const reply = result.reply || streamed;
    if (reply.trim()) await post(m, p._id, "pm", result.stopped ? `${reply}\n\n*(stopped)*` : reply);
    const action = result.stopped ? undefined : offerAction(chat, p, spec, result);
    endpoint.notify("turnEnded", { turnId, outcome: result.stopped ? "stopped" : "done", action });
  } catch (error) {
    const noModel = error instanceof ModelNotConfiguredError;
    const message = noModel ? describeError(error) : `The PM could not answer: ${describeError(error)}`;
    chat.deps.log.error(message);
    if (streamed.trim()) await post(m, p._id, "pm", `${streamed}\n\n*(interrupted)*`).catch(() => undefined);
    endpoint.notify("turnEnded", { turnId, outcome: "failed", error: { message, noModel } });
  }
}

/** What the human may click after a finished reply: confirm an approval, or a proposed spec edit (which wins). */
function offerAction(chat: PmChat, p: Project, spec: string, result: PmTurnResult): TurnAction | undefined {
  let action: TurnAction | undefined;
  if (result.intent === "approve") {
    const approvalId = globalThis.crypto.randomUUID();
    chat.approvals.set(approvalId, p._id);
    action = { kind: "confirmApproval", approvalId };
  }
  if (result.proposal) {
    const proposalId = globalThis.crypto.randomUUID();
    chat.proposals.set(proposalId, { projectId: p._id, edit: result.proposal, proposedText: applySpecEdit(spec, result.proposal) });
    action = { kind: "proposal", proposalId, summary: result.proposal.summary, section: result.proposal.section };
  }
  return action;
}

async function approveSpec(chat: PmChat, { projectId, approvalId }: Params<Requests["approveSpec"]>): Promise<Result<Requests["approveSpec"]>> {
  if (chat.approvals.get(approvalId) !== projectId) throw new Error("This approval was not offered, or was used already");
  chat.approvals.delete(approvalId);
  const { memory: m, project: p } = await projectIn(chat, projectId);
  const version = await vscode.commands.executeCommand<{ version: number } | undefined>(Commands.approveSpec, vscode.Uri.file(specFileOf(p)));
  if (version) await post(m, projectId, "pm", `Spec v${version.version} is approved and committed.`);
  chat.deps.onProjectChanged();
  return { version: version?.version };
}

async function showProposal(chat: PmChat, { proposalId }: Params<Requests["showProposal"]>): Promise<Result<Requests["showProposal"]>> {
  const proposal = chat.proposals.get(proposalId);
  if (!proposal) throw new Error("This proposal is no longer available");
  const { project: p } = await projectIn(chat, proposal.projectId);
  const right = vscode.Uri.from({ scheme: PROPOSAL_SCHEME, path: `/${proposalId}/${p.specPath.split(/[\\/]/).pop()}` });
  await vscode.commands.executeCommand("vscode.diff", vscode.Uri.file(specFileOf(p)), right, vscode.l10n.t("{0} ↔ the PM's proposal", p.specPath));
  return {};
}

async function decideProposal(chat: PmChat, { proposalId, accept }: Params<Requests["decideProposal"]>): Promise<Result<Requests["decideProposal"]>> {
  const proposal = chat.proposals.get(proposalId);
  if (!proposal) throw new Error("This proposal is no longer available");
  chat.proposals.delete(proposalId);
  const { memory: m, project: p } = await projectIn(chat, proposal.projectId);
  if (!accept) {
    await post(m, p._id, "pm", `Understood, I left the spec as it is (proposal: ${proposal.edit.summary}).`);
    return { applied: false };
  }
  // Applied to the file as it is now (the human may have edited it meanwhile), as one undoable edit.
  const document = await vscode.workspace.openTextDocument(vscode.Uri.file(specFileOf(p)));
  const edit = new vscode.WorkspaceEdit();
  edit.replace(document.uri, new vscode.Range(0, 0, document.lineCount, 0), applySpecEdit(document.getText(), proposal.edit));
  if (!(await vscode.workspace.applyEdit(edit)) || !(await document.save())) throw new Error(`Could not write ${specFileOf(p)}`);
  await post(m, p._id, "pm", `I changed the spec: ${proposal.edit.summary}`);
  chat.deps.onProjectChanged();
  return { applied: true };
}
