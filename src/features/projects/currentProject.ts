// The project the views show: the one last created or opened in this workspace, else the first by
// priority whose folder lies in the workspace. Every window shares the engine's store, so a project
// of another window is shown only once opened here (Open Project). Remembered in workspace state;
// the views follow its changes.
import path from "node:path";
import type * as vscode from "vscode";
import { Emitter } from "../../core/lifecycle";
import type { Project } from "../../core/store/records";
import { CommandRefusal } from "../../platform/command";
import type { StoreService } from "../store/storeService";

const KEY = "redgreen.currentProject";
/** The projects created or opened in this workspace, newest last: the ones its team works on. */
const OPENED_KEY = "redgreen.openedProjects";
const OPENED_MAX = 200;

export class CurrentProject implements vscode.Disposable {
  private readonly changed = new Emitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly subscription: { dispose(): void };

  constructor(
    private readonly store: StoreService,
    private readonly state: vscode.Memento,
    /** The workspace's folders, as paths. */
    private readonly workspaceFolders: () => readonly string[],
  ) {
    // The store opening or closing, and any project's change (created, approved, on hold, planned).
    const opened = store.onDidChange(() => this.changed.fire());
    const followed = store.followMemory((memory) => memory.projects.onDidChange(() => this.changed.fire()));
    this.subscription = { dispose: () => { opened.dispose(); followed.dispose(); } };
  }

  async get(): Promise<Project | undefined> {
    const opened = await this.store.ready();
    if (opened.kind !== "open") return undefined;
    const projects = await opened.memory.projects.list();
    const remembered = this.state.get<string>(KEY);
    return projects.find((p) => p._id === remembered) ?? projects.find((p) => this.inWorkspace(p.root));
  }

  /**
   * The project a command acts on: the one it was given by id, else the current one. Refuses,
   * saying why, when there is no such project or none at all.
   */
  async target(projectId: unknown): Promise<Project> {
    const memory = await this.store.memory();
    const project = typeof projectId === "string" ? await memory.projects.get(projectId) : await this.get();
    if (project) return project;
    throw new CommandRefusal(typeof projectId === "string" ? `There is no project ${projectId}.` : "No project is open in this window: open one with Redgreen: Open Project… or create one with Redgreen: New Project.");
  }

  /**
   * Whether this window's team works on the project: it was created or opened here, or its folder
   * lies in the workspace. Every window shares the engine's store; a project of another window is
   * left to that window's team.
   */
  belongsHere(project: Pick<Project, "_id" | "root">): boolean {
    return this.state.get<string[]>(OPENED_KEY, []).includes(project._id) || this.inWorkspace(project.root);
  }

  private inWorkspace(root: string): boolean {
    return this.workspaceFolders().some((folder) => {
      const relative = path.relative(folder, root);
      return !relative.startsWith("..") && !path.isAbsolute(relative);
    });
  }

  /** The project is worked on here from now on (a command acted on it), without showing it. */
  async adopt(projectId: string): Promise<void> {
    const opened = this.state.get<string[]>(OPENED_KEY, []).filter((id) => id !== projectId);
    await this.state.update(OPENED_KEY, [...opened, projectId].slice(-OPENED_MAX));
  }

  async set(projectId: string): Promise<void> {
    await this.adopt(projectId);
    await this.state.update(KEY, projectId);
    this.changed.fire();
  }

  /** Something about a project changed (its state, say): views re-read it. */
  touch(): void {
    this.changed.fire();
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}
