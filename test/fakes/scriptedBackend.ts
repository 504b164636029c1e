// A ModelBackend that returns prepared replies: for testing the ModelManager's orchestration
// (routing, retries, escalation, locks, eviction). Real inference is tested in test/inference.
import { Emitter, type Disposable } from "../../src/core/lifecycle";
import type { ChatCallOptions, ModelBackend, ModelLoadSpec } from "../../src/core/models/ports";
import type { ChatRequest, ChatResult } from "../../src/core/models/types";

export type ScriptedReply = string | Error | ((request: ChatRequest) => string);

export class ScriptedBackend implements ModelBackend {
  readonly loads: string[] = [];
  readonly unloads: string[] = [];
  readonly calls: { model: string; request: ChatRequest }[] = [];
  active = 0;
  maxActive = 0;
  /** Each call waits for this before answering (lets tests hold calls open). */
  gate: Promise<void> = Promise.resolve();
  private readonly resets = new Emitter<void>();

  /** A reply is a string, an error to throw, or a function of the request (a script that reads its prompt). */
  constructor(private readonly replies: Record<string, ScriptedReply[]>) {}

  /** Replaces what `id` answers from now on. */
  script(id: string, replies: ScriptedReply[]): void {
    this.replies[id] = replies;
  }

  load(spec: ModelLoadSpec): Promise<{ loadMs: number }> {
    this.loads.push(spec.id);
    return Promise.resolve({ loadMs: 1 });
  }

  unload(id: string): Promise<void> {
    this.unloads.push(id);
    return Promise.resolve();
  }

  async chat(id: string, request: ChatRequest, options: ChatCallOptions = {}): Promise<ChatResult> {
    this.calls.push({ model: id, request });
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    try {
      await this.gate;
      const next = this.replies[id]?.shift();
      if (next === undefined) throw new Error(`no scripted reply left for ${id}`);
      const reply = typeof next === "function" ? next(request) : next;
      if (reply instanceof Error) throw reply;
      if (options.signal?.aborted) return { text: "", promptTokens: 5, completionTokens: 0, totalMs: 1, stopReason: "cancelled" };
      options.onToken?.(reply);
      return { text: reply, promptTokens: 5, completionTokens: 3, firstTokenMs: 1, totalMs: 2, stopReason: "eos" };
    } finally {
      this.active--;
    }
  }

  embed(_id: string, texts: string[]): Promise<number[][]> {
    return Promise.resolve(texts.map((t) => [t.length]));
  }

  countTokens(_id: string, text: string): Promise<number> {
    return Promise.resolve(text.split(/\s+/).length);
  }

  onDidReset(listener: () => void): Disposable {
    return this.resets.event(listener);
  }

  reset(): void {
    this.resets.fire();
  }
}

/** A clock whose time moves only when the test says so. */
export class FakeClock {
  time = 0;
  private timers: { at: number; callback: () => void; cancelled: boolean }[] = [];
  now = () => this.time;
  setTimeout = (callback: () => void, ms: number) => {
    const timer = { at: this.time + ms, callback, cancelled: false };
    this.timers.push(timer);
    return { cancel: () => (timer.cancelled = true) };
  };
  advance(ms: number): void {
    this.time += ms;
    const due = this.timers.filter((t) => !t.cancelled && t.at <= this.time);
    this.timers = this.timers.filter((t) => !due.includes(t));
    for (const timer of due) timer.callback();
  }
}
