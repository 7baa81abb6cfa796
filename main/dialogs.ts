/**
 * The system file dialogs, through Electron's `dialog` in the main process only (the renderer
 * never sees a path). The disk work is in main/files.ts (plain Node, tested without Electron).
 */
import { app, dialog, type BrowserWindow, type FileFilter } from 'electron';
import { basename, join } from 'node:path';
import type { Language } from '../shared/ipc/contract';
import type { FileDialogs, FolderPurpose } from './context';
import { readPicked, writeAllInto, writeChosen } from './files';

const CUSTOS: FileFilter = { name: 'Custos files (*.custos)', extensions: ['custos'] };
const IMAGES: FileFilter = { name: 'QR images (*.png)', extensions: ['png'] };
const FRAMES: FileFilter = { name: 'QR frame text (*.txt)', extensions: ['txt'] };
const ALL: FileFilter = { name: 'All files', extensions: ['*'] };

const FILTERS: Record<string, FileFilter[]> = {
  envelopes: [{ name: 'Envelopes, QR images, frame text', extensions: ['custos', 'png', 'txt'] }, CUSTOS, IMAGES, FRAMES, ALL],
  'recovery-exports': [{ name: 'Recovery exports, QR images, frame text', extensions: ['custos', 'png', 'txt'] }, CUSTOS, IMAGES, FRAMES, ALL],
  'qr-images': [IMAGES, ALL],
  any: [ALL],
};

/** The folder dialogs' title and button, in the window's language (FileDialogs.chooseFolder). */
const FOLDER_DIALOGS: Record<FolderPurpose, { title: Record<Language, string>; button: Record<Language, string> }> = {
  'vault-backup': { title: { en: 'Back up the vault to removable media', 'zh-CN': '将保险库备份到移动存储' }, button: { en: 'Back up here', 'zh-CN': '备份到此处' } },
  'vault-restore': {
    title: { en: 'Choose the backup folder (custos-vault-…) to restore', 'zh-CN': '选择要恢复的备份文件夹（custos-vault-…）' },
    button: { en: 'Restore from this folder', 'zh-CN': '从此文件夹恢复' },
  },
};

const extensionOf = (name: string): string => (name.includes('.') ? (name.split('.').pop() ?? '') : '');

export function electronDialogs(window: () => BrowserWindow | null): FileDialogs {
  return {
    async save(file) {
      const win = window();
      const options = {
        defaultPath: join(app.getPath('documents'), file.name),
        filters: [{ name: file.name, extensions: [extensionOf(file.name) || '*'] }, ALL],
        properties: ['createDirectory', 'showOverwriteConfirmation'] as ('createDirectory' | 'showOverwriteConfirmation')[],
      };
      const r = win === null ? await dialog.showSaveDialog(options) : await dialog.showSaveDialog(win, options);
      if (r.canceled || r.filePath === '') return null;
      return writeChosen(r.filePath, file);
    },
    async saveAll(files) {
      const win = window();
      const options = { properties: ['openDirectory', 'createDirectory'] as ('openDirectory' | 'createDirectory')[], buttonLabel: 'Save here' };
      const r = win === null ? await dialog.showOpenDialog(options) : await dialog.showOpenDialog(win, options);
      const dir = r.filePaths[0];
      if (r.canceled || dir === undefined) return null;
      return { folder: basename(dir), names: await writeAllInto(dir, files) };
    },
    async open({ purpose, multiple }) {
      const win = window();
      const options = {
        properties: multiple ? ['openFile' as const, 'multiSelections' as const] : ['openFile' as const],
        filters: FILTERS[purpose] ?? [CUSTOS, ALL],
      };
      const r = win === null ? await dialog.showOpenDialog(options) : await dialog.showOpenDialog(win, options);
      if (r.canceled) return [];
      return readPicked(r.filePaths);
    },
    async chooseFolder(purpose, language = 'en') {
      const win = window();
      const words = FOLDER_DIALOGS[purpose];
      // Restoring reads a folder that is there already: no "new folder" button.
      const properties: ('openDirectory' | 'createDirectory')[] = purpose === 'vault-backup' ? ['openDirectory', 'createDirectory'] : ['openDirectory'];
      const options = { title: words.title[language], properties, buttonLabel: words.button[language] };
      const r = win === null ? await dialog.showOpenDialog(options) : await dialog.showOpenDialog(win, options);
      const dir = r.filePaths[0];
      return r.canceled || dir === undefined ? null : dir;
    },
  };
}
