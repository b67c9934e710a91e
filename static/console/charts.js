// Over-marketing charts (admin/broadcasts/insight/*.html), drawn by the vendored Apache ECharts from the
// figures the page carries in data-chart / data-labels (no inline script: CSP).
(function () {
  "use strict";
  function percent(v) { return v === null || v === undefined ? "-" : (v * 100).toFixed(2) + "%"; }

  // The distance from an axis line to its name: past the widest tick label (about 7 px a character at
  // ECharts' 12 px, thousands separators and a minus sign included).
  function labelGap(values, signed) {
    var widest = values.reduce(function (m, v) { return Math.max(m, Math.abs(v || 0)); }, 0);
    var chars = widest.toLocaleString("en").length + (signed ? 1 : 0);
    return 16 + 7 * chars;
  }

  function accountOption(d, l) {
    var weekly = {};
    d.weeks.forEach(function (w) { weekly[w.week] = w.count; });
    var weekLine = d.days.map(function (day) { return weekly.hasOwnProperty(day) ? weekly[day] : null; });
    var marks = d.broadcasts.filter(function (b) { return d.days.indexOf(b.day) >= 0; }).map(function (b) {
      return { xAxis: b.day, name: b.title + " · " + percent(b.rate) };
    });
    return {
      animation: false,
      tooltip: { trigger: "axis" },
      legend: { data: [l.gained, l.lost, l.weekly] },
      // containLabel keeps the tick labels inside; each axis name stands beside its labels (nameGap from
      // the widest one), in the margin left for it, so neither is cut at the chart's edges.
      grid: { left: 34, right: 34, top: 40, bottom: 60, containLabel: true },
      xAxis: { type: "category", data: d.days },
      yAxis: [
        { type: "value", name: l.followers, nameLocation: "middle", nameGap: labelGap(d.gained.concat(d.lost), true) },
        { type: "value", minInterval: 1, name: l.weekly, nameLocation: "middle",
          nameGap: labelGap(d.weeks.map(function (w) { return w.count; }), false) }
      ],
      dataZoom: [{ type: "slider" }],
      series: [
        { name: l.gained, type: "bar", stack: "f", data: d.gained, itemStyle: { color: "#2e7d32" },
          markLine: { symbol: "none", label: { formatter: "{b}", position: "insideEndTop", fontSize: 10 },
                      lineStyle: { color: "#b02a37", type: "dashed" }, data: marks } },
        { name: l.lost, type: "bar", stack: "f", data: d.lost.map(function (v) { return -v; }),
          itemStyle: { color: "#b02a37" } },
        { name: l.weekly, type: "line", yAxisIndex: 1, connectNulls: true, data: weekLine, itemStyle: { color: "#1565c0" } }
      ]
    };
  }

  function curveOption(d, l) {
    var series = [{ name: l.own, type: "line", data: d.own, showSymbol: false, itemStyle: { color: "#b02a37" } }];
    if (d.usual) {
      series.push({ name: l.usual, type: "line", data: d.usual, showSymbol: false,
                    lineStyle: { type: "dashed" }, itemStyle: { color: "#6c757d" } });
    }
    return {
      animation: false,
      tooltip: { trigger: "axis", valueFormatter: percent },
      legend: { data: series.map(function (s) { return s.name; }) },
      grid: { left: 20, right: 30, top: 40, bottom: 50, containLabel: true },
      xAxis: { type: "category", data: d.hours, name: l.hours, nameLocation: "middle", nameGap: 30 },
      yAxis: { type: "value", axisLabel: { formatter: percent } },
      series: series
    };
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".bc-chart").forEach(function (el) {
      if (!window.echarts) { return; }
      var data = JSON.parse(el.dataset.chart), labels = JSON.parse(el.dataset.labels);
      var chart = window.echarts.init(el, null, { renderer: "canvas" });
      chart.setOption(el.dataset.kind === "account" ? accountOption(data, labels) : curveOption(data, labels));
      el.dataset.drawn = "yes";
      window.addEventListener("resize", function () { chart.resize(); });
    });
  });
})();
