// The Train page's live view: puts SVG pictures drawn by the server (digitlab/live_charts.py) in place, side by side while they fit,
// one under the other on a narrow screen, replacing the previous ones. Used for the Train page's live
// curves, redrawn several times a second: st.html's sanitiser removes SVG, an <img> is decoded again at
// every redraw, and one element for all the pictures is less for the page to lay out than one each.
export default function ({ data, parentElement }) {
  let row = parentElement.querySelector(".digitlab-svg-pictures");
  if (!row) {
    row = document.createElement("div");
    row.className = "digitlab-svg-pictures";
    row.style.cssText = "display:flex;flex-wrap:wrap;gap:1rem";
    parentElement.appendChild(row);
  }
  const pictures = Array.isArray(data) ? data : [];
  while (row.children.length > pictures.length) row.lastChild.remove();
  pictures.forEach((svg, i) => {
    let box = row.children[i];
    if (!box) {
      box = document.createElement("div");
      box.style.cssText = "flex:1 1 300px;min-width:0";
      row.appendChild(box);
    }
    if (box.__svg !== svg) {
      box.innerHTML = svg;
      box.__svg = svg;
    }
  });
}
