//! Figures for the benchmark report: ROC and precision-recall curves,
//! per-technique detection rates as grouped bars with intervals, score
//! histograms and reliability (calibration) diagrams.
//!
//! Every figure is drawn twice from the same code, into a PNG (for the
//! Markdown report and anything that cannot show SVG) and an SVG (sharp at
//! any zoom; its text stays text). Both are rendered in memory first and
//! then written atomically — a temporary file in the target directory,
//! renamed over the final name — so an interrupted run leaves the previous
//! figure or none, never half an image. A failure to draw either format
//! writes neither.
//!
//! Text in the PNG is rasterised from a font embedded in the binary (a
//! Latin/Greek/punctuation subset of DejaVu Sans, `data/fonts/`), through
//! plotters' `ab_glyph` feature: no system fonts, no fontconfig, so the
//! figures look the same on a bare CI machine as on a desktop.
//!
//! Inputs are plain data ([`Curve`], [`BarSeries`], [`CalibrationBin`],
//! score slices). Drawing is forgiving: NaN and infinite values are
//! skipped, values outside their axis are clamped to its edge, an empty
//! figure says "no data", more series than colours cycle the palette with
//! dashed lines, and over-long names are shortened with an ellipsis. Only
//! requests that cannot mean anything (zero or absurdly many histogram
//! bins) are errors.
//!
//! What it deliberately does not do: compute anything. Rates, intervals,
//! curves, AUC and bins come from [`crate::rates`] and [`crate::ranking`];
//! this module knows nothing of detectors, messages or mail. Nor does it
//! choose file names or lay out the report: callers pass a path stem and
//! get back the two paths written.

use std::ffi::OsString;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde::{Deserialize, Serialize};

/// Width of every figure in pixels (the SVG's user units too).
pub const WIDTH: u32 = 1200;
/// Height of every figure in pixels.
pub const HEIGHT: u32 = 750;

/// The lowest false-positive rate a ROC chart's log axis ever shows. The
/// operating points that matter for a mail gateway sit at 1e-4..1e-2;
/// below 1e-4 a typical evaluation has too little ham to measure anything.
pub const ROC_MIN_FPR: f64 = 1e-4;

/// More bins than a 1200-pixel figure can show as separate bars.
pub const MAX_BINS: usize = 1000;

/// A ROC or precision-recall curve of one detector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Curve {
    /// The detector's name, shown in the legend.
    pub name: String,
    /// Points in drawing order: (false-positive rate, detection rate) for
    /// ROC, (recall, precision) for precision-recall; all in [0, 1].
    pub points: Vec<(f64, f64)>,
    /// ROC AUC or average precision, shown in the legend.
    pub summary: Option<f64>,
    /// The detector's own threshold on this curve, drawn as a marker.
    pub operating_point: Option<(f64, f64)>,
}

/// One detector's bars across the groups of a grouped bar chart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BarSeries {
    /// The detector's name, shown in the legend.
    pub name: String,
    /// One entry per group, in the groups' order; `None` leaves a gap.
    pub values: Vec<Option<Bar>>,
}

/// A rate with its interval and the number of trials behind it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Bar {
    /// The rate, in [0, 1].
    pub value: f64,
    /// Lower end of its 95% interval.
    pub low: f64,
    /// Upper end of its 95% interval.
    pub high: f64,
    /// Trials (e.g. attacks of this technique).
    pub n: u64,
}

/// One bin of a reliability diagram.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CalibrationBin {
    /// Mean predicted attack probability of the messages in the bin.
    pub predicted: f64,
    /// Share of them that are attacks.
    pub observed: f64,
    /// Messages in the bin; empty bins are not drawn.
    pub count: usize,
    /// Interval around `observed` (Wilson 95%), drawn as an error bar.
    pub low: Option<f64>,
    /// Upper end of that interval.
    pub high: Option<f64>,
}

/// The two files a figure was written to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Written {
    /// `{stem}.png`
    pub png: PathBuf,
    /// `{stem}.svg`
    pub svg: PathBuf,
}

/// Why a figure was not written. Every variant but `Font` names the file.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// The request cannot be drawn (e.g. a histogram with zero bins).
    #[error("{path}: {message}")]
    Input {
        /// The figure's file.
        path: PathBuf,
        /// What is wrong with the request.
        message: String,
    },
    /// plotters failed while drawing.
    #[error("{path}: drawing failed: {message}")]
    Draw {
        /// The figure's file.
        path: PathBuf,
        /// plotters' reason.
        message: String,
    },
    /// The rendered pixels could not be encoded as PNG.
    #[error("{path}: PNG encoding failed")]
    Encode {
        /// The figure's file.
        path: PathBuf,
        /// The encoder's reason.
        #[source]
        source: png::EncodingError,
    },
    /// Creating, writing or renaming the file failed.
    #[error("cannot write {path}; check that its directory exists and is writable")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        #[source]
        source: std::io::Error,
    },
    /// The embedded font did not parse (a corrupt build, not bad input).
    #[error("the embedded font (data/fonts/DejaVuSans.ttf) could not be loaded")]
    Font,
}

/// ROC curves of several detectors on one chart: false-positive rate on a
/// log axis, detection rate linear, one marker per operating point, and a
/// legend with each detector's AUC.
///
/// The x axis starts at the decade below the smallest positive
/// false-positive rate among the points (about 1/ham: the first step any
/// curve can take), but never below [`ROC_MIN_FPR`] nor above 1e-2, so at
/// least two decades show. A rate below that floor, zero included, is
/// drawn on the left edge: the vertical stretch there is the detection
/// reached before the first visible false-positive rate.
pub fn roc(path_stem: &Path, title: &str, curves: &[Curve]) -> Result<Written, PlotError> {
    render(path_stem, &Roc { title, curves })
}

/// Precision-recall curves: recall on x, precision on y, a legend with
/// each detector's average precision.
pub fn precision_recall(
    path_stem: &Path,
    title: &str,
    curves: &[Curve],
) -> Result<Written, PlotError> {
    render(path_stem, &PrecisionRecall { title, curves })
}

/// Grouped bars: one group per entry of `groups` (e.g. technique), one bar
/// per series (detector) inside each, with its interval as an error bar,
/// the rate axis from 0% to 100%, and each group's n under its name.
pub fn grouped_bars(
    path_stem: &Path,
    title: &str,
    groups: &[String],
    series: &[BarSeries],
) -> Result<Written, PlotError> {
    render(
        path_stem,
        &GroupedBars {
            title,
            groups,
            series,
        },
    )
}

