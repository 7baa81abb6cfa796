// Types of scripts/setup-lock.mjs (a plain script setup.mjs runs before anything is installed).
export declare const HASH_FILE: string;
export declare function lockHash(root: string): string;
export declare function npmCiNeeded(root: string): { needed: boolean; reason: string };
export declare function recordLockHash(root: string): void;
