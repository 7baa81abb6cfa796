// Types of scripts/make-ui-font.mjs (a plain Node script, also loaded by electron.config.ts).
import type { Plugin } from 'vite';

export declare const SOURCE_FONT: string;
export declare const OUT_DIR: string;
export declare const FAMILY: string;
export declare function catalogCharacters(): string[];
export declare function unicodeRange(chars: readonly string[]): string;
export declare function buildUiFont(outDir?: string): Promise<{ catalog: number; names: number; bytes: number; namesBytes: number }>;
export declare function uiFontPlugin(): Plugin;
