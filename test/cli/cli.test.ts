import * as assert from "node:assert/strict";
import { existsSync, promises as fs, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { simpleGitPort } from "../../src/adapters/git/simpleGit";
import { openEmbeddedStore } from "../../src/adapters/store/embedded/embeddedStore";
import { GitOps } from "../../src/core/gitops/gitOps";
import { MemoryManager } from "../../src/core/memory/memoryManager";
import {
  boardOutput, engineStatusOutput, engineStopOutput, initOutput, logsOutput, modelsListOutput, projectsOutput, requestChangesOutput, reviewApproveOutput,
  reviewDiffOutput, reviewListOutput, specApproveOutput, specDiffOutput, statusOutput, trustOutput,
} from "../../src/cli/schemas";
import { noModels, silent } from "../fixtures/kit";
import { cliIn, cliOnTty, commitOn, gitIn, oneLineError, parsed, snapshotCli, type Run } from "./harness";

// The `redgreen` command line, run as a user runs it: the built dist/cli.js in a child process,
// a data folder of its own, real git repositories. Each test starts from a fresh data folder.
describe("redgreen CLI", function () {
  this.timeout(60_000);
  const root = path.join(os.tmpdir(), `redgreen-cli-${process.pid}`);
  let n = 0;
  let cli: string;
  let home: string;
  let data: string;
  let run: (args: string[], options?: { cwd?: string; env?: NodeJS.ProcessEnv }) => Run;
  const rg = (...args: string[]) => run(["--data", data, ...args]);

  before(async () => {
    cli = await snapshotCli(root);
  });
  beforeEach(async () => {
    home = path.join(root, `t${++n}`);
    data = path.join(home, "data");
    await fs.mkdir(home, { recursive: true });
    run = cliIn(cli, home);
  });
  // The engine a test's commands started goes with the test (its store closed, its process gone).
  afterEach(() => {
    // Cleanup only: a test that broke the data folder on purpose started no engine.
    rg("engine", "stop");
  });
  after(() => fs.rm(root, { recursive: true, force: true }));

  /** A trusted, initialised project in `home/<name>`, its spec approved. */
  function project(name: string, extra: string[] = []): string {
    const folder = path.join(home, name);
    const trusted = rg("trust", folder);
    assert.equal(trusted.code, 0, trusted.stderr);
    parsed(initOutput, rg("init", folder, "--test-command", "npm test", "--priority", "high", "--json", ...extra));
    return folder;
  }

  it("answers --help for every command and subcommand with exit code 0", () => {
    const seen: string[] = [];
    const visit = (command: string[]) => {
      const help = rg(...command, "--help");
      assert.equal(help.code, 0, `${command.join(" ")} --help: ${help.stderr}`);
      assert.match(help.stdout, /^Usage: redgreen/m);
      seen.push(command.join(" "));
      const commands = help.stdout.split(/^Commands:$/m)[1] ?? "";
      for (const [, sub] of commands.matchAll(/^ {2}([a-z-]+)/gm)) if (sub !== "help") visit([...command, sub!]);
    };
    visit([]);
    for (const expected of ["trust", "init", "projects", "status", "priority", "board", "spec approve", "spec diff", "review list", "review diff", "review approve", "review request-changes", "models list", "logs"]) {
      assert.ok(seen.includes(expected), `${expected} has its help (seen: ${seen.join(", ")})`);
    }
  });

  it("creates a project with init, then lists it (projects --json), shows its status and its board", async () => {
    const folder = project("shop", ["--name", "Shop"]);
    assert.ok(existsSync(path.join(folder, ".git")), "git was initialised");
    assert.match(await fs.readFile(path.join(folder, "SPEC.md"), "utf8"), /^# Shop: specification/);

    const { projects } = parsed(projectsOutput, rg("projects", "--json"));
    assert.deepEqual(projects.map((p) => [p.name, p.root, p.priority, p.state, p.testCommand, p.remote]), [["Shop", folder, "high", "drafting", "npm test", null]]);

    // Default project: the one around the current folder.
    const status = parsed(statusOutput, run(["--data", data, "status", "--json"], { cwd: path.join(folder, ".git") }));
    assert.equal(status.project.id, projects[0]!.id);
    assert.deepEqual(status.spec, { approvedVersion: null, approvedAt: null, changedSinceApproval: null });
    assert.deepEqual(status.tickets, { backlog: [], todo: [], inprogress: [], review: [], done: [] });

    const board = rg("board", "Shop");
    assert.equal(board.code, 0, board.stderr);
    assert.match(board.stdout, /^Shop: board\n\nBacklog \(0\)\n {2}\(none\)\n\nTo do \(0\)/);
    assert.deepEqual(parsed(boardOutput, rg("board", "shop", "--json")).columns.map((c) => c.name), ["Backlog", "To do", "In progress", "Review", "Done"]);
  });

  it("sets a project's priority (priority <project> <tier>), and refuses a tier that is none, in one line", () => {
    project("shop", ["--name", "Shop"]);
    const set = rg("priority", "Shop", "critical");
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /^Shop: priority critical\. Its pairs take or yield slots at their next step\./);
    assert.deepEqual(parsed(projectsOutput, rg("projects", "--json")).projects.map((p) => [p.name, p.priority]), [["Shop", "critical"]]);
    assert.deepEqual(parsed(projectsOutput, rg("priority", "shop", "low", "--json")).projects.map((p) => p.priority), ["low"]);
    assert.match(oneLineError(rg("priority", "Shop", "urgent")), /"urgent" is not a priority: use critical, high, medium or low/);
    // No ready work: the Director gives it no share, and status says so.
    assert.equal(parsed(statusOutput, rg("status", "Shop", "--json")).resources, null);
    assert.match(rg("status", "Shop").stdout, /machine: no share now/);
  });

  it("shares one engine between its commands: the first starts it, later ones reach the same process and store", () => {
    assert.deepEqual(parsed(engineStatusOutput, rg("engine", "status", "--json")), { dataFolder: data, running: false, engine: null }, "status starts no engine");
    project("shop", ["--name", "Shop"]);
    const first = parsed(engineStatusOutput, rg("engine", "status", "--json")).engine;
    assert.ok(first && first.pid !== process.pid);
    assert.equal(first.store.location, path.join(data, "store"));
    assert.deepEqual(parsed(projectsOutput, rg("projects", "--json")).projects.map((p) => p.name), ["Shop"]);
    assert.equal(parsed(engineStatusOutput, rg("engine", "status", "--json")).engine?.pid, first.pid, "the same engine served every command");
    assert.ok(statSync(path.join(data, "engine", "token")).mode % 0o1000 === 0o600 && statSync(path.join(data, "engine")).mode % 0o1000 === 0o700);
    // --in-process opens the store itself: refused while the engine holds it, served once it stopped.
    assert.match(oneLineError(rg("--in-process", "projects")), /the store in .* is in use by another process/);
    assert.deepEqual(parsed(engineStopOutput, rg("engine", "stop", "--json")), { dataFolder: data, stopped: true, pid: first.pid });
    assert.deepEqual(parsed(projectsOutput, rg("--in-process", "projects", "--json")).projects.map((p) => p.name), ["Shop"]);
    assert.equal(parsed(engineStatusOutput, rg("engine", "status", "--json")).running, false, "--in-process starts no engine");
  });

  it("refuses init with the editor's New Project errors", () => {
    const folder = project("shop");
    for (const other of ["other", "third"]) assert.equal(rg("trust", path.join(home, other)).code, 0);
    assert.match(oneLineError(rg("init", path.join(home, "other"), "--name", "shop", "--test-command", "x")), /A project named "shop" already exists/);
    assert.match(oneLineError(rg("init", folder, "--name", "again", "--test-command", "x")), /is already the project "shop"/);
    assert.match(oneLineError(rg("init", path.join(home, "third"))), /the test command is empty/);
    assert.match(oneLineError(rg("init", path.join(home, "third"), "--priority", "urgent", "--test-command", "x")), /'urgent' is invalid. Allowed choices are critical, high, medium, low/);
    assert.equal(existsSync(path.join(home, "third", "SPEC.md")), false, "a refused init leaves nothing");
  });

  it("refuses git in an untrusted folder, says how to trust it, and keeps the answer in a private file", () => {
    const folder = path.join(home, "untrusted");
    const refusal = oneLineError(rg("init", folder, "--test-command", "npm test"));
    assert.equal(refusal, `error: ${folder} is not trusted: Redgreen runs no git command or test there. To create a project there, trust it first: redgreen trust ${folder}`);
    assert.equal(existsSync(folder), false, "nothing was created");

    assert.equal(rg("trust", folder).code, 0);
    assert.equal(statSync(path.join(data, "trust.json")).mode & 0o777, 0o600);
    assert.deepEqual(parsed(trustOutput, rg("trust", "--list", "--json")).folders, [{ folder, trusted: true }]);
    assert.equal(rg("init", folder, "--test-command", "npm test").code, 0);

    assert.equal(rg("trust", "--revoke", folder).code, 0);
    assert.match(oneLineError(rg("spec", "approve", folder)), /is not trusted: .*redgreen trust /);
  });

  it("rejects a trust list that is not valid, in one line", async () => {
    await fs.mkdir(data, { recursive: true });
    await fs.writeFile(path.join(data, "trust.json"), JSON.stringify({ "redgreen.folderTrust": { "/x": "yes" } }));
    assert.match(oneLineError(rg("projects")), /trust list .* is not a map of folders/);
  });

  it("names the known projects when the project is unknown, and refuses bad input in one line", () => {
    project("shop");
    project("blog");
    assert.match(oneLineError(rg("status", "nope")), /^error: No project "nope": known projects: (shop|blog) \(.*\), (shop|blog) \(/);
    assert.match(oneLineError(rg("board")), /is not inside a project: name one; known projects:/);
    assert.match(oneLineError(rg("status", "--bogus")), /unknown option '--bogus'/);
    assert.match(oneLineError(rg("revieww")), /unknown command 'revieww'.*review/);
    assert.match(oneLineError(rg("review")), /review needs a command: list, diff, approve, request-changes/);
    assert.match(oneLineError(rg("logs", "shop", "--limit", "0")), /--limit must be a whole number above 0/);
  });

  it("approves a spec (a commit and a version) and diffs the file against it", async () => {
    const folder = project("shop");
    const before = parsed(specDiffOutput, rg("spec", "diff", "shop", "--json"));
    assert.equal(before.approvedVersion, null);
    assert.match(before.diff, /^diff --git a\/SPEC.md b\/SPEC.md\n--- \/dev\/null\n\+\+\+ b\/SPEC.md\n@@ -0,0 \+1,\d+ @@\n\+# shop: specification\n/);

    const approved = parsed(specApproveOutput, rg("spec", "approve", "shop", "--json"));
    assert.deepEqual([approved.version, approved.state, approved.alreadyApproved], [1, "approved", false]);
    assert.equal(gitIn(folder, "rev-parse", "HEAD"), approved.commit);
    assert.match(gitIn(folder, "log", "-1", "--format=%B"), /Approve spec v1 of shop[\s\S]*Redgreen-Spec-Version: 1/);
    assert.equal(parsed(specApproveOutput, rg("spec", "approve", "shop", "--json")).alreadyApproved, true);
    assert.equal(parsed(specDiffOutput, rg("spec", "diff", "shop", "--json")).changed, false);

    const spec = path.join(folder, "SPEC.md");
    await fs.writeFile(spec, (await fs.readFile(spec, "utf8")).replace("- **R-3**: A nice-to-have.", "- **R-3**: A must after all."));
    const diff = rg("spec", "diff", "shop");
    assert.equal(diff.code, 0);
    assert.match(diff.stdout, /^@@ -\d+,7 \+\d+,7 @@\n[\s\S]*^-- \*\*R-3\*\*: A nice-to-have.\n\+- \*\*R-3\*\*: A must after all.\n/m);
    assert.equal(parsed(statusOutput, rg("status", "shop", "--json")).spec.changedSinceApproval, true);
    assert.equal(parsed(specApproveOutput, rg("spec", "approve", "shop", "--json")).version, 2);
  });

  describe("review", () => {
    let folder: string;

    /** Two tickets of "cart" in review (one changes a CI file) and one whose pair waits for the human, put there through the core. */
    beforeEach(async () => {
      folder = project("shop", ["--name", "Shop"]);
      const approved = rg("spec", "approve", "Shop");
      assert.equal(approved.code, 0, approved.stderr);
      gitIn(folder, "branch", "DEV");
      // The test writes the store itself, as the engine would: the engine is stopped first.
      assert.equal(rg("engine", "stop").code, 0);
      const store = await openEmbeddedStore(path.join(data, "store"), { sweepIntervalMs: 0 });
      try {
        const memory = await MemoryManager.open({ store, models: noModels });
        const projectId = (await memory.projects.list())[0]!._id;
        const ops = new GitOps(simpleGitPort, folder, silent);
        const ticket = async (id: string, column: "review" | "inprogress") => {
          const branch = await ops.createTicketBranch(id, "cart");
          await memory.tickets.create({
            _id: id, projectId, functionalityId: "cart", title: `Ticket ${id}`, description: "", goal: "Pay", acceptanceCriteria: ["it works"], requirementIds: ["R-1"],
            column: "todo", severity: "high", timeEstimate: 2, assignedPair: `pair-${id}`, filesChanged: [], testPassRate: null, branch, blockedBy: [],
          }, "architect");
          await memory.tickets.move(id, "inprogress", "developer");
          if (column === "review") await memory.tickets.move(id, "review", "developer", "acceptance criteria covered");
        };
        await ticket("SHOP-1", "review");
        await ticket("SHOP-2", "review");
        await ticket("SHOP-3", "inprogress");
        // How a pair stops for the human (core/tdd/engine.ts).
        await memory.tickets.update("SHOP-3", { waiting: { kind: "blocked", text: "which card provider?", since: new Date() } }, "pair-SHOP-3", "blocked: which card provider?");
      } finally {
        await store.close();
      }
      await commitOn(folder, "ticket/shop-1", { "src/pay.js": "export const paid = true;\n", ".github/workflows/ci.yml": "on: push\n" }, "Pay by card");
      await commitOn(folder, "ticket/shop-2", { "src/cart.js": "export const cart = [];\n" }, "Cart");
    });

    it("lists the tickets in review and shows status: columns, what waits for the human, which pair has which ticket", () => {
      const { tickets } = parsed(reviewListOutput, rg("review", "list", "--json"));
      assert.deepEqual(tickets.map((t) => [t.ticket, t.project.name, t.branch, t.target, t.pair]), [
        ["SHOP-1", "Shop", "ticket/shop-1", "feature/cart", "pair-SHOP-1"],
        ["SHOP-2", "Shop", "ticket/shop-2", "feature/cart", "pair-SHOP-2"],
      ]);
      const status = parsed(statusOutput, rg("status", "Shop", "--json"));
      assert.deepEqual(status.tickets, { backlog: [], todo: [], inprogress: ["SHOP-3"], review: ["SHOP-1", "SHOP-2"], done: [] });
      assert.deepEqual(status.waitingForHuman, [{ ticket: "SHOP-3", title: "Ticket SHOP-3", pair: "pair-SHOP-3", reason: "blocked: which card provider?" }]);
      assert.deepEqual(status.pairs.map((p) => `${p.pair}:${p.ticket}:${p.column}`).sort(), ["pair-SHOP-1:SHOP-1:review", "pair-SHOP-2:SHOP-2:review", "pair-SHOP-3:SHOP-3:inprogress"]);
      const board = parsed(boardOutput, rg("board", "Shop", "--json"));
      assert.equal(board.columns.find((c) => c.column === "inprogress")!.tickets[0]!.waitingForHuman, "blocked: which card provider?");
      assert.match(rg("board", "Shop").stdout, /^ {2}SHOP-3 {2}Ticket SHOP-3 {2}\[high · 2h · pair-SHOP-3 · ticket\/shop-3\]\n {6}needs you: blocked: which card provider\?$/m);
    });

    it("diffs a ticket's branch against its merge target, flagging CI files", () => {
      const diff = parsed(reviewDiffOutput, rg("review", "diff", "SHOP-1", "--json"));
      assert.deepEqual(diff.files, [{ status: "added", path: ".github/workflows/ci.yml" }, { status: "added", path: "src/pay.js" }]);
      assert.deepEqual(diff.flagged, [".github/workflows/ci.yml"]);
      assert.equal(diff.head, gitIn(folder, "rev-parse", "ticket/shop-1"));
      const text = rg("review", "diff", "SHOP-1");
      assert.equal(text.code, 0);
      assert.ok(text.stdout.includes("diff --git a/src/pay.js b/src/pay.js\n--- /dev/null\n+++ b/src/pay.js\n@@ -0,0 +1 @@\n+export const paid = true;\n"), text.stdout);
      assert.match(text.stderr, /changes files your CI runs later.*ci\.yml/);
      assert.match(oneLineError(rg("review", "diff", "SHOP-3")), /SHOP-3 is not in review: it is in In progress/);
      assert.match(oneLineError(rg("review", "diff", "SHOP-9")), /There is no ticket SHOP-9/);
    });

    it("approves only with the CI files confirmed, merges into the feature branch and moves the ticket to done", () => {
      const refused = oneLineError(rg("review", "approve", "SHOP-1"));
      assert.match(refused, /SHOP-1 changes files your CI runs later.*\(\.github\/workflows\/ci\.yml\).*--confirm-ci/);
      assert.equal(gitIn(folder, "branch", "--list", "feature/cart", "--format=%(objectname)"), gitIn(folder, "rev-parse", "DEV"), "nothing was merged");

      const approved = parsed(reviewApproveOutput, rg("review", "approve", "SHOP-1", "--confirm-ci", "--json"));
      assert.deepEqual([approved.ticket, approved.column, approved.confirmedFiles, approved.completion.kind], ["SHOP-1", "done", [".github/workflows/ci.yml"], "notReady"]);
      assert.equal(gitIn(folder, "rev-parse", "feature/cart"), approved.commit);
      assert.match(gitIn(folder, "log", "-1", "--format=%B", "feature/cart"), /Merge ticket\/shop-1 into feature\/cart[\s\S]*Redgreen-Agent: human/);
      assert.deepEqual(parsed(reviewListOutput, rg("review", "list", "--json")).tickets.map((t) => t.ticket), ["SHOP-2"]);
      assert.match(oneLineError(rg("review", "approve", "SHOP-1")), /SHOP-1 is not in review: it is in Done/);
    });

    it("requests changes with a comment: the ticket goes back to its pair, and the logs say so", () => {
      assert.match(oneLineError(rg("review", "request-changes", "SHOP-2")), /required option '-m, --message <comment>' not specified/);
      assert.match(oneLineError(rg("review", "request-changes", "SHOP-2", "-m", "  ")), /needs a comment saying what to change/);
      const sent = parsed(requestChangesOutput, rg("review", "request-changes", "SHOP-2", "-m", "Empty carts need a message", "--json"));
      assert.deepEqual(sent, { ticket: "SHOP-2", column: "inprogress", comment: "Empty carts need a message" });
      const logs = parsed(logsOutput, rg("logs", "Shop", "--json", "--ticket", "SHOP-2"));
      assert.ok(logs.entries.some((e) => e.kind === "message" && e.channel === "agents" && /To pair-SHOP-2: changes requested on SHOP-2 \(Ticket SHOP-2\): Empty carts need a message/.test(e.text)), JSON.stringify(logs.entries));
    });

    it("refuses review git commands once the folder's trust is revoked", () => {
      assert.equal(rg("trust", "--revoke", folder).code, 0);
      assert.match(oneLineError(rg("review", "diff", "SHOP-1")), /is not trusted: .*To review its tickets, trust it first: redgreen trust /);
      assert.equal(rg("--trust", "review", "diff", "SHOP-1").code, 0, "--trust trusts it");
    });
  });

  it("lists the models of the user's registry (JSONC) and the project's, leaving out a project's remote server", async () => {
    const folder = project("shop");
    await fs.writeFile(path.join(data, "models.json"), `{
      // the user's own model
      "models": [{ "id": "code", "backend": "local", "path": "models/code.gguf", "contextSize": 8192 },],
      "roles": { "developer": { "model": "code" } },
    }`);
    await fs.mkdir(path.join(folder, ".redgreen"));
    await fs.writeFile(path.join(folder, ".redgreen", "models.json"), JSON.stringify({ models: [{ id: "far", backend: "openai", url: "https://models.example.com/v1", model: "m" }] }));
    const list = parsed(modelsListOutput, run(["--data", data, "models", "list", "--json"], { cwd: folder }));
    assert.deepEqual(list.models.map((m) => [m.id, m.backend, m.location, m.roles]), [["code", "local", path.join(data, "models", "code.gguf"), ["developer", "tester"]]]);
    assert.deepEqual(list.roles.find((r) => r.role === "developer"), { role: "developer", model: "code", fallback: null, defined: true });
    assert.equal(list.roles.find((r) => r.role === "pm")!.defined, false);
    assert.deepEqual(list.layers.map((l) => l.status), ["loaded", "loaded", "loaded"]);
    assert.deepEqual(list.dropped, [{ id: "far", source: path.join(folder, ".redgreen", "models.json"), reason: "remote", url: "https://models.example.com/v1" }]);
  });

  it("prints no colour when not on a terminal or with NO_COLOR, and colour on a terminal", () => {
    project("shop");
    const piped = rg("board", "shop");
    assert.equal(piped.code, 0);
    assert.ok(!piped.stdout.includes("\u001b["), "no escape codes in a pipe");
    const tty = cliOnTty(cli, home, ["--data", data, "board", "shop"]);
    assert.ok(tty.includes("\u001b[1mshop: board"), `colour on a terminal: ${JSON.stringify(tty.slice(0, 80))}`);
    const noColor = cliOnTty(cli, home, ["--data", data, "board", "shop"], { NO_COLOR: "1" });
    assert.ok(noColor.includes("shop: board") && !noColor.includes("\u001b["), "NO_COLOR wins on a terminal");
  });
});
