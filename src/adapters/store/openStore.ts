// Opens the store the settings choose, for every face: the editor's StoreService and the command
// line both call this, so that they cannot drift apart. MongoDB when a URI is set, else the
// embedded store in a folder. Opening a store needs no editor: the faces only say where the
// settings, the password and the problems come from and go to.
import path from "node:path";
import type { Store } from "../../core/store/port";
import { openEmbeddedStore } from "./embedded/embeddedStore";
import type * as MongoAdapter from "./mongo/mongoStore";

export interface OpenStoreOptions {
  /** `store.mongodbUri`: MongoDB when set (non-empty), the embedded store otherwise. */
  mongodbUri?: string;
  /** The MongoDB password, kept out of the URI (SecretStorage in the editor, the environment in the CLI). */
  password?: string;
  /** Where the embedded store keeps its files; only needed when no URI is set. */
  embeddedFolder?: string;
  /** Problems the embedded store found while opening (corrupted files moved aside, torn tails). */
  onProblem?: (message: string) => void;
  /** How often the embedded store removes expired documents; 0 disables the timer (a short-lived CLI). */
  sweepIntervalMs?: number;
}

export async function openStore(options: OpenStoreOptions): Promise<Store> {
  const { mongodbUri, password, embeddedFolder, onProblem, sweepIntervalMs } = options;
  if (mongodbUri) return loadMongoAdapter().openMongoStore(mongodbUri, { password });
  // A face without a folder has to say so itself (the editor asks for a folder to be opened).
  if (!embeddedFolder) throw new Error("The embedded store needs a folder");
  return openEmbeddedStore(embeddedFolder, { onProblem, sweepIntervalMs });
}

/**
 * The MongoDB driver is most of the bundle's code, so it is its own bundle (dist/mongoStore.js,
 * next to dist/extension.js and dist/cli.js, which include this file), loaded only when a URI is
 * configured.
 */
function loadMongoAdapter(): typeof MongoAdapter {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(path.join(__dirname, "mongoStore.js")) as typeof MongoAdapter;
}
