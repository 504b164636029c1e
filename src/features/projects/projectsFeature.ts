// Projects and their spec files: New Project, Open Project, Approve Spec, Compare with Approved,
// the spec's CodeLens, and "on hold" when an approved spec changes.
import * as vscode from "vscode";
import type { GitPort } from "../../core/gitops/git";
import { describeError, type Logger } from "../../core/logger";
import type { MemoryManager } from "../../core/memory/memoryManager";
import { PRIORITIES, STATE_NAMES } from "../../core/projects/project";
import type { Project, SpecVersion } from "../../core/store/records";
import { CommandRefusal, registerRedgreenCommand } from "../../platform/command";
import type { Settings } from "../../platform/settings";
import { Commands } from "../../protocol/commands";
import type { StoreService } from "../store/storeService";
import { createProject } from "../../core/projects/createProject";
import type { CurrentProject } from "./currentProject";
import type { ProjectTrust } from "./projectTrust";
import { askNewProject } from "./newProject";
import { specFileOf } from "../../core/spec/specFile";
import { APPROVED_SCHEME, projectOfSpec, SpecDocuments } from "./specDocuments";

export interface NewProjectResult {
  project?: Project;
  specFile?: string;
  error?: string;
}

export interface ProjectsDeps {
  store: StoreService;
  current: CurrentProject;
  git: GitPort;
  settings: Settings;
  log: Logger;
  trust: ProjectTrust;
}

/** What the project commands share, built once. */
interface Projects {
  deps: ProjectsDeps;
  memory: () => Promise<MemoryManager>;
  specs: SpecDocuments;
}

export function registerProjects(deps: ProjectsDeps): vscode.Disposable {
  const { log } = deps;
  const memory = () => deps.store.memory();
  const specs = new SpecDocuments({ memory, git: deps.git, log, onProjectChanged: () => deps.current.touch() });
  const projects: Projects = { deps, memory, specs };

  return vscode.Disposable.from(
    vscode.languages.registerCodeLensProvider({ language: "markdown", scheme: "file" }, specs),
    vscode.workspace.registerTextDocumentContentProvider(APPROVED_SCHEME, specs),
    vscode.workspace.onDidSaveTextDocument((document) => {
      specs.onSaved(document).catch((error: unknown) => {
        const message = vscode.l10n.t("Could not update the project after the spec was saved: {0}", describeError(error));
        log.error(message);
        void vscode.window.showErrorMessage(message);
      });
    }),
    deps.store.onDidChange(() => specs.refresh()),
    registerRedgreenCommand(Commands.newProject, log, {
      title: vscode.l10n.t("New Project"), runsGit: vscode.l10n.t("create a project"),
      run: (args) => newProject(projects, args),
    }),
    registerRedgreenCommand(Commands.openProject, log, { title: vscode.l10n.t("Open Project"), run: (projectId) => openProject(projects, projectId) }),
    registerRedgreenCommand(Commands.setPriority, log, { title: vscode.l10n.t("Set Priority"), run: (projectId, priority) => setPriority(projects, projectId, priority) }),
    registerRedgreenCommand(Commands.approveSpec, log, {
      title: vscode.l10n.t("Approve Spec"), runsGit: vscode.l10n.t("approve a spec"),
      run: (uri) => approveSpec(projects, uri),
    }),
    registerRedgreenCommand(Commands.compareSpecWithApproved, log, {
      title: vscode.l10n.t("Compare with Approved"),
      run: (uri) => compareWithApproved(projects, uri),
    }),
  );
}

function targetUri(uri: unknown): vscode.Uri | undefined {
  return uri instanceof vscode.Uri ? uri : vscode.window.activeTextEditor?.document.uri;
}

/** Arguments (all fields) skip the prompts: for tests and other commands. */
async function newProject({ deps, memory, specs }: Projects, args?: unknown): Promise<NewProjectResult | undefined> {
  const input = args ?? (await askNewProject(vscode.workspace.workspaceFolders?.[0]?.uri.fsPath));
  if (!input) return undefined;
  // The folder may lie outside the workspace: git init and later the tests run there.
  const folder = (input as { folder?: unknown }).folder;
  if (typeof folder === "string" && !(await deps.trust.allows(folder, vscode.l10n.t("create a project")))) return { error: "untrusted folder" };
  const created = await createProject(input, { memory: await memory(), git: deps.git, specPath: deps.settings.get("spec.path"), log: deps.log });
  deps.log.info(`Project "${created.project.name}" created in ${created.project.root}`);
  await deps.current.set(created.project._id);
  await vscode.window.showTextDocument(vscode.Uri.file(created.specFile));
  specs.refresh();
  return created;
}

async function openProject({ deps, memory }: Projects, projectId?: unknown): Promise<Project | undefined> {
  const projects = await (await memory()).projects.list();
  let project = projects.find((p) => p._id === projectId);
  if (!project) {
    if (projects.length === 0) {
      void vscode.window.showInformationMessage(vscode.l10n.t("No project yet: create one with Redgreen: New Project."));
      return undefined;
    }
    const picked = await vscode.window.showQuickPick(
      projects.map((p) => ({ label: p.name, description: `${STATE_NAMES[p.state]} · ${p.priority}`, detail: p.root, project: p })),
      { title: vscode.l10n.t("Open Project"), matchOnDetail: true },
    );
    project = picked?.project;
  }
  if (project) {
    await deps.current.set(project._id);
    await vscode.window.showTextDocument(vscode.Uri.file(specFileOf(project)));
  }
  return project;
}

/** A project's priority (the given one, else this window's current project), the tier given or picked. */
async function setPriority({ deps, memory }: Projects, projectId?: unknown, priority?: unknown): Promise<Project | undefined> {
  const project = await deps.current.target(projectId);
  let tier = PRIORITIES.find((p) => p === priority);
  if (priority !== undefined && !tier) throw new CommandRefusal(vscode.l10n.t("{0} is not a priority: use critical, high, medium or low.", JSON.stringify(priority)));
  tier ??= (await vscode.window.showQuickPick(
    PRIORITIES.map((p) => ({ label: p, description: p === project.priority ? vscode.l10n.t("now") : undefined, tier: p })),
    { title: vscode.l10n.t("Priority of {0}: the Resource Director shares the machine by it", project.name) },
  ))?.tier;
  if (!tier || tier === project.priority) return undefined;
  const changed = await (await memory()).projects.setPriority(project._id, tier, "human");
  deps.log.info(`Priority of "${project.name}": ${project.priority} → ${tier}`);
  return changed;
}

async function approveSpec({ deps, memory, specs }: Projects, uri?: unknown): Promise<SpecVersion | undefined> {
  const target = targetUri(uri);
  if (!target) throw new CommandRefusal(vscode.l10n.t("Open a spec file to approve it."));
  const project = await projectOfSpec(await memory(), target.fsPath);
  if (project && !(await deps.trust.allows(project.root, vscode.l10n.t("approve a spec")))) return undefined;
  return specs.approve(target);
}

async function compareWithApproved({ specs }: Projects, uri?: unknown): Promise<void> {
  const target = targetUri(uri);
  if (!target) throw new CommandRefusal(vscode.l10n.t("Open a spec file to compare it with its approved version."));
  await specs.compare(target);
}
