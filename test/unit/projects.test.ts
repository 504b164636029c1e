import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { simpleGitPort } from "../../src/adapters/git/simpleGit";
import { openEmbeddedStore, type EmbeddedStore } from "../../src/adapters/store/embedded/embeddedStore";
import { MemoryManager } from "../../src/core/memory/memoryManager";
import { assertTransition, canTransition, PROJECT_STATES, ProjectStateError } from "../../src/core/projects/project";
import { specHash, specTemplate } from "../../src/core/spec/spec";
import { createProject, NewProjectError } from "../../src/core/projects/createProject";
import { DEV, GitOps, ProtectedBranchError } from "../../src/core/gitops/gitOps";
import { noModels, silent } from "../fixtures/kit";

const root = path.join(os.tmpdir(), `redgreen-projects-${process.pid}`);
const gitIn = (dir: string, ...args: string[]) => execFileSync("git", args, { cwd: dir, encoding: "utf8" }).trim();

describe("project life cycle", () => {
  it("follows drafting → approved → planning → executing ⇄ on hold → done, and nothing else", () => {
    const allowed = PROJECT_STATES.flatMap((from) => PROJECT_STATES.filter((to) => canTransition(from, to)).map((to) => `${from}>${to}`));
    assert.deepEqual(allowed.sort(), [
      "approved>onHold", "approved>planning", "drafting>approved", "executing>done", "executing>onHold",
      "onHold>approved", "onHold>executing", "onHold>planning", "planning>executing", "planning>onHold",
    ]);
    assert.throws(() => assertTransition("Shop", "drafting", "executing"), (error: Error) =>
      error instanceof ProjectStateError && /"Shop" cannot go from drafting to executing; from drafting it can go to approved/.test(error.message));
    assert.throws(() => assertTransition("Shop", "done", "onHold"), /it can go to nothing \(it is finished\)/);
  });

  it("starts a spec from SPEC-001's shape", () => {
    const text = specTemplate("Shop");
    for (const heading of ["## Background", "### Must have", "### Should have", "### Could have", "### Won't have"]) assert.ok(text.includes(heading), heading);
    assert.match(text, /\*\*R-1\*\*/);
    assert.equal(specHash(text), specHash(specTemplate("Shop")));
    assert.notEqual(specHash(text), specHash(`${text} `));
  });
});

describe("git through simple-git, on real repositories", function () {
  this.timeout(20_000);
  after(() => fs.rm(root, { recursive: true, force: true }));

  it("initialises a repository and commits exactly one file, leaving the user's other staged work alone", async () => {
    const dir = path.join(root, "git1");
    await fs.mkdir(dir, { recursive: true });
    assert.equal(await simpleGitPort.isRepositoryRoot(dir), false);
    await simpleGitPort.init(dir);
    assert.equal(await simpleGitPort.isRepositoryRoot(dir), true);
    await fs.mkdir(path.join(dir, "sub"));
    assert.equal(await simpleGitPort.isRepositoryRoot(path.join(dir, "sub")), false, "inside a repository is not its root");
    await fs.writeFile(path.join(dir, "SPEC.md"), "v1\n");
    await fs.writeFile(path.join(dir, "other.txt"), "staged by the user\n");
    gitIn(dir, "add", "other.txt");
    const first = await simpleGitPort.commitFile(dir, "SPEC.md", "Approve spec v1");
    assert.equal(gitIn(dir, "rev-parse", "HEAD"), first);
    assert.equal(gitIn(dir, "show", "--name-only", "--format=%s", "HEAD"), "Approve spec v1\n\nSPEC.md");
    assert.equal(gitIn(dir, "diff", "--cached", "--name-only"), "other.txt", "the user's staged file is still staged, not committed");
    assert.equal(await simpleGitPort.commitFile(dir, "SPEC.md", "nothing new"), first, "no change: HEAD, no empty commit");
  });
});

