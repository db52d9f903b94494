// Charts of the figures page: each <canvas data-chart="NAME" data-chart-kind="line|bar"> draws
// the series NAME of the JSON in #report-chart-data with Chart.js (static/vendor/chartjs). No
// inline script (CSP); the table under each chart holds the same numbers for screen readers and
// for anyone without JavaScript. A suppressed figure (small group) is null: a gap, not a zero.
(function () {
  "use strict";
  const source = document.getElementById("report-chart-data");
  if (!source || typeof window.Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  const locale = document.documentElement.lang || "nl";
  const number = new Intl.NumberFormat(locale, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  document.querySelectorAll("canvas[data-chart]").forEach((canvas) => {
    const series = data[canvas.dataset.chart];
    if (!series) return;
    const kind = canvas.dataset.chartKind === "bar" ? "bar" : "line";
    new window.Chart(canvas, {
      type: kind,
      data: {
        labels: series.labels,
        datasets: [{
          label: canvas.dataset.chartLabel || "",
          data: series.values,
          borderColor: "#1f5fa8",
          backgroundColor: kind === "bar" ? "rgba(31, 95, 168, 0.7)" : "#1f5fa8",
          spanGaps: false,
          tension: 0.2,
        }],
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        locale: locale,
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { label: (item) => `${number.format(item.parsed.y)} %` } },
        },
        scales: {
          y: { beginAtZero: true, ticks: { callback: (value) => `${number.format(value)} %` } },
        },
      },
    });
  });
})();
