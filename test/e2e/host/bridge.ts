/**
 * Browser entry of the end-to-end bridge: injected into the page BEFORE the renderer's own scripts
 * (Playwright `page.addInitScript`, see fixture.ts), it defines `window.custos` exactly where
 * Electron's preload would (contextBridge.exposeInMainWorld('custos', api)): frozen, not
 * writable, the same functions. The token comes from `window.__CUSTOS_HOST__`, set by an init script
 * just before this one, and is removed from the page once read.
 */
import { createBridge } from './bridge-core';

declare global {
  interface Window {
    __CUSTOS_HOST__?: { token: string };
  }
}

function deepFreeze<T>(value: T): T {
  if ((typeof value === 'object' && value !== null) || typeof value === 'function') {
    for (const v of Object.values(value as object)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

const config = window.__CUSTOS_HOST__;
if (config !== undefined && window.location.protocol === 'http:' && window.location.hostname === '127.0.0.1') {
  delete window.__CUSTOS_HOST__;
  const { api } = createBridge({ baseUrl: window.location.origin, token: config.token });
  Object.defineProperty(window, 'custos', { value: deepFreeze(api), writable: false, configurable: false, enumerable: true });
}
