// The branch and commit names Redgreen passes to git: no option, no revision range, no lock file.
// Pure (the webviews' bundle reaches it through the project schema).
const REF = /^(?!.*\.\.)(?!.*\/\/)(?!.*\/$)(?!.*\.lock$)[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$/;

/** Whether Redgreen takes `name` as a branch or commit name. */
export function isBranchName(name: string): boolean {
  return REF.test(name);
}

/** DEV, feature/… and ticket/…: branches Redgreen makes, which can never be a project's protected branch. */
export function isRedgreenBranch(name: string): boolean {
  return name === "DEV" || name.startsWith("feature/") || name.startsWith("ticket/");
}
