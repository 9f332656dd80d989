// Puts an SVG picture drawn by the server (digitlab/live_charts.py) in place, replacing the previous one.
// Used for the Train page's live curves, redrawn several times a second: st.html's sanitiser removes SVG,
// and a picture in an <img> is decoded again at every redraw.
export default function ({ data, parentElement }) {
  let box = parentElement.querySelector(".digitlab-svg-picture");
  if (!box) {
    box = document.createElement("div");
    box.className = "digitlab-svg-picture";
    parentElement.appendChild(box);
  }
  if (box.__svg !== data) {
    box.innerHTML = data;
    box.__svg = data;
  }
}
