// Issue 12: the application menu of a packaged build has no developer tools and no reload (a
// development build keeps them); the packaged window's webPreferences turn developer tools off;
// the grantFileProtocolExtraPrivileges fuse is off (the renderer is served from app://custos/).
// Checked without Electron (no binary runs here): the template, the preferences and the config.
import { describe, expect, it } from 'vitest';
import { DEV_ONLY_ROLES, menuTemplate, rolesOf } from '../../main/menu';
import { secureWebPreferences } from '../../main/harden';
import config from '../../electron-builder.config';

describe('application menu and window configuration', () => {
  it('a packaged build offers no developer tools or reload, on every platform', () => {
    for (const platform of ['darwin', 'linux', 'win32'] as const) {
      const roles = rolesOf(menuTemplate({ packaged: true, platform }));
      for (const r of DEV_ONLY_ROLES) expect(roles, `${platform}: ${r}`).not.toContain(r);
      // What a custodian needs stays: paste (QR text), copy (codes), quit.
      expect(roles).toEqual(expect.arrayContaining(['paste', 'copy', 'selectAll', 'quit']));
    }
    expect(rolesOf(menuTemplate({ packaged: false, platform: 'linux' }))).toContain('toggleDevTools');
  });

  it('the window’s preferences keep developer tools off unless asked for (development)', () => {
    expect(secureWebPreferences('/p.cjs').devTools).toBe(false);
    expect(secureWebPreferences('/p.cjs', { devTools: true }).devTools).toBe(true);
    expect(secureWebPreferences('/p.cjs')).toMatchObject({ sandbox: true, contextIsolation: true, nodeIntegration: false, webSecurity: true });
  });

  it('the fuses: file:// gets no extra privileges, and the others stay flipped', () => {
    expect(config.electronFuses).toMatchObject({ grantFileProtocolExtraPrivileges: false, runAsNode: false, onlyLoadAppFromAsar: true, enableNodeCliInspectArguments: false });
  });
});
