/**
 * The languages Custos speaks (one list for the app's settings, the IPC contract, the custodian CLI's
 * `--lang` and the renderer's locale files). BCP 47 tags.
 */
export const LANGUAGES = ['en', 'zh-CN'] as const;
export type Language = (typeof LANGUAGES)[number];