/// Score histograms of ham and attacks overlaid, each normalised to its
/// own class (so a 10:1 class ratio does not flatten the attacks) on a log
/// axis (so a handful of high-scoring ham — the false positives — stays
/// visible next to the bulk). `bins` equal-width bins span the finite
/// scores of both classes.
pub fn histogram(
    path_stem: &Path,
    title: &str,
    ham: &[f64],
    attacks: &[f64],
    bins: usize,
    x_label: &str,
) -> Result<Written, PlotError> {
    if bins == 0 || bins > MAX_BINS {
        return Err(PlotError::Input {
            path: path_stem.to_path_buf(),
            message: format!("a histogram needs 1..={MAX_BINS} bins, not {bins}"),
        });
    }
    render(
        path_stem,
        &Histogram {
            title,
            ham,
            attacks,
            bins,
            x_label,
        },
    )
}

/// A reliability diagram: mean predicted probability against the observed
/// attack share per bin, the diagonal of perfect calibration, marker area
/// by count (with the count written beside it) and interval error bars.
pub fn calibration(
    path_stem: &Path,
    title: &str,
    bins: &[CalibrationBin],
) -> Result<Written, PlotError> {
    render(path_stem, &Calibration { title, bins })
}

// ---------------------------------------------------------------------------
// Rendering and writing

type DrawResult<T, DB> = Result<T, DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// A figure that can draw itself on any backend, so PNG and SVG come from
/// one piece of code.
trait Figure {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<(), DB>;
}

const FONT: &str = "sans-serif";
static FONT_BYTES: &[u8] = include_bytes!("../data/fonts/DejaVuSans.ttf");

/// Registers the embedded font under the generic family name, so the SVG's
/// `font-family="sans-serif"` and the PNG's glyphs name the same thing.
fn ensure_font() -> Result<(), PlotError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(PlotError::Font)
    }
}

fn with_suffix(stem: &Path, ext: &str) -> PathBuf {
    // Appended rather than `with_extension`, which would turn a stem like
    // "roc.v2" into "roc.png".
    let mut s = OsString::from(stem.as_os_str());
    s.push(".");
    s.push(ext);
    PathBuf::from(s)
}

fn render(stem: &Path, figure: &impl Figure) -> Result<Written, PlotError> {
    ensure_font()?;
    let png_path = with_suffix(stem, "png");
    let svg_path = with_suffix(stem, "svg");
    let draw_error = |path: &Path, message: String| PlotError::Draw {
        path: path.to_path_buf(),
        message,
    };

    let mut rgb = vec![0u8; WIDTH as usize * HEIGHT as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (WIDTH, HEIGHT)).into_drawing_area();
        figure
            .draw(&root)
            .and_then(|()| root.present())
            .map_err(|e| draw_error(&png_path, e.to_string()))?;
    }
    let png_bytes = encode_png(&rgb).map_err(|source| PlotError::Encode {
        path: png_path.clone(),
        source,
    })?;

    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        figure
            .draw(&root)
            .and_then(|()| root.present())
            .map_err(|e| draw_error(&svg_path, e.to_string()))?;
    }

    write_atomic(&png_path, &png_bytes)?;
    write_atomic(&svg_path, svg.as_bytes())?;
    Ok(Written {
        png: png_path,
        svg: svg_path,
    })
}

fn encode_png(rgb: &[u8]) -> Result<Vec<u8>, png::EncodingError> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, WIDTH, HEIGHT);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(rgb)?;
    writer.finish()?;
    Ok(out)
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), PlotError> {
    impostor_model::atomic::write_bytes(path, bytes).map_err(|e| PlotError::Io {
        path: e.path,
        source: e.source,
    })
}

// ---------------------------------------------------------------------------
// Shared layout: title, legend panel, styles

/// Okabe–Ito's colour-blind-safe set, then three more distinct ones.
const PALETTE: [RGBColor; 10] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(230, 159, 0),   // orange
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(0, 0, 0),       // black
    RGBColor(140, 86, 75),   // brown
    RGBColor(127, 127, 127), // grey
    RGBColor(188, 189, 34),  // olive
];
const GRID: RGBColor = RGBColor(225, 225, 225);
const MUTED: RGBColor = RGBColor(110, 110, 110);

/// Series i's colour; past the palette, colours repeat with dashed lines.
fn series_style(i: usize) -> (RGBColor, bool) {
    (PALETTE[i % PALETTE.len()], i >= PALETTE.len())
}

const TITLE_SIZE: u32 = 26;
const DESC_SIZE: u32 = 18;
const LABEL_SIZE: u32 = 15;
const LEGEND_SIZE: u32 = 16;
const NOTE_SIZE: u32 = 13;
const MAX_NAME_CHARS: usize = 40;

fn font(size: u32) -> TextStyle<'static> {
    (FONT, size).into_font().color(&BLACK)
}

/// Cuts `s` to `max` characters, marking the cut with an ellipsis.
fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// Cuts `s` until it fits `width` pixels in `style`.
fn fit<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: &str,
    style: &TextStyle,
    width: u32,
) -> DrawResult<String, DB> {
    // No glyph is under 3 px wide at these sizes: start from what could
    // fit rather than measure a 10,000-character name 10,000 times.
    let mut max = s.chars().count().min(width as usize / 3 + 1);
    let mut out = shorten(s, max);
    while max > 1 && area.estimate_text_size(&out, style)?.0 > width {
        max -= 1;
        out = shorten(s, max);
    }
    Ok(out)
}

/// How a legend entry's swatch looks.
#[derive(Clone, Copy)]
enum Swatch {
    Line { dashed: bool },
    Dashed,
    Fill,
    Marker,
    Hollow,
}

struct LegendEntry {
    label: String,
    color: RGBColor,
    swatch: Swatch,
}

/// Fills the canvas white, draws the title, and splits off a legend panel
/// on the right sized to its longest label: the legend never sits on data.
fn frame<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    legend: &[LegendEntry],
) -> DrawResult<DrawingArea<DB, Shift>, DB> {
    root.fill(&WHITE)?;
    let title_style = font(TITLE_SIZE);
    let title = fit(root, title, &title_style, WIDTH - 40)?;
    let body = root.margin(12, 0, 0, 0).titled(&title, title_style)?;
    if legend.is_empty() {
        return Ok(body);
    }
    let style = font(LEGEND_SIZE);
    let mut widest = 0;
    for entry in legend {
        widest = widest.max(body.estimate_text_size(&entry.label, &style)?.0);
    }
    // Swatch, gap and margins; never more than a third of the figure.
    let width = (widest + 70).clamp(160, WIDTH / 3);
    let (plot, panel) = body.split_horizontally(WIDTH - width);
    draw_legend(&panel, legend)?;
    Ok(plot)
}

