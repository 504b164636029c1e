// The optional OpenAI-compatible endpoint of the model host, on loopback, with a bearer token kept
// in VS Code's SecretStorage. It follows the host: started when the host is (re)started, if enabled.
import { randomBytes } from "node:crypto";
import * as vscode from "vscode";
import { describeError, type Logger } from "../../core/logger";
import type { Settings } from "../../platform/settings";
import { Commands } from "../commands";
import type { ModelService } from "./modelService";

const TOKEN_KEY = "redgreen.models.serve.token";

export function registerModelServer(models: ModelService, settings: Settings, secrets: vscode.SecretStorage, log: Logger): vscode.Disposable {
  let port: number | undefined;
  let restarting = false;

  const token = async () => {
    let value = await secrets.get(TOKEN_KEY);
    if (!value) {
      value = randomBytes(24).toString("base64url");
      await secrets.store(TOKEN_KEY, value);
    }
    return value;
  };

  const apply = async () => {
    port = undefined;
    if (!settings.get("models.serve.enabled")) {
      if (models.host.state === "ready") await models.backend.stopServing();
      return;
    }
    try {
      port = await models.backend.serve(settings.get("models.serve.port"), await token());
      log.info(`Models are served as an OpenAI-compatible API on http://127.0.0.1:${port}/v1`);
    } catch (error) {
      const message = `Could not serve the models on port ${settings.get("models.serve.port")}: ${describeError(error)}`;
      log.error(message);
      void vscode.window.showErrorMessage(message);
    }
  };

  const subscriptions = [
    settings.onDidChange("models.serve.enabled", () => void apply()),
    settings.onDidChange("models.serve.port", () => void apply()),
    // A host restarted after a crash has lost its server: start it again.
    models.host.onDidChangeState((state) => {
      if (state === "crashed") restarting = true;
      if (state === "ready" && restarting) {
        restarting = false;
        if (settings.get("models.serve.enabled")) void apply();
      }
    }),
    vscode.commands.registerCommand(Commands.copyModelServerAccess, async (): Promise<{ baseUrl: string; token: string } | undefined> => {
      if (!settings.get("models.serve.enabled")) {
        void vscode.window.showInformationMessage(vscode.l10n.t('Turn on "redgreen.models.serve.enabled" to serve the models.'));
        return undefined;
      }
      if (port === undefined) await apply();
      if (port === undefined) return undefined;
      const access = { baseUrl: `http://127.0.0.1:${port}/v1`, token: await token() };
      await vscode.env.clipboard.writeText(`OPENAI_BASE_URL=${access.baseUrl}\nOPENAI_API_KEY=${access.token}\n`);
      void vscode.window.showInformationMessage(vscode.l10n.t("Copied the model server's address and token."));
      return access;
    }),
  ];
  if (settings.get("models.serve.enabled")) void apply();
  return vscode.Disposable.from(...subscriptions);
}
