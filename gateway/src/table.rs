//! Plain-text tables for terminals: columns aligned on their widest cell, every cell
//! with its control characters written out (a peer's text cannot drive the terminal).

use motcua_schemas::text::printable;

/// Renders `rows` under `headers`, two spaces between columns.
pub fn render(headers: &[&str], rows: &[Vec<String>]) -> String {
    let rows: Vec<Vec<String>> =
        rows.iter().map(|row| row.iter().map(|cell| printable(cell).into_owned()).collect()).collect();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c}{}", " ".repeat(w.saturating_sub(c.chars().count()))))
            .collect();
        format!("{}\n", padded.join("  ").trim_end())
    };
    let mut out = line(&headers.iter().map(|h| h.to_string()).collect::<Vec<_>>());
    for row in &rows {
        out.push_str(&line(row));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align_on_the_widest_cell() {
        let t = render(&["A", "LONG HEADER"], &[vec!["xã Trạm Tấu".into(), "1".into()], vec!["b".into(), "22".into()]]);
        assert_eq!(t, "A            LONG HEADER\nxã Trạm Tấu  1\nb            22\n");
    }

    #[test]
    fn a_cell_cannot_drive_the_terminal() {
        let t = render(&["E"], &[vec!["\u{1b}[2J\u{1b}[HTất cả hàng đợi trống\r".into()]]);
        assert!(!t.contains('\u{1b}') && !t.contains('\r'), "{t:?}");
        assert!(t.contains("\\u{1b}[2J"), "{t:?}");
    }
}
