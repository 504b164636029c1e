import { createHash } from "node:crypto";

// The spec document: a markdown file in the project's repository, shaped like SPEC-001
// (background, requirements by MoSCoW with ids and acceptance criteria).

export function specHash(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

export function specTemplate(projectName: string): string {
  return `# ${projectName}: specification

## Background

What problem this project solves, for whom, and why now.

## Requirements

Each requirement has an id (R-1, R-2, …), a MoSCoW priority and acceptance criteria.

### Must have

- **R-1**: A first thing the product must do.
  - Acceptance: how we know it works.

### Should have

- **R-2**: Something important but not vital.
  - Acceptance: how we know it works.

### Could have

- **R-3**: A nice-to-have.
  - Acceptance: how we know it works.

### Won't have (this time)

- **R-4**: Out of scope for now.

## Notes

Constraints, open questions, decisions.
`;
}
