// What the user did wrong or what stands in the way, said in one line: the CLI's edge prints the
// message of a CliError (and of the core's own errors) on stderr and exits with 1.

/** An error whose message is meant for the user as is. */
export class CliError extends Error {}

/** Exit codes: what each means is part of the CLI's contract. */
export const EXIT = { ok: 0, error: 1, waitsForHuman: 2, interrupted: 130 } as const;

/** Ends the command with an exit code other than 0 after its output was written (not an error line). */
export class ExitCode extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

/** The message on one line: newlines in a core error (zod's pretty errors) become "; ". */
export function oneLine(message: string): string {
  return message.split(/\r?\n/).map((part) => part.trim()).filter(Boolean).join("; ");
}
