/**
 * English and Simplified Chinese strings. The Chinese table is typed by the English keys, so a
 * missing or extra key fails the typecheck.
 */
export const LANGUAGES = ['en', 'zh-CN'] as const;
export type Language = (typeof LANGUAGES)[number];

const en = {
  appName: 'Custos',
  tagline: 'Custodian vault for MPC key share backups',
  language: 'Language',
  protocol: 'Protocol version',
  offline: 'Offline: this app makes no network request unless you link an agent.',
} as const;

export type StringKey = keyof typeof en;

const zhCN: Record<StringKey, string> = {
  appName: 'Custos',
  tagline: 'MPC 密钥分片备份的托管保管库',
  language: '语言',
  protocol: '协议版本',
  offline: '离线：除非您关联了代理，本应用不会发出任何网络请求。',
};

export const strings: Record<Language, Record<StringKey, string>> = { en, 'zh-CN': zhCN };
