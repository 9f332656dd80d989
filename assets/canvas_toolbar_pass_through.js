// streamlit-drawable-canvas 0.13 keeps its toolbar invisible (opacity 0) over the top ~30 px of the
// canvas's right half until the canvas is hovered, and it still takes the pointer there: a touchscreen never
// hovers, so a stroke started there was lost. This lets the hidden toolbar pass the pointer through to the
// canvas; hovered, focused or pinned, it slides above the canvas and takes clicks as before. The canvas's
// styles live in its open shadow root, where page CSS does not reach, so a style element is added there.
const CSS = `.dc-toolbar{pointer-events:none}
.dc-root:hover>.dc-toolbar,.dc-toolbar:focus-within,.dc-toolbar[data-pinned=true]{pointer-events:auto}`;
const ID = "digitlab-toolbar-pass-through";
function patch() {
  for (const host of document.querySelectorAll('[data-testid="stBidiComponentIsolated"]')) {
    const root = host.shadowRoot;
    if (root && !root.getElementById(ID)) {
      const style = document.createElement("style");
      style.id = ID;
      style.textContent = CSS;
      root.appendChild(style);
    }
  }
}
export default function () {
  patch();
  const observer = new MutationObserver(patch);
  observer.observe(document.body, { childList: true, subtree: true });
  return () => observer.disconnect();
}
