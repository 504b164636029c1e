// Whether Redgreen may run git and tests in a project's folder. The editor's workspace trust covers
// the workspace's folders only, but a project can live anywhere (New Project takes any folder), and
// git runs hooks and config from that folder and the tests run its code. So a folder outside the
// trusted workspace is asked about once and the answer is kept, per folder (a kept answer covers
// the folders inside it, as the editor's trusted folders do). No editor here: the editor passes
// its workspace trust, folders and globalState; a CLI its own.
import { realpathSync } from "node:fs";
import path from "node:path";

/** Where answers are kept: the editor's globalState fits (a Memento); a CLI can use a JSON file. */
export interface AnswerStore {
  get<T>(key: string): T | undefined;
  update(key: string, value: unknown): PromiseLike<void>;
}

export interface FolderTrustPorts {
  /** The workspace's own trust; an untrusted workspace runs nothing, wherever its projects are. */
  workspaceTrusted(): boolean;
  /** The workspace's folders, which its trust covers. */
  workspaceFolders(): readonly string[];
  answers: AnswerStore;
  /** Asks the user about a folder; undefined when they dismissed the question (asked again later). */
  ask(folder: string): Promise<boolean | undefined>;
}

/** Why a folder may not be used: the workspace is untrusted, or the user said no (now or before). */
export type TrustVerdict = { trusted: true } | { trusted: false; why: "workspace" | "refused" | "dismissed" };

const ANSWERS_KEY = "redgreen.folderTrust";

/** Whether `folder` is `root` or inside it. */
export function isInside(folder: string, root: string): boolean {
  const relative = path.relative(path.resolve(root), path.resolve(folder));
  return relative === "" || (relative !== ".." && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative));
}

export class FolderTrust {
  /** One question per folder at a time: two commands at once wait for the same answer. */
  private readonly asking = new Map<string, Promise<TrustVerdict>>();

  constructor(private readonly ports: FolderTrustPorts) {}

  /** The verdict without asking: for background work, which must not pop up questions. */
  known(folder: string): TrustVerdict | undefined {
    if (!this.ports.workspaceTrusted()) return { trusted: false, why: "workspace" };
    if (this.ports.workspaceFolders().some((root) => isInside(folder, root))) return { trusted: true };
    const answer = this.remembered(folder);
    if (answer === undefined) return undefined;
    return answer ? { trusted: true } : { trusted: false, why: "refused" };
  }

  /** The verdict, asking the user once for a folder outside the workspace. */
  decide(folder: string): Promise<TrustVerdict> {
    const known = this.known(folder);
    if (known) return Promise.resolve(known);
    const key = path.resolve(folder);
    const pending = this.asking.get(key) ?? this.ask(key).finally(() => this.asking.delete(key));
    this.asking.set(key, pending);
    return pending;
  }

  /** Keeps an answer for a folder (and the folders inside it). */
  async remember(folder: string, trusted: boolean): Promise<void> {
    const answers = { ...this.answers(), [path.resolve(folder)]: trusted };
    await this.ports.answers.update(ANSWERS_KEY, answers);
  }

  private async ask(folder: string): Promise<TrustVerdict> {
    const answer = await this.ports.ask(folder);
    if (answer === undefined) return { trusted: false, why: "dismissed" };
    await this.remember(folder, answer);
    return answer ? { trusted: true } : { trusted: false, why: "refused" };
  }

  /** The answer for the folder or the nearest folder around it that has one. */
  private remembered(folder: string): boolean | undefined {
    const around = Object.entries(this.answers()).filter(([root]) => isInside(folder, root));
    around.sort(([a], [b]) => b.length - a.length);
    return around[0]?.[1];
  }

  private answers(): Record<string, boolean> {
    return this.ports.answers.get<Record<string, boolean>>(ANSWERS_KEY) ?? {};
  }
}

/** Symlinks resolved, so that a link to a folder is that folder (a folder not made yet: its nearest parent, resolved). */
export function realFolder(folder: string): string {
  const resolved = path.resolve(folder);
  try {
    return realpathSync.native(resolved);
  } catch {
    const parent = path.dirname(resolved);
    return parent === resolved ? resolved : path.join(realFolder(parent), path.basename(resolved));
  }
}
