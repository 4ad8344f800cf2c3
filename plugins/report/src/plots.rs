//! The plots, drawn with plotters on any backend: Best@N curves of one
//! method (one line per selector, pass@k dashed as the ceiling, N on a log2
//! axis) and mean token entropy per method. Each is rendered as a PNG (a
//! bitmap encoded with `png`) and as SVG text for the HTML page.

use std::sync::OnceLock;

use entropo_core::eval::{MethodReport, Report};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Width and height in pixels of every PNG written.
///
/// ```
/// assert_eq!(entropo_report::PLOT_SIZE, (800, 480));
/// ```
pub const PLOT_SIZE: (u32, u32) = (800, 480);

/// The family the embedded font is registered under; plotters' default.
const FONT: &str = "sans-serif";

/// Tableau 10: distinct on screen and on paper.
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// Registers the embedded font (Hack, from `epaint_default_fonts`) once
/// per process, so text needs no font file on the machine.
fn font() -> Result<(), String> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            plotters::style::register_font(
                FONT,
                FontStyle::Normal,
                epaint_default_fonts::HACK_REGULAR,
            )
            .map_err(|_| "the embedded font cannot be read".to_string())
        })
        .clone()
}

/// What a plot shows, drawn the same way on every backend.
pub(crate) enum Plot<'a> {
    /// The Best@N curves of one method.
    BestAtN(&'a MethodReport),
    /// Mean token entropy, one bar per method that has it.
    Entropy(&'a Report),
}

impl Plot<'_> {
    /// The plot as PNG bytes of [`PLOT_SIZE`].
    pub(crate) fn png(&self) -> Result<Vec<u8>, String> {
        font()?;
        let (w, h) = PLOT_SIZE;
        let mut rgb = vec![0u8; w as usize * h as usize * 3];
        {
            let root = BitMapBackend::with_buffer(&mut rgb, PLOT_SIZE).into_drawing_area();
            self.draw(&root)?;
        }
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, w, h);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
        writer.write_image_data(&rgb).map_err(|e| e.to_string())?;
        writer.finish().map_err(|e| e.to_string())?;
        Ok(out)
    }

    /// The plot as an `<svg>` element for inlining in HTML (without the
    /// namespace attribute, which HTML does not need).
    pub(crate) fn svg(&self) -> Result<String, String> {
        font()?;
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, PLOT_SIZE).into_drawing_area();
            self.draw(&root)?;
        }
        Ok(svg.replacen(r#" xmlns="http://www.w3.org/2000/svg""#, "", 1))
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let drawn = match self {
            Plot::BestAtN(method) => best_at_n(root, method),
            Plot::Entropy(report) => entropy(root, report),
        };
        drawn
            .and_then(|()| root.present())
            .map_err(|e| e.to_string())
    }
}

/// Best@N of every selector of `m` against N (log2 axis), in %, with
/// pass@k dashed; a selector that failed is listed in the legend as such.
fn best_at_n<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    m: &MethodReport,
) -> DrawResult<(), DB> {
    root.fill(&WHITE)?;
    let top = m.pass_at_k.last().map_or(1.0, |p| p.n as f64);
    // Base-2 log axis, padded so that the end points do not sit on it; with
    // few labels plotters puts them at the powers of two.
    let x = (0.8..top * 1.25).log_scale().base(2.0);
    let mut chart = ChartBuilder::on(root)
        .caption(format!("Best@N: {}", m.name), (FONT, 22))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(56)
        .build_cartesian_2d(x, 0f64..100f64)?;
    chart
        .configure_mesh()
        .x_labels(8)
        .max_light_lines(0)
        .x_desc("N, rollouts per task (log2 scale)")
        .y_desc("resolved (%)")
        .x_label_formatter(&|x| format!("{x}"))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 15))
        .draw()?;
    let xy = |points: &[entropo_core::eval::Point]| -> Vec<(f64, f64)> {
        points
            .iter()
            .map(|p| (p.n as f64, 100.0 * p.value))
            .collect()
    };
    let grey = RGBColor(90, 90, 90);
    chart
        .draw_series(DashedLineSeries::new(
            xy(&m.pass_at_k),
            8,
            5,
            grey.stroke_width(2),
        ))?
        .label("pass@k (ceiling)")
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], grey.stroke_width(2)));
    chart.draw_series(
        xy(&m.pass_at_k)
            .into_iter()
            .map(|p| Circle::new(p, 2, grey.filled())),
    )?;
    for (i, curve) in m.best_at_n.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let points = xy(&curve.points);
        let label = match &curve.error {
            Some(_) => format!("{} (could not choose)", curve.selector),
            None => curve.selector.clone(),
        };
        chart
            .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))?
            .label(label)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2)));
        chart.draw_series(
            points
                .into_iter()
                .map(|p| Circle::new(p, 3, color.filled())),
        )?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font((FONT, 13))
        .draw()?;
    if m.pass_at_k.is_empty() {
        note(root, "no rollouts in this pool")?;
    }
    Ok(())
}

