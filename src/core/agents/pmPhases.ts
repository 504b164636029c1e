// The phases of the PM's turn in the chat, as the page shows them (no imports: the webviews use it too).

/** Reading what the human wants, answering, drafting an edit of the spec. */
export const PM_PHASES = ["classifying", "answering", "drafting"] as const;
export type PmPhase = (typeof PM_PHASES)[number];
