/**
 * The app: first run, unlock, then the screens with a left navigation. Which one shows is decided
 * by the main process (`vault:status`) and its events (`vault:locked`, `settings:changed`).
 * Every screen names its state in `data-state` for the end-to-end tests.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { EventPayload, IpcError } from '../../shared/ipc/contract';
import { custos } from './api';
import { AppContext, SCREENS, type AppState, type ScreenId, type Settings, type VaultStatus } from './app-context';
import { LANGUAGES, type Language } from './i18n';
import { Problem } from './ui/core';
import { I18nContext, makeI18n } from './ui/i18n-context';
import { FirstRun } from './screens/FirstRun';
import { Unlock } from './screens/Unlock';
import { Inbox } from './screens/Inbox';
import { Shares } from './screens/Shares';
import { Receipts } from './screens/Receipts';
import { Recovery } from './screens/Recovery';
import { Inventory } from './screens/Inventory';
import { Trust } from './screens/Trust';
import { Station } from './screens/Station';
import { Audit } from './screens/Audit';
import { SettingsScreen } from './screens/Settings';
import { AgentLinkIndicator } from './ui/AgentLink';

type Phase = 'loading' | 'first-run' | 'locked' | 'unlocked' | 'station-only' | 'failed';

const DEFAULT_SETTINGS: Settings = { version: 1, language: 'en', autoLockMinutes: 10, agentUrl: null, deletionCoolingDays: 7, recoveryMinExpiryMinutes: 60, recoveryExpectMode: 'any' };

/** Restarts main's auto-lock timer on the person's activity, at most every 15 s. */
function useActivity(active: boolean): void {
  const last = useRef(0);
  useEffect(() => {
    if (!active) return undefined;
    const ping = (): void => {
      const now = Date.now();
      if (now - last.current < 15_000) return;
      last.current = now;
      void custos().app.activity();
    };
    window.addEventListener('pointerdown', ping, { passive: true });
    window.addEventListener('keydown', ping, { passive: true });
    window.addEventListener('wheel', ping, { passive: true });
    return () => {
      window.removeEventListener('pointerdown', ping);
      window.removeEventListener('keydown', ping);
      window.removeEventListener('wheel', ping);
    };
  }, [active]);
}