/// One bar per method with a token entropy, its value above it and the
/// method's name below; the methods without one are named under the chart.
fn entropy<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    report: &Report,
) -> DrawResult<(), DB> {
    root.fill(&WHITE)?;
    let bars: Vec<(&str, f64)> = report
        .methods
        .iter()
        .filter_map(|m| m.diversity.token_entropy.map(|e| (m.name.as_str(), e)))
        .collect();
    let missing: Vec<&str> = report
        .methods
        .iter()
        .filter(|m| m.diversity.token_entropy.is_none())
        .map(|m| m.name.as_str())
        .collect();
    let (chart_area, foot) = root.split_vertically(PLOT_SIZE.1 - 36);
    let highest = bars.iter().map(|b| b.1).fold(0.0, f64::max);
    let top = if highest > 0.0 { highest * 1.2 } else { 1.0 };
    let mut chart = ChartBuilder::on(&chart_area)
        .caption("Mean token entropy", (FONT, 22))
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(56)
        .build_cartesian_2d(0.0..bars.len().max(1) as f64, 0f64..top)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .max_light_lines(0)
        .y_desc("nats per token")
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 15))
        .draw()?;
    let centred = |v: VPos| {
        TextStyle::from((FONT, 14).into_font())
            .color(&BLACK)
            .pos(Pos::new(HPos::Center, v))
    };
    for (i, (name, value)) in bars.iter().enumerate() {
        let x = i as f64;
        let color = PALETTE[i % PALETTE.len()];
        chart.draw_series([Rectangle::new(
            [(x + 0.2, 0.0), (x + 0.8, *value)],
            color.mix(0.85).filled(),
        )])?;
        let (cx, bar_top) = chart.backend_coord(&(x + 0.5, *value));
        let (_, axis) = chart.backend_coord(&(x + 0.5, 0.0));
        root.draw(&Text::new(
            format!("{value:.3}"),
            (cx, bar_top - 4),
            centred(VPos::Bottom),
        ))?;
        root.draw(&Text::new(
            name.to_string(),
            (cx, axis + 8),
            centred(VPos::Top),
        ))?;
    }
    if bars.is_empty() {
        note(&chart_area, "no method has a token entropy")?;
    }
    if !missing.is_empty() {
        let text = format!("no entropy given for: {}", missing.join(", "));
        foot.draw(&Text::new(
            text,
            (16, 8),
            (FONT, 14).into_font().color(&BLACK),
        ))?;
    }
    Ok(())
}

/// `text` in the middle of `area`.
fn note<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, text: &str) -> DrawResult<(), DB> {
    let (w, h) = area.dim_in_pixel();
    let style = TextStyle::from((FONT, 18).into_font())
        .color(&BLACK)
        .pos(Pos::new(HPos::Center, VPos::Center));
    area.draw(&Text::new(
        text.to_string(),
        (w as i32 / 2, h as i32 / 2),
        style,
    ))
}