fn draw_legend<DB: DrawingBackend>(
    panel: &DrawingArea<DB, Shift>,
    legend: &[LegendEntry],
) -> DrawResult<(), DB> {
    let style = font(LEGEND_SIZE).pos(Pos::new(HPos::Left, VPos::Center));
    let (w, h) = panel.dim_in_pixel();
    let row = 26;
    let top = 30;
    let text_width = w.saturating_sub(64);
    let fits = ((h as i32 - top - 20) / row).max(1) as usize;
    let shown = if legend.len() > fits {
        fits - 1
    } else {
        legend.len()
    };
    for (i, entry) in legend.iter().take(shown).enumerate() {
        let y = top + row * i as i32;
        let (x0, x1) = (10, 42);
        let c = entry.color;
        match entry.swatch {
            Swatch::Line { dashed: false } => {
                panel.draw(&PathElement::new(vec![(x0, y), (x1, y)], c.stroke_width(3)))?;
            }
            Swatch::Line { dashed: true } | Swatch::Dashed => {
                let width = if matches!(entry.swatch, Swatch::Dashed) {
                    2
                } else {
                    3
                };
                for x in (x0..x1).step_by(10) {
                    panel.draw(&PathElement::new(
                        vec![(x, y), ((x + 6).min(x1), y)],
                        c.stroke_width(width),
                    ))?;
                }
            }
            Swatch::Fill => {
                panel.draw(&Rectangle::new(
                    [(x0 + 4, y - 8), (x1 - 4, y + 8)],
                    c.mix(0.55).filled(),
                ))?;
                panel.draw(&Rectangle::new(
                    [(x0 + 4, y - 8), (x1 - 4, y + 8)],
                    c.stroke_width(1),
                ))?;
            }
            Swatch::Marker => {
                panel.draw(&Circle::new(((x0 + x1) / 2, y), 6, c.filled()))?;
            }
            Swatch::Hollow => {
                panel.draw(&Circle::new(((x0 + x1) / 2, y), 6, c.stroke_width(2)))?;
            }
        }
        let label = fit(panel, &entry.label, &style, text_width)?;
        panel.draw(&Text::new(label, (x1 + 10, y), style.clone()))?;
    }
    if shown < legend.len() {
        let y = top + row * shown as i32;
        let more = format!("… and {} more", legend.len() - shown);
        panel.draw(&Text::new(more, (10, y), style.clone()))?;
    }
    Ok(())
}

/// Writes a note in the middle of a chart's plotting area (e.g. "no data").
fn note_in<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    pixels: (Range<i32>, Range<i32>),
    text: &str,
) -> DrawResult<(), DB> {
    let (xs, ys) = pixels;
    let center = ((xs.start + xs.end) / 2, (ys.start + ys.end) / 2);
    let style = font(DESC_SIZE)
        .color(&MUTED)
        .pos(Pos::new(HPos::Center, VPos::Center));
    root.draw(&Text::new(text.to_string(), center, style))
}

/// A rate as a percentage with as many decimals as small values need
/// (0.01%, 0.5%, 12%).
fn percent(v: f64) -> String {
    let p = v * 100.0;
    if !p.is_finite() {
        return String::new();
    }
    if p == 0.0 || p.abs() >= 1.0 {
        return format!("{p:.0}%");
    }
    let decimals = (-p.abs().log10()).ceil().clamp(0.0, 6.0) as usize;
    let s = format!("{p:.decimals$}");
    // 0.5000 → 0.5 (labels sit on round values).
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    format!("{s}%")
}

/// 12345 → "12,345".
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A log axis from `floor` to 1 whose first and last decades get labels:
/// plotters picks decades by ceil(log10(start)) and repeated ×10, and
/// float error (log10(1e-4) = -3.99…, 1e-4·10⁴ = 1.000…2) would drop
/// either end, so the range is widened by a hair.
fn log_axis(floor: f64) -> LogCoord<f64> {
    (floor * 0.9999..1.0001).log_scale().into()
}

fn finite_point(&(x, y): &(f64, f64)) -> bool {
    x.is_finite() && y.is_finite()
}

fn unit(v: f64) -> f64 {
    v.clamp(0.0, 1.0)
}

fn mesh_percent_axes<DB: DrawingBackend, X, Y>(
    chart: &mut ChartContext<DB, Cartesian2d<X, Y>>,
    x_desc: &str,
    y_desc: &str,
    x_labels: usize,
    x_format: &dyn Fn(&X::ValueType) -> String,
) -> DrawResult<(), DB>
where
    X: Ranged + ValueFormatter<X::ValueType>,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    chart
        .configure_mesh()
        .bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
        .x_labels(x_labels)
        .y_labels(11)
        .x_label_formatter(x_format)
        .y_label_formatter(&|v| percent(*v))
        .label_style(font(LABEL_SIZE))
        .axis_desc_style(font(DESC_SIZE))
        .x_desc(x_desc)
        .y_desc(y_desc)
        .draw()
}

// ---------------------------------------------------------------------------
// ROC

struct Roc<'a> {
    title: &'a str,
    curves: &'a [Curve],
}

/// The left edge of the ROC chart's log axis; see [`roc`].
fn roc_floor(curves: &[Curve]) -> f64 {
    let smallest = curves
        .iter()
        .flat_map(|c| c.points.iter().chain(c.operating_point.iter()))
        .map(|&(x, _)| x)
        .filter(|x| x.is_finite() && *x > 0.0)
        .fold(f64::INFINITY, f64::min);
    if !smallest.is_finite() {
        return ROC_MIN_FPR;
    }
    // The epsilon keeps an exact decade (1e-3) from rounding down past it.
    let decade = 10f64.powf((smallest.log10() + 1e-9).floor());
    decade.clamp(ROC_MIN_FPR, 1e-2)
}

fn summary_label(name: &str, what: &str, summary: Option<f64>) -> String {
    let name = shorten(name, MAX_NAME_CHARS);
    match summary {
        Some(s) if s.is_finite() => format!("{name} ({what} {s:.3})"),
        _ => name,
    }
}

fn curve_legend(curves: &[Curve], what: &str) -> Vec<LegendEntry> {
    let mut legend: Vec<LegendEntry> = curves
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let (color, dashed) = series_style(i);
            LegendEntry {
                label: summary_label(&c.name, what, c.summary),
                color,
                swatch: Swatch::Line { dashed },
            }
        })
        .collect();
    if curves.iter().any(|c| c.operating_point.is_some()) {
        legend.push(LegendEntry {
            label: "operating point".into(),
            color: BLACK,
            swatch: Swatch::Hollow,
        });
    }
    legend
}

