/**
 * The preload bridge: one `as const` object built from per-feature modules, exposed with
 * contextBridge. The renderer's type for it is derived from this object (`CustosApi` below), never
 * written twice.
 */
import { contextBridge } from 'electron';
import { appInfo } from './app-info';

export const api = {
  app: appInfo,
} as const;

export type CustosApi = typeof api;

contextBridge.exposeInMainWorld('custos', api);
