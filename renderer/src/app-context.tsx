/** What every screen of the unlocked app shares: vault status, settings, navigation. */
import { createContext, useContext } from 'react';
import type { ResponseOf } from '../../shared/ipc/contract';

export const SCREENS = ['inbox', 'shares', 'receipts', 'recovery', 'inventory', 'trust', 'station', 'audit', 'settings'] as const;
export type ScreenId = (typeof SCREENS)[number];

export type VaultStatus = ResponseOf<'vault:status'>;
export type Settings = ResponseOf<'settings:get'>['settings'];

export interface AppState {
  readonly status: VaultStatus | null;
  readonly settings: Settings;
  /** Reads vault:status again (counts for the navigation, the pinned agent). */
  readonly refresh: () => Promise<void>;
  readonly go: (screen: ScreenId) => void;
}

export const AppContext = createContext<AppState | null>(null);

export function useApp(): AppState {
  const a = useContext(AppContext);
  if (a === null) throw new Error('useApp outside the app');
  return a;
}
