/**
 * electron-builder configuration for the Custos desktop app (electron-builder 26 loads a `.ts`
 * config through jiti; `npm run dist` passes it with `--config`). Typechecked by tsconfig.node.json;
 * test/packaging/builder-config.test.ts checks the security-relevant settings below.
 *
 * Packaging downloads Electron's zip from GitHub, so `npm run dist` needs a network (README,
 * "Packaging").
 *
 * What goes into the package: only the electron-vite output of the three processes, the recovery
 * sheet's font and package.json, in an asar archive (read-only, and checked against the signed
 * header on macOS and Windows through the asar-integrity fuse). electron-vite bundles every
 * dependency into out/main and out/preload (electron.config.ts), so no node_modules are shipped and
 * nothing is rebuilt for Electron's ABI: the desktop app has no native modules. out/harness (the
 * end-to-end test host), source maps, sources, tests and keys stay out.
 */
import type { Configuration } from 'electron-builder';

/** English text macOS shows when the app first asks for the camera; zh-Hans in build/mac/. */
export const CAMERA_USAGE_EN =
  'Custos uses the camera only to scan QR codes: share envelopes, agent cards and recovery frames. Nothing is recorded or sent.';

const config: Configuration = {
  appId: 'io.custos.desktop',
  productName: 'Custos',
  copyright: 'Copyright © the Custos authors',
  directories: { output: 'dist', buildResources: 'build' },

  // '!node_modules/**' is load-bearing: without it electron-builder adds every production
  // dependency of package.json (the agent's too) to app.asar, whatever `files` says.
  files: [
    'out/main/**',
    'out/preload/**',
    'out/renderer/**',
    'resources/fonts/**', // the printable recovery sheet's CJK font and its licence (main/services/sheet.ts)
    'package.json',
    '!**/*.map',
    '!node_modules/**',
  ],
  asar: true,
  // Everything the app runs is bundled by electron-vite; see the header.
  npmRebuild: false,
  nodeGypRebuild: false,
  buildDependenciesFromSource: false,

  // No auto-update and no upload anywhere: releases are published by hand, after review.
  publish: null,
  detectUpdateChannel: false,
  generateUpdatesFilesForAllChannels: false,

  // Electron fuses, flipped in the packaged binary before signing (https://www.electronjs.org/docs/latest/tutorial/fuses).
  electronFuses: {
    runAsNode: false, // ELECTRON_RUN_AS_NODE cannot turn Custos into a plain Node.js with its signature
    enableNodeOptionsEnvironmentVariable: false, // NODE_OPTIONS cannot inject code
    enableNodeCliInspectArguments: false, // no --inspect: nobody attaches a debugger to a vault in use
    enableCookieEncryption: true,
    enableEmbeddedAsarIntegrityValidation: true, // macOS and Windows check app.asar against the signed header
    onlyLoadAppFromAsar: true, // no loose app/ folder next to app.asar is ever loaded instead
    loadBrowserProcessSpecificV8Snapshot: false,
    // The renderer is served from app://custos/ (main/app-protocol.ts), not file://: file:// pages
    // get no extra privileges (fetch, module scripts, ...) in the packaged app (issue 12).
    grantFileProtocolExtraPrivileges: false,
    resetAdHocDarwinSignature: true, // an unsigned arm64 macOS build still starts after the flip
  },

  mac: {
    target: ['dmg'],
    category: 'public.app-category.utilities',
    icon: 'build/icon.icns',
    hardenedRuntime: true,
    gatekeeperAssess: false,
    entitlements: 'build/entitlements.mac.plist',
    entitlementsInherit: 'build/entitlements.mac.inherit.plist',
    extendInfo: {
      NSCameraUsageDescription: CAMERA_USAGE_EN,
      CFBundleDevelopmentRegion: 'en',
      CFBundleLocalizations: ['en', 'zh-Hans'],
    },
    // Info.plist is English; the localized NSCameraUsageDescription lives in
    // <lang>.lproj/InfoPlist.strings inside Contents/Resources.
    extraResources: [
      { from: 'build/mac/en.lproj', to: 'en.lproj' },
      { from: 'build/mac/zh-Hans.lproj', to: 'zh-Hans.lproj' },
    ],
  },
  dmg: { writeUpdateInfo: false },

  linux: {
    target: ['AppImage', 'deb'],
    icon: 'build/icons',
    executableName: 'custos',
    category: 'Utility;Security',
    maintainer: 'Custos maintainers <maintainers@custos.io>',
    vendor: 'Custos',
    synopsis: 'Keep and verify MPC key-share backups offline, export them for recovery',
    description:
      'Custos desktop: custodians verify signed share envelopes, keep shares in an encrypted local vault, sign receipts and export their share for a recovery, offline.',
  },
  deb: { packageCategory: 'utils', priority: 'optional' },

  win: {
    target: ['nsis'],
    icon: 'build/icon.ico',
    requestedExecutionLevel: 'asInvoker',
  },
  nsis: {
    oneClick: true, // installs for the current user into %LOCALAPPDATA%, no installer pages
    perMachine: false,
    allowElevation: false, // never asks for administrator rights
    deleteAppDataOnUninstall: false, // the vault is the custodian's: uninstalling never deletes it
    differentialPackage: false, // no blockmap: there is no updater to use one
    createDesktopShortcut: true,
    createStartMenuShortcut: true,
    shortcutName: 'Custos',
  },
};

export default config;
