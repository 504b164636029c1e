// dist/engine.js --data DIR: the engine of one data folder as a process. Clients (the CLI today)
// start it detached when none answers; it has no terminal, so it logs to <data>/engine/engine.log.
// SIGTERM, SIGINT and SIGHUP stop it cleanly, as `redgreen engine stop` does.
import path from "node:path";
import { engineFiles } from "../adapters/engine/engineFiles";
import { describeError } from "../core/logger";
import { startEngine } from "./engine";
import { FileLog } from "./fileLog";
import packageJson from "../../package.json";

function dataOption(argv: string[]): string {
  const at = argv.indexOf("--data");
  const value = at >= 0 ? argv[at + 1] : undefined;
  if (!value) throw new Error("usage: engine.js --data DIR");
  return value;
}

async function main(argv: string[]): Promise<number> {
  const dataDir = path.resolve(dataOption(argv));
  const log = new FileLog(engineFiles(dataDir).log, Boolean(process.env.REDGREEN_DEBUG));
  // No terminal to print on: what would crash the engine is written to its log first.
  process.on("uncaughtException", (error) => {
    log.error(`engine: uncaught: ${error.stack ?? describeError(error)}`);
    process.exit(1);
  });
  process.on("unhandledRejection", (reason) => log.error(`engine: unhandled rejection: ${describeError(reason)}`));
  try {
    const engine = await startEngine({ dataDir, log, version: packageJson.version });
    if (engine === "running") {
      log.info(`engine: another engine serves ${dataDir} already; pid ${process.pid} exits`);
      return 0;
    }
    for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) process.on(signal, () => void engine.stop());
    await engine.stopped;
    return 0;
  } catch (error) {
    log.error(`engine: could not start: ${describeError(error)}`);
    return 1;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => process.exit(code));
}