/// Draws one curve (line, or a dot if it is a single point) and its
/// operating point; answers whether anything was drawn.
fn draw_curve<DB: DrawingBackend, X: Ranged<ValueType = f64>, Y: Ranged<ValueType = f64>>(
    chart: &mut ChartContext<DB, Cartesian2d<X, Y>>,
    i: usize,
    points: Vec<(f64, f64)>,
    operating_point: Option<(f64, f64)>,
) -> DrawResult<bool, DB> {
    let (color, dashed) = series_style(i);
    let style = color.stroke_width(3);
    match points.len() {
        0 => {}
        1 => {
            chart.draw_series(std::iter::once(Circle::new(points[0], 4, color.filled())))?;
        }
        _ if dashed => {
            chart.draw_series(DashedLineSeries::new(points.iter().copied(), 10, 6, style))?;
        }
        _ => {
            chart.draw_series(LineSeries::new(points.iter().copied(), style))?;
        }
    }
    if let Some(p) = operating_point {
        // Filled in the series' colour, ringed in black so it reads on top
        // of its own line.
        chart.draw_series([
            Circle::new(p, 7, color.filled()),
            Circle::new(p, 7, BLACK.stroke_width(2)),
        ])?;
    }
    Ok(!points.is_empty() || operating_point.is_some())
}

/// Every curve, its finite points mapped by `clamp` into the chart, or
/// "no data" when none had anything to draw.
fn draw_curves<DB: DrawingBackend, X: Ranged<ValueType = f64>, Y: Ranged<ValueType = f64>>(
    root: &DrawingArea<DB, Shift>,
    chart: &mut ChartContext<DB, Cartesian2d<X, Y>>,
    curves: &[Curve],
    clamp: impl Fn((f64, f64)) -> (f64, f64),
) -> DrawResult<(), DB> {
    let mut drawn = false;
    for (i, c) in curves.iter().enumerate() {
        let points = c
            .points
            .iter()
            .filter(|p| finite_point(p))
            .map(|&p| clamp(p))
            .collect();
        let op = c.operating_point.filter(finite_point).map(&clamp);
        drawn |= draw_curve(chart, i, points, op)?;
    }
    if !drawn {
        note_in(root, chart.plotting_area().get_pixel_range(), "no data")?;
    }
    Ok(())
}

impl Figure for Roc<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<(), DB> {
        let plot = frame(root, self.title, &curve_legend(self.curves, "AUC"))?;
        let floor = roc_floor(self.curves);
        let mut chart = ChartBuilder::on(&plot)
            .margin(20)
            .x_label_area_size(60)
            .y_label_area_size(80)
            .build_cartesian_2d(log_axis(floor), 0.0..1.0)?;
        // One label per decade.
        let decades = (-floor.log10()).round() as usize + 1;
        mesh_percent_axes(
            &mut chart,
            "false-positive rate (share of ham flagged, log scale)",
            "detection rate (share of attacks flagged)",
            decades,
            &|v| percent(*v),
        )?;

        // Chance (a detector that flags at random), for reference.
        let chance: Vec<(f64, f64)> = (0..=60)
            .map(|k| {
                let x = floor * (1.0 / floor).powf(k as f64 / 60.0);
                (x, x)
            })
            .collect();
        chart.draw_series(DashedLineSeries::new(chance, 6, 6, MUTED.stroke_width(1)))?;

        draw_curves(root, &mut chart, self.curves, |(x, y)| {
            (x.clamp(floor, 1.0), unit(y))
        })
    }
}

// ---------------------------------------------------------------------------
// Precision-recall

struct PrecisionRecall<'a> {
    title: &'a str,
    curves: &'a [Curve],
}

impl Figure for PrecisionRecall<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<(), DB> {
        let plot = frame(root, self.title, &curve_legend(self.curves, "AP"))?;
        let mut chart = ChartBuilder::on(&plot)
            .margin(20)
            .x_label_area_size(60)
            .y_label_area_size(80)
            .build_cartesian_2d(0.0..1.0, 0.0..1.0)?;
        mesh_percent_axes(
            &mut chart,
            "recall (share of attacks flagged)",
            "precision (share of flagged mail that is an attack)",
            11,
            &|v| percent(*v),
        )?;
        draw_curves(root, &mut chart, self.curves, |(x, y)| (unit(x), unit(y)))
    }
}

// ---------------------------------------------------------------------------
// Grouped bars

struct GroupedBars<'a> {
    title: &'a str,
    groups: &'a [String],
    series: &'a [BarSeries],
}

/// "n = 120", or "n = 95–120" when the series saw different numbers.
fn group_n(series: &[BarSeries], g: usize) -> Option<String> {
    let ns = series
        .iter()
        .filter_map(|s| s.values.get(g).copied().flatten())
        .filter(|b| b.value.is_finite())
        .map(|b| b.n);
    let (lo, hi) = ns.fold(None, |acc: Option<(u64, u64)>, n| match acc {
        None => Some((n, n)),
        Some((lo, hi)) => Some((lo.min(n), hi.max(n))),
    })?;
    Some(if lo == hi {
        format!("n = {}", thousands(lo))
    } else {
        format!("n = {}–{}", thousands(lo), thousands(hi))
    })
}

/// Splits a group name into at most `max_lines` lines of `width` pixels,
/// at spaces where it can and with an ellipsis on the last if it must.
fn wrap<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    style: &TextStyle,
    width: u32,
    max_lines: usize,
) -> DrawResult<Vec<String>, DB> {
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    for word in text.split_whitespace() {
        let candidate = if current.is_empty() {
            word.to_string()
        } else {
            format!("{current} {word}")
        };
        if current.is_empty() || area.estimate_text_size(&candidate, style)?.0 <= width {
            current = candidate;
        } else {
            lines.push(std::mem::replace(&mut current, word.to_string()));
        }
    }
    if !current.is_empty() {
        lines.push(current);
    }
    if lines.len() > max_lines {
        let rest = lines.split_off(max_lines - 1).join(" ");
        lines.push(rest);
    }
    if let Some(last) = lines.last_mut() {
        *last = fit(area, last, style, width)?;
    }
    // A single over-long word on an earlier line is cut too.
    for line in lines.iter_mut() {
        *line = fit(area, line, style, width)?;
    }
    Ok(lines)
}