export function App() {
  const [phase, setPhase] = useState<Phase>('loading');
  const [settings, setSettings] = useState<Settings>(DEFAULT_SETTINGS);
  const [status, setStatus] = useState<VaultStatus | null>(null);
  const [screen, setScreen] = useState<ScreenId>('inbox');
  const [locked, setLocked] = useState<EventPayload<'vault:locked'> | null>(null);
  const [failure, setFailure] = useState<IpcError | null>(null);
  const i18n = useMemo(() => makeI18n(settings.language), [settings.language]);
  const { t } = i18n;

  const refresh = useCallback(async (): Promise<void> => {
    const r = await custos().vault.status();
    if (r.ok) setStatus(r.value);
  }, []);

  // First screen: the language, then whether a vault exists and is unlocked.
  useEffect(() => {
    void (async () => {
      const s = await custos().settings.get();
      if (s.ok) setSettings(s.value.settings);
      const v = await custos().vault.status();
      if (!v.ok) {
        setFailure(v.error);
        setPhase('failed');
        return;
      }
      setStatus(v.value);
      if (!v.value.exists) setPhase('first-run');
      else if (!v.value.unlocked) setPhase('locked');
      else {
        setScreen(v.value.agent === null ? 'trust' : 'inbox');
        setPhase('unlocked');
      }
    })();
  }, []);

  useEffect(() => {
    const offLocked = custos().events.onLocked((e) => {
      setLocked(e);
      setPhase((p) => (p === 'unlocked' ? 'locked' : p));
      void refresh();
    });
    const offSettings = custos().events.onSettingsChanged((e) => {
      setSettings(e.settings);
    });
    return () => {
      offLocked();
      offSettings();
    };
  }, [refresh]);

  useEffect(() => {
    document.documentElement.lang = settings.language;
  }, [settings.language]);

  useActivity(phase === 'unlocked');

  const setLanguage = useCallback(async (language: Language): Promise<void> => {
    setSettings((s) => ({ ...s, language }));
    const r = await custos().settings.set({ change: { language } });
    if (r.ok) setSettings(r.value.settings);
  }, []);

  const app: AppState = useMemo(
    () => ({
      status,
      settings,
      refresh,
      go: (s: ScreenId) => {
        setScreen(s);
      },
    }),
    [status, settings, refresh],
  );

  const unlocked = async (): Promise<void> => {
    const r = await custos().vault.status();
    if (r.ok) {
      setStatus(r.value);
      setScreen((s) => (r.value.agent === null ? 'trust' : s));
    }
    setLocked(null);
    setPhase('unlocked');
  };

  const lockNow = async (): Promise<void> => {
    await custos().vault.lock();
    // The vault:locked event brings the unlock screen; this covers a lost event.
    setPhase('locked');
    void refresh();
  };

  const languageSwitch = (
    <div className="lang-switch" role="group" aria-label={t('language')}>
      {LANGUAGES.map((l) => (
        <button key={l} type="button" className={l === settings.language ? 'btn btn-small btn-selected' : 'btn btn-small btn-quiet'} aria-pressed={l === settings.language} onClick={() => void setLanguage(l)}>
          {l === 'en' ? 'English' : '简体中文'}
        </button>
      ))}
    </div>
  );

  let body;
  if (phase === 'loading') {
    body = (
      <main className="center" data-state="loading">
        <p className="busy" role="status" data-screen="loading" data-state="loading">
          <span className="spinner" aria-hidden="true" />
          {t('loading')}
        </p>
      </main>
    );
  } else if (phase === 'failed') {
    body = (
      <main className="center" data-state="failed">
        <div data-screen="failed" data-state="error">{failure === null ? null : <Problem error={failure} />}</div>
      </main>
    );
  } else if (phase === 'first-run') {
    body = (
      <FirstRun
        languageSwitch={languageSwitch}
        onDone={(goTo) => {
          void refresh().then(() => {
            setScreen(goTo);
            setPhase('unlocked');
          });
        }}
        onStation={() => {
          setScreen('station');
          setPhase('station-only');
        }}
      />
    );
  } else if (phase === 'locked') {
    body = (
      <Unlock
        status={status}
        locked={locked}
        languageSwitch={languageSwitch}
        onUnlocked={() => void unlocked()}
        onStation={() => {
          setScreen('station');
          setPhase('station-only');
        }}
      />
    );
  } else if (phase === 'station-only') {
    body = (
      <div className="solo">
        <div className="solo-bar">
          <button
            type="button"
            className="btn btn-quiet"
            onClick={() => {
              setPhase(status?.exists === true ? 'locked' : 'first-run');
            }}
          >
            ‹ {t('back')}
          </button>
          {/* Issue 13: the station-only operator reaches Settings (language, recovery agent) too. */}
          <div className="solo-nav" role="group" aria-label={t('navigation')}>
            {(['station', 'settings'] as const).map((s) => (
              <button key={s} type="button" className={screen === s ? 'btn btn-quiet nav-current' : 'btn btn-quiet'} aria-current={screen === s ? 'page' : undefined} data-nav={s} onClick={() => { setScreen(s); }}>
                {t(`nav_${s}`)}
              </button>
            ))}
          </div>
          {languageSwitch}
        </div>
        <main className="content" data-state="station-only">
          {screen === 'settings' ? <SettingsScreen stationOnly onLanguage={(l) => void setLanguage(l)} /> : <Station />}
        </main>
      </div>
    );
  } else {
    const counts = status?.counts;
    const badge = (s: ScreenId): number => {
      if (counts === null || counts === undefined) return 0;
      if (s === 'receipts') return counts.received;
      return 0;
    };
    body = (
      <div className="shell">
        <nav className="nav" aria-label={t('navigation')}>
          <p className="brand">
            <span className="brand-name">Custos</span>
            <span className="brand-sub">{t('brandSub')}</span>
          </p>
          <ul className="nav-list">
            {SCREENS.map((s) => (
              <li key={s}>
                <button type="button" className={s === screen ? 'nav-item nav-current' : 'nav-item'} aria-current={s === screen ? 'page' : undefined} data-nav={s} onClick={() => { setScreen(s); }}>
                  <span className="nav-label">{t(`nav_${s}`)}</span>
                  {badge(s) > 0 ? (
                    <span className="nav-badge" aria-label={t('waitingCount', { n: badge(s) })}>
                      {i18n.num(badge(s))}
                    </span>
                  ) : null}
                </button>
              </li>
            ))}
          </ul>
          <div className="nav-foot">
            <p className="nav-vault" title={status?.info?.code}>
              <span className="muted">{t('vaultOf')}</span>
              <span className="nav-vault-name">{status?.info?.name}</span>
            </p>
            <AgentLinkIndicator compact />
            <button type="button" className="btn btn-block" onClick={() => void lockNow()} data-testid="lock-now">
              {t('lockNow')}
            </button>
          </div>
        </nav>
        <main className="content" id="content" data-state="unlocked">
          {screen === 'inbox' ? <Inbox /> : null}
          {screen === 'shares' ? <Shares /> : null}
          {screen === 'receipts' ? <Receipts /> : null}
          {screen === 'recovery' ? <Recovery /> : null}
          {screen === 'inventory' ? <Inventory /> : null}
          {screen === 'trust' ? <Trust /> : null}
          {screen === 'station' ? <Station /> : null}
          {screen === 'audit' ? <Audit /> : null}
          {screen === 'settings' ? <SettingsScreen onLanguage={(l) => void setLanguage(l)} /> : null}
        </main>
      </div>
    );
  }

  return (
    <I18nContext.Provider value={i18n}>
      <AppContext.Provider value={app}>
        <div className="app" data-phase={phase} data-lang={settings.language}>
          {body}
        </div>
      </AppContext.Provider>
    </I18nContext.Provider>
  );
}
