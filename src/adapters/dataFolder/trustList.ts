// The folders the user trusts for git and tests, kept in the data folder (trust.json, mode 0600).
// The rule is the core's (core/folderTrust.ts): an answer covers the folders inside it, the
// nearest answer wins. A terminal has no workspace and no question pops up: a folder is trusted
// only after `redgreen trust <folder>` (or `--trust`), and refused otherwise with that instruction.
import { promises as fs, readFileSync } from "node:fs";
import path from "node:path";
import * as z from "zod";
import { FolderTrust, realFolder, type AnswerStore } from "../../core/folderTrust";
import { DataFolderError } from "./dataDir";

/** trust.json: the core's answer keys, each a map of absolute folder → trusted. */
export const trustFileSchema = z.record(z.string(), z.record(z.string(), z.boolean()));

/** The core's AnswerStore over a JSON file, read once and written through. */
class TrustFile implements AnswerStore {
  private answers: z.infer<typeof trustFileSchema>;

  constructor(private readonly file: string) {
    this.answers = TrustFile.read(file);
  }

  private static read(file: string): z.infer<typeof trustFileSchema> {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return {};
      throw new DataFolderError(`Cannot read the trust list ${file}: ${(error as Error).message}`);
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      throw new DataFolderError(`The trust list ${file} is not valid JSON: fix or delete it, then trust your folders again`);
    }
    const parsed = trustFileSchema.safeParse(raw);
    if (!parsed.success) throw new DataFolderError(`The trust list ${file} is not a map of folders to true/false: fix or delete it`);
    return parsed.data;
  }

  get<T>(key: string): T | undefined {
    return this.answers[key] as T | undefined;
  }

  async update(key: string, value: unknown): Promise<void> {
    this.answers = trustFileSchema.parse({ ...this.answers, [key]: value });
    await fs.mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
    const temp = `${this.file}.${process.pid}.tmp`;
    await fs.writeFile(temp, `${JSON.stringify(this.answers, null, 2)}\n`, { mode: 0o600 });
    await fs.chmod(temp, 0o600);
    await fs.rename(temp, this.file);
  }

  folders(): { folder: string; trusted: boolean }[] {
    return Object.values(this.answers).flatMap((map) => Object.entries(map).map(([folder, trusted]) => ({ folder, trusted })));
  }
}

export class TrustList {
  private readonly file: TrustFile;
  private readonly rule: FolderTrust;

  constructor(file: string) {
    this.file = new TrustFile(file);
    this.rule = new FolderTrust({ workspaceTrusted: () => true, workspaceFolders: () => [], answers: this.file, ask: () => Promise.resolve(undefined) });
  }

  isTrusted(folder: string): boolean {
    return this.rule.known(realFolder(folder))?.trusted === true;
  }

  remember(folder: string, trusted: boolean): Promise<void> {
    return this.rule.remember(realFolder(folder), trusted);
  }

  /** Throws the one-line refusal with the instruction that lifts it, unless `folder` is trusted. */
  require(folder: string, what: string): void {
    if (this.isTrusted(folder)) return;
    throw new DataFolderError(`${path.resolve(folder)} is not trusted: Redgreen runs no git command or test there. To ${what}, trust it first: redgreen trust ${quoteArg(path.resolve(folder))}`);
  }

  entries(): { folder: string; trusted: boolean }[] {
    return this.file.folders().sort((a, b) => a.folder.localeCompare(b.folder));
  }
}

/** A folder as the user would type it in a shell. */
export function quoteArg(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
