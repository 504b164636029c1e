// Where Redgreen keeps a user's data outside the editor (the embedded store, the trust list, the
// user's model registry and settings, the engine's socket and token): `--data DIR`, else
// $REDGREEN_DATA, else the operating system's place for user data. The CLI and the engine share it.
import os from "node:os";
import path from "node:path";

export const DATA_ENV = "REDGREEN_DATA";

/** A file in the data folder that cannot be read or is malformed: the message says which and what to do. */
export class DataFolderError extends Error {}

/** The OS user data location: XDG on Linux and the BSDs, Application Support on macOS, %APPDATA% on Windows. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform, home = os.homedir()): string {
  if (platform === "win32") return path.win32.join(env.APPDATA || path.win32.join(home, "AppData", "Roaming"), "redgreen");
  if (platform === "darwin") return path.posix.join(home, "Library", "Application Support", "redgreen");
  const xdg = env.XDG_DATA_HOME && path.isAbsolute(env.XDG_DATA_HOME) ? env.XDG_DATA_HOME : path.join(home, ".local", "share");
  return path.join(xdg, "redgreen");
}

/** The data folder for this run, absolute. */
export function resolveDataDir(option: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const chosen = option || env[DATA_ENV];
  return path.resolve(chosen || defaultDataDir(env));
}

/** The files inside the data folder. */
export function dataFiles(dir: string) {
  return {
    store: path.join(dir, "store"),
    trust: path.join(dir, "trust.json"),
    models: path.join(dir, "models.json"),
    settings: path.join(dir, "settings.json"),
  };
}
