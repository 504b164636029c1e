// The spec file of each project in the editor: CodeLens (version, Approve spec, Compare with
// approved), approval (a spec version plus a git commit), the read-only approved version for the
// diff editor, and "on hold" when an approved spec is edited and saved.
import path from "node:path";
import * as vscode from "vscode";
import type { GitPort } from "../../core/gitops/git";
import type { Logger } from "../../core/logger";
import type { MemoryManager } from "../../core/memory/memoryManager";
import { holdAfterSpecEdit } from "../../core/orchestrator/projectRules";
import { specFileOf } from "../../core/spec/specFile";
import { approveSpec } from "../../core/spec/approval";
import { specHash } from "../../core/spec/spec";
import type { Project, SpecVersion } from "../../core/store/records";
import { Commands } from "../../protocol/commands";

export const APPROVED_SCHEME = "redgreen-spec";

export interface SpecDeps {
  memory(): Promise<MemoryManager>;
  git: GitPort;
  log: Logger;
  /** A project's state changed (approved, on hold). */
  onProjectChanged(): void;
}


export async function projectOfSpec(memory: MemoryManager, file: string): Promise<Project | undefined> {
  const target = path.resolve(file);
  return (await memory.projects.list()).find((project) => path.resolve(specFileOf(project)) === target);
}

/** The approved version's read-only text, for the left side of the diff editor. */
export function approvedUri(project: Project, version: SpecVersion): vscode.Uri {
  return vscode.Uri.from({ scheme: APPROVED_SCHEME, path: `/${project._id}/v${version.version}/${path.basename(project.specPath)}` });
}

export class SpecDocuments implements vscode.CodeLensProvider, vscode.TextDocumentContentProvider {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;

  constructor(private readonly deps: SpecDeps) {}

  refresh(): void {
    this.changed.fire();
  }

  async provideCodeLenses(document: vscode.TextDocument): Promise<vscode.CodeLens[]> {
    const memory = await this.deps.memory().catch(() => undefined);
    const project = memory && (await projectOfSpec(memory, document.uri.fsPath));
    if (!memory || !project) return [];
    const approved = await memory.projects.approvedSpec(project._id);
    const top = new vscode.Range(0, 0, 0, 0);
    const edited = !approved || approved.hash !== specHash(document.getText()) || project.state === "onHold";
    const label = approved
      ? vscode.l10n.t("{0} spec · v{1} approved{2}", project.name, approved.version, edited ? vscode.l10n.t(" · edited since") : "")
      : vscode.l10n.t("{0} spec · not approved yet", project.name);
    const lenses = [new vscode.CodeLens(top, { title: label, command: "" })];
    if (edited) lenses.push(new vscode.CodeLens(top, { title: `$(check) ${vscode.l10n.t("Approve spec")}`, command: Commands.approveSpec, arguments: [document.uri] }));
    if (approved) lenses.push(new vscode.CodeLens(top, { title: `$(diff) ${vscode.l10n.t("Compare with approved")}`, command: Commands.compareSpecWithApproved, arguments: [document.uri] }));
    return lenses;
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const [, projectId, version] = uri.path.split("/");
    const memory = await this.deps.memory();
    const versions = await memory.projects.specHistory(projectId ?? "");
    const found = versions.find((v) => `v${v.version}` === version);
    if (!found) throw new Error(`No approved spec ${version} for this project`);
    return found.text;
  }

  /** Approves the spec as saved on disk: a new version, a commit of the file, state approved. */
  async approve(uri: vscode.Uri): Promise<SpecVersion | undefined> {
    const memory = await this.deps.memory();
    const project = await projectOfSpec(memory, uri.fsPath);
    if (!project) throw new Error(`${uri.fsPath} is not the spec of a Redgreen project`);
    const document = await vscode.workspace.openTextDocument(uri);
    if (document.isDirty && !(await document.save())) throw new Error("The spec could not be saved, so it was not approved");
    const approval = await approveSpec(project, document.getText(), { memory, git: this.deps.git });
    if (approval.alreadyApproved) {
      void vscode.window.showInformationMessage(vscode.l10n.t("This spec is already approved as v{0}.", approval.version.version));
      return approval.version;
    }
    if (approval.version.commit) this.deps.log.info(`Spec v${approval.version.version} of "${project.name}" approved and committed as ${approval.version.commit.slice(0, 10)}`);
    this.refresh();
    this.deps.onProjectChanged();
    return approval.version;
  }

  async compare(uri: vscode.Uri): Promise<void> {
    const memory = await this.deps.memory();
    const project = await projectOfSpec(memory, uri.fsPath);
    const approved = project && (await memory.projects.approvedSpec(project._id));
    if (!project || !approved) {
      void vscode.window.showInformationMessage(vscode.l10n.t("This spec has no approved version yet."));
      return;
    }
    const title = vscode.l10n.t("{0} (approved v{1}) ↔ working copy", path.basename(project.specPath), approved.version);
    await vscode.commands.executeCommand("vscode.diff", approvedUri(project, approved), uri, title);
  }

  /** A saved change to an approved spec puts the project on hold, and the PM asks what to do. */
  async onSaved(document: vscode.TextDocument): Promise<Project | undefined> {
    const memory = await this.deps.memory().catch(() => undefined);
    const project = memory && (await projectOfSpec(memory, document.uri.fsPath));
    if (!memory || !project) return undefined;
    const held = await holdAfterSpecEdit(memory, project, document.getText());
    if (!held) return undefined;
    this.refresh();
    this.deps.onProjectChanged();
    const compare = vscode.l10n.t("Compare with Approved");
    const approve = vscode.l10n.t("Approve Spec");
    void vscode.window
      .showWarningMessage(vscode.l10n.t("The approved spec of {0} was edited: the project is on hold until you approve it again.", project.name), compare, approve)
      .then((choice) => {
        if (choice === compare) void vscode.commands.executeCommand(Commands.compareSpecWithApproved, document.uri);
        if (choice === approve) void vscode.commands.executeCommand(Commands.approveSpec, document.uri);
      });
    return held;
  }
}
