/** A latency-versus-throughput chart as a hand-written SVG: offered rate across, latency up (log scale). */

export interface ChartSeries {
  name: string;
  color: string;
  dashed: boolean;
  points: { rate: number; latencyMs: number }[];
}

const WIDTH = 760;
const HEIGHT = 420;
const MARGIN = { left: 70, right: 200, top: 40, bottom: 55 };

const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;');

export function latencyChartSvg(title: string, series: readonly ChartSeries[]): string {
  const points = series.flatMap((line) => line.points);
  const maxRate = Math.max(1, ...points.map((point) => point.rate)) * 1.05;
  const minLatency = Math.max(0.1, Math.min(...points.map((point) => point.latencyMs)));
  const maxLatency = Math.max(1, ...points.map((point) => point.latencyMs));
  const lowDecade = Math.floor(Math.log10(minLatency));
  const highDecade = Math.ceil(Math.log10(maxLatency));
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (rate: number) => MARGIN.left + (rate / maxRate) * plotWidth;
  const y = (latencyMs: number) =>
    MARGIN.top +
    plotHeight -
    ((Math.log10(Math.max(latencyMs, 10 ** lowDecade)) - lowDecade) / Math.max(1, highDecade - lowDecade)) *
      plotHeight;

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${MARGIN.left}" y="22" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
  ];
  for (let decade = lowDecade; decade <= highDecade; decade++) {
    const level = y(10 ** decade);
    parts.push(
      `<line x1="${MARGIN.left}" x2="${MARGIN.left + plotWidth}" y1="${level}" y2="${level}" stroke="#ddd"/>`,
      `<text x="${MARGIN.left - 8}" y="${level + 4}" text-anchor="end">${10 ** decade} ms</text>`,
    );
  }
  const rateStep =
    10 ** Math.floor(Math.log10(maxRate / 2)) * (maxRate / 10 ** Math.floor(Math.log10(maxRate)) > 5 ? 2 : 1);
  for (let rate = 0; rate <= maxRate; rate += rateStep) {
    parts.push(
      `<line x1="${x(rate).toFixed(1)}" x2="${x(rate).toFixed(1)}" y1="${MARGIN.top}" y2="${MARGIN.top + plotHeight}" stroke="#eee"/>`,
      `<text x="${x(rate).toFixed(1)}" y="${MARGIN.top + plotHeight + 18}" text-anchor="middle">${rate.toLocaleString('en-US')}</text>`,
    );
  }
  parts.push(
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="#333"/>`,
    `<text x="${MARGIN.left + plotWidth / 2}" y="${HEIGHT - 12}" text-anchor="middle">offered rate (events/s)</text>`,
    `<text transform="translate(16 ${MARGIN.top + plotHeight / 2}) rotate(-90)" text-anchor="middle">latency from scheduled send (log scale)</text>`,
  );
  series.forEach((line, index) => {
    const sorted = [...line.points].sort((a, b) => a.rate - b.rate);
    const path = sorted
      .map((point) => `${x(point.rate).toFixed(1)},${y(point.latencyMs).toFixed(1)}`)
      .join(' ');
    const dash = line.dashed ? ' stroke-dasharray="6 4"' : '';
    parts.push(`<polyline points="${path}" fill="none" stroke="${line.color}" stroke-width="2"${dash}/>`);
    for (const point of sorted) {
      parts.push(
        `<circle cx="${x(point.rate).toFixed(1)}" cy="${y(point.latencyMs).toFixed(1)}" r="3.5" fill="${line.color}"/>`,
      );
    }
    const legendY = MARGIN.top + 10 + index * 20;
    const legendX = MARGIN.left + plotWidth + 15;
    parts.push(
      `<line x1="${legendX}" x2="${legendX + 28}" y1="${legendY}" y2="${legendY}" stroke="${line.color}" stroke-width="2"${dash}/>`,
      `<text x="${legendX + 35}" y="${legendY + 4}">${escapeXml(line.name)}</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
