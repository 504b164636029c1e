// "Redgreen: Select Model Files…": pick GGUF files, see what they are (read from their headers,
// without loading them), and choose which models of the registry they become.
import * as vscode from "vscode";
import { describeError, type Logger } from "../../core/logger";
import type { ModelFileSummary } from "../../core/models/gguf";
import { registerRedgreenCommand } from "../../platform/command";
import { Commands } from "../../protocol/commands";

/** The model ids the default registry routes roles to (models/registry.json). */
export const MODEL_SLOTS = {
  reasoning: { label: "Small reasoning model", detail: "PM and Resource Director", profile: "small", embedding: false },
  code: { label: "Code model", detail: "Developer and Tester", profile: "small", embedding: false },
  heavy: { label: "Heavy model", detail: "Architect, and the PM's fallback; loaded on demand, unloaded when idle", profile: "heavy", embedding: false },
  embedding: { label: "Embedding model", detail: "Memory search", profile: "small", embedding: true },
} as const;
export type ModelSlot = keyof typeof MODEL_SLOTS;

export interface SelectedModel {
  path: string;
  summary?: ModelFileSummary;
  error?: string;
  slot?: ModelSlot;
}

export function describeSummary(s: ModelFileSummary): string {
  const params = s.parameters >= 1e9 ? `${(s.parameters / 1e9).toFixed(1)}B` : `${Math.round(s.parameters / 1e6)}M`;
  const context = s.contextLength ? `, ${s.contextLength.toLocaleString("en")} tokens context` : "";
  return `${s.architecture}, ${params} parameters, ${s.quantization}${context}, ${(s.sizeBytes / 2 ** 20).toFixed(0)} MB`;
}

export interface SelectModelFilesDeps {
  log: Logger;
  /** What a GGUF file is, read from its header without loading it (adapters/llm/ggufFile). */
  describeModelFile: (path: string) => Promise<ModelFileSummary>;
  /** Runs after the registry setting was written (the model service reloads it). */
  onAssigned: () => Promise<void>;
}

export function registerSelectModelFiles({ log, describeModelFile, onAssigned }: SelectModelFilesDeps): vscode.Disposable {
  return registerRedgreenCommand(Commands.selectModelFiles, log, {
    title: vscode.l10n.t("Select Model Files"),
    // Arguments let other features (and tests) skip the dialogs.
    run: async (uris?: vscode.Uri[], slot?: ModelSlot): Promise<SelectedModel[]> => {
      const picked =
        uris ??
        (await vscode.window.showOpenDialog({
          canSelectMany: true,
          openLabel: vscode.l10n.t("Select"),
          title: vscode.l10n.t("Select GGUF model files"),
          filters: { [vscode.l10n.t("GGUF models")]: ["gguf"] },
        }));
      const results: SelectedModel[] = [];
      for (const uri of picked ?? []) {
        const result: SelectedModel = { path: uri.fsPath };
        results.push(result);
        try {
          result.summary = await describeModelFile(uri.fsPath);
        } catch (error) {
          result.error = describeError(error);
          log.warn(result.error);
          void vscode.window.showErrorMessage(result.error);
          continue;
        }
        log.info(`Model file ${uri.fsPath}: ${describeSummary(result.summary)}`);
        const chosen = slot ?? (await pickSlot(uri, result.summary));
        if (!chosen) continue;
        result.slot = chosen;
        await assign(uri.fsPath, result.summary, chosen);
        await onAssigned();
        void vscode.window.showInformationMessage(
          vscode.l10n.t("{0} is now the {1} ({2}).", uri.fsPath, MODEL_SLOTS[chosen].label.toLowerCase(), describeSummary(result.summary)),
        );
      }
      return results;
    },
  });
}

async function pickSlot(uri: vscode.Uri, summary: ModelFileSummary): Promise<ModelSlot | undefined> {
  const isEmbedding = /bert|embed/i.test(summary.architecture);
  const items = (Object.keys(MODEL_SLOTS) as ModelSlot[])
    .map((slot) => ({ slot, label: MODEL_SLOTS[slot].label, detail: MODEL_SLOTS[slot].detail }))
    .sort((a, b) => Number(b.slot === "embedding" && isEmbedding) - Number(a.slot === "embedding" && isEmbedding));
  const choice = await vscode.window.showQuickPick(items, {
    title: vscode.l10n.t("Use {0} as…", uri.path.split("/").pop() ?? uri.fsPath),
    placeHolder: describeSummary(summary),
  });
  return choice?.slot;
}

/** Writes the model into the user's registry setting, replacing the model with the same id. */
async function assign(path: string, summary: ModelFileSummary, slot: ModelSlot): Promise<void> {
  const config = vscode.workspace.getConfiguration("redgreen");
  // The user's own value only: the merged one would copy the workspace's models into user settings.
  const current = config.inspect<{ models?: { id: string }[] }>("models.registry")?.globalValue ?? {};
  const models = (current.models ?? []).filter((m) => m.id !== slot);
  const { profile, embedding } = MODEL_SLOTS[slot];
  models.push({
    id: slot,
    backend: "local",
    path,
    // Large windows cost memory; 8k is plenty for one agent step and can be raised in the registry.
    contextSize: Math.min(summary.contextLength ?? 4096, 8192),
    profile,
    embedding,
  } as { id: string });
  await config.update("models.registry", { ...current, models }, vscode.ConfigurationTarget.Global);
}