describe("createProject", function () {
  this.timeout(20_000);
  let store: EmbeddedStore;
  let memory: MemoryManager;
  let n = 0;
  const deps = () => ({ memory, git: simpleGitPort, specPath: "docs/SPEC.md", log: silent });
  const input = (over: Record<string, unknown> = {}) => ({ folder: path.join(root, `p${++n}`), name: `Project ${n}`, priority: "high", testCommand: "npm test", ...over });

  beforeEach(async () => {
    store = await openEmbeddedStore(path.join(root, `store${++n}`), { sweepIntervalMs: 0 });
    memory = await MemoryManager.open({ store, models: noModels });
  });
  afterEach(() => store.close());

  it("creates the folder, a git repository, the spec from its template and a drafting project", async () => {
    const { project, specFile } = await createProject(input({ name: "Shop" }), deps());
    assert.equal(specFile, path.join(project.root, "docs", "SPEC.md"));
    assert.equal(await fs.readFile(specFile, "utf8"), specTemplate("Shop"));
    assert.equal(await simpleGitPort.isRepositoryRoot(project.root), true);
    assert.deepEqual([project.state, project.priority, project.testCommand, project.specPath], ["drafting", "high", "npm test", "docs/SPEC.md"]);
    assert.deepEqual((await memory.projects.list()).map((p) => p.name), ["Shop"]);
    assert.match(memory.transcript.recent(project._id).at(-1)!.text, /created project "Shop"/);
  });

  it("keeps an existing repository and an existing spec as they are", async () => {
    const folder = path.join(root, "existing");
    await fs.mkdir(path.join(folder, "docs"), { recursive: true });
    gitIn(folder, "init", "-q");
    await fs.writeFile(path.join(folder, "docs", "SPEC.md"), "# Mine\n");
    const { project } = await createProject(input({ folder }), deps());
    assert.equal(await fs.readFile(path.join(folder, "docs", "SPEC.md"), "utf8"), "# Mine\n");
    assert.equal(project.root, folder);
  });

  describe("the protected branch, recorded once", () => {
    const git = (dir: string, ...args: string[]) => execFileSync("git", ["-c", "user.name=T", "-c", "user.email=t@t", ...args], { cwd: dir, encoding: "utf8" }).trim();
    /** A repository on `trunk` with one commit, then the user working on a branch of their own. */
    const trunkRepo = async (name: string) => {
      const folder = path.join(root, name);
      await fs.mkdir(folder, { recursive: true });
      git(folder, "init", "-q", "-b", "trunk");
      await fs.writeFile(path.join(folder, "app.txt"), "trunk\n");
      git(folder, "add", "app.txt");
      git(folder, "commit", "-q", "-m", "first");
      return folder;
    };

    it("is trunk, not the branch the user has checked out: DEV comes from it later and agents never write to it", async () => {
      const folder = await trunkRepo("trunk");
      git(folder, "checkout", "-q", "-b", "work");
      const { project } = await createProject(input({ folder }), deps());
      assert.equal(project.protectedBranch, "trunk");
      assert.equal((await memory.projects.get(project._id))?.protectedBranch, "trunk", "stored");
      // Later the user is still on their branch, with a commit of their own.
      await fs.writeFile(path.join(folder, "app.txt"), "work\n");
      git(folder, "commit", "-q", "-am", "mine");
      const ops = new GitOps(simpleGitPort, folder, silent, project.protectedBranch);
      await ops.createDev();
      assert.equal(git(folder, "rev-parse", "DEV"), git(folder, "rev-parse", "trunk"));
      git(folder, "checkout", "-q", "trunk");
      const before = git(folder, "rev-parse", "trunk");
      await fs.writeFile(path.join(folder, "app.txt"), "agent\n");
      await assert.rejects(ops.commit(folder, "sneaky", { role: "developer" }), ProtectedBranchError);
      await assert.rejects(ops.merge("trunk", DEV, { role: "architect" }), ProtectedBranchError);
      assert.equal(git(folder, "rev-parse", "trunk"), before);
    });

    it("is the one the human names, and a detached HEAD with no usual branch is refused saying how to name it", async () => {
      const folder = await trunkRepo("detached");
      git(folder, "checkout", "-q", "--detach");
      git(folder, "branch", "-q", "-m", "trunk", "release");
      await assert.rejects(createProject(input({ folder }), deps()), (error: Error) =>
        error instanceof NewProjectError && /detached HEAD and has no main, master, trunk or develop branch: say which branch is protected \(redgreen init --protected-branch NAME\)/.test(error.message));
      assert.deepEqual(await memory.projects.list(), [], "nothing recorded");
      const { project } = await createProject(input({ folder, protectedBranch: "release" }), deps());
      assert.equal(project.protectedBranch, "release");
      await assert.rejects(createProject(input({ protectedBranch: "-x" }), deps()), /the protected branch is not a branch name/);
      await assert.rejects(createProject(input({ protectedBranch: "DEV" }), deps()), /cannot be DEV, feature\/… or ticket\/…/);
    });

    it("of a repository with no commit yet is its unborn branch, and planning says to commit first", async () => {
      const folder = path.join(root, "unborn");
      await fs.mkdir(folder, { recursive: true });
      git(folder, "init", "-q", "-b", "trunk");
      const { project } = await createProject(input({ folder }), deps());
      assert.equal(project.protectedBranch, "trunk");
      await assert.rejects(new GitOps(simpleGitPort, folder, silent, project.protectedBranch).createDev(), /has no commit on trunk, its protected branch, yet: commit something on trunk before planning/);
      // A DEV that exists is kept when the protected branch cannot give a new one.
      git(folder, "commit", "-q", "--allow-empty", "-m", "first");
      git(folder, "branch", "DEV");
      git(folder, "checkout", "-q", "--orphan", "empty");
      git(folder, "branch", "-q", "-D", "trunk");
      await assert.rejects(new GitOps(simpleGitPort, folder, silent, "trunk").createDev(true), /has no commit on trunk/);
      assert.ok(git(folder, "rev-parse", "--verify", "DEV"), "DEV is still there");
    });
  });

  it("refuses bad input with a clear message and creates nothing", async () => {
    const attempts: [Record<string, unknown>, RegExp][] = [
      [{ testCommand: "  " }, /the test command is empty/],
      [{ name: "" }, /the name is empty/],
      [{ priority: "urgent" }, /critical|high|medium|low/],
      [{ folder: path.join(__filename, "inside-a-file") }, /Cannot create the folder .*inside-a-file/],
    ];
    for (const [over, message] of attempts) {
      const fields = input(over);
      await assert.rejects(createProject(fields, deps()), (error: Error) => error instanceof NewProjectError && message.test(error.message));
      await assert.rejects(fs.access(fields.folder), "nothing was created");
    }
    assert.deepEqual(await memory.projects.list(), []);
  });

  it("refuses a name or a folder that is already a project", async () => {
    const first = input({ name: "Shop" });
    await createProject(first, deps());
    await assert.rejects(createProject(input({ name: "shop" }), deps()), /A project named "Shop" already exists/);
    await assert.rejects(createProject(input({ folder: first.folder, name: "Other" }), deps()), /is already the project "Shop"/);
  });

  it("undoes the folder and repository it made when a later step fails", async () => {
    const fields = input();
    await store.close(); // the project record cannot be written now
    await assert.rejects(createProject(fields, deps()), /Could not create the project/);
    await assert.rejects(fs.access(fields.folder), "the folder it created is gone");
    store = await openEmbeddedStore(path.join(root, `store${++n}`), { sweepIntervalMs: 0 });
  });
});
