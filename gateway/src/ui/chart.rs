//! Charts drawn on the server as SVG (no chart library, nothing fetched by the
//! browser): the on-time rate per sub-unit as bars, and a trend of daily figures.

use std::fmt::Write;

use crate::stats::Day;

/// Text safe inside SVG.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

const WIDTH: f64 = 680.0;

/// Horizontal bars: one per `(label, on-time rate)`; a unit with nothing resolved
/// gets a dash instead of a bar.
pub fn rate_bars(rows: &[(String, Option<f64>)]) -> String {
    let (label_w, row_h, value_w) = (230.0, 26.0, 70.0);
    let bar_w = WIDTH - label_w - value_w;
    let height = row_h * rows.len().max(1) as f64 + 24.0;
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="bieu-do" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" role="img" aria-label="Tỷ lệ giải quyết đúng hạn theo đơn vị">"#
    );
    for pct in [0, 50, 100] {
        let x = label_w + bar_w * f64::from(pct) / 100.0;
        let _ = write!(
            svg,
            r##"<line x1="{x:.1}" y1="0" x2="{x:.1}" y2="{:.1}" stroke="#c9ced6" stroke-width="1"/><text x="{x:.1}" y="{:.1}" font-size="11" text-anchor="middle" fill="#5a6270">{pct}%</text>"##,
            height - 18.0,
            height - 4.0
        );
    }
    for (i, (label, rate)) in rows.iter().enumerate() {
        let y = row_h * i as f64;
        let _ = write!(
            svg,
            r##"<text x="{:.1}" y="{:.1}" font-size="13" text-anchor="end" fill="#1f2933">{}</text>"##,
            label_w - 8.0,
            y + 17.0,
            escape(label)
        );
        match rate {
            Some(rate) => {
                let w = bar_w * rate.clamp(0.0, 1.0);
                let colour = if *rate >= 0.95 {
                    "#2f7d4f"
                } else if *rate >= 0.8 {
                    "#c98a13"
                } else {
                    "#b3261e"
                };
                let _ = write!(
                    svg,
                    r##"<rect x="{label_w:.1}" y="{:.1}" width="{w:.1}" height="{:.1}" fill="{colour}"/><text x="{:.1}" y="{:.1}" font-size="13" fill="#1f2933">{}</text>"##,
                    y + 5.0,
                    row_h - 10.0,
                    label_w + w + 6.0,
                    y + 17.0,
                    super::format::percent(Some(*rate))
                );
            }
            None => {
                let _ = write!(
                    svg,
                    r##"<text x="{:.1}" y="{:.1}" font-size="13" fill="#5a6270">chưa có hồ sơ giải quyết</text>"##,
                    label_w + 6.0,
                    y + 17.0
                );
            }
        }
    }
    svg.push_str("</svg>");
    svg
}

/// A trend over days: dossiers received as columns, the on-time rate of the day's
/// resolutions as a line (broken on days with none).
pub fn trend(days: &[Day]) -> String {
    let (height, left, right, top, bottom) = (220.0, 44.0, 44.0, 12.0, 28.0);
    let plot_w = WIDTH - left - right;
    let plot_h = height - top - bottom;
    let n = days.len().max(1) as f64;
    let step = plot_w / n;
    let most = days.iter().map(|d| d.received).max().unwrap_or(0).max(1) as f64;
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="bieu-do" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" role="img" aria-label="Diễn biến theo ngày">"#
    );
    for pct in [0, 50, 100] {
        let y = top + plot_h * (1.0 - f64::from(pct) / 100.0);
        let _ = write!(
            svg,
            r##"<line x1="{left}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#c9ced6" stroke-width="1"/><text x="{:.1}" y="{:.1}" font-size="11" text-anchor="end" fill="#5a6270">{pct}%</text>"##,
            left + plot_w,
            left - 6.0,
            y + 4.0
        );
    }
    let _ = write!(
        svg,
        r##"<text x="{:.1}" y="{:.1}" font-size="11" fill="#5a6270">{} hồ sơ</text>"##,
        left + plot_w + 4.0,
        top + 10.0,
        most as u64
    );
    for (i, day) in days.iter().enumerate() {
        let h = plot_h * day.received as f64 / most;
        let _ = write!(
            svg,
            r##"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{h:.1}" fill="#cfdcec"/>"##,
            left + step * i as f64 + 1.0,
            top + plot_h - h,
            (step - 2.0).max(1.0)
        );
    }
    let mut segment: Vec<String> = Vec::new();
    let flush = |segment: &mut Vec<String>, svg: &mut String| {
        if segment.len() > 1 {
            let _ = write!(
                svg,
                r##"<polyline points="{}" fill="none" stroke="#1d4f91" stroke-width="2"/>"##,
                segment.join(" ")
            );
        }
        for point in segment.iter() {
            if let Some((x, y)) = point.split_once(',') {
                let _ = write!(svg, r##"<circle cx="{x}" cy="{y}" r="2.5" fill="#1d4f91"/>"##);
            }
        }
        segment.clear();
    };
    for (i, day) in days.iter().enumerate() {
        if day.resolved == 0 {
            flush(&mut segment, &mut svg);
            continue;
        }
        let rate = day.on_time as f64 / day.resolved as f64;
        let x = left + step * (i as f64 + 0.5);
        let y = top + plot_h * (1.0 - rate);
        segment.push(format!("{x:.1},{y:.1}"));
    }
    flush(&mut segment, &mut svg);
    for i in [0, days.len() / 2, days.len().saturating_sub(1)] {
        if let Some(day) = days.get(i) {
            let _ = write!(
                svg,
                r##"<text x="{:.1}" y="{:.1}" font-size="11" text-anchor="middle" fill="#5a6270">{}</text>"##,
                left + step * (i as f64 + 0.5),
                height - 8.0,
                day.date.strftime("%d/%m")
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_svg_with_escaped_labels() {
        let bars = rate_bars(&[("Xã <A>".into(), Some(0.9)), ("Xã B".into(), None)]);
        assert!(bars.starts_with("<svg") && bars.ends_with("</svg>"));
        assert!(bars.contains("Xã &lt;A&gt;") && bars.contains("90,0%") && bars.contains("chưa có"));
        let day = |d: i8, received, resolved, on_time| Day {
            date: jiff::civil::date(2026, 11, d),
            received,
            resolved,
            on_time,
        };
        let line = trend(&[day(1, 3, 2, 2), day(2, 1, 2, 1), day(3, 0, 0, 0), day(4, 2, 1, 1)]);
        assert_eq!(line.matches("<polyline").count(), 1, "a day without resolutions breaks the line");
        assert_eq!(line.matches("<circle").count(), 3);
    }
}
