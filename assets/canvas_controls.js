// The Draw page's Erase and Clear buttons, and strokes in the canvas's top-right corner, for
// streamlit-drawable-canvas 0.13.
//
// Erase and Clear work in the browser, at once, by pressing the canvas's own toolbar buttons ("Undo",
// "Reset canvas & history"); the canvas then sends its new drawing to the app itself. Buttons that asked
// the server to reload the canvas instead lost the next stroke: the reload arrived after the student had
// started drawing again, and replaced the canvas, that stroke included.
//
// The canvas's own toolbar is hidden for good: invisible (opacity 0) until the canvas was hovered for 0.2 s,
// it still sat over the top ~30 px of the canvas's right half and took the pointer there, so a stroke
// started there was lost: always on a touchscreen, which never hovers, and with a mouse that went
// straight from Clear to that corner. The page's own buttons press its buttons instead (a click() on a
// hidden button still runs it). Its styles live in the canvas's open shadow root, where page CSS does not
// reach, so a style element is added there; !important beats the inline display the canvas sets.
const CSS = `.dc-toolbar{display:none !important}`;
const STYLE_ID = "digitlab-hide-canvas-toolbar";
const UNDO = "Undo";
const RESET = "Reset canvas & history";

function canvasRoots() {
  return [...document.querySelectorAll('[data-testid="stBidiComponentIsolated"]')]
    .map((host) => host.shadowRoot)
    .filter((root) => root && root.querySelector(".dc-toolbar"));
}

function patch() {
  for (const root of canvasRoots()) {
    if (!root.getElementById(STYLE_ID)) {
      const style = document.createElement("style");
      style.id = STYLE_ID;
      style.textContent = CSS;
      root.appendChild(style);
    }
  }
}

function toolbarButton(label) {
  for (const root of canvasRoots()) {
    const button = root.querySelector(`.dc-toolbar button[aria-label="${label}"]`);
    if (button) return button;
  }
  return null;
}

// Material Symbols "backspace" and "restart_alt", inline: the page's icon font is not in this shadow root.
const ICONS = {
  backspace:
    '<path d="M22 3H7c-.69 0-1.23.35-1.59.88L0 12l5.41 8.11c.36.53.9.89 1.59.89h15c1.1 0 2-.9 2-2V5c0-1.1-.9-2-2-2zm0 16H7.07L2.4 12l4.66-7H22v14zm-11.59-2L14 13.41 17.59 17 19 15.59 15.41 12 19 8.41 17.59 7 14 10.59 10.41 7 9 8.41 12.59 12 9 15.59z"/>',
  restart_alt:
    '<path d="M12 5V2L8 6l4 4V7c3.31 0 6 2.69 6 6 0 2.97-2.17 5.43-5 5.91v2.02c3.95-.49 7-3.85 7-7.93 0-4.42-3.58-8-8-8zm-6 8c0-1.65.67-3.15 1.76-4.24L6.34 7.34A7.95 7.95 0 0 0 4 13c0 4.08 3.05 7.44 7 7.93v-2.02c-2.83-.48-5-2.94-5-5.91z"/>',
};

function makeButton(text, title, icon, label) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "digitlab-pad-button";
  button.title = title;
  button.innerHTML = `<svg viewBox="0 0 24 24" width="20" height="20" fill="currentColor" aria-hidden="true">${ICONS[icon]}</svg>${text}`;
  button.addEventListener("click", () => {
    const target = toolbarButton(label);
    if (target && !target.disabled) target.click();
  });
  return button;
}

const PAD_CSS = `.digitlab-pad{display:flex;gap:.5rem;flex-wrap:wrap}
.digitlab-pad-button{display:inline-flex;align-items:center;gap:.35rem;min-height:44px;min-width:44px;
padding:.25rem .85rem;font:inherit;font-size:1rem;line-height:1.6;color:var(--st-text-color,#31333f);
background:var(--st-secondary-background-color,#f0f2f6);border:1px solid rgba(49,51,63,.2);border-radius:.5rem;
cursor:pointer;touch-action:manipulation}
.digitlab-pad-button:hover:not(:disabled){border-color:var(--st-primary-color,#ff4b4b);color:var(--st-primary-color,#ff4b4b)}
.digitlab-pad-button:focus-visible{outline:2px solid var(--st-primary-color,#ff4b4b);outline-offset:2px}
.digitlab-pad-button:disabled{opacity:.45;cursor:not-allowed}`;

export default function ({ parentElement }) {
  patch();
  let pad = parentElement.querySelector(".digitlab-pad");
  if (!pad) {
    const style = document.createElement("style");
    style.textContent = PAD_CSS;
    pad = document.createElement("div");
    pad.className = "digitlab-pad";
    pad.append(
      makeButton("Erase", "Take back the last stroke.", "backspace", UNDO),
      makeButton("Clear", "Start again on an empty canvas.", "restart_alt", RESET),
    );
    parentElement.append(style, pad);
  }
  const [erase, clear] = pad.querySelectorAll("button");
  // Both follow the canvas: nothing to take back (a fresh or just-cleared canvas), nothing to clear.
  const sync = () => {
    const undo = toolbarButton(UNDO);
    const empty = !undo || undo.disabled;
    erase.disabled = empty;
    clear.disabled = empty;
  };
  sync();
  const observer = new MutationObserver(() => {
    patch();
    sync();
  });
  observer.observe(document.body, { childList: true, subtree: true });
  const watched = new Set();
  const watchToolbars = () => {
    for (const root of canvasRoots()) {
      if (!watched.has(root)) {
        watched.add(root);
        observer.observe(root, { attributes: true, subtree: true, attributeFilter: ["disabled"] });
      }
    }
  };
  watchToolbars();
  const timer = setInterval(() => {
    watchToolbars();
    sync();
  }, 500);
  return () => {
    observer.disconnect();
    clearInterval(timer);
  };
}
