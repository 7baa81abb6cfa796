// Types of what eslint.config.mjs exports, for test/layering.test.ts (the config itself is plain JS
// so ESLint loads it without a build step).
import type { ESLint, Linter } from 'eslint';

/** Which top-level folders the code in each folder may not import. */
export declare const FORBIDDEN_LAYERS: Readonly<Record<string, readonly string[]>>;
/** The plugin holding the `layers` rule. */
export declare const layersPlugin: ESLint.Plugin;
/** The config block that turns `custos/layers` on for the layered folders. */
export declare const layersConfig: Linter.Config;

declare const config: Linter.Config[];
export default config;
