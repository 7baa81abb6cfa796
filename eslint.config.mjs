// ESLint flat config: typescript-eslint strict + type-checked everywhere, the purity rule for
// shared/ (code there runs unchanged in the renderer, the Electron main process and the agent, so it
// may not import Node built-ins or Electron, nor touch DOM or Node globals), and the layering rule
// (docs/architecture.md): shared → node → agent | main → preload → renderer, imports only downwards.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import { builtinModules } from 'node:module';
import { dirname, relative, resolve, sep } from 'node:path';

const nodeBuiltins = builtinModules.filter((m) => !m.startsWith('_'));

/**
 * Which top-level folders the code in each folder may NOT import. The agent (a server) and the
 * custodian app never import each other; what both need lives in node/ (Node-only) or shared/
 * (pure). scripts/, bench/ and test/ may import from every side.
 */
export const FORBIDDEN_LAYERS = {
  shared: ['node', 'agent', 'approver', 'main', 'preload', 'renderer'],
  node: ['agent', 'approver', 'main', 'preload', 'renderer'],
  agent: ['main', 'preload', 'renderer'],
  approver: ['main', 'preload', 'renderer'],
  main: ['agent', 'approver', 'renderer'],
  preload: ['node', 'agent', 'approver', 'main', 'renderer'],
  renderer: ['node', 'agent', 'approver', 'main'],
};

const ROOT = import.meta.dirname;
const topFolder = (path) => relative(ROOT, path).split(sep)[0] ?? '';

/**
 * `custos/layers`: a relative import is resolved against the importing file and refused when it
 * lands in a folder the importer's folder may not import (FORBIDDEN_LAYERS). Resolving the path,
 * rather than matching the import text, catches every spelling (`../main/x`, `../rpc/../../main/x`).
 */
export const layersPlugin = {
  rules: {
    layers: {
      meta: {
        type: 'problem',
        docs: { description: 'Imports go only downwards through the layers (docs/architecture.md).' },
        messages: { forbidden: '{{from}}/ may not import {{to}}/ ("{{spec}}"): the layers are shared → node → agent | main → preload → renderer (docs/architecture.md); move what both need to node/ or shared/.' },
        schema: [],
      },
      create(context) {
        const from = topFolder(context.filename);
        const forbidden = FORBIDDEN_LAYERS[from];
        if (forbidden === undefined) return {};
        const check = (node, spec) => {
          if (typeof spec !== 'string' || !spec.startsWith('.')) return;
          const to = topFolder(resolve(dirname(context.filename), spec));
          if (forbidden.includes(to)) context.report({ node, messageId: 'forbidden', data: { from, to, spec } });
        };
        const fromSource = (node) => {
          if (node.source) check(node.source, node.source.value);
        };
        return {
          ImportDeclaration: fromSource,
          ExportNamedDeclaration: fromSource,
          ExportAllDeclaration: fromSource,
          ImportExpression: (node) => {
            if (node.source.type === 'Literal') check(node.source, node.source.value);
          },
          TSImportType: (node) => {
            const arg = node.argument?.literal ?? node.argument;
            if (arg?.type === 'Literal') check(arg, arg.value);
          },
          TSExternalModuleReference: (node) => {
            if (node.expression.type === 'Literal') check(node.expression, node.expression.value);
          },
        };
      },
    },
  },
};

/** The block that turns the rule on for the layered folders (exported for test/layering.test.ts). */
export const layersConfig = {
  files: Object.keys(FORBIDDEN_LAYERS).map((folder) => `${folder}/**/*.{ts,tsx,mts,cts,js,mjs}`),
  plugins: { custos: layersPlugin },
  rules: { 'custos/layers': 'error' },
};

export default tseslint.config(
  { ignores: ['node_modules/**', 'out/**', 'dist/**', 'test-results/**', 'playwright-report/**', 'proto/gen/**', '**/*.gen.ts', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  layersConfig,
  {
    files: ['**/*.mjs', '**/*.cjs', '**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { globals: { ...globals.node }, parserOptions: { projectService: false, project: null } },
  },
  {
    // Tests may assert what they just built exists; a wrong guess fails the test loudly.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
  {
    files: ['shared/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [...nodeBuiltins, 'electron'].map((name) => ({
            name,
            message: 'shared/ is pure TypeScript: no Node built-ins or Electron (it runs in the renderer too).',
          })),
          patterns: [
            { group: ['node:*'], message: 'shared/ is pure TypeScript: no node:* imports.' },
            { group: ['electron/*'], message: 'shared/ may not import Electron.' },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        ...['window', 'document', 'navigator', 'localStorage', 'sessionStorage', 'location', 'fetch', 'XMLHttpRequest',
          'process', 'Buffer', 'require', 'module', '__dirname', '__filename', 'global', 'setImmediate'].map((name) => ({
          name,
          message: `shared/ must not use ${name}: it is a Node or DOM global.`,
        })),
      ],
    },
  },
);
