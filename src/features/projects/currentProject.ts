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

  private inWorkspace(root: string): boolean {
    return this.workspaceFolders().some((folder) => {
      const relative = path.relative(folder, root);
      return !relative.startsWith("..") && !path.isAbsolute(relative);
    });
  }

  async set(projectId: string): Promise<void> {
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
