// A small SVG chart of the benchmark: requests/s (bars) and p99 (labels) per row and payload.
const esc = (s) => String(s).replace(/[<>&]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;' })[c]);

export function barChart(rows) {
  const width = 900;
  const barH = 22;
  const left = 260;
  const max = Math.max(...rows.map((r) => r.rps));
  const parts = [];
  let y = 40;
  let payload;
  for (const r of rows) {
    if (r.payload !== payload) {
      payload = r.payload;
      parts.push(`<text x="10" y="${y + 14}" font-weight="bold">${esc(payload)}</text>`);
      y += barH + 4;
    }
    const w = ((width - left - 140) * r.rps) / max;
    const colour = r.row.startsWith('GATEHOUSE') ? '#2f6fde' : r.row === 'DIRECT' ? '#888' : '#d98c2b';
    parts.push(`<text x="20" y="${y + 15}">${esc(r.row)}</text>`);
    parts.push(`<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${barH - 4}" fill="${colour}"/>`);
    parts.push(`<text x="${left + w + 6}" y="${y + 15}">${r.rps.toFixed(0)} req/s · p99 ${r.p99} ms</text>`);
    y += barH;
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y + 20}" font-family="sans-serif" font-size="13">
<text x="10" y="22" font-size="16" font-weight="bold">Gatehouse vs. peers: requests/s (bars) and p99 latency</text>
${parts.join('\n')}
</svg>
`;
}