impl Figure for GroupedBars<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<(), DB> {
        let legend: Vec<LegendEntry> = self
            .series
            .iter()
            .enumerate()
            .map(|(i, s)| LegendEntry {
                label: shorten(&s.name, MAX_NAME_CHARS),
                color: series_style(i).0,
                swatch: Swatch::Fill,
            })
            .chain(std::iter::once(LegendEntry {
                label: "95% interval".into(),
                color: BLACK,
                swatch: Swatch::Line { dashed: false },
            }))
            .filter(|_| !self.series.is_empty())
            .collect();
        let plot = frame(root, self.title, &legend)?;
        let n_groups = self.groups.len().max(1);
        let mut chart = ChartBuilder::on(&plot)
            .margin(20)
            .margin_bottom(10)
            // Room for three lines of group name and the n line.
            .x_label_area_size(110)
            .y_label_area_size(80)
            .build_cartesian_2d(-0.5..(n_groups as f64 - 0.5), 0.0..1.0)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .bold_line_style(GRID)
            .light_line_style(TRANSPARENT)
            .x_labels(0)
            .y_labels(11)
            .y_label_formatter(&|v| percent(*v))
            .label_style(font(LABEL_SIZE))
            .axis_desc_style(font(DESC_SIZE))
            .y_desc("detection rate (share of attacks flagged)")
            .draw()?;

        let k = self.series.len().max(1) as f64;
        let width = 0.8 / k;
        // Error bars thin out with the bars so they never hide them.
        let (xs, _) = chart.plotting_area().get_pixel_range();
        let bar_px = (xs.end - xs.start) as f64 / n_groups as f64 * width;
        let error_style = BLACK.stroke_width(if bar_px < 12.0 { 1 } else { 2 });
        let mut drawn = false;
        for (i, s) in self.series.iter().enumerate() {
            let (color, cycled) = series_style(i);
            // Past the palette, the repeated colour is paler so neighbours
            // still differ.
            let fill = color.mix(if cycled { 0.35 } else { 0.85 }).filled();
            for (g, bar) in s.values.iter().take(self.groups.len()).enumerate() {
                let Some(bar) = bar.filter(|b| b.value.is_finite()) else {
                    continue;
                };
                let x0 = g as f64 - 0.4 + width * i as f64;
                let (x1, xm) = (x0 + width, x0 + width / 2.0);
                chart.draw_series([
                    Rectangle::new([(x0, 0.0), (x1, unit(bar.value))], fill),
                    Rectangle::new([(x0, 0.0), (x1, unit(bar.value))], color.stroke_width(1)),
                ])?;
                let (lo, hi) = (bar.low, bar.high);
                if lo.is_finite() && hi.is_finite() {
                    let (lo, hi) = (unit(lo.min(hi)), unit(hi.max(lo)));
                    let cap = width * 0.2;
                    chart.draw_series([
                        PathElement::new(vec![(xm, lo), (xm, hi)], error_style),
                        PathElement::new(vec![(xm - cap, lo), (xm + cap, lo)], error_style),
                        PathElement::new(vec![(xm - cap, hi), (xm + cap, hi)], error_style),
                    ])?;
                }
                drawn = true;
            }
        }

        // Group names (wrapped) and n under the axis, drawn in pixels on
        // the root because plotters places labels only at its own ticks.
        let slot = ((xs.end - xs.start) as f64 / n_groups as f64) as u32;
        let name_style = font(LABEL_SIZE).pos(Pos::new(HPos::Center, VPos::Top));
        let n_style = font(NOTE_SIZE)
            .color(&MUTED)
            .pos(Pos::new(HPos::Center, VPos::Top));
        for (g, name) in self.groups.iter().enumerate() {
            let (px, py) = chart.backend_coord(&(g as f64, 0.0));
            let mut y = py + 8;
            for line in wrap(root, name, &name_style, slot.saturating_sub(8), 3)? {
                root.draw(&Text::new(line, (px, y), name_style.clone()))?;
                y += LABEL_SIZE as i32 + 3;
            }
            if let Some(n) = group_n(self.series, g) {
                let n = fit(root, &n, &n_style, slot.saturating_sub(4))?;
                root.draw(&Text::new(n, (px, y + 2), n_style.clone()))?;
            }
        }
        if !drawn {
            note_in(root, chart.plotting_area().get_pixel_range(), "no data")?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Histogram

struct Histogram<'a> {
    title: &'a str,
    ham: &'a [f64],
    attacks: &'a [f64],
    bins: usize,
    x_label: &'a str,
}

const HAM: RGBColor = PALETTE[0];
const ATTACK: RGBColor = PALETTE[1];

/// Each class's share of its own finite values per bin, over `range`.
fn shares(values: &[f64], range: &Range<f64>, bins: usize) -> (Vec<f64>, u64) {
    let mut counts = vec![0u64; bins];
    let width = (range.end - range.start) / bins as f64;
    let mut n = 0;
    for &v in values.iter().filter(|v| v.is_finite()) {
        // The maximum lands in the last bin, not one past it.
        let b = (((v - range.start) / width) as usize).min(bins - 1);
        counts[b] += 1;
        n += 1;
    }
    let shares = counts
        .iter()
        .map(|&c| if n == 0 { 0.0 } else { c as f64 / n as f64 })
        .collect();
    (shares, n)
}

/// The finite span of both classes, widened when it is a single value.
fn score_range(ham: &[f64], attacks: &[f64]) -> Option<Range<f64>> {
    let (lo, hi) = ham
        .iter()
        .chain(attacks)
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    if lo > hi {
        return None;
    }
    // A span past f64's range (−MAX..MAX) makes plotters' tick search loop
    // forever; a quarter of MAX each way is still wider than any score.
    let (lo, hi) = (lo.max(-f64::MAX / 4.0), hi.min(f64::MAX / 4.0));
    if hi - lo <= f64::EPSILON * lo.abs().max(1.0) {
        // ±0.5 vanishes next to 1e300; widen relative to the value too.
        let pad = 0.5f64.max(lo.abs() * 1e-3);
        return Some(lo - pad..hi + pad);
    }
    Some(lo..hi)
}

impl Figure for Histogram<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<(), DB> {
        let range = score_range(self.ham, self.attacks);
        let span = range.clone().unwrap_or(0.0..1.0);
        let (ham, n_ham) = shares(self.ham, &span, self.bins);
        let (attacks, n_attacks) = shares(self.attacks, &span, self.bins);
        let legend = vec![
            LegendEntry {
                label: format!("ham (n = {})", thousands(n_ham)),
                color: HAM,
                swatch: Swatch::Fill,
            },
            LegendEntry {
                label: format!("attacks (n = {})", thousands(n_attacks)),
                color: ATTACK,
                swatch: Swatch::Fill,
            },
        ];
        let plot = frame(root, self.title, &legend)?;

