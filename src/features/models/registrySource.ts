// Where the model registry comes from: Redgreen's default routing (models/registry.json), the
// user's `redgreen.models.registry` setting, then the workspace's `.redgreen/models.json`. Each
// layer is validated on its own, so one bad file is reported by name and the others still work.
import os from "node:os";
import path from "node:path";
import * as vscode from "vscode";
import type { Logger } from "../../core/logger";
import { describeError } from "../../core/logger";
import { mergeRegistries, parseRegistry, type Registry, type RegistryInput } from "../../core/models/registry";
import type { Settings } from "../../platform/settings";

export const WORKSPACE_REGISTRY = ".redgreen/models.json";

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
  ) {
    const reload = () => this.emitter.fire();
    this.subscriptions.push(settings.onDidChange("models.registry", reload));
    const watcher = vscode.workspace.createFileSystemWatcher(`**/${WORKSPACE_REGISTRY}`);
    this.subscriptions.push(watcher, watcher.onDidChange(reload), watcher.onDidCreate(reload), watcher.onDidDelete(reload));
    this.subscriptions.push(vscode.workspace.onDidGrantWorkspaceTrust(reload));
  }

  async load(): Promise<Registry> {
    const layers: RegistryInput[] = [];
    const defaults = vscode.Uri.joinPath(this.extensionUri, "models", "registry.json");
    layers.push(await this.readLayer(defaults, "Redgreen's default registry"));
    layers.push(this.layer(this.settings.get("models.registry"), 'the setting "redgreen.models.registry"', os.homedir()));
    // An untrusted repository could point a role at a server of its choosing: its registry waits for trust.
    const folder = vscode.workspace.isTrusted ? vscode.workspace.workspaceFolders?.[0] : undefined;
    if (folder) layers.push(await this.readLayer(vscode.Uri.joinPath(folder.uri, WORKSPACE_REGISTRY), WORKSPACE_REGISTRY));
    return parseRegistry(mergeRegistries(...layers), "the merged registry");
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
