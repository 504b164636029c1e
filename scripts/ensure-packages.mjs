// First step of `npm test`: the Debian packages the tests need (see ensure-code-server.mjs),
// installed with apt-get when running as root, else the apt-get line to run.
import { ensureDebianPackages } from "./ensure-code-server.mjs";
import { fail } from "./lib.mjs";

try {
  ensureDebianPackages();
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}
