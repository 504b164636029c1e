// Settings outside the editor (the CLI and the engine): the same keys, schemas and defaults as the
// editor's (core/settings.ts), read from `<data>/settings.json` (JSONC, keys as in VS Code's
// settings.json: "redgreen.sandbox.require"). A bad value falls back to its default with a warning.
import { readFileSync } from "node:fs";
import type { Logger } from "../../core/logger";
import { parseSetting, settingSchemas, type SettingKey, type SettingValue } from "../../core/settings";
import { DataFolderError } from "./dataDir";
import { parseJsonc } from "./jsonc";

const PREFIX = "redgreen.";

export class DataFolderSettings {
  private readonly raw: Record<string, unknown>;
  private readonly reported = new Set<string>();

  constructor(private readonly file: string, private readonly log: Logger) {
    this.raw = DataFolderSettings.read(file);
    for (const key of Object.keys(this.raw)) {
      if (!(key.startsWith(PREFIX) && key.slice(PREFIX.length) in settingSchemas)) log.warn(`${file}: "${key}" is not a Redgreen setting; it is ignored`);
    }
  }

  private static read(file: string): Record<string, unknown> {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return {};
      throw new DataFolderError(`Cannot read the settings ${file}: ${(error as Error).message}`);
    }
    let parsed: unknown;
    try {
      parsed = parseJsonc(text);
    } catch (error) {
      throw new DataFolderError(`The settings ${file} are not valid JSON: ${(error as Error).message}`);
    }
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new DataFolderError(`The settings ${file} must be a JSON object of "redgreen.*" keys`);
    return parsed as Record<string, unknown>;
  }

  get<K extends SettingKey>(key: K): SettingValue<K> {
    const { value, problem } = parseSetting(key, this.raw[PREFIX + key]);
    if (problem && !this.reported.has(key)) {
      this.reported.add(key);
      this.log.warn(`${this.file}: ${problem}`);
    }
    return value;
  }
}
