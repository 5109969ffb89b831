// Drawing a SCaR region over its image: the box and point as SVG, the mask's outline on a canvas
// (decoded here from COCO's compressed RLE). Pure functions of a row; no page state.
"use strict";
window.SCARRegion = (function () {
  const SVG = "http://www.w3.org/2000/svg";

  function svgEl(tag, attrs) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    return node;
  }

  function div(className, text) {
    const node = document.createElement("div");
    node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // COCO compressed RLE: counts as 5-bit groups (char - 48), 0x20 = more groups follow,
  // 0x10 in the last group = negative; from the third count on, a delta to the count two back.
  function rleCounts(text) {
    const counts = [];
    let p = 0;
    while (p < text.length) {
      let value = 0, k = 0, more = true;
      while (more) {
        if (p >= text.length || k > 6) return null;
        const c = text.charCodeAt(p) - 48;
        if (c < 0 || c > 63) return null;
        value += (c & 0x1f) * Math.pow(2, 5 * k);
        more = (c & 0x20) !== 0;
        p++; k++;
        if (!more && (c & 0x10)) value -= Math.pow(2, 5 * k);
      }
      if (counts.length > 2) value += counts[counts.length - 2];
      if (value < 0) return null;
      counts.push(value);
    }
    return counts;
  }

  // The mask (column-major, as COCO stores it) or null when the RLE is malformed.
  function decodeMask(rle) {
    const h = rle.size[0], w = rle.size[1];
    const counts = rleCounts(rle.counts);
    if (!counts || h <= 0 || w <= 0 || h * w > 64e6) return null;
    let total = 0;
    for (const c of counts) total += c;
    if (total !== h * w) return null;
    const mask = new Uint8Array(h * w);
    let pos = 0, on = 0;
    for (const c of counts) {
      if (on) mask.fill(1, pos, pos + c);
      pos += c;
      on ^= 1;
    }
    return { mask: mask, h: h, w: w };
  }

  function drawMask(canvas, rle) {
    const decoded = decodeMask(rle);
    const rect = canvas.getBoundingClientRect();
    if (!decoded || rect.width < 2 || rect.height < 2) return;
    const dpr = window.devicePixelRatio || 1;
    const cw = Math.max(1, Math.round(rect.width * dpr)), ch = Math.max(1, Math.round(rect.height * dpr));
    canvas.width = cw;
    canvas.height = ch;
    const { mask, h, w } = decoded;
    const inside = new Uint8Array(cw * ch);
    const cols = new Int32Array(cw);
    for (let x = 0; x < cw; x++) cols[x] = Math.min(w - 1, Math.floor(((x + 0.5) * w) / cw)) * h;
    for (let y = 0; y < ch; y++) {
      const sy = Math.min(h - 1, Math.floor(((y + 0.5) * h) / ch));
      for (let x = 0; x < cw; x++) inside[y * cw + x] = mask[cols[x] + sy];
    }
    const ctx = canvas.getContext("2d");
    const image = ctx.createImageData(cw, ch);
    const px = image.data;
    const t = Math.max(1, Math.round(dpr));
    for (let y = 0; y < ch; y++) {
      for (let x = 0; x < cw; x++) {
        const i = y * cw + x;
        if (!inside[i]) continue;
        let edge = false;
        for (let dy = -t; dy <= t && !edge; dy++) {
          for (let dx = -t; dx <= t; dx++) {
            const xx = x + dx, yy = y + dy;
            if (xx < 0 || yy < 0 || xx >= cw || yy >= ch || !inside[yy * cw + xx]) { edge = true; break; }
          }
        }
        const o = i * 4;
        if (edge) { px[o] = 255; px[o + 1] = 214; px[o + 2] = 0; px[o + 3] = 255; }
        else { px[o] = 255; px[o + 1] = 214; px[o + 2] = 0; px[o + 3] = 46; }
      }
    }
    ctx.putImageData(image, 0, 0);
  }

  // Image size for the overlay's coordinate frame: recorded, else the mask's, else the box's extent.
  function frameOf(row) {
    let w = row.iw, h = row.ih;
    if ((!w || !h) && row.m) { h = row.m.size[0]; w = row.m.size[1]; }
    if ((!w || !h) && row.box) { w = Math.max(1, (row.box[0] + row.box[2]) * 1.1); h = Math.max(1, (row.box[1] + row.box[3]) * 1.1); }
    return { w: w || 640, h: h || 480 };
  }

  function figure(row, box, point, mask) {
    const { w, h } = frameOf(row);
    const fig = div("figure");
    fig.style.aspectRatio = w + " / " + h;
    if (row.th) {
      const img = document.createElement("img");
      img.decoding = "async";
      img.alt = row.img;
      img.src = row.th;
      fig.append(img);
    } else {
      fig.append(div("placeholder", (row.p || "no image") + ": " + row.img));
    }
    const svg = svgEl("svg", { viewBox: "0 0 " + w + " " + h, preserveAspectRatio: "none", class: "overlay" });
    if (box) svg.append(svgEl("rect", { class: "box", x: box[0], y: box[1], width: box[2], height: box[3] }));
    if (point) svg.append(svgEl("circle", { class: "point", cx: point[0], cy: point[1], r: Math.max(w, h) * 0.012 }));
    if (mask) {
      const canvas = document.createElement("canvas");
      canvas.className = "mask";
      canvas._rle = mask;
      fig.append(canvas);
    }
    fig.append(svg);
    return fig;
  }

  function drawMasks(root) {
    for (const canvas of root.querySelectorAll("canvas.mask")) if (canvas._rle) drawMask(canvas, canvas._rle);
  }

  return { decodeMask: decodeMask, figure: figure, drawMasks: drawMasks };
})();
