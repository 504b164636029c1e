// The store of a data folder, for the processes that open it (the engine, and the CLI with
// --in-process): MongoDB when its settings.json sets a URI, the password from the environment and
// never from a file, else the embedded store in `<data>/store`.
import type { Logger } from "../../core/logger";
import type { Store } from "../../core/store/port";
import { openStore } from "../store/openStore";
import { dataFiles } from "./dataDir";
import type { DataFolderSettings } from "./settings";

export const MONGO_PASSWORD_ENV = "REDGREEN_MONGODB_PASSWORD";

/** `sweepIntervalMs`: how often expired documents go (0: never here; a short-lived process leaves it to the next). */
export function openDataFolderStore(dataDir: string, settings: DataFolderSettings, log: Logger, sweepIntervalMs?: number): Promise<Store> {
  return openStore({
    mongodbUri: settings.get("store.mongodbUri"),
    password: process.env[MONGO_PASSWORD_ENV],
    embeddedFolder: dataFiles(dataDir).store,
    sweepIntervalMs,
    onProblem: (message) => log.warn(`store: ${message}`),
  });
}
