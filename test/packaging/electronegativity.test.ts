/**
 * @doyensec/electronegativity over the desktop app's sources: main/, preload/, renderer/ (with its
 * index.html) and shared/ (bundled into preload and renderer), with package.json for the Electron
 * version. The sources, not out/: in the bundles every `new BrowserWindow` becomes
 * `new electron.BrowserWindow`, which its window checks do not recognise, comments are gone, and
 * `.cjs` files are not scanned at all.
 *
 * The rule (issue 4): every finding is fixed, or explained on the line the scan points to with
 *   // eng-disable CHECK_ID — why this is safe here
 * (in HTML: `<!-- eng-disable CHECK_ID -->` on that line, the reason in a comment just above it,
 * since electronegativity's HTML pattern allows only words in that comment). The test fails on
 *  - any finding not disabled that way;
 *  - a disable without an explanation of at least EXPLANATION_WORDS words, or one on a file's
 *    first line (electronegativity would apply it to the whole file);
 *  - a disable that no longer suppresses anything (the scan runs a second time with every
 *    directive neutralised, and each directive must account for a finding there);
 *  - a file the scanner could not parse (it would otherwise skip it silently);
 *  - a scanner that finds nothing in a canary window made insecure on purpose.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, relative } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY, EXTERNAL_URL_ALLOW_LIST } from '../../main/harden';

const execFileAsync = promisify(execFile);

const root = join(import.meta.dirname, '..', '..');
const SCANNED_DIRS = ['main', 'preload', 'renderer', 'shared'];
const EXPLANATION_WORDS = 8;
const CANARY = '__canary__/insecure-window.ts';

interface Issue {
  id: string;
  file: string;
  line: number;
  column: number;
  severity: string;
  confidence: string;
  manualReview: boolean;
  description: string;
  sample: string;
}

interface Scan {
  excluded: string[];
  electronVersion: string | null;
  files: string[];
  globalChecks: number;
  atomicChecks: number;
  errors: { file: string; message: string; tolerable: boolean }[];
  issues: Issue[];
}

interface Directive {
  file: string;
  line: number;
  checks: string[];
  explanation: string;
}

const JS_DIRECTIVE = /(?:\/\*|\/\/)[ \t]*eng-disable[ \t]+([\w \t]+)/s; // electronegativity's own pattern
const HTML_DIRECTIVE = /<!--[ \t]*eng-disable[ \t]+([\w \t]+)-->/s;
const SCANNED_EXT = new Set(['.js', '.jsx', '.ts', '.tsx', '.html', '.htm']);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((d) => d.isFile() && SCANNED_EXT.has(extname(d.name)) && !join(d.parentPath, d.name).includes('node_modules'))
    .map((d) => join(d.parentPath, d.name));
}

/** The comment text on the lines just above `index` (comment-only lines, nearest last). */
function commentAbove(lines: string[], index: number, html: boolean): string {
  const parts: string[] = [];
  for (let i = index - 1; i >= 0; i--) {
    const t = lines[i]!.trim();
    const isComment = html ? t.startsWith('<!--') || t.endsWith('-->') || (parts.length > 0 && !t.startsWith('<')) : /^(\/\/|\/\*|\*)/.test(t);
    if (!isComment || t === '') break;
    parts.unshift(t);
  }
  return parts.join(' ');
}

