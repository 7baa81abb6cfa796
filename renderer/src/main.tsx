import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
// The CJK UI font cut from the catalogs at build time (scripts/make-ui-font.mjs), then the styles.
import './generated/ui-font.css';
import './styles.css';

// Every module is evaluated by now (bench/renderer.ts reads this mark).
performance.mark('custos:modules-evaluated');

const root = document.getElementById('root');
// The catalogs' CJK face is loaded before the first render (one small file of the app's own), so no
// Chinese word is ever painted as empty boxes and then left so; the face for names loads on demand.
const render = () => {
  if (root) {
    createRoot(root).render(
      <StrictMode>
        <App />
      </StrictMode>,
    );
  }
};
document.fonts.load('1em "Custos UI"', '简体中文').then(render, render);
