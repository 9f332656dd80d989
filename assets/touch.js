// Touch fixes for every page (digitlab/app/workarounds.py, item 9), for plotly.js as Streamlit 1.67 bundles it.
//
// One tap on a Plotly chart selects what it lands on, as one click does. Plotly reads the point under
// the pointer when the pointer moves, and a click picks the point last read; a finger never moves
// before it touches, so the first tap on a confusion-matrix square only showed its hover label, and a
// second tap selected it. On every touch that starts on a plot, this sends the plot the pointer move a
// mouse would have made first.
//
// On a phone the page menu is a sidebar over the page, and it stayed open over the page just chosen:
// a tap on one of its pages now closes it, as its own « button does.
//
// Installed once per browser tab, whatever page mounts it.
const OVERLAY_BELOW_PX = 768; // Streamlit's sidebar covers the page below this width
export default function () {
  if (window.__digitlabTouch) return;
  window.__digitlabTouch = true;
  document.addEventListener(
    "touchstart",
    (event) => {
      const touch = event.touches[0];
      const target = event.target;
      if (!touch || !(target instanceof Element) || !target.closest(".js-plotly-plot")) return;
      const { clientX, clientY } = touch;
      target.dispatchEvent(new MouseEvent("mousemove", { clientX, clientY, bubbles: true }));
    },
    { capture: true, passive: true },
  );
  document.addEventListener(
    "click",
    (event) => {
      const target = event.target;
      if (!(target instanceof Element) || !target.closest('[data-testid="stSidebarNavLink"]')) return;
      if (window.innerWidth >= OVERLAY_BELOW_PX) return;
      setTimeout(() => {
        const sidebar = document.querySelector('[data-testid="stSidebar"]');
        if (sidebar?.getAttribute("data-collapsed") !== "false") return;
        document.querySelector('[data-testid="stSidebarCollapseButton"] button')?.click();
      }, 50);
    },
    { capture: true },
  );
}
