// Members by profession (horizontal bar chart), data from the json_script tag "by-profession".
(function () {
  const source = document.getElementById("by-profession");
  const canvas = document.getElementById("chart-professions");
  if (!source || !canvas || typeof Chart === "undefined") return;
  const rows = JSON.parse(source.textContent);
  new Chart(canvas, {
    type: "bar",
    data: {
      labels: rows.map((r) => r[0]),
      datasets: [{ label: "Adhérents à jour", data: rows.map((r) => r[1]), backgroundColor: "#0d6efd" }],
    },
    options: {
      indexAxis: "y", responsive: true, maintainAspectRatio: false, animation: false,
      plugins: { legend: { display: false } },
      scales: { x: { beginAtZero: true, ticks: { precision: 0 } } },
    },
  });
})();
