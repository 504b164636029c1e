import { type SettingKey, type SettingValue } from "../settings";
import { DEFAULT_TDD_LIMITS, type TddLimits } from "../tdd/engine";

/** The settings as the core reads them: the editor's (validated) or the command line's defaults and flags. */
export interface SettingsReader {
  get<K extends SettingKey>(key: K): SettingValue<K>;
}

/** The TDD engine's limits from the settings: the one place they are derived. */
export function tddLimits(settings: SettingsReader): TddLimits {
  const coverage = settings.get("tdd.coverageCommand");
  return {
    ...DEFAULT_TDD_LIMITS,
    attemptsPerStep: settings.get("tdd.attemptsPerStep"),
    cyclesPerTicket: settings.get("tdd.cyclesPerTicket"),
    testTimeoutMs: settings.get("tdd.testTimeoutSeconds") * 1000,
    checkpointMs: settings.get("tdd.checkpointMinutes") * 60_000,
    ...(coverage ? { coverage: { command: coverage, target: settings.get("tdd.coverageTarget") } } : {}),
  };
}