        // Log axis from the decade below the rarest non-empty bin: one
        // high-scoring ham among 10,000 must still show as a bar.
        let smallest = ham
            .iter()
            .chain(&attacks)
            .copied()
            .filter(|&s| s > 0.0)
            .fold(1.0, f64::min);
        let floor = 10f64
            .powf((smallest.log10() - 1e-9).floor())
            .clamp(1e-6, 1e-1);
        let mut chart = ChartBuilder::on(&plot)
            .margin(20)
            .x_label_area_size(60)
            .y_label_area_size(80)
            .build_cartesian_2d(span.clone(), log_axis(floor))?;
        let decades = (-floor.log10()).round() as usize + 1;
        chart
            .configure_mesh()
            .bold_line_style(GRID)
            .light_line_style(TRANSPARENT)
            .x_labels(11)
            .y_labels(decades)
            .y_label_formatter(&|v| percent(*v))
            .label_style(font(LABEL_SIZE))
            .axis_desc_style(font(DESC_SIZE))
            .x_desc(shorten(self.x_label, 80))
            .y_desc("share of its class in the bin (log scale)")
            .draw()?;
        let width = (span.end - span.start) / self.bins as f64;
        // Translucent fills first so overlaps show, then solid outlines on
        // top so each class's shape reads through the other's fill.
        let classes = [(&ham, HAM), (&attacks, ATTACK)];
        let bar = |b: usize, s: f64| {
            let x0 = span.start + width * b as f64;
            [(x0, floor), (x0 + width, s)]
        };
        for (shares, color) in classes {
            let bars = shares.iter().enumerate().filter(|(_, &s)| s > 0.0);
            chart.draw_series(
                bars.map(|(b, &s)| Rectangle::new(bar(b, s), color.mix(0.4).filled())),
            )?;
        }
        for (shares, color) in classes {
            let bars = shares.iter().enumerate().filter(|(_, &s)| s > 0.0);
            chart.draw_series(
                bars.map(|(b, &s)| Rectangle::new(bar(b, s), color.stroke_width(2))),
            )?;
        }
        if range.is_none() {
            note_in(root, chart.plotting_area().get_pixel_range(), "no data")?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Calibration

struct Calibration<'a> {
    title: &'a str,
    bins: &'a [CalibrationBin],
}

impl Figure for Calibration<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<(), DB> {
        let color = PALETTE[0];
        let mut bins: Vec<CalibrationBin> = self
            .bins
            .iter()
            .copied()
            .filter(|b| b.count > 0 && b.predicted.is_finite() && b.observed.is_finite())
            .collect();
        bins.sort_by(|a, b| a.predicted.total_cmp(&b.predicted));
        let max_count = bins.iter().map(|b| b.count).max().unwrap_or(1);
        let legend = vec![
            LegendEntry {
                label: "observed share of attacks".into(),
                color,
                swatch: Swatch::Marker,
            },
            LegendEntry {
                label: "95% interval".into(),
                color: BLACK,
                swatch: Swatch::Line { dashed: false },
            },
            LegendEntry {
                label: "perfect calibration".into(),
                color: MUTED,
                swatch: Swatch::Dashed,
            },
            LegendEntry {
                label: format!(
                    "marker area ∝ messages (max {})",
                    thousands(max_count as u64)
                ),
                color: MUTED,
                swatch: Swatch::Hollow,
            },
        ];
        let plot = frame(root, self.title, &legend)?;
        let mut chart = ChartBuilder::on(&plot)
            .margin(20)
            .x_label_area_size(60)
            .y_label_area_size(80)
            .build_cartesian_2d(0.0..1.0, 0.0..1.0)?;
        mesh_percent_axes(
            &mut chart,
            "mean predicted attack probability in the bin",
            "observed share of attacks in the bin",
            11,
            &|v| percent(*v),
        )?;
        chart.draw_series(DashedLineSeries::new(
            [(0.0, 0.0), (1.0, 1.0)],
            8,
            6,
            MUTED.stroke_width(2),
        ))?;
        let points: Vec<(f64, f64)> = bins
            .iter()
            .map(|b| (unit(b.predicted), unit(b.observed)))
            .collect();
        chart.draw_series(LineSeries::new(points.clone(), color.stroke_width(1)))?;
        for b in &bins {
            let (x, y) = (unit(b.predicted), unit(b.observed));
            if let (Some(lo), Some(hi)) = (b.low, b.high) {
                if lo.is_finite() && hi.is_finite() {
                    let (lo, hi) = (unit(lo.min(hi)), unit(hi.max(lo)));
                    let style = BLACK.stroke_width(2);
                    chart.draw_series([
                        PathElement::new(vec![(x, lo), (x, hi)], style),
                        PathElement::new(vec![(x - 0.008, lo), (x + 0.008, lo)], style),
                        PathElement::new(vec![(x - 0.008, hi), (x + 0.008, hi)], style),
                    ])?;
                }
            }
            // Area, not radius, proportional to count; 4..16 px.
            let r = 4.0 + 12.0 * (b.count as f64 / max_count as f64).sqrt();
            chart.draw_series([
                Circle::new((x, y), r as i32, color.mix(0.75).filled()),
                Circle::new((x, y), r as i32, color.stroke_width(1)),
            ])?;
            let (px, py) = chart.backend_coord(&(x, y));
            let label_style = font(NOTE_SIZE)
                .color(&MUTED)
                .pos(Pos::new(HPos::Left, VPos::Bottom));
            root.draw(&Text::new(
                thousands(b.count as u64),
                (px + r as i32 + 3, py - 3),
                label_style,
            ))?;
        }
        if bins.is_empty() {
            note_in(root, chart.plotting_area().get_pixel_range(), "no data")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes a written PNG: its size and its RGB pixels.
    fn decode(path: &Path) -> (u32, u32, Vec<u8>) {
        let bytes = std::fs::read(path).unwrap();
        assert_eq!(
            &bytes[..8],
            b"\x89PNG\r\n\x1a\n",
            "{path:?}: no PNG signature"
        );
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!(info.color_type, png::ColorType::Rgb);
        buf.truncate(info.buffer_size());
        (info.width, info.height, buf)
    }

    /// Share of non-white pixels in rows `rows` of an RGB image.
    fn ink(pixels: &[u8], rows: Range<u32>) -> f64 {
        let row = WIDTH as usize * 3;
        let part = &pixels[rows.start as usize * row..rows.end as usize * row];
        let inked = part
            .chunks(3)
            .filter(|p| p.iter().any(|&c| c < 200))
            .count();
        inked as f64 / (part.len() / 3) as f64
    }

    /// Checks both files of a figure and answers the SVG's text.
    fn check(written: &Written, stem: &Path) -> String {
        assert_eq!(written.png, with_suffix(stem, "png"));
        assert_eq!(written.svg, with_suffix(stem, "svg"));
        let (w, h, pixels) = decode(&written.png);
        assert_eq!((w, h), (WIDTH, HEIGHT));
        // Title row: the font rendered glyphs there.
        assert!(ink(&pixels, 0..40) > 0.005, "{stem:?}: title not drawn");
        // Axes, labels and data below it.
        assert!(ink(&pixels, 40..HEIGHT) > 0.003, "{stem:?}: nearly blank");
        let svg = std::fs::read_to_string(&written.svg).unwrap();
        assert!(svg.starts_with("<svg") || svg.contains("<svg "), "{stem:?}");
        assert!(svg.trim_end().ends_with("</svg>"), "{stem:?}");
        svg
    }

    fn no_temporaries(dir: &Path) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let name = entry.unwrap().file_name();
            let name = name.to_string_lossy();
            assert!(!name.ends_with(".tmp"), "left behind: {name}");
        }
    }

