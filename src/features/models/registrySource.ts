// Where the model registry comes from: Redgreen's default routing (models/registry.json), the
// user's `redgreen.models.registry` setting, then the workspace's (its setting, then its
// `.redgreen/models.json`), screened by core/models/workspaceModels.ts: a cloned repository may not
// send the spec off this machine, spend an API key or replace the user's models without asking.
// Each layer is validated on its own, so one bad file is reported by name and the others still work.
import os from "node:os";
import path from "node:path";
import * as vscode from "vscode";
import type { Logger } from "../../core/logger";
import { describeError } from "../../core/logger";
import { parseRegistry, type Registry, type RegistryInput } from "../../core/models/registry";
import { consentKey, describeDrop, layeredRegistry, type DroppedModel, type WorkspaceLayer } from "../../core/models/workspaceModels";
import type { Settings } from "../../platform/settings";

export const WORKSPACE_REGISTRY = ".redgreen/models.json";
const CONSENTS = "redgreen.modelConsent";

export class RegistrySource implements vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<void>();
  /** One of the layers changed; call load() for the new registry. */
  readonly onDidChange = this.emitter.event;
  private readonly subscriptions: vscode.Disposable[] = [];
  private readonly reported = new Set<string>();

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly settings: Settings,
    private readonly log: Logger,
    /** Where the answers to "Allow this workspace to send … to <url>?" are kept. */
    private readonly workspaceState: vscode.Memento,
  ) {
    const reload = () => this.emitter.fire();
    this.subscriptions.push(settings.onDidChange("models.registry", reload));
    const watcher = vscode.workspace.createFileSystemWatcher(`**/${WORKSPACE_REGISTRY}`);
    this.subscriptions.push(watcher, watcher.onDidChange(reload), watcher.onDidCreate(reload), watcher.onDidDelete(reload));
    this.subscriptions.push(vscode.workspace.onDidGrantWorkspaceTrust(reload));
  }

  async load(): Promise<Registry> {
    const defaults = await this.readLayer(vscode.Uri.joinPath(this.extensionUri, "models", "registry.json"), "Redgreen's default registry");
    const { user, workspace } = this.settings.inspect("models.registry");
    const userLayer = user ? this.layer(user, 'your user setting "redgreen.models.registry"', os.homedir()) : {};
    const consented = (key: string) => this.consents()[key] === true;
    const { registry, dropped } = layeredRegistry({ defaults, user: userLayer, workspace: await this.workspaceLayers(workspace) }, consented);
    for (const drop of dropped) this.tell(drop);
    return parseRegistry(registry, "the merged registry");
  }

  /**
   * The repository's own layers: its settings and its registry file. An untrusted repository's
   * wait for trust (VS Code also ignores its settings then: restrictedConfigurations).
   */
  private async workspaceLayers(settings: Record<string, unknown>[]): Promise<WorkspaceLayer[]> {
    const folder = vscode.workspace.isTrusted ? vscode.workspace.workspaceFolders?.[0] : undefined;
    if (!folder) return [];
    const source = 'the workspace setting "redgreen.models.registry"';
    const layers = settings.map((raw) => ({ source, registry: this.layer(raw, source, os.homedir()) }));
    const file = vscode.Uri.joinPath(folder.uri, WORKSPACE_REGISTRY);
    layers.push({ source: WORKSPACE_REGISTRY, registry: await this.readLayer(file, WORKSPACE_REGISTRY) });
    return layers;
  }

  /** Says once what was left out; a server the user could allow is offered in a modal, once. */
  private tell(drop: DroppedModel): void {
    const problem = describeDrop(drop);
    if (this.reported.has(problem)) return;
    this.reported.add(problem);
    this.log.warn(problem);
    if (drop.reason !== "userModel" && drop.url && this.consents()[consentKey({ url: drop.url, apiKeyEnv: drop.apiKeyEnv })] === undefined) {
      void this.offerConsent(drop, drop.url);
    } else {
      void vscode.window.showWarningMessage(problem);
    }
  }

  private async offerConsent(drop: DroppedModel, url: string): Promise<void> {
    const allow = vscode.l10n.t("Allow");
    const question = drop.apiKeyEnv
      ? vscode.l10n.t("Allow this workspace to send the spec, the chat and the value of the environment variable {0} to {1}?", drop.apiKeyEnv, url)
      : vscode.l10n.t("Allow this workspace to send the spec and the chat to {0}?", url);
    const detail = vscode.l10n.t("{0} defines the model \"{1}\" on that server. Redgreen sends nothing there unless you allow it; you can also define the model in your user settings.", drop.source, drop.id);
    const choice = await vscode.window.showWarningMessage(question, { modal: true, detail }, allow);
    // Any answer is kept, a dismissed dialog as a no: the question is offered once per workspace.
    const key = consentKey({ url, apiKeyEnv: drop.apiKeyEnv });
    await this.workspaceState.update(CONSENTS, { ...this.consents(), [key]: choice === allow });
    if (choice === allow) this.emitter.fire();
  }

  /** The user's answers in this workspace, by consentKey(). */
  private consents(): Record<string, boolean> {
    return this.workspaceState.get<Record<string, boolean>>(CONSENTS) ?? {};
  }

  private async readLayer(uri: vscode.Uri, source: string): Promise<RegistryInput> {
    let text: string;
    try {
      text = new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
    } catch {
      return {}; // no such file: nothing to add
    }
    try {
      return this.layer(JSON.parse(text), source, path.dirname(uri.fsPath));
    } catch (error) {
      this.report(`The model registry in ${source} is not valid JSON: ${describeError(error)}`);
      return {};
    }
  }

  /** Validates one layer and makes its local paths absolute (relative to `base`, `~` to home). */
  private layer(raw: unknown, source: string, base: string): RegistryInput {
    try {
      const registry = parseRegistry(raw, source);
      this.reported.delete(source);
      return {
        roles: registry.roles,
        models: registry.models.map((model) =>
          model.backend === "local"
            ? { ...model, path: path.resolve(base, model.path.replace(/^~(?=$|[/\\])/, os.homedir())) }
            : model,
        ),
      };
    } catch (error) {
      this.report(describeError(error));
      return {};
    }
  }

  private report(problem: string): void {
    if (this.reported.has(problem)) return;
    this.reported.add(problem);
    this.log.error(problem);
    void vscode.window.showErrorMessage(problem);
  }

  dispose(): void {
    this.emitter.dispose();
    for (const subscription of this.subscriptions) subscription.dispose();
  }
}
