// Small inline-SVG charts (no library, no CDN, nothing inline the CSP forbids: colours come from CSS
// classes). Each chart is a role="img" with a text summary for screen readers, and scales with its box
// through its viewBox, so it stays readable on a 360 px screen.

const SVG = "http://www.w3.org/2000/svg";

function s(tag, attributes = {}, ...children) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  for (const child of children) element.append(child instanceof Node ? child : document.createTextNode(child));
  return element;
}

/** A round upper bound for an axis: 1, 2 or 5 times a power of ten, at least `max`. */
export function niceCeiling(max) {
  if (max <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  return [1, 2, 5, 10].map((step) => step * power).find((bound) => bound >= max);
}

/**
 * Grouped bars over time, drawn `width` units wide (pass the box's width in px so text keeps its size): `points` are {label, values: [a, b, ...]} and `series` the names and CSS
 * classes of the values ([{name: "sent", class: "series-sent"}, ...]). Every n-th label is drawn so the
 * axis never overlaps; each bar carries a <title> with its exact value (shown on hover).
 */
export function barChart(title, points, series, width = 640) {
  const height = 220;
  const left = 40;
  const bottom = 24;
  const top = 8;
  const plotHeight = height - bottom - top;
  const max = niceCeiling(Math.max(0, ...points.flatMap((point) => point.values)));
  const slot = (width - left) / Math.max(points.length, 1);
  const bar = Math.max(1, (slot * 0.8) / series.length);
  // About one label per 70 px, so they never overlap however narrow the chart is.
  const labelEvery = Math.ceil(points.length / Math.max(2, Math.floor((width - left) / 70)));
  const totals = series.map((item, index) => points.reduce((sum, point) => sum + point.values[index], 0));
  const summary = `${title}: ${series.map((item, index) => `${totals[index]} ${item.name}`).join(", ")}`;

  const svg = s("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart", role: "img", "aria-label": summary });
  svg.append(s("title", {}, summary));
  // Counts are whole: the middle line only where it falls on a whole number.
  for (const tick of max % 2 === 0 ? [0, max / 2, max] : [0, max]) {
    const y = top + plotHeight * (1 - tick / max);
    svg.append(s("line", { x1: left, x2: width, y1: y, y2: y, class: "chart-grid" }));
    svg.append(s("text", { x: left - 6, y: y + 4, class: "chart-axis", "text-anchor": "end" }, String(tick)));
  }
  points.forEach((point, index) => {
    const x0 = left + index * slot + slot * 0.1;
    point.values.forEach((value, which) => {
      const barHeight = (value / max) * plotHeight;
      const rect = s("rect", {
        x: x0 + which * bar,
        y: top + plotHeight - barHeight,
        width: bar,
        height: Math.max(barHeight, value > 0 ? 1 : 0),
        class: `chart-bar ${series[which].class}`,
      });
      rect.append(s("title", {}, `${point.label}: ${value} ${series[which].name}`));
      svg.append(rect);
    });
    if (index % labelEvery === 0) {
      svg.append(
        s("text", { x: x0 + (bar * series.length) / 2, y: height - 6, class: "chart-axis", "text-anchor": "middle" }, point.label),
      );
    }
  });
  return svg;
}

/** A legend for `series` (coloured keys by CSS class). */
export function legend(series) {
  const list = document.createElement("ul");
  list.className = "chart-legend";
  for (const item of series) {
    const entry = document.createElement("li");
    const key = document.createElement("span");
    key.className = `chart-key ${item.class}`;
    key.setAttribute("aria-hidden", "true");
    entry.append(key, item.name);
    list.append(entry);
  }
  return list;
}
