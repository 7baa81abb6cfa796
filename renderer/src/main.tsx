import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
// The CJK UI font cut from the catalogs at build time (scripts/make-ui-font.mjs), then the styles.
import './generated/ui-font.css';
import './styles.css';

// Every module is evaluated by now (bench/renderer.ts reads this mark).
performance.mark('custos:modules-evaluated');

const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
}
