// The class wall's grid of drawings (pages/wall.py, digitlab/app/wall_views.py), newest first.
//
// The wall polls the server every second; this keeps one tile per drawing id and only adds the new
// ones, removes the gone ones and moves the rest into order, so a drawing already on the projector is
// never drawn again (an <img> replaced would flicker as the browser decodes it anew). Every text,
// nicknames included, goes in as textContent: a nickname is plain text, never markup.
//
// data: {tiles: [{id, src, meant, read, right, nickname}], side: px, empty: text}
function tileFor(tile, side) {
  const box = document.createElement("figure");
  box.className = "wall-tile " + (tile.right ? "right" : "wrong");
  box.dataset.id = String(tile.id);
  box.dataset.meant = String(tile.meant);
  const img = document.createElement("img");
  img.src = tile.src;
  img.width = side;
  img.height = side;
  img.alt = `a ${tile.meant}, read as ${tile.read}`;
  const line = document.createElement("figcaption");
  const verdict = document.createElement("span");
  verdict.className = "verdict";
  verdict.textContent = tile.right ? `✓ ${tile.read}` : `✗ ${tile.read}`;
  line.append(verdict);
  if (!tile.right) {
    const meant = document.createElement("span");
    meant.className = "meant";
    meant.textContent = `meant ${tile.meant}`;
    line.append(meant);
  }
  box.append(img, line);
  if (tile.nickname) {
    const name = document.createElement("div");
    name.className = "nickname";
    name.textContent = tile.nickname;
    box.append(name);
  }
  box.__key = `${tile.id}:${tile.read}:${tile.right}:${side}`;
  return box;
}

export default function ({ data, parentElement }) {
  const tiles = Array.isArray(data?.tiles) ? data.tiles : [];
  const side = Number(data?.side) || 120;
  let grid = parentElement.querySelector(".wall-grid");
  if (!grid) {
    grid = document.createElement("div");
    grid.className = "wall-grid";
    grid.setAttribute("role", "list");
    parentElement.appendChild(grid);
  }
  grid.style.setProperty("--side", `${side}px`);
  const existing = new Map([...grid.querySelectorAll(".wall-tile")].map((el) => [el.dataset.id, el]));
  const wanted = new Set(tiles.map((tile) => String(tile.id)));
  for (const [id, el] of existing) if (!wanted.has(id)) el.remove();
  let before = grid.firstChild;
  for (const tile of tiles) {
    let el = existing.get(String(tile.id));
    const key = `${tile.id}:${tile.read}:${tile.right}:${side}`;
    if (!el || el.__key !== key) {  // new, or re-read by another model: only then drawn
      const fresh = tileFor(tile, side);
      if (el) el.replaceWith(fresh);
      el = fresh;
    }
    if (el !== before) grid.insertBefore(el, before);
    before = el.nextSibling;
  }
  let empty = parentElement.querySelector(".wall-empty");
  if (!tiles.length && data?.empty) {
    if (!empty) {
      empty = document.createElement("p");
      empty.className = "wall-empty";
      parentElement.appendChild(empty);
    }
    empty.textContent = data.empty;
  } else if (empty) empty.remove();
}
