import type { Disposable } from "../lifecycle";
import type { ChatRequest, ChatResult } from "./types";

/** How a model is loaded; the registry's entries map onto this. */
export interface ModelLoadSpec {
  id: string;
  /** A GGUF file for the local host; the base URL for an OpenAI-compatible server. */
  path: string;
  /** The model name a server expects (OpenAI-compatible backends). */
  remoteModel?: string;
  /** Environment variable holding the server's API key, if it needs one. */
  apiKeyEnv?: string;
  contextSize: number;
  threads: number;
  gpuLayers: number | "auto";
  /** Concurrent calls the model serves (its pool of sequences). */
  poolSize: number;
  embedding: boolean;
}

export interface ChatCallOptions {
  onToken?: (text: string) => void;
  signal?: AbortSignal;
}

/** Where models run: the local model host process, or an OpenAI-compatible server. */
export interface ModelBackend {
  load(spec: ModelLoadSpec): Promise<{ loadMs: number }>;
  unload(id: string): Promise<void>;
  chat(id: string, request: ChatRequest, options?: ChatCallOptions): Promise<ChatResult>;
  embed(id: string, texts: string[]): Promise<number[][]>;
  countTokens(id: string, text: string): Promise<number>;
  /** Fires when the backend lost every loaded model (the host process died and restarted). */
  onDidReset(listener: () => void): Disposable;
}
