import path from "node:path";

// Node-only (webviews import the project module, not this one).

/** Where a project's spec file is. */
export function specFileOf(project: { root: string; specPath: string }): string {
  return path.join(project.root, project.specPath);
}
