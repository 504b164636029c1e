/** Ids of Redgreen's commands, as contributed in package.json. */
export const Commands = {
  showLogs: "redgreen.showLogs",
  selectModelFiles: "redgreen.selectModelFiles",
  askModel: "redgreen.askModel",
  copyModelServerAccess: "redgreen.copyModelServerAccess",
  setMongoPassword: "redgreen.setMongoPassword",
  /** Not built yet (projects come with the spec/PM work); views offer it once it is registered. */
  newProject: "redgreen.newProject",
} as const;
