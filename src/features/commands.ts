/** Ids of Redgreen's commands, as contributed in package.json. */
export const Commands = {
  showLogs: "redgreen.showLogs",
  selectModelFiles: "redgreen.selectModelFiles",
  askModel: "redgreen.askModel",
  copyModelServerAccess: "redgreen.copyModelServerAccess",
  setMongoPassword: "redgreen.setMongoPassword",
  newProject: "redgreen.newProject",
  openProject: "redgreen.openProject",
  approveSpec: "redgreen.approveSpec",
  compareSpecWithApproved: "redgreen.compareSpecWithApproved",
  planProject: "redgreen.planProject",
  resumeProject: "redgreen.resumeProject",
} as const;