function words(text: string): number {
  return text.split(/[^\p{L}\p{N}_'-]+/u).filter((w) => /\p{L}/u.test(w)).length;
}

/** Every eng-disable directive under `base`, with its explanation. */
function directives(base: string): Directive[] {
  const found: Directive[] = [];
  for (const dir of SCANNED_DIRS) {
    for (const file of sourceFiles(join(base, dir))) {
      const html = /\.html?$/.test(file);
      const lines = readFileSync(file, 'utf8').split('\n');
      lines.forEach((text, i) => {
        if (!text.includes('eng-disable')) return;
        const m = (html ? HTML_DIRECTIVE : JS_DIRECTIVE).exec(text);
        const tokens = (m?.[1] ?? '').trim().split(/[ \t,]+/).filter(Boolean);
        const checks = tokens.filter((t) => /^[A-Z][A-Z0-9_]*_CHECK$/.test(t));
        const inlineWords = tokens.filter((t) => !checks.includes(t)).join(' ');
        const rest = m ? text.slice((m.index) + m[0].length).replace(/\*\/.*$/, '').replace(/-->.*$/, '') : text;
        const explanation = [commentAbove(lines, i, html), inlineWords, rest.replace(/^[\s\-—–:;,.]+/, '')].filter((s) => s.trim() !== '').join(' ');
        found.push({ file: relative(base, file), line: i + 1, checks, explanation });
      });
    }
  }
  return found;
}

function stage(into: string, neutralise: boolean): void {
  for (const dir of SCANNED_DIRS) {
    cpSync(join(root, dir), join(into, dir), { recursive: true, filter: (src) => !src.includes('node_modules') });
  }
  cpSync(join(root, 'package.json'), join(into, 'package.json'));
  if (neutralise) {
    for (const dir of SCANNED_DIRS) {
      for (const file of sourceFiles(join(into, dir))) {
        const text = readFileSync(file, 'utf8');
        // Same length, same lines: only the keyword changes, so findings keep their positions.
        if (text.includes('eng-disable')) writeFileSync(file, text.replaceAll('eng-disable', 'eng-ignored'));
      }
    }
    // The canary goes into this scan only, so it cannot interfere with the real one.
    mkdirSync(join(into, '__canary__'));
    writeFileSync(
      join(into, CANARY),
      "import { BrowserWindow } from 'electron';\nexport const insecure = new BrowserWindow({ webPreferences: { contextIsolation: false } });\n",
    );
  }
}

async function scan(input: string, output: string): Promise<Scan> {
  try {
    await execFileAsync(process.execPath, [join(root, 'test/packaging/electronegativity-scan.mjs'), input, output], {
      cwd: root,
      env: { ...process.env, LANG: 'en-US' },
      timeout: 120_000,
    });
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    throw new Error(`electronegativity failed (exit ${String(e.code)}):\n${e.stdout ?? ''}\n${e.stderr ?? ''}`, { cause: error });
  }
  return JSON.parse(readFileSync(output, 'utf8')) as Scan;
}

const key = (i: Issue): string => `${i.id}|${i.file}|${String(i.line)}|${String(i.column)}`;
const describeIssue = (i: Issue): string =>
  `${i.file}:${String(i.line)}:${String(i.column)} ${i.id} (${i.severity}, ${i.confidence}${i.manualReview ? ', review' : ''}): ${i.description}${i.sample ? ` — ${i.sample.slice(0, 140)}` : ''}`;

describe('electronegativity over main, preload, renderer and shared', () => {
  let work = '';
  let real: Scan;
  let stripped: Scan;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'custos-eng-'));
    const a = join(work, 'as-is');
    const b = join(work, 'no-directives');
    stage(a, false);
    stage(b, true);
    // Two processes side by side: each waits about a second for a translation download that
    // cannot succeed offline.
    [real, stripped] = await Promise.all([scan(a, join(work, 'as-is.json')), scan(b, join(work, 'no-directives.json'))]);
  }, 240_000);

  afterAll(() => {
    if (work !== '') rmSync(work, { recursive: true, force: true });
  });

  it('scans every source file of the three processes, for the Electron version in package.json', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
    expect(real.electronVersion).toBe(pkg.devDependencies['electron']);
    const expected = SCANNED_DIRS.flatMap((d) => sourceFiles(join(root, d)).map((f) => relative(root, f)));
    expect(real.files.filter((f) => f !== 'package.json').sort()).toEqual(expected.sort());
    for (const entry of ['main/index.ts', 'preload/index.ts', 'renderer/index.html', 'renderer/src/main.tsx']) expect(real.files).toContain(entry);
    expect(real.excluded).toEqual(['AvailableSecurityFixesGlobalCheck', 'ElectronVersionJSONCheck']);
    expect(real.atomicChecks).toBeGreaterThanOrEqual(35);
    expect(real.globalChecks).toBeGreaterThanOrEqual(5);
  });

  it('parses every file (a file it cannot parse is a file it did not check)', () => {
    expect(real.errors.map((e) => `${e.file}: ${e.message}`)).toEqual([]);
  });

  it('is awake: it reports the insecure canary window', () => {
    const canary = stripped.issues.filter((i) => i.file === CANARY).map((i) => i.id);
    expect(canary).toEqual(expect.arrayContaining(['CONTEXT_ISOLATION_JS_CHECK', 'SANDBOX_JS_CHECK']));
  });

  it('has no finding that is neither fixed nor explained where the scan points', () => {
    const unexplained = real.issues.map(describeIssue);
    expect(
      unexplained,
      `Fix each finding, or explain it on the line it points to: // eng-disable CHECK_ID — why it is safe (at least ${String(EXPLANATION_WORDS)} words)`,
    ).toEqual([]);
  });

  it('every eng-disable explains itself, sits where a finding is, and still suppresses one', () => {
    const list = directives(root);
    const problems: string[] = [];
    const realKeys = new Set(real.issues.map(key));
    const suppressed = stripped.issues.filter((i) => i.file !== CANARY && !realKeys.has(key(i)));
    for (const d of list) {
      const where = `${d.file}:${String(d.line)}`;
      if (d.checks.length === 0) problems.push(`${where}: eng-disable names no check (CHECK_ID expected, e.g. OPEN_EXTERNAL_JS_CHECK)`);
      if (d.line === 1) problems.push(`${where}: an eng-disable on the first line disables the check for the whole file; put it on the line the scan points to`);
      if (words(d.explanation) < EXPLANATION_WORDS) problems.push(`${where}: eng-disable ${d.checks.join(' ')} needs an explanation of at least ${String(EXPLANATION_WORDS)} words (got "${d.explanation}")`);
      for (const check of d.checks) {
        const hit = suppressed.some((i) => i.file === d.file && i.line === d.line && i.id === check);
        if (!hit) problems.push(`${where}: eng-disable ${check} suppresses nothing (no such finding on this line any more); remove it`);
      }
    }
    for (const i of suppressed) {
      if (!list.some((d) => d.file === i.file && d.line === i.line && d.checks.includes(i.id))) {
        problems.push(`suppressed without a directive naming it: ${describeIssue(i)}`);
      }
    }
    expect(problems).toEqual([]);
  });

  // The explanations in main/harden.ts and renderer/index.html make claims; these keep them true.
  it('the claims the explanations make still hold', () => {
    const html = readFileSync(join(root, 'renderer/index.html'), 'utf8');
    const meta = /<meta http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1];
    expect(CONTENT_SECURITY_POLICY).toBe(`${meta ?? '(no CSP meta tag)'}; frame-ancestors 'none'`);
    expect(meta).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
    for (const prefix of EXTERNAL_URL_ALLOW_LIST) expect(prefix).toMatch(/^https:\/\/[a-z0-9.-]+\//);
    const rendered = sourceFiles(join(root, 'renderer/src')).filter((f) => /dangerouslySetInnerHTML|\.innerHTML\s*=|outerHTML\s*=|insertAdjacentHTML|document\.write/.test(readFileSync(f, 'utf8')));
    expect(rendered.map((f) => relative(root, f)), 'renderer code that turns data into HTML').toEqual([]);
  });
});

