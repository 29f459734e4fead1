//! `check --report FILE`: one self-contained HTML page (styles, script and data inline; no
//! network) with what a person wants after auditing millions of exchanges: when failures
//! happened (a timeline per minute by class), which codes and devices, which rules were broken,
//! and a searchable table of the first failed exchanges. Everything in it is an aggregate from
//! the [`Tally`], so its size does not grow with the capture.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use serde_json::json;

use super::tally::{self, GroupBy, MAX_FAILED_ROWS, Tally};
use crate::apis::{Api, Lang};

/// Rows of the code and device tables.
const TOP: usize = 50;

/// Writes the report.
pub fn write(path: &Path, title: &str, tally: &Tally, lang: Lang) -> std::io::Result<()> {
    let html = render(title, tally, lang);
    let mut file = std::fs::File::create(path)?;
    file.write_all(html.as_bytes())?;
    file.flush()
}

/// Text made safe for HTML.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The page; `lang` is the language of the registry's group titles (`check --lang`).
pub fn render(title: &str, tally: &Tally, lang: Lang) -> String {
    let columns = tally::timeline_columns();
    let buckets: Vec<serde_json::Value> =
        tally.timeline.buckets.iter().map(|(start, counts)| json!([start, counts])).collect();
    let data = json!({
        "width": tally.timeline.width,
        "columns": columns,
        "buckets": buckets,
        "untimed": tally.timeline.untimed,
    });
    // `<` never appears raw inside the script element, so no text can close it.
    let data = data.to_string().replace('<', "\\u003c");

    let mut h = String::new();
    let _ = write!(
        h,
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{STYLE}</style></head>
<body>
<h1>{title}</h1>
<p class="totals"><b id="exchanges">{exchanges}</b> exchanges · <b id="failed">{failed}</b> failed · <b id="nonconforming">{nonconforming}</b> with protocol violations · <b id="unreadable">{unreadable}</b> unreadable{unknown}</p>
"#,
        title = esc(title),
        exchanges = tally.exchanges,
        failed = tally.failures,
        nonconforming = tally.non_conforming,
        unreadable = tally.broken,
        unknown = if tally.unknown_api > 0 {
            format!(" · {} of neither API", tally.unknown_api)
        } else {
            String::new()
        },
    );

    let _ = write!(
        h,
        r#"<section id="timeline"><h2>Timeline</h2>
<p class="note" id="timeline-note">Exchanges per {width} by class (UTC), from HAR <code>startedDateTime</code> or the NDJSON <code>time</code> member.{untimed}</p>
<canvas id="chart" width="1100" height="280" role="img" aria-label="exchanges per time bucket by class"></canvas>
<div id="legend"></div></section>
"#,
        width = if tally.timeline.width == 60 {
            "minute".to_owned()
        } else {
            format!("{} minutes", tally.timeline.width / 60)
        },
        untimed = if tally.timeline.untimed > 0 {
            format!(" {} exchange(s) have no time and are not drawn.", tally.timeline.untimed)
        } else {
            String::new()
        },
    );

    // Top codes with their registry rows.
    let mut codes: Vec<_> = tally.by_code.iter().collect();
    codes.sort_by(|a, b| b.1.count.cmp(&a.1.count).then(a.0.cmp(b.0)));
    h.push_str("<section id=\"codes\"><h2>Top failure codes</h2>\n");
    if codes.is_empty() {
        h.push_str("<p>No failures.</p>\n");
    } else {
        h.push_str("<table><thead><tr><th>code</th><th class=\"n\">failures</th><th>reason</th><th>group</th><th>class</th><th>retry</th><th>advice</th></tr></thead><tbody>\n");
        for (key, code) in codes.iter().take(TOP) {
            let (reason, class, retry, advice) = match code.entry {
                Some(e) => {
                    (e.reason.as_str(), e.class.as_str(), e.retry.as_str(), e.advice.as_str())
                }
                None => ("(no registry row)", "", "", ""),
            };
            // The key is `bravia 40801`: its API names the registry holding the group.
            let registry = key.split_once(' ').and_then(|(api, _)| Api::from_prefix(api));
            let group = match (code.entry, registry) {
                (Some(e), Some(api)) => {
                    api.registry().group(&e.group).map_or(e.group.as_str(), |g| g.title(lang.tag()))
                }
                _ => "",
            };
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td class=\"n\">{}</td><td>{}</td><td lang=\"{}\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(key),
                code.count,
                esc(reason),
                lang.tag(),
                esc(group),
                esc(class),
                esc(retry),
                esc(advice)
            );
        }
        h.push_str("</tbody></table>\n");
        if codes.len() > TOP {
            let _ = writeln!(h, "<p class=\"note\">{} more codes.</p>", codes.len() - TOP);
        }
    }
    h.push_str("</section>\n");

    // Top devices.
    let devices = tally.sorted_groups(GroupBy::Device);
    h.push_str("<section id=\"devices\"><h2>Top devices</h2>\n");
    h.push_str("<table><thead><tr><th>device</th><th class=\"n\">exchanges</th><th class=\"n\">failed</th><th class=\"n\">with violations</th></tr></thead><tbody>\n");
    for (key, c) in devices.iter().take(TOP) {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            esc(key),
            c.exchanges,
            c.failed,
            c.non_conforming
        );
    }
    h.push_str("</tbody></table>\n");
    if devices.len() > TOP {
        let _ = writeln!(h, "<p class=\"note\">{} more devices.</p>", devices.len() - TOP);
    }
    h.push_str("</section>\n");

    // Rules.
    h.push_str("<section id=\"rules\"><h2>Violations by rule</h2>\n");
    if tally.violations.is_empty() && tally.tolerated.is_empty() {
        h.push_str("<p>Every exchange follows its API's rules.</p>\n");
    } else {
        h.push_str("<table><thead><tr><th>rule</th><th>severity</th><th class=\"n\">exchanges</th></tr></thead><tbody>\n");
        let mut rules: Vec<(&str, &str, u64)> = tally
            .violations
            .iter()
            .map(|(r, n)| (*r, "violation", *n))
            .chain(tally.tolerated.iter().map(|(r, n)| (*r, "tolerated", *n)))
            .collect();
        rules.sort_by(|a, b| a.1.cmp(b.1).reverse().then(b.2.cmp(&a.2)).then(a.0.cmp(b.0)));
        for (rule, severity, n) in rules {
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td class=\"{severity}\">{severity}</td><td class=\"n\">{n}</td></tr>",
                esc(rule)
            );
        }
        h.push_str("</tbody></table>\n");
    }
    h.push_str("</section>\n");

    // Failed exchanges.
    let _ = write!(
        h,
        "<section id=\"failed-exchanges\"><h2>Failed exchanges</h2>\n<p class=\"note\">{}</p>\n<input id=\"search\" type=\"search\" placeholder=\"filter: code, device, URL, rule…\" aria-label=\"filter the failed exchanges\"> <span id=\"shown\"></span>\n",
        if tally.failures as usize > tally.failed_rows.len() {
            format!(
                "The first {} of {} failed exchanges (the counts above cover them all).",
                tally.failed_rows.len(),
                tally.failures
            )
        } else {
            format!("All {} failed exchanges.", tally.failures)
        }
    );
    h.push_str("<table id=\"failed\"><thead><tr><th>position</th><th>time (UTC)</th><th>device</th><th>request</th><th>diagnosis</th></tr></thead><tbody>\n");
    for row in tally.failed_rows.iter().take(MAX_FAILED_ROWS) {
        let time = row.time.map(devfault_core::capture::format_minute).unwrap_or_default();
        let mut diagnosis = esc(&row.summary);
        if !row.advice.is_empty() {
            let _ =
                write!(diagnosis, "<br><span class=\"advice\">advice: {}</span>", esc(&row.advice));
        }
        for finding in &row.findings {
            let _ = write!(diagnosis, "<br><span class=\"finding\">{}</span>", esc(finding));
        }
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"url\">{}</td><td>{diagnosis}</td></tr>",
            esc(&row.position),
            esc(&time),
            esc(&row.device),
            esc(&row.request)
        );
    }
    h.push_str("</tbody></table></section>\n");
    let _ = write!(
        h,
        "<script type=\"application/json\" id=\"data\">{data}</script>\n<script>{SCRIPT}</script>\n</body></html>\n"
    );
    h
}

