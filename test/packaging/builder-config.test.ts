/**
 * The electron-builder configuration (electron-builder.config.ts): its security-relevant settings,
 * the icons it points at, and what electron-builder really puts into app.asar.
 *
 * Packaging cannot run on these machines (electron-builder downloads Electron's zip from GitHub).
 * The last block runs electron-builder's own CLI with our config for the Linux `dir` target, with
 * `electronDist` pointing at an empty folder: electron-builder loads the TypeScript config,
 * validates it against its schema, selects the app files and writes resources/app.asar, and then
 * stops where it needs the Electron binary (renaming `electron` to `custos`). Nothing fakes an
 * Electron binary; the test asserts that it stopped exactly there and reads the asar it wrote.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import config, { CAMERA_USAGE_EN } from '../../electron-builder.config';
import { listAsar, readIcns, readIco, readPng } from './images';

const root = join(import.meta.dirname, '..', '..');
const at = (...p: string[]): string => join(root, ...p);

/** Targets of one platform section, as names. */
function targetNames(target: unknown): string[] {
  const list = Array.isArray(target) ? (target as unknown[]) : [target];
  return list.map((t) => (typeof t === 'string' ? t : (t as { target: string }).target));
}

/** The keys set to <true/> in an entitlements plist. */
function entitlements(file: string): string[] {
  const xml = readFileSync(at(file), 'utf8').replace(/<!--[\s\S]*?-->/g, '');
  return [...xml.matchAll(/<key>([^<]+)<\/key>\s*<true\/>/g)].map((m) => m[1]!);
}

function withoutVitest(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith('VITEST')));
}

/** Module names of every `require("literal")` call in a bundle (parsed, so comments and strings do not count). */
function requiredModules(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, false, ts.ScriptKind.JS);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'require') {
      const [arg] = node.arguments;
      if (arg && ts.isStringLiteralLike(arg)) found.push(arg.text);
      else found.push(`(dynamic: ${node.getText(source).slice(0, 60)})`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return [...new Set(found)].sort();
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name));
}

