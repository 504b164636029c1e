// A spec's requirements, by id (R-1, R-2...), and what changed between two versions of a spec.
// Re-planning acts on this diff, so a requirement's "text" must change only when its meaning
// may have: layout (indentation, line breaks, spacing) does not count.

const ID = /\bR-\d+\b/g;

/**
 * A line that defines a requirement starts with its id, after any markdown around it:
 * "- **R-1**: ...", "1. R-1 ...", "### R-1 ...", "> R-1 ...", "| R-1 | ... |", "- [ ] R-1 ...".
 * A line that merely mentions an id ("Each requirement has an id (R-1, R-2, …)") does not.
 */
const DEFINITION = /^\s*(?:>\s*)*(?:\|\s*)?(?:#{1,6}\s+|[-*+]\s+|\d+[.)]\s+)?(?:\[[ xX]\]\s+)?[*_`]*(R-\d+)\b/;
const HEADING = /^\s{0,3}#{1,6}\s/;

/** The requirement ids a spec names (R-1, R-12...), in order of first appearance. */
export function requirementIds(spec: string): string[] {
  return [...new Set(spec.match(ID) ?? [])];
}

function normalize(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

function definedId(line: string): string | undefined {
  return DEFINITION.exec(line)?.[1];
}

/**
 * Each requirement id of `spec` with its text: its first definition line and the lines after it
 * (acceptance criteria, continued paragraphs) up to the next definition or heading.
 * Every id `requirementIds` finds gets a text, so the two always agree: an id that is only ever
 * mentioned gets the line of its first mention.
 */
export function specRequirements(spec: string): Map<string, string> {
  const lines = spec.split(/\r?\n/);
  const defined = new Map<string, string>();
  for (let i = 0; i < lines.length; i++) {
    const id = definedId(lines[i]!);
    if (id === undefined || defined.has(id)) continue;
    let end = i + 1;
    while (end < lines.length && definedId(lines[end]!) === undefined && !HEADING.test(lines[end]!)) end++;
    defined.set(id, normalize(lines.slice(i, end).join("\n")));
  }
  const requirements = new Map<string, string>();
  for (const id of requirementIds(spec)) {
    requirements.set(id, defined.get(id) ?? normalize(lines.find((line) => line.match(ID)?.includes(id)) ?? id));
  }
  return requirements;
}

export interface RequirementsDiff {
  /** In `after` only, in its order. */
  added: string[];
  /** In both, with a different text, in `after`'s order. */
  changed: string[];
  /** In `before` only, in its order. */
  removed: string[];
}

export function diffRequirements(before: string, after: string): RequirementsDiff {
  const old = specRequirements(before);
  const now = specRequirements(after);
  return {
    added: [...now.keys()].filter((id) => !old.has(id)),
    changed: [...now.keys()].filter((id) => old.has(id) && old.get(id) !== now.get(id)),
    removed: [...old.keys()].filter((id) => !now.has(id)),
  };
}
