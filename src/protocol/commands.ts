// Redgreen's command ids, one table for the host (which registers them) and the webviews (which
// ask the host to run the ones it offers): a page can name no command that does not exist.
import * as z from "zod";

/** Ids of Redgreen's commands, as contributed in package.json. */
export const Commands = {
  showLogs: "redgreen.showLogs",
  selectModelFiles: "redgreen.selectModelFiles",
  askModel: "redgreen.askModel",
  copyModelServerAccess: "redgreen.copyModelServerAccess",
  rotateModelServerToken: "redgreen.models.rotateServerToken",
  setMongoPassword: "redgreen.setMongoPassword",
  importWorkspaceStore: "redgreen.importWorkspaceStore",
  newProject: "redgreen.newProject",
  openProject: "redgreen.openProject",
  setPriority: "redgreen.setPriority",
  approveSpec: "redgreen.approveSpec",
  compareSpecWithApproved: "redgreen.compareSpecWithApproved",
  planProject: "redgreen.planProject",
  resumeProject: "redgreen.resumeProject",
  refreshReviews: "redgreen.refreshReviews",
  openReviewChange: "redgreen.openReviewChange",
  showTicketCommits: "redgreen.showTicketCommits",
  approveAndMerge: "redgreen.approveAndMerge",
  requestChanges: "redgreen.requestChanges",
  startPair: "redgreen.startPair",
  pausePair: "redgreen.pausePair",
  pauseProject: "redgreen.pauseProject",
} as const;

export type CommandId = (typeof Commands)[keyof typeof Commands];

const commandIds = Object.values(Commands) as [CommandId, ...CommandId[]];
export const commandIdSchema = z.enum(commandIds, { message: "must be one of Redgreen's command ids" });
