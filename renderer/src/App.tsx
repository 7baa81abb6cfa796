import { useState } from 'react';
import { PROTOCOL_VERSION } from '../../shared/protocol/frame';
import { LANGUAGES, strings, type Language } from './i18n';

export function App() {
  const [lang, setLang] = useState<Language>('en');
  const t = strings[lang];
  return (
    <main lang={lang} data-state="home">
      <header>
        <h1>{t.appName}</h1>
        <label>
          {t.language}{' '}
          <select value={lang} onChange={(e) => { setLang(e.target.value as Language); }}>
            {LANGUAGES.map((l) => (
              <option key={l} value={l}>
                {l === 'en' ? 'English' : '简体中文'}
              </option>
            ))}
          </select>
        </label>
      </header>
      <p>{t.tagline}</p>
      <p>
        {t.protocol}: {PROTOCOL_VERSION}
      </p>
      <p>{t.offline}</p>
    </main>
  );
}