    fn roc_like(name: &str, steep: f64) -> Curve {
        // A detector whose detection rate climbs as FPR^(1/steep).
        let mut points = vec![(0.0, 0.0), (0.0, 0.3)];
        points.extend((0..=40).map(|k| {
            let x = 10f64.powf(-4.0 + k as f64 / 10.0);
            (x, x.powf(1.0 / steep).max(0.3))
        }));
        Curve {
            name: name.into(),
            points,
            summary: Some(0.9 + steep / 100.0),
            operating_point: Some((1e-3, 1e-3f64.powf(1.0 / steep).max(0.3))),
        }
    }

    #[test]
    fn roc_writes_png_and_svg_with_legend() {
        let dir = tempfile::tempdir().unwrap();
        let stem = dir.path().join("roc");
        let curves = [
            roc_like("logistic", 8.0),
            roc_like("rules & <heuristics>", 4.0),
        ];
        let written = roc(&stem, "ROC, held-out corpus", &curves).unwrap();
        let svg = check(&written, &stem);
        assert!(svg.contains("logistic (AUC 0.980)"), "{svg}");
        // Names are escaped in the SVG, which stays well-formed.
        assert!(svg.contains("rules &amp; &lt;heuristics&gt;"));
        assert!(svg.contains("false-positive rate"));
        assert!(
            svg.contains("0.01%") && svg.contains("100%"),
            "decade labels"
        );
        no_temporaries(dir.path());
    }

    #[test]
    fn roc_floor_follows_smallest_step() {
        let with = |x: f64| {
            roc_floor(&[Curve {
                name: "d".into(),
                points: vec![(0.0, 0.0), (x, 0.5), (1.0, 1.0)],
                summary: None,
                operating_point: None,
            }])
        };
        assert_eq!(with(1.0 / 200.0), 1e-3); // 200 ham
        assert_eq!(with(1e-3), 1e-3); // an exact decade is its own floor
        assert_eq!(with(1.0 / 50_000.0), ROC_MIN_FPR); // capped
        assert_eq!(with(0.5), 1e-2); // at least two decades
        assert_eq!(roc_floor(&[]), ROC_MIN_FPR);
    }

    #[test]
    fn precision_recall_names_average_precision() {
        let dir = tempfile::tempdir().unwrap();
        let stem = dir.path().join("pr");
        let points: Vec<(f64, f64)> = (0..=50)
            .map(|k| {
                let r = k as f64 / 50.0;
                (r, 1.0 - 0.6 * r.powi(4))
            })
            .collect();
        let curves = [Curve {
            name: "logistic".into(),
            points,
            summary: Some(0.912),
            operating_point: Some((0.8, 0.75)),
        }];
        let svg = check(
            &precision_recall(&stem, "Precision-recall", &curves).unwrap(),
            &stem,
        );
        assert!(svg.contains("logistic (AP 0.912)"));
        assert!(svg.contains("operating point"));
    }

    fn bars(seed: f64, groups: usize) -> Vec<Option<Bar>> {
        (0..groups)
            .map(|g| {
                let v = ((g as f64 + 1.0) * seed).sin().abs();
                Some(Bar {
                    value: v,
                    low: (v - 0.08).max(0.0),
                    high: (v + 0.06).min(1.0),
                    n: 40 + 17 * g as u64,
                })
            })
            .collect()
    }

    #[test]
    fn grouped_bars_label_groups_and_n() {
        let dir = tempfile::tempdir().unwrap();
        let stem = dir.path().join("bars");
        let groups: Vec<String> = [
            "display-name spoof",
            "lookalike domain",
            "reply-to mismatch",
            "compromised account",
            "x",
        ]
        .map(String::from)
        .to_vec();
        let mut series = vec![
            BarSeries {
                name: "logistic".into(),
                values: bars(1.3, 5),
            },
            BarSeries {
                name: "rules".into(),
                values: bars(0.7, 5),
            },
        ];
        series[1].values[2] = None; // a gap, not a zero
        let written = grouped_bars(&stem, "Detection rate by technique", &groups, &series);
        let svg = check(&written.unwrap(), &stem);
        assert!(svg.contains("lookalike domain"));
        assert!(svg.contains("n = 74"), "n under the group");
        assert!(svg.contains("95% interval"));
        assert!(svg.contains("100%"));
    }

    #[test]
    fn histogram_keeps_rare_ham_visible() {
        let dir = tempfile::tempdir().unwrap();
        let stem = dir.path().join("hist");
        // 10:1 ham, with two ham scoring like attacks.
        let mut ham: Vec<f64> = (0..10_000).map(|i| (i % 97) as f64 / 400.0).collect();
        ham.extend([0.93, 0.97, f64::NAN]);
        let attacks: Vec<f64> = (0..1_000).map(|i| 0.6 + (i % 41) as f64 / 100.0).collect();
        let written = histogram(&stem, "Scores", &ham, &attacks, 40, "score").unwrap();
        let svg = check(&written, &stem);
        assert!(svg.contains("ham (n = 10,002)"), "NaN not counted");
        assert!(svg.contains("attacks (n = 1,000)"));
        // Two ham in 10,002 is a 0.01% bar: the axis reaches below it.
        assert!(svg.contains("0.001%"), "log axis floor");
    }

    #[test]
    fn calibration_draws_bins_with_counts() {
        let dir = tempfile::tempdir().unwrap();
        let stem = dir.path().join("cal");
        let bins: Vec<CalibrationBin> = (0..10)
            .map(|b| {
                let p = (b as f64 + 0.5) / 10.0;
                let o = (p * 0.9 + 0.02).min(1.0);
                CalibrationBin {
                    predicted: p,
                    observed: o,
                    count: 5000 / (b + 1),
                    low: Some((o - 0.05).max(0.0)),
                    high: Some((o + 0.05).min(1.0)),
                }
            })
            .collect();
        let svg = check(&calibration(&stem, "Calibration", &bins).unwrap(), &stem);
        assert!(svg.contains("perfect calibration"));
        // Each count is a text element of its own line.
        assert!(svg.lines().any(|l| l == "5,000"), "counts");
        assert!(svg.lines().any(|l| l == "500"), "counts");
    }