describe('electron-builder.config.ts: identity and contents', () => {
  it('names the app', () => {
    expect(config.appId).toBe('io.custos.desktop');
    expect(config.productName).toBe('Custos');
  });

  it('packs only the built app, the sheet font and package.json, into an asar archive', () => {
    expect(config.asar).toBe(true);
    expect(config.asarUnpack ?? null).toBeNull();
    const files = config.files as string[];
    const include = files.filter((f) => !f.startsWith('!'));
    expect(include).toEqual(['out/main/**', 'out/preload/**', 'out/renderer/**', 'resources/fonts/**', 'package.json']);
    // Exclusions that matter: the agent's node_modules (electron-builder adds production
    // dependencies whatever `files` says) and source maps.
    expect(files).toContain('!node_modules/**');
    expect(files).toContain('!**/*.map');
    // Nothing else is copied next to the app on any platform, except macOS's localized strings.
    expect(config.extraFiles ?? null).toBeNull();
    expect(config.extraResources ?? null).toBeNull();
    expect(config.linux?.extraResources ?? null).toBeNull();
    expect(config.win?.extraResources ?? null).toBeNull();
    expect(config.mac?.extraResources).toEqual([
      { from: 'build/mac/en.lproj', to: 'en.lproj' },
      { from: 'build/mac/zh-Hans.lproj', to: 'zh-Hans.lproj' },
    ]);
  });

  it('never rebuilds native modules (the desktop app has none)', () => {
    expect(config.npmRebuild).toBe(false);
    expect(config.nodeGypRebuild).toBe(false);
    expect(config.buildDependenciesFromSource).toBe(false);
  });

  it('publishes nowhere and has no auto-update', () => {
    expect(config.publish).toBeNull();
    expect(config.detectUpdateChannel).toBe(false);
    expect(config.generateUpdatesFilesForAllChannels).toBe(false);
    expect(config.dmg?.writeUpdateInfo).toBe(false);
    expect(config.nsis?.differentialPackage).toBe(false);
    const pkg = JSON.parse(readFileSync(at('package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
    const all = { ...pkg['dependencies'], ...pkg['devDependencies'], ...pkg['optionalDependencies'] };
    expect(Object.keys(all).filter((name) => /updater/i.test(name))).toEqual([]);
    expect(pkg['build']).toBeUndefined(); // no second configuration hiding in package.json
  });

  it('flips the fuses that keep the binary from being used as something else', () => {
    expect(config.electronFuses).toMatchObject({
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableCookieEncryption: true,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
    });
  });
});

describe('electron-builder.config.ts: platforms', () => {
  it('Linux: AppImage and deb, Security/Utility, a maintainer', () => {
    const linux = config.linux!;
    expect(targetNames(linux.target)).toEqual(['AppImage', 'deb']);
    expect(linux.category?.split(';')).toEqual(expect.arrayContaining(['Utility', 'Security']));
    expect(linux.maintainer).toMatch(/^[^<>]+ <[^@\s<>]+@[^@\s<>]+\.[a-z]+>$/);
    expect(linux.executableName).toBe('custos');
  });

  it('macOS: dmg, hardened runtime, minimal entitlements, camera usage in English and Chinese', () => {
    const mac = config.mac!;
    expect(targetNames(mac.target)).toEqual(['dmg']);
    expect(mac.hardenedRuntime).toBe(true);
    const main = entitlements(mac.entitlements!);
    const inherit = entitlements(mac.entitlementsInherit!);
    expect(main.sort()).toEqual(['com.apple.security.cs.allow-jit', 'com.apple.security.device.camera']);
    expect(inherit.sort()).toEqual(['com.apple.security.cs.allow-jit', 'com.apple.security.device.camera']);
    for (const risky of ['com.apple.security.cs.disable-library-validation', 'com.apple.security.cs.allow-unsigned-executable-memory', 'com.apple.security.get-task-allow', 'com.apple.security.cs.allow-dyld-environment-variables']) {
      expect(main).not.toContain(risky);
      expect(inherit).not.toContain(risky);
    }
    const info = mac.extendInfo as Record<string, unknown>;
    expect(info['NSCameraUsageDescription']).toBe(CAMERA_USAGE_EN);
    expect(CAMERA_USAGE_EN).toMatch(/camera/);
    expect(info['CFBundleLocalizations']).toEqual(['en', 'zh-Hans']);
    const en = readFileSync(at('build/mac/en.lproj/InfoPlist.strings'), 'utf8');
    const zh = readFileSync(at('build/mac/zh-Hans.lproj/InfoPlist.strings'), 'utf8');
    expect(en).toContain(`"NSCameraUsageDescription" = ${JSON.stringify(CAMERA_USAGE_EN)};`);
    const zhText = /"NSCameraUsageDescription" = "([^"]+)";/.exec(zh)?.[1];
    expect(zhText).toMatch(/摄像头/);
    expect(zhText).toMatch(/二维码/);
  });

  it('Windows: nsis for the current user, never elevated, never deletes the vault on uninstall', () => {
    expect(targetNames(config.win!.target)).toEqual(['nsis']);
    expect(config.win!.requestedExecutionLevel).toBe('asInvoker');
    expect(config.nsis).toMatchObject({ oneClick: true, perMachine: false, allowElevation: false, deleteAppDataOnUninstall: false });
  });
});

describe('icons in build/', () => {
  const SIZES = [16, 24, 32, 48, 64, 128, 256, 512, 1024];

  it('has the SVG source and the script that renders it', () => {
    expect(readFileSync(at('build/icon.svg'), 'utf8')).toMatch(/^<svg [^>]*viewBox="0 0 1024 1024"/);
    expect(existsSync(at('build/make-icons.mjs'))).toBe(true);
  });

  it('Linux: one square RGBA PNG per size, named by its size', () => {
    expect(config.linux?.icon).toBe('build/icons');
    const names = readdirSync(at('build/icons')).sort();
    expect(names).toEqual(SIZES.map((s) => `${String(s)}x${String(s)}.png`).sort());
    for (const size of SIZES) {
      const png = readPng(readFileSync(at('build/icons', `${String(size)}x${String(size)}.png`)));
      expect(png, `${String(size)}x${String(size)}.png`).toEqual({ width: size, height: size, colorType: 6 });
    }
    expect(readPng(readFileSync(at('build/icon.png')))).toEqual({ width: 1024, height: 1024, colorType: 6 });
  });

  it('Windows: icon.ico holds 16 to 256 px, each entry a PNG of its stated size', () => {
    expect(config.win?.icon).toBe('build/icon.ico');
    const entries = readIco(readFileSync(at('build/icon.ico')));
    expect(entries.map((e) => e.width)).toEqual([16, 24, 32, 48, 64, 128, 256]);
    for (const e of entries) expect(e.png).toEqual({ width: e.width, height: e.height, colorType: 6 });
  });

  it('macOS: icon.icns holds every PNG element type from 16 to 1024 px at its defined size', () => {
    expect(config.mac?.icon).toBe('build/icon.icns');
    const elements = readIcns(readFileSync(at('build/icon.icns')));
    const expected: Record<string, number> = { icp4: 16, icp5: 32, icp6: 64, ic07: 128, ic08: 256, ic09: 512, ic10: 1024, ic11: 32, ic12: 64, ic13: 256, ic14: 512 };
    expect(elements.map((e) => e.type).sort()).toEqual(Object.keys(expected).sort());
    for (const e of elements) expect(e.png, e.type).toEqual({ width: expected[e.type], height: expected[e.type], colorType: 6 });
  });
});

describe('electron-builder with this config (Linux dir target, up to where Electron itself is needed)', () => {
  let work = '';
  let project = '';
  let builtFiles: string[] = [];
  let run: { status: number | null; output: string } = { status: null, output: '' };

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'custos-builder-'));
    project = join(work, 'project');
    mkdirSync(project);

    // 1. The real bundles, built by electron-vite into the staging folder (out/ is left alone).
    const vite = spawnSync(process.execPath, [at('node_modules/electron-vite/bin/electron-vite.js'), 'build', '--config', at('electron.config.ts'), '--outDir', join(project, 'out'), '--logLevel', 'error'], {
      cwd: root,
      encoding: 'utf8',
    });
    if (vite.status !== 0) throw new Error(`electron-vite build failed:\n${vite.stdout}\n${vite.stderr}`);
    builtFiles = walk(join(project, 'out')).map((f) => relative(project, f));

    // 2. The project around them, with everything that must never be packaged.
    cpSync(at('package.json'), join(project, 'package.json'));
    cpSync(at('resources/fonts'), join(project, 'resources/fonts'), { recursive: true });
    const decoys: Record<string, string> = {
      'out/harness/index.html': '<!-- the end-to-end test host -->',
      'out/main/index.cjs.map': '{"version":3}',
      'main/index.ts': 'export {};',
      'preload/index.ts': 'export {};',
      'renderer/src/App.tsx': 'export {};',
      'shared/protocol/index.ts': 'export {};',
      'agent/cli.ts': 'export {};',
      'test/vault.test.ts': 'export {};',
      'test/fixtures/tss-lib/keydata.json': '{}',
      'keys/agent-signing.key': 'PRIVATE KEY',
      'vault/identity.age': 'age-encryption.org/v1',
      '.env': 'CUSTOS_PASSPHRASE=secret',
      'electron-builder.config.ts': 'export default {};',
      'node_modules/better-sqlite3/package.json': '{"name":"better-sqlite3","version":"12.11.1","main":"lib/index.js"}',
      'node_modules/better-sqlite3/lib/index.js': 'module.exports = {};',
      'node_modules/better-sqlite3/build/Release/better_sqlite3.node': 'ELF',
    };
    for (const [file, content] of Object.entries(decoys)) {
      mkdirSync(join(project, file, '..'), { recursive: true });
      writeFileSync(join(project, file), content);
    }
    const emptyElectronDist = join(work, 'electron-dist');
    mkdirSync(emptyElectronDist);

    // 3. electron-builder's CLI, as `npm run dist` runs it, for the Linux dir target.
    const electronVersion = (JSON.parse(readFileSync(at('node_modules/electron/package.json'), 'utf8')) as { version: string }).version;
    const r = spawnSync(
      process.execPath,
      [
        at('node_modules/electron-builder/cli.js'),
        '--config',
        at('electron-builder.config.ts'),
        '--projectDir',
        project,
        '--linux',
        'dir',
        '--x64',
        '--publish',
        'never',
        `-c.electronDist=${emptyElectronDist}`,
        `-c.electronVersion=${electronVersion}`,
        `-c.directories.output=${join(work, 'dist')}`,
      ],
      // electron-builder hides its log when it sees VITEST in the environment; the test reads the log.
      { cwd: project, encoding: 'utf8', env: { ...withoutVitest(process.env), CI: 'true', FORCE_COLOR: '0' } },
    );
    run = { status: r.status, output: `${r.stdout}\n${r.stderr}` };
  }, 120_000);

  afterAll(() => {
    if (work !== '') rmSync(work, { recursive: true, force: true });
  });

  it('the bundles are self-contained: they require only electron and Node built-ins', () => {
    const bundles = builtFiles.filter((f) => f.endsWith('.cjs'));
    expect(bundles.sort()).toEqual(['out/main/index.cjs', 'out/preload/index.cjs']);
    const allowed = new Set(['electron', ...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
    const main = requiredModules(join(project, 'out/main/index.cjs'));
    expect(main.filter((r) => !allowed.has(r)), 'out/main/index.cjs requires modules that are not in the package').toEqual([]);
    // The sandboxed preload may require only what Electron's sandbox provides.
    const sandboxed = new Set(['electron', 'events', 'timers', 'url', 'node:events', 'node:timers', 'node:url']);
    const preload = requiredModules(join(project, 'out/preload/index.cjs'));
    expect(preload.filter((r) => !sandboxed.has(r)), 'out/preload/index.cjs requires modules a sandboxed preload cannot load').toEqual([]);
  });

  it('loads and validates the TypeScript config, then stops exactly where the Electron binary is needed', () => {
    expect(run.output).toContain(`loaded configuration  file=${at('electron-builder.config.ts')}`);
    expect(run.output).toContain('skipped dependencies rebuild  reason=npmRebuild is set to false');
    expect(run.status).not.toBe(0);
    const unpacked = join(work, 'dist', 'linux-unpacked');
    expect(run.output).toContain(`rename '${join(unpacked, 'electron')}' -> '${join(unpacked, 'custos')}'`);
  });

  it('app.asar holds exactly the built app, the sheet font and package.json: no sources, tests, keys, maps or node_modules', () => {
    const asar = join(work, 'dist', 'linux-unpacked', 'resources', 'app.asar');
    const listed = listAsar(readFileSync(asar));
    const fonts = readdirSync(at('resources/fonts')).map((f) => `resources/fonts/${f}`);
    expect(listed).toEqual([...builtFiles.filter((f) => !f.startsWith('out/harness/') && !f.endsWith('.map')), ...fonts, 'package.json'].sort());
    expect(fonts).toContain('resources/fonts/custos-sheet-sc.ttf');
    expect(listed.some((f) => f.startsWith('out/renderer/assets/') && f.endsWith('.js'))).toBe(true);
  });
});
