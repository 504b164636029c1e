// The optional OpenAI-compatible endpoint of the model host, on loopback, with a bearer token kept
// in VS Code's SecretStorage. It follows the host: started when the host is (re)started, if enabled.
// The token is replaced each time the user turns serving on and by Rotate Model Server Token, so a
// token that leaked (a shell history, a tool's config) stops working without a new install.
import { randomBytes } from "node:crypto";
import * as vscode from "vscode";
import { describeError, type Logger } from "../../core/logger";
import type { Settings } from "../../platform/settings";
import { registerRedgreenCommand } from "../../platform/command";
import { Commands } from "../../protocol/commands";
import type { ModelService } from "./modelService";

const TOKEN_KEY = "redgreen.models.serve.token";

export function registerModelServer(models: ModelService, settings: Settings, secrets: vscode.SecretStorage, log: Logger): vscode.Disposable {
  const server = new ModelServer(models, settings, secrets, log);
  let wasEnabled = settings.get("models.serve.enabled");
  const subscriptions = [
    settings.onDidChange("models.serve.enabled", () => {
      const enabled = settings.get("models.serve.enabled");
      // Turned on (not merely rewritten with the same value): a new token for a new session.
      const turnedOn = enabled && !wasEnabled;
      wasEnabled = enabled;
      void server.restart({ rotate: turnedOn });
    }),
    settings.onDidChange("models.serve.port", () => void server.restart({ rotate: false })),
    // A host restarted after a crash has lost its server: start it again.
    models.host.onDidChangeState((state) => server.hostState(state)),
    registerRedgreenCommand(Commands.copyModelServerAccess, log, { title: vscode.l10n.t("Copy Model Server Access"), run: () => server.copyAccess() }),
    registerRedgreenCommand(Commands.rotateModelServerToken, log, { title: vscode.l10n.t("Rotate Model Server Token"), run: () => server.rotateToken() }),
  ];
  if (settings.get("models.serve.enabled")) void server.restart({ rotate: false });
  return vscode.Disposable.from(...subscriptions);
}

class ModelServer {
  private port: number | undefined;
  private restarting = false;
  /** One change at a time: a rotation must not interleave with a restart for a new port. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly models: ModelService,
    private readonly settings: Settings,
    private readonly secrets: vscode.SecretStorage,
    private readonly log: Logger,
  ) {}

  /** Starts, restarts or stops serving as the settings say; never rejects (failures are shown). */
  restart(options: { rotate: boolean }): Promise<void> {
    return this.serialized(async () => {
      try {
        if (options.rotate) await this.newToken();
      } catch (error) {
        // Never serve on a token that should have been replaced.
        this.port = undefined;
        this.fail(vscode.l10n.t("Could not replace the model server's token, so the models are not served: {0}", describeError(error)));
        return;
      }
      await this.apply();
    });
  }

  hostState(state: string): void {
    if (state === "crashed") this.restarting = true;
    if (state === "ready" && this.restarting) {
      this.restarting = false;
      if (this.settings.get("models.serve.enabled")) void this.restart({ rotate: false });
    }
  }

  async copyAccess(): Promise<{ baseUrl: string; token: string } | undefined> {
    if (!this.settings.get("models.serve.enabled")) {
      void vscode.window.showInformationMessage(vscode.l10n.t('Turn on "redgreen.models.serve.enabled" to serve the models.'));
      return undefined;
    }
    return this.serialized(async () => {
      if (this.port === undefined) await this.apply();
      if (this.port === undefined) return undefined;
      const access = { baseUrl: `http://127.0.0.1:${this.port}/v1`, token: await this.token() };
      await vscode.env.clipboard.writeText(`OPENAI_BASE_URL=${access.baseUrl}\nOPENAI_API_KEY=${access.token}\n`);
      void vscode.window.showInformationMessage(vscode.l10n.t("Copied the model server's address and token."));
      return access;
    });
  }

  /** Replaces the token; a running server is restarted with it, which cuts off the old one's clients. */
  rotateToken(): Promise<{ serving: boolean }> {
    return this.serialized(async () => {
      await this.newToken();
      if (!this.settings.get("models.serve.enabled")) {
        void vscode.window.showInformationMessage(vscode.l10n.t("The model server has a new token for when serving is turned on."));
        return { serving: false };
      }
      await this.apply();
      if (this.port !== undefined) {
        void vscode.window.showInformationMessage(
          vscode.l10n.t('The model server has a new token; the old one no longer works. "Copy Model Server Address and Token" gives your tools the new one.'),
        );
      }
      return { serving: this.port !== undefined };
    });
  }

  private serialized<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async token(): Promise<string> {
    return (await this.secrets.get(TOKEN_KEY)) ?? (await this.storeNewToken());
  }

  private async newToken(): Promise<void> {
    await this.storeNewToken();
    this.log.info("The model server's token was replaced: the previous one no longer works");
  }

  private async storeNewToken(): Promise<string> {
    const value = randomBytes(24).toString("base64url");
    await this.secrets.store(TOKEN_KEY, value);
    return value;
  }

  private async apply(): Promise<void> {
    this.port = undefined;
    if (this.settings.get("models.serve.enabled")) await this.start();
    else if (this.models.host.state === "ready") await this.stop();
  }

  private async start(): Promise<void> {
    try {
      this.port = await this.models.backend.serve(this.settings.get("models.serve.port"), await this.token());
      this.log.info(`Models are served as an OpenAI-compatible API on http://127.0.0.1:${this.port}/v1`);
    } catch (error) {
      // The host's message names the address and the reason (the port is in use, ...).
      this.fail(vscode.l10n.t("Could not serve the models: {0}", describeError(error)));
    }
  }

  private async stop(): Promise<void> {
    try {
      await this.models.backend.stopServing();
    } catch (error) {
      this.fail(vscode.l10n.t("Could not stop serving the models: {0}", describeError(error)));
    }
  }

  private fail(message: string): void {
    this.log.error(message);
    void vscode.window.showErrorMessage(message);
  }
}