    /// Everything degenerate at once: each call must answer, not panic.
    #[test]
    fn degenerate_inputs_do_not_panic() {
        let dir = tempfile::tempdir().unwrap();
        let p = |name: &str| dir.path().join(name);
        let curve = |points: Vec<(f64, f64)>| Curve {
            name: "d".into(),
            points,
            summary: None,
            operating_point: None,
        };
        let long =
            "an extremely long detector name that goes on and on well past any legend ".repeat(3);

        // Curves: none, empty, one point, NaN only, out of range, all equal.
        for (i, curves) in [
            vec![],
            vec![curve(vec![])],
            vec![curve(vec![(0.01, 0.5)])],
            vec![curve(vec![(f64::NAN, 0.5), (0.5, f64::INFINITY)])],
            vec![curve(vec![(-1.0, 2.0), (7.0, -3.0)])],
            vec![curve(vec![(0.0, 0.0); 5])],
            vec![Curve {
                name: long.clone(),
                points: vec![],
                summary: Some(f64::NAN),
                operating_point: Some((f64::NAN, 0.5)),
            }],
        ]
        .into_iter()
        .enumerate()
        {
            let stem = p(&format!("roc{i}"));
            check(&roc(&stem, "Degenerate input", &curves).unwrap(), &stem);
            let stem = p(&format!("pr{i}"));
            check(
                &precision_recall(&stem, "Degenerate input", &curves).unwrap(),
                &stem,
            );
        }

        // Ten and more detectors: the palette cycles.
        let many: Vec<Curve> = (0..13)
            .map(|i| roc_like(&format!("detector {i}"), 2.0 + i as f64))
            .collect();
        let svg = check(&roc(&p("many"), &long, &many).unwrap(), &p("many"));
        assert!(svg.contains("detector 12"));

        // Bars: no groups, no series, ragged series, NaN, inverted interval.
        let one = vec!["only".to_string()];
        grouped_bars(&p("b0"), "Degenerate input", &[], &[]).unwrap();
        grouped_bars(&p("b1"), "Degenerate input", &one, &[]).unwrap();
        let odd = BarSeries {
            name: long.clone(),
            values: vec![
                Some(Bar {
                    value: f64::NAN,
                    low: 0.0,
                    high: 1.0,
                    n: 0,
                }),
                Some(Bar {
                    value: 0.5,
                    low: 0.9,
                    high: 0.1,
                    n: 3,
                }),
                None,
            ],
        };
        grouped_bars(
            &p("b2"),
            "Degenerate input",
            &one,
            std::slice::from_ref(&odd),
        )
        .unwrap();
        let groups: Vec<String> = (0..30)
            .map(|g| format!("technique{g}withoutspaces"))
            .collect();
        let ten: Vec<BarSeries> = (0..12)
            .map(|i| BarSeries {
                name: format!("d{i}"),
                values: bars(i as f64 + 0.5, 30),
            })
            .collect();
        grouped_bars(&p("b3"), "Degenerate input", &groups, &ten).unwrap();

        // Histograms: empty, all equal, single value, NaN only, one bin.
        for (i, (ham, attacks)) in [
            (vec![], vec![]),
            (vec![0.5; 100], vec![0.5; 10]),
            (vec![3.0], vec![]),
            (vec![f64::NAN], vec![f64::INFINITY]),
            (vec![-1e300, 1e300], vec![0.0]),
            (vec![-f64::MAX, f64::MAX], vec![f64::MIN_POSITIVE]),
            (vec![1e300; 3], vec![]),
        ]
        .iter()
        .enumerate()
        {
            for bins in [1, 7] {
                histogram(
                    &p(&format!("h{i}-{bins}")),
                    "Degenerate input",
                    ham,
                    attacks,
                    bins,
                    "s",
                )
                .unwrap();
            }
        }

        // Calibration: empty, zero counts, NaN, a single bin.
        calibration(&p("c0"), "Degenerate input", &[]).unwrap();
        let bin = |predicted, observed, count| CalibrationBin {
            predicted,
            observed,
            count,
            low: None,
            high: Some(f64::NAN),
        };
        calibration(
            &p("c1"),
            "Degenerate input",
            &[bin(0.5, 0.5, 0), bin(f64::NAN, 0.1, 4)],
        )
        .unwrap();
        calibration(&p("c2"), "Degenerate input", &[bin(0.3, 0.9, 1)]).unwrap();
        no_temporaries(dir.path());
    }

    #[test]
    fn bad_requests_are_errors_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let stem = dir.path().join("h");
        for bins in [0, MAX_BINS + 1] {
            let err = histogram(&stem, "t", &[0.1], &[0.9], bins, "s").unwrap_err();
            assert!(matches!(err, PlotError::Input { .. }));
            assert!(err.to_string().contains("h: a histogram needs"), "{err}");
        }
        assert!(!with_suffix(&stem, "png").exists());

        // A directory that does not exist: an I/O error naming the file.
        let missing = dir.path().join("no/such/dir/roc");
        let err = roc(&missing, "t", &[]).unwrap_err();
        assert!(matches!(err, PlotError::Io { .. }), "{err}");
        assert!(err.to_string().contains("no/such/dir/roc.png"), "{err}");
    }

    #[test]
    fn rewriting_replaces_the_old_figure() {
        let dir = tempfile::tempdir().unwrap();
        let stem = dir.path().join("fig.v2"); // a dot in the stem stays
        let first = calibration(&stem, "first", &[]).unwrap();
        assert!(first.png.ends_with("fig.v2.png"));
        let before = std::fs::read(&first.svg).unwrap();
        calibration(&stem, "second", &[]).unwrap();
        let after = std::fs::read_to_string(&first.svg).unwrap();
        assert_ne!(before, after.as_bytes());
        assert!(after.contains("second"));
        no_temporaries(dir.path());
    }

    #[test]
    fn labels() {
        assert_eq!(percent(1e-4), "0.01%");
        assert_eq!(percent(1e-3), "0.1%");
        assert_eq!(percent(0.005), "0.5%");
        assert_eq!(percent(0.25), "25%");
        assert_eq!(percent(1.0), "100%");
        assert_eq!(percent(0.0), "0%");
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(shorten("abcdef", 4), "abc…");
        assert_eq!(shorten("abc", 4), "abc");
    }
}