const STYLE: &str = r##"
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#1d2330;background:#fff}
h1{font-size:1.3em}h2{font-size:1.1em;margin-top:1.6em}
table{border-collapse:collapse;width:100%;margin:.4em 0}
th,td{border-bottom:1px solid #dde;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f2f4f8}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.note{color:#556}.advice{color:#365}.finding{color:#933}.violation{color:#b00}.tolerated{color:#a60}
td.url{word-break:break-all;max-width:28em}
#legend span{display:inline-block;margin-right:1em}#legend i{display:inline-block;width:.9em;height:.9em;margin-right:.3em;vertical-align:middle}
canvas{max-width:100%;border:1px solid #dde}
#search{width:24em;padding:.3em}
"##;

const SCRIPT: &str = r##"
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("data").textContent);
  var colors = ["#d1495b", "#edae49", "#8d5a97", "#00798c", "#30638e", "#e07a5f",
                "#6a994e", "#bc4749", "#7f5539", "#9c6644", "#577590", "#f28482", "#adb5bd", "#b8e0c8"];
  function color(i, name) { return name === "ok" ? "#b8e0c8" : name === "unclassified" ? "#adb5bd" : colors[i % 12]; }
  var canvas = document.getElementById("chart");
  var ctx = canvas.getContext("2d");
  var w = canvas.width, h = canvas.height, left = 50, bottom = 24, top = 8;
  var buckets = data.buckets;
  var max = 0;
  buckets.forEach(function (b) { var s = b[1].reduce(function (a, n) { return a + n; }, 0); if (s > max) max = s; });
  ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, w, h);
  ctx.strokeStyle = "#889"; ctx.beginPath(); ctx.moveTo(left, top); ctx.lineTo(left, h - bottom); ctx.lineTo(w, h - bottom); ctx.stroke();
  ctx.fillStyle = "#334"; ctx.font = "11px sans-serif"; ctx.fillText(String(max), 4, top + 10); ctx.fillText("0", 4, h - bottom);
  var drawn = 0;
  if (buckets.length > 0 && max > 0) {
    var first = buckets[0][0], last = buckets[buckets.length - 1][0];
    var slots = Math.max(1, (last - first) / data.width + 1);
    var bw = (w - left - 2) / slots;
    buckets.forEach(function (b) {
      var x = left + 1 + ((b[0] - first) / data.width) * bw, y = h - bottom;
      b[1].forEach(function (n, i) {
        if (n === 0) return;
        var bh = (n / max) * (h - bottom - top);
        ctx.fillStyle = color(i, data.columns[i]);
        ctx.fillRect(x, y - bh, Math.max(1, bw - 1), bh);
        y -= bh;
      });
      drawn++;
    });
    var label = function (t) { return new Date(t * 1000).toISOString().slice(0, 16).replace("T", " "); };
    ctx.fillStyle = "#334";
    ctx.fillText(label(first), left, h - 6);
    var end = label(last); ctx.fillText(end, w - ctx.measureText(end).width - 2, h - 6);
  } else {
    ctx.fillStyle = "#556"; ctx.fillText("no timed exchanges", left + 10, h / 2);
  }
  var legend = document.getElementById("legend");
  data.columns.forEach(function (name, i) {
    var used = buckets.some(function (b) { return b[1][i] > 0; });
    if (!used) return;
    var span = document.createElement("span");
    var box = document.createElement("i"); box.style.background = color(i, name);
    span.appendChild(box); span.appendChild(document.createTextNode(name));
    legend.appendChild(span);
  });
  canvas.setAttribute("data-bars", String(drawn));
  document.body.setAttribute("data-chart", "drawn");

  var search = document.getElementById("search");
  var rows = Array.prototype.slice.call(document.querySelectorAll("#failed tbody tr"));
  var shown = document.getElementById("shown");
  function filter() {
    var q = search.value.toLowerCase(), n = 0;
    rows.forEach(function (r) { var ok = !q || r.textContent.toLowerCase().indexOf(q) >= 0; r.style.display = ok ? "" : "none"; if (ok) n++; });
    shown.textContent = n + " of " + rows.length + " shown";
  }
  search.addEventListener("input", filter);
  filter();
})();
"##;
