// Which client changes each project: one at a time (a window's team, or a command changing it),
// until it hangs up. The engine's team works on a project for the client that holds it.
import type * as z from "zod";
import type { claimResult } from "../protocol/engine";
import type { EngineClient } from "./server";

/** Which client changes each project (a run, a review, …), until it hangs up. */
export class ProjectClaims {
  private readonly holders = new Map<string, EngineClient>();

  claim(projectId: string, client: EngineClient): z.infer<typeof claimResult> {
    const holder = this.holders.get(projectId);
    if (holder && holder.id !== client.id) return { granted: false, holderPid: holder.pid };
    this.holders.set(projectId, client);
    return { granted: true, holderPid: client.pid };
  }

  holderOf(projectId: string): EngineClient | undefined {
    return this.holders.get(projectId);
  }

  /** The projects `client` holds. */
  heldBy(client: Pick<EngineClient, "id">): string[] {
    return [...this.holders].flatMap(([projectId, holder]) => (holder.id === client.id ? [projectId] : []));
  }

  /** A client that hung up holds nothing. */
  forget(present: readonly EngineClient[]): void {
    const ids = new Set(present.map((c) => c.id));
    for (const [projectId, holder] of this.holders) if (!ids.has(holder.id)) this.holders.delete(projectId);
  }

  list(): { projectId: string; clientPid: number }[] {
    return [...this.holders].map(([projectId, holder]) => ({ projectId, clientPid: holder.pid }));
  }
}
