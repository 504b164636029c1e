// The steps of a pair's ticket, as the engine, the board and the command line name them (no
// imports: the webviews use it too).

/** Checking out and running the suite, the Tester's red, the Developer's green and refactor, the last suite before review. */
export const PAIR_STEPS = ["starting", "red", "green", "refactor", "finishing"] as const;
export type PairStep = (typeof PAIR_STEPS)[number];

/** The role whose model a step asks. */
export const STEP_ROLES: Record<PairStep, "tester" | "developer" | undefined> = { starting: undefined, red: "tester", green: "developer", refactor: "developer", finishing: undefined };
