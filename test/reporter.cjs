// mocha's spec reporter, plus one plain closing line "<suite>: N passed, N failed, N skipped"
// that CI and people can read at a glance. The suite name comes from REDGREEN_SUITE.
const Mocha = require("mocha");

class RedgreenReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    const suite = process.env.REDGREEN_SUITE || "unit";
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      const { passes, failures, pending } = this.stats;
      Mocha.reporters.Base.consoleLog(`${suite}: ${passes} passed, ${failures} failed, ${pending} skipped`);
    });
  }
}

module.exports = RedgreenReporter;
