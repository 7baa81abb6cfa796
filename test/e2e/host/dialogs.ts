/**
 * The test host's stand-in for the system file dialogs (main/context.ts `FileDialogs`): a test
 * queues the files the next "open" dialog returns, and reads back what "save" wrote. Saved files
 * are also written (with main/files.ts, as the app does) into a downloads folder of the profile.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FileIn, FileOut } from '../../../shared/ipc/contract';
import type { FileDialogs, FolderPurpose } from '../../../main/context';
import { freeName, writeAllInto, writeChosen } from '../../../main/files';

export class ScriptedDialogs implements FileDialogs {
  readonly downloads: string;
  /** Each `open` takes the next entry (an empty list = the person cancelled). */
  readonly openQueue: FileIn[][] = [];
  /** Everything saved, in order. */
  readonly saved: FileOut[] = [];
  /** Set to make the next save or saveAll answer "cancelled". */
  cancelNextSave = false;
  readonly calls: string[] = [];

  constructor(downloads: string) {
    this.downloads = downloads;
    mkdirSync(downloads, { recursive: true, mode: 0o700 });
  }

  async save(file: FileOut): Promise<string | null> {
    this.calls.push('save');
    if (this.cancelNextSave) {
      this.cancelNextSave = false;
      return null;
    }
    const name = await freeName(this.downloads, file.name);
    await writeChosen(join(this.downloads, name), file);
    this.saved.push({ name, bytes: Uint8Array.from(file.bytes) });
    return name;
  }

  async saveAll(files: readonly FileOut[]): Promise<{ folder: string; names: string[] } | null> {
    this.calls.push('saveAll');
    if (this.cancelNextSave) {
      this.cancelNextSave = false;
      return null;
    }
    const names = await writeAllInto(this.downloads, files);
    files.forEach((f, i) => this.saved.push({ name: names[i] ?? f.name, bytes: Uint8Array.from(f.bytes) }));
    return { folder: 'downloads', names };
  }

  /** (H11) Each `chooseFolder` takes the next folder path (none queued, or null = the person cancelled). */
  readonly folderQueue: (string | null)[] = [];

  chooseFolder(purpose: FolderPurpose): Promise<string | null> {
    this.calls.push(`chooseFolder:${purpose}`);
    return Promise.resolve(this.folderQueue.shift() ?? null);
  }

  open(options: { purpose: string; multiple: boolean }): Promise<FileIn[]> {
    this.calls.push(`open:${options.purpose}`);
    const next = this.openQueue.shift() ?? [];
    return Promise.resolve(options.multiple ? next : next.slice(0, 1));
  }
}
