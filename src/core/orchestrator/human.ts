import type { DevDecision } from "../agents/planning";
import type { Project } from "../store/records";

// Where the team needs the human, whichever face runs it: the editor answers with dialogs and
// notifications, the command line with prompts, or flags and safe defaults when nobody is there.
export interface HumanPort {
  /** A DEV branch exists already: reuse it, recreate it from the main branch, or pause planning. */
  decideDev(project: Project): Promise<DevDecision>;
  /** Something the human should know now (a functionality merged, a pair that stopped on an error). */
  notify(level: "info" | "warn", text: string, projectId: string): void;
}
