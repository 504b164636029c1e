/** The log the core writes to; the extension backs it with the "Redgreen" output channel. */
export interface Logger {
  trace(message: string): void;
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string | Error): void;
}

/** A validation error's issues on one line, "path: message; …"; `whole` names an issue about the whole value. */
export function describeIssues(error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }, whole = ""): string {
  return error.issues.map((issue) => `${issue.path.map(String).join(".") || whole}: ${issue.message}`).join("; ");
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
