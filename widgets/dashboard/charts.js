// Chart.js, registered with only the parts the dashboard draws (tree-shaken by esbuild).
import {
  BarController, BarElement, CategoryScale, Chart, Filler, Legend, LinearScale, LineController, LineElement,
  PointElement, Tooltip,
} from "chart.js";

Chart.register(LineController, LineElement, PointElement, BarController, BarElement, CategoryScale, LinearScale,
  Legend, Tooltip, Filler);

const charts = new WeakMap();

/** Draw (or redraw) a line chart on `canvas`; the instance stays reachable as `canvas.chart` for tests and tools. */
export function lineChart(canvas, labels, datasets, { yMin, yMax, yTitle } = {}) {
  charts.get(canvas)?.destroy();
  const chart = new Chart(canvas, {
    type: "line",
    data: { labels, datasets: datasets.map((d, i) => ({ tension: 0, pointRadius: 4, borderWidth: 2,
      borderColor: COLORS[i % COLORS.length], backgroundColor: COLORS[i % COLORS.length], ...d })) },
    options: {
      responsive: true, maintainAspectRatio: false, animation: false, layout: { padding: { top: 8, right: 8 } },
      scales: { y: { min: yMin, max: yMax, title: { display: !!yTitle, text: yTitle } } },
      plugins: { legend: { position: "bottom" } },
    },
  });
  charts.set(canvas, chart);
  canvas.chart = chart;
  return chart;
}

const COLORS = ["#24402f", "#c0612b", "#3b6ea5", "#8a5fa8", "#a33a2b"];
