/**
 * The application menu (issue 12): what a custodian needs (edit, for pasting QR text and copying
 * codes; window; quit) and, in a packaged build, nothing that opens developer tools, reloads the
 * page or zooms it into a state the screens were not made for. A development build (not packaged)
 * keeps reload and the developer tools. Pure: main/index.ts builds it with Menu.buildFromTemplate,
 * test/main/menu.test.ts checks the template without Electron.
 */
import type { MenuItemConstructorOptions } from 'electron';

/** Roles a packaged build never offers: they open developer tools or reload the vault's page. */
export const DEV_ONLY_ROLES = ['toggleDevTools', 'reload', 'forceReload'] as const;

export function menuTemplate(opts: { packaged: boolean; platform: NodeJS.Platform; appName?: string }): MenuItemConstructorOptions[] {
  const edit: MenuItemConstructorOptions = {
    label: 'Edit',
    submenu: [{ role: 'undo' }, { role: 'redo' }, { type: 'separator' }, { role: 'cut' }, { role: 'copy' }, { role: 'paste' }, { role: 'selectAll' }],
  };
  const view: MenuItemConstructorOptions = {
    label: 'View',
    submenu: opts.packaged ? [{ role: 'togglefullscreen' }] : [{ role: 'reload' }, { role: 'forceReload' }, { role: 'toggleDevTools' }, { type: 'separator' }, { role: 'togglefullscreen' }],
  };
  const window: MenuItemConstructorOptions = { label: 'Window', submenu: opts.platform === 'darwin' ? [{ role: 'minimize' }, { role: 'zoom' }, { role: 'front' }] : [{ role: 'minimize' }, { role: 'close' }] };
  if (opts.platform === 'darwin') {
    const app: MenuItemConstructorOptions = {
      label: opts.appName ?? 'Custos',
      submenu: [{ role: 'about' }, { type: 'separator' }, { role: 'hide' }, { role: 'hideOthers' }, { role: 'unhide' }, { type: 'separator' }, { role: 'quit' }],
    };
    return [app, edit, view, window];
  }
  return [{ label: 'File', submenu: [{ role: 'quit' }] }, edit, view, window];
}

/** Every role anywhere in a template (for the checks). */
export function rolesOf(items: readonly MenuItemConstructorOptions[]): string[] {
  return items.flatMap((i) => [...(i.role === undefined ? [] : [i.role]), ...(Array.isArray(i.submenu) ? rolesOf(i.submenu) : [])]);
}
