//! A tiny layout engine for simple A4 business documents (receipts,
//! summaries, letters), written on top of `printpdf`.
//!
//! Everything that touches `printpdf` lives in this file, so that the next
//! API break of that crate (it broke in 0.8, 0.10 and 0.12) touches one file.
//! The rest of the system builds a [`Document`] out of [`Block`]s and calls
//! [`render`].
//!
//! Layout: A4 portrait, 2 cm margins, the [`Header`] (organisation in bold,
//! header lines, a rule) on every page, the title and subtitle on the first
//! page, the footer text and "Pagina N di M" at the bottom of every page.
//! Text is wrapped by the glyph advances of the embedded font (DejaVu Sans,
//! subset into the PDF), words longer than a line are broken, and content
//! flows onto as many pages as it needs.
//!
//! Nothing here panics on any text: control characters are dropped,
//! characters the font lacks become `?`, and absurdly long documents are
//! refused with [`PdfError::TooManyPages`] instead of exhausting memory.

use std::sync::OnceLock;

use printpdf::{
    Color, FontId, Greyscale, Line, LinePoint, Mm, Op, ParsedFont, PdfDocument, PdfFontHandle,
    PdfPage, PdfSaveOptions, PdfWarnMsg, Point, Pt, TextItem, TextMatrix,
};

/// The letterhead printed at the top of every page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Header {
    /// The issuing body, e.g. "Comune di Esempio" (bold, larger).
    pub organisation: String,
    /// Smaller lines under it, e.g. the office and its contacts.
    pub lines: Vec<String>,
}

/// One piece of content, laid out top to bottom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// A section title (bold); never left alone at the bottom of a page.
    Heading(String),
    /// Wrapped text; a `\n` inside starts a new line.
    Paragraph(String),
    /// Label / value rows in two columns; values (and long labels) wrap.
    Fields(Vec<(String, String)>),
    /// A bulleted list; each item wraps with a hanging indent.
    Bullets(Vec<String>),
    /// Some vertical space.
    Spacer,
}

/// A whole document. `title` also becomes the PDF's metadata title; no
/// other metadata (author, subject, keywords) is written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Document {
    pub title: String,
    pub subtitle: Option<String>,
    pub header: Header,
    pub blocks: Vec<Block>,
    /// Small text at the bottom of every page, next to "Pagina N di M".
    pub footer: String,
}

#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    /// The font compiled into the binary could not be parsed (a build
    /// problem, not an input problem).
    #[error("the embedded font {0} could not be parsed")]
    Font(&'static str),
    /// The content needs more pages than we are willing to produce.
    #[error("the document would need more than {limit} pages")]
    TooManyPages { limit: usize },
    /// The PDF writer returned something that is not a PDF.
    #[error("the PDF writer produced no valid output")]
    EmptyOutput,
}

/// Upper bound on the pages of one document: a guard against runaway input,
/// far above anything this system prints.
pub const MAX_PAGES: usize = 500;

/// Lays out `doc` and returns the bytes of the PDF.
pub fn render(doc: &Document) -> Result<Vec<u8>, PdfError> {
    let (bytes, warnings) = render_with_warnings(doc)?;
    for w in &warnings {
        // printpdf's messages describe fonts, colours and operators, never
        // the document's text.
        tracing::warn!(
            severity = ?w.severity,
            page = w.page,
            op = w.op_id,
            message = %w.msg,
            "PDF writer warning"
        );
    }
    if !bytes.starts_with(b"%PDF-") {
        return Err(PdfError::EmptyOutput);
    }
    Ok(bytes)
}

/// The bytes printpdf wrote and the warnings it returned while saving.
fn render_with_warnings(doc: &Document) -> Result<(Vec<u8>, Vec<PdfWarnMsg>), PdfError> {
    let fonts = fonts()?;
    let frame = Frame::new(fonts, doc);
    let rows = body_rows(fonts, doc);
    let pages = paginate(&rows, frame.body_top, frame.body_bottom)?;
    let page_count = pages.len();

    let title = clean_metadata(&doc.title);
    let mut pdf = PdfDocument::new(&title);
    let now = printpdf::OffsetDateTime::now_utc();
    pdf.metadata.info.creation_date = now;
    pdf.metadata.info.modification_date = now;
    pdf.metadata.info.metadata_date = now;
    let ids = FontIds {
        regular: pdf.add_font(&fonts.regular.font),
        bold: pdf.add_font(&fonts.bold.font),
    };

    let pdf_pages = pages
        .iter()
        .enumerate()
        .map(|(index, placed)| {
            let mut page = PageWriter::new(&ids);
            frame.draw(&mut page, fonts, index + 1, page_count);
            for (top, row) in placed {
                page.row(*top, row);
            }
            PdfPage::new(Mm(210.0), Mm(297.0), page.finish())
        })
        .collect();
    pdf.with_pages(pdf_pages);

    let mut warnings = Vec::new();
    let bytes = pdf.save(&PdfSaveOptions::default(), &mut warnings);
    Ok((bytes, warnings))
}

// ---------------------------------------------------------------------------
// Geometry and styles (all lengths in PDF points, 1/72 inch)

const PAGE_WIDTH: f32 = 595.276; // 210 mm
const PAGE_HEIGHT: f32 = 841.89; // 297 mm
const MARGIN: f32 = 56.693; // 20 mm
const CONTENT_WIDTH: f32 = PAGE_WIDTH - 2.0 * MARGIN;
/// Width of the label column of [`Block::Fields`].
const LABEL_WIDTH: f32 = 150.0;
const LABEL_GAP: f32 = 10.0;
const BULLET_INDENT: f32 = 16.0;
const SPACER: f32 = 12.0;
const LINE_FACTOR: f32 = 1.35;
/// At most this many lines of organisation / header lines / footer text;
/// beyond that they are cut with "…" so that the body always has room.
const MAX_ORGANISATION_LINES: usize = 2;
const MAX_HEADER_LINES: usize = 6;
const MAX_FOOTER_LINES: usize = 3;

const BLACK: f32 = 0.0;
const GREY: f32 = 0.35;
const RULE_GREY: f32 = 0.6;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Weight {
    Regular,
    Bold,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Style {
    weight: Weight,
    size: f32,
    grey: f32,
}

impl Style {
    const fn new(weight: Weight, size: f32, grey: f32) -> Self {
        Self { weight, size, grey }
    }

    fn line_height(self) -> f32 {
        self.size * LINE_FACTOR
    }
}

const ORGANISATION: Style = Style::new(Weight::Bold, 13.0, BLACK);
const HEADER_LINE: Style = Style::new(Weight::Regular, 8.5, GREY);
const TITLE: Style = Style::new(Weight::Bold, 17.0, BLACK);
const SUBTITLE: Style = Style::new(Weight::Regular, 11.5, GREY);
const HEADING: Style = Style::new(Weight::Bold, 12.0, BLACK);
const BODY: Style = Style::new(Weight::Regular, 10.0, BLACK);
const LABEL: Style = Style::new(Weight::Bold, 10.0, BLACK);
const FOOTER: Style = Style::new(Weight::Regular, 8.0, GREY);

// ---------------------------------------------------------------------------
// Fonts

const REGULAR_TTF: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/assets/fonts/DejaVuSans.ttf"
));
const BOLD_TTF: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/assets/fonts/DejaVuSans-Bold.ttf"
));

struct Face {
    font: ParsedFont,
    units_per_em: f32,
}

impl Face {
    fn parse(bytes: &[u8]) -> Option<Self> {
        let font = ParsedFont::from_bytes(bytes, 0, &mut Vec::new())?;
        let units_per_em = f32::from(font.pdf_font_metrics.units_per_em);
        (units_per_em > 0.0).then_some(Self { font, units_per_em })
    }

    /// The font's glyph for `c`, if it has a real one (not `.notdef`).
    fn glyph(&self, c: char) -> Option<u16> {
        self.font
            .lookup_glyph_index(u32::from(c))
            .filter(|gid| *gid != 0)
    }

    /// Advance width of `c` in em; characters without a glyph are measured
    /// as the `?` that replaces them.
    fn advance(&self, c: char) -> f32 {
        let gid = self.glyph(c).or_else(|| self.glyph('?')).unwrap_or(0);
        // The one place that depends on printpdf's `text_layout` feature:
        // with it, `ParsedFont` is azul-layout's and reads `hmtx` directly;
        // without it, the stub keeps `glyph_widths` (`get_glyph_width`).
        f32::from(self.font.get_horizontal_advance(gid)) / self.units_per_em
    }
}

struct Fonts {
    regular: Face,
    bold: Face,
}

impl Fonts {
    fn face(&self, weight: Weight) -> &Face {
        match weight {
            Weight::Regular => &self.regular,
            Weight::Bold => &self.bold,
        }
    }

    fn width(&self, style: Style, text: &str) -> f32 {
        let face = self.face(style.weight);
        text.chars().map(|c| face.advance(c)).sum::<f32>() * style.size
    }

    /// Whether both faces can draw `c` (text may land in either).
    fn has(&self, c: char) -> bool {
        self.regular.glyph(c).is_some() && self.bold.glyph(c).is_some()
    }
}

/// Parsed once per process (a Lambda container renders many documents).
fn fonts() -> Result<&'static Fonts, PdfError> {
    static FONTS: OnceLock<Result<Fonts, &'static str>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            Ok(Fonts {
                regular: Face::parse(REGULAR_TTF).ok_or("DejaVuSans.ttf")?,
                bold: Face::parse(BOLD_TTF).ok_or("DejaVuSans-Bold.ttf")?,
            })
        })
        .as_ref()
        .map_err(|name| PdfError::Font(name))
}

// ---------------------------------------------------------------------------
// Text cleaning and wrapping

/// Marks a no-break space inside cleaned text: it is drawn as a space but
/// never breaks a line.
const NO_BREAK: char = '\u{A0}';

/// Makes arbitrary input safe to lay out: newlines are kept only where
/// `keep_newlines` (otherwise they become spaces), other whitespace becomes
/// a space, control and invisible formatting characters are dropped, and
/// characters the font cannot draw become `?`.
fn clean(fonts: &Fonts, text: &str, keep_newlines: bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' | '\n' | '\u{2028}' | '\u{2029}' | '\u{85}' => {
                if c == '\r' && chars.peek() == Some(&'\n') {
                    continue;
                }
                out.push(if keep_newlines { '\n' } else { ' ' });
            }
            '\u{A0}' | '\u{2007}' | '\u{202F}' => out.push(NO_BREAK),
            c if c.is_whitespace() => out.push(' '),
            c if c.is_control() || is_invisible(c) => {}
            c if fonts.has(c) => out.push(c),
            _ => out.push('?'),
        }
    }
    out
}

/// Format characters that draw nothing: soft hyphen, zero-width and
/// direction marks, word joiners, BOM, variation selectors, tags, emoji
/// skin-tone modifiers.
fn is_invisible(c: char) -> bool {
    matches!(
        u32::from(c),
        0xAD | 0x034F
            | 0x061C
            | 0x180E
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x206F
            | 0xFE00..=0xFE0F
            | 0xFEFF
            | 0xFFF9..=0xFFFB
            | 0x1F3FB..=0x1F3FF
            | 0xE0000..=0xE0FFF
    )
}

/// Metadata is not drawn, so it needs no glyphs: only drop what is invisible.
fn clean_metadata(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .filter(|c| !c.is_control() && !is_invisible(*c))
        .collect();
    cleaned
        .split(' ')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Wraps one cleaned line (no `\n`) to `width`; words wider than a line are
/// broken between characters. Returns no lines for blank text.
fn wrap_line(fonts: &Fonts, style: Style, text: &str, width: f32) -> Vec<String> {
    let space = fonts.width(style, " ");
    let mut lines = Vec::new();
    let mut current = String::new();
    let mut current_width = 0.0;
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let word_width = fonts.width(style, word);
        if !current.is_empty() && current_width + space + word_width <= width {
            current.push(' ');
            current.push_str(word);
            current_width += space + word_width;
            continue;
        }
        if !current.is_empty() {
            lines.push(std::mem::take(&mut current));
        }
        if word_width <= width {
            current = word.to_owned();
            current_width = word_width;
        } else {
            // Break the word: fill each line, at least one character.
            current_width = 0.0;
            for c in word.chars() {
                let w = fonts.width(style, c.encode_utf8(&mut [0; 4]));
                if !current.is_empty() && current_width + w > width {
                    lines.push(std::mem::take(&mut current));
                    current_width = 0.0;
                }
                current.push(c);
                current_width += w;
            }
        }
    }
    if !current.is_empty() {
        lines.push(current);
    }
    lines
}

/// Wraps cleaned text that may contain `\n` (each starts a new line; empty
/// lines are kept as blank lines, except at the very start and end).
fn wrap(fonts: &Fonts, style: Style, text: &str, width: f32) -> Vec<String> {
    if text.chars().all(|c| c == ' ' || c == '\n') {
        return Vec::new();
    }
    let mut lines: Vec<String> = text
        .trim_matches(|c| c == ' ' || c == '\n')
        .split('\n')
        .flat_map(|hard| {
            let wrapped = wrap_line(fonts, style, hard, width);
            if wrapped.is_empty() {
                vec![String::new()]
            } else {
                wrapped
            }
        })
        .collect();
    lines.shrink_to_fit();
    lines
}

/// Keeps at most `max` lines; if some were cut, the last kept one ends in "…".
fn truncate(
    fonts: &Fonts,
    style: Style,
    mut lines: Vec<String>,
    max: usize,
    width: f32,
) -> Vec<String> {
    if lines.len() <= max {
        return lines;
    }
    lines.truncate(max);
    if let Some(last) = lines.last_mut() {
        while !last.is_empty() && fonts.width(style, last) + fonts.width(style, " …") > width {
            last.pop();
        }
        last.push_str(" …");
    }
    lines
}

// ---------------------------------------------------------------------------
// Body rows and pagination

/// Text drawn at a horizontal offset from the left margin.
#[derive(Debug, Clone)]
struct Run {
    dx: f32,
    style: Style,
    text: String,
}

/// One line of the body: everything on one baseline.
#[derive(Debug, Clone)]
struct Row {
    /// Space above the row, dropped at the top of a page.
    gap_before: f32,
    height: f32,
    runs: Vec<Run>,
    /// Move to the next page together with the following row (headings).
    keep_with_next: bool,
}

/// Builds rows block by block; a block's first row carries its gap.
struct RowBuilder {
    rows: Vec<Row>,
    pending_gap: f32,
}

impl RowBuilder {
    fn push(&mut self, gap: f32, runs: Vec<Run>) {
        let height = runs
            .iter()
            .map(|r| r.style.line_height())
            .fold(0.0, f32::max);
        self.rows.push(Row {
            gap_before: gap + std::mem::take(&mut self.pending_gap),
            height,
            runs,
            keep_with_next: false,
        });
    }

    fn lines(&mut self, first_gap: f32, dx: f32, style: Style, lines: Vec<String>) {
        for (i, text) in lines.into_iter().enumerate() {
            let gap = if i == 0 { first_gap } else { 0.0 };
            self.push(gap, vec![Run { dx, style, text }]);
        }
    }
}

fn body_rows(fonts: &Fonts, doc: &Document) -> Vec<Row> {
    let mut b = RowBuilder {
        rows: Vec::new(),
        pending_gap: 0.0,
    };
    let title = wrap(
        fonts,
        TITLE,
        &clean(fonts, &doc.title, false),
        CONTENT_WIDTH,
    );
    b.lines(0.0, 0.0, TITLE, title);
    if let Some(subtitle) = &doc.subtitle {
        let lines = wrap(
            fonts,
            SUBTITLE,
            &clean(fonts, subtitle, true),
            CONTENT_WIDTH,
        );
        b.lines(2.0, 0.0, SUBTITLE, lines);
    }
    if !b.rows.is_empty() {
        b.pending_gap = 8.0;
    }

    for block in &doc.blocks {
        match block {
            Block::Heading(text) => {
                let lines = wrap(fonts, HEADING, &clean(fonts, text, false), CONTENT_WIDTH);
                b.lines(14.0, 0.0, HEADING, lines);
                if let Some(last) = b.rows.last_mut() {
                    last.keep_with_next = true;
                }
            }
            Block::Paragraph(text) => {
                let lines = wrap(fonts, BODY, &clean(fonts, text, true), CONTENT_WIDTH);
                b.lines(6.0, 0.0, BODY, lines);
            }
            Block::Fields(fields) => {
                let value_width = CONTENT_WIDTH - LABEL_WIDTH;
                for (i, (label, value)) in fields.iter().enumerate() {
                    let labels = wrap(
                        fonts,
                        LABEL,
                        &clean(fonts, label, false),
                        LABEL_WIDTH - LABEL_GAP,
                    );
                    let values = wrap(fonts, BODY, &clean(fonts, value, true), value_width);
                    let count = labels.len().max(values.len()).max(1);
                    let mut labels = labels.into_iter();
                    let mut values = values.into_iter();
                    for line in 0..count {
                        let mut runs = Vec::new();
                        if let Some(text) = labels.next() {
                            runs.push(Run {
                                dx: 0.0,
                                style: LABEL,
                                text,
                            });
                        }
                        if let Some(text) = values.next() {
                            runs.push(Run {
                                dx: LABEL_WIDTH,
                                style: BODY,
                                text,
                            });
                        }
                        if runs.is_empty() {
                            // Keep the row's height for an empty pair.
                            runs.push(Run {
                                dx: 0.0,
                                style: BODY,
                                text: String::new(),
                            });
                        }
                        let gap = match (i, line) {
                            (0, 0) => 6.0,
                            (_, 0) => 3.0,
                            _ => 0.0,
                        };
                        b.push(gap, runs);
                    }
                }
            }
            Block::Bullets(items) => {
                let width = CONTENT_WIDTH - BULLET_INDENT;
                for (i, item) in items.iter().enumerate() {
                    let lines = wrap(fonts, BODY, &clean(fonts, item, true), width);
                    let first_gap = if i == 0 { 6.0 } else { 2.0 };
                    if lines.is_empty() {
                        b.push(
                            first_gap,
                            vec![Run {
                                dx: 4.0,
                                style: BODY,
                                text: "•".into(),
                            }],
                        );
                        continue;
                    }
                    for (n, text) in lines.into_iter().enumerate() {
                        let mut runs = Vec::with_capacity(2);
                        if n == 0 {
                            runs.push(Run {
                                dx: 4.0,
                                style: BODY,
                                text: "•".into(),
                            });
                        }
                        runs.push(Run {
                            dx: BULLET_INDENT,
                            style: BODY,
                            text,
                        });
                        b.push(if n == 0 { first_gap } else { 0.0 }, runs);
                    }
                }
            }
            Block::Spacer => b.pending_gap += SPACER,
        }
    }
    b.rows
}

/// Distributes rows over pages; each placed row carries its top (from the
/// top of the page). A row that does not fit goes to the next page, unless
/// the page is still empty (so every row is placed and the loop ends).
fn paginate(rows: &[Row], top: f32, bottom: f32) -> Result<Vec<Vec<(f32, &Row)>>, PdfError> {
    let mut pages: Vec<Vec<(f32, &Row)>> = vec![Vec::new()];
    let mut y = top;
    for (i, row) in rows.iter().enumerate() {
        let on_fresh_page = pages.last().is_none_or(Vec::is_empty);
        let mut gap = if on_fresh_page { 0.0 } else { row.gap_before };
        let mut need = gap + row.height;
        if row.keep_with_next
            && let Some(next) = rows.get(i + 1)
        {
            need += next.gap_before + next.height;
        }
        if !on_fresh_page && y + need > bottom {
            if pages.len() >= MAX_PAGES {
                return Err(PdfError::TooManyPages { limit: MAX_PAGES });
            }
            pages.push(Vec::new());
            y = top;
            gap = 0.0;
        }
        y += gap;
        if let Some(page) = pages.last_mut() {
            page.push((y, row));
        }
        y += row.height;
    }
    Ok(pages)
}

// ---------------------------------------------------------------------------
// The frame: header and footer, the same on every page

struct Frame {
    /// Header rows: (top, style, text).
    header: Vec<(f32, Style, String)>,
    header_rule: f32,
    footer: Vec<(f32, String)>,
    footer_rule: f32,
    body_top: f32,
    body_bottom: f32,
}

impl Frame {
    fn new(fonts: &Fonts, doc: &Document) -> Self {
        let mut header = Vec::new();
        let mut y = MARGIN;
        let organisation = wrap(
            fonts,
            ORGANISATION,
            &clean(fonts, &doc.header.organisation, false),
            CONTENT_WIDTH,
        );
        for text in truncate(
            fonts,
            ORGANISATION,
            organisation,
            MAX_ORGANISATION_LINES,
            CONTENT_WIDTH,
        ) {
            header.push((y, ORGANISATION, text));
            y += ORGANISATION.line_height();
        }
        let lines: Vec<String> = doc
            .header
            .lines
            .iter()
            .flat_map(|l| wrap(fonts, HEADER_LINE, &clean(fonts, l, false), CONTENT_WIDTH))
            .collect();
        for text in truncate(fonts, HEADER_LINE, lines, MAX_HEADER_LINES, CONTENT_WIDTH) {
            header.push((y, HEADER_LINE, text));
            y += HEADER_LINE.line_height();
        }
        let header_rule = y + 4.0;
        let body_top = header_rule + 16.0;

        // Footer text wraps beside the page number, which gets room for
        // the widest label this module can print.
        let widest_label = fonts.width(FOOTER, &page_label(MAX_PAGES, MAX_PAGES));
        let footer_width = CONTENT_WIDTH - widest_label - 12.0;
        let lines = wrap(
            fonts,
            FOOTER,
            &clean(fonts, &doc.footer, true),
            footer_width,
        );
        let lines = truncate(fonts, FOOTER, lines, MAX_FOOTER_LINES, footer_width);
        let count = lines.len().max(1) as f32;
        let footer_top = PAGE_HEIGHT - MARGIN - count * FOOTER.line_height();
        let footer = lines
            .into_iter()
            .enumerate()
            .map(|(i, text)| (footer_top + i as f32 * FOOTER.line_height(), text))
            .collect();
        Self {
            header,
            header_rule,
            footer,
            footer_rule: footer_top - 5.0,
            body_top,
            body_bottom: footer_top - 14.0,
        }
    }

    fn draw(&self, page: &mut PageWriter, fonts: &Fonts, number: usize, count: usize) {
        for (top, style, text) in &self.header {
            page.text(MARGIN, *top, *style, text);
        }
        for (top, text) in &self.footer {
            page.text(MARGIN, *top, FOOTER, text);
        }
        let label = page_label(number, count);
        let x = MARGIN + CONTENT_WIDTH - fonts.width(FOOTER, &label);
        page.text(x, self.footer_rule + 5.0, FOOTER, &label);
        page.rule(self.header_rule, 0.8);
        page.rule(self.footer_rule, 0.4);
    }
}

fn page_label(number: usize, count: usize) -> String {
    format!("Pagina {number} di {count}")
}

// ---------------------------------------------------------------------------
// Emitting printpdf operations

struct FontIds {
    regular: FontId,
    bold: FontId,
}

/// Collects a page's text (one text section) and rules (drawn after it).
struct PageWriter<'a> {
    ids: &'a FontIds,
    text: Vec<Op>,
    graphics: Vec<Op>,
    current: Option<(Weight, f32, f32)>,
}

impl<'a> PageWriter<'a> {
    fn new(ids: &'a FontIds) -> Self {
        Self {
            ids,
            text: vec![Op::StartTextSection],
            graphics: Vec::new(),
            current: None,
        }
    }

    fn row(&mut self, top: f32, row: &Row) {
        for run in &row.runs {
            // Baseline roughly centred in the row.
            let baseline = top + (row.height + run.style.size * 0.7) / 2.0;
            self.text_at_baseline(MARGIN + run.dx, baseline, run.style, &run.text);
        }
    }

    /// Draws one line whose box starts at `top` (from the top of the page).
    fn text(&mut self, x: f32, top: f32, style: Style, text: &str) {
        let baseline = top + (style.line_height() + style.size * 0.7) / 2.0;
        self.text_at_baseline(x, baseline, style, text);
    }

    fn text_at_baseline(&mut self, x: f32, baseline: f32, style: Style, text: &str) {
        if text.is_empty() {
            return;
        }
        let state = (style.weight, style.size, style.grey);
        if self.current != Some(state) {
            let id = match style.weight {
                Weight::Regular => &self.ids.regular,
                Weight::Bold => &self.ids.bold,
            };
            self.text.push(Op::SetFont {
                font: PdfFontHandle::External(id.clone()),
                size: Pt(style.size),
            });
            self.text.push(Op::SetFillColor {
                col: grey(style.grey),
            });
            self.current = Some(state);
        }
        self.text.push(Op::SetTextMatrix {
            matrix: TextMatrix::Translate(Pt(x), Pt(PAGE_HEIGHT - baseline)),
        });
        self.text.push(Op::ShowText {
            items: vec![TextItem::Text(text.replace(NO_BREAK, " "))],
        });
    }

    /// A horizontal rule across the content width at `y` from the top.
    fn rule(&mut self, y: f32, thickness: f32) {
        let y = Pt(PAGE_HEIGHT - y);
        self.graphics.push(Op::SetOutlineColor {
            col: grey(RULE_GREY),
        });
        self.graphics
            .push(Op::SetOutlineThickness { pt: Pt(thickness) });
        self.graphics.push(Op::DrawLine {
            line: Line {
                points: vec![
                    LinePoint {
                        p: Point { x: Pt(MARGIN), y },
                        bezier: false,
                    },
                    LinePoint {
                        p: Point {
                            x: Pt(MARGIN + CONTENT_WIDTH),
                            y,
                        },
                        bezier: false,
                    },
                ],
                is_closed: false,
            },
        });
    }

    fn finish(mut self) -> Vec<Op> {
        self.text.push(Op::EndTextSection);
        self.text.append(&mut self.graphics);
        self.text
    }
}

fn grey(level: f32) -> Color {
    Color::Greyscale(Greyscale::new(level, None))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Instant;

    /// The text `pdftotext -layout` extracts from `pdf`. Fails (never skips)
    /// when poppler-utils is missing.
    fn pdftotext(pdf: &[u8]) -> String {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "pdf-test-{}-{}.pdf",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::write(&path, pdf).expect("write the PDF to a temp file");
        let output = Command::new("pdftotext")
            .arg("-layout")
            .arg("-enc")
            .arg("UTF-8")
            .arg(&path)
            .arg("-")
            .output();
        let _ = std::fs::remove_file(&path);
        let output = match output {
            Ok(output) => output,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
                "`pdftotext` is not installed: install poppler-utils \
                 (`apt-get install -y poppler-utils`; `make test` installs it) \
                 to run the PDF text-extraction tests"
            ),
            Err(e) => panic!("could not run pdftotext: {e}"),
        };
        assert!(
            output.status.success(),
            "pdftotext failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).expect("pdftotext prints UTF-8")
    }

    fn header() -> Header {
        Header {
            organisation: "Comune di Esempio".into(),
            lines: vec![
                "Ufficio servizi scolastici".into(),
                "scuola@comune.example.it · +39 080 0000000".into(),
            ],
        }
    }

    fn sample() -> Document {
        Document {
            title: "Riepilogo della domanda di iscrizione".into(),
            subtitle: Some("Anno scolastico 2025/2026 – Scuola dell’infanzia".into()),
            header: header(),
            blocks: vec![
                Block::Heading("Perché ricevi questo documento".into()),
                Block::Paragraph(
                    "La domanda è stata registrata. Città di residenza: Forlì. \
                     È possibile modificarla fino al 30 aprile; la mensa costa € 3,50 \
                     al giorno. «Già inviata» significa che l’ufficio può già esaminarla."
                        .into(),
                ),
                Block::Spacer,
                Block::Fields(vec![
                    ("Codice domanda".into(), "ISC-2025-000123".into()),
                    ("Bambina/o".into(), "Niccolò Pàrola".into()),
                    (
                        "Indirizzo di residenza".into(),
                        "Via della Libertà 12, 47121 Forlì (FC) – scala B, interno 4, \
                         presso la famiglia Dell’Università"
                            .into(),
                    ),
                    ("Tariffa".into(), "€ 3,50".into()),
                ]),
                Block::Heading("Prossimi passi".into()),
                Block::Bullets(vec![
                    "Controlla i dati entro venerdì.".into(),
                    "Se qualcosa non è corretto, scrivi all’ufficio: risponderemo \
                     entro tre giorni lavorativi, anche per le richieste più lunghe \
                     che occupano più di una riga."
                        .into(),
                    "Perché sì: così è più semplice.".into(),
                ]),
            ],
            footer: "Documento generato il 22/04/2025 alle 09:15".into(),
        }
    }

    fn long_document(paragraphs: usize) -> Document {
        let mut blocks = vec![Block::Heading("Elenco".into())];
        for i in 0..paragraphs {
            blocks.push(Block::Paragraph(format!(
                "Paragrafo {i}: la città è più bella così, perché ognuno può \
                 partecipare alla vita della scuola e dare il proprio contributo."
            )));
        }
        Document {
            title: "Documento lungo".into(),
            subtitle: None,
            header: header(),
            blocks,
            footer: "Piè di pagina".into(),
        }
    }

    fn page_count(pdf: &[u8]) -> usize {
        pdftotext(pdf)
            .split('\x0c')
            .filter(|p| !p.trim().is_empty())
            .count()
    }

    #[test]
    fn output_is_a_pdf() {
        let pdf = render(&sample()).expect("render");
        assert!(pdf.starts_with(b"%PDF-"));
    }

    #[test]
    fn italian_text_extracts_back_exactly() {
        let pdf = render(&sample()).expect("render");
        let text = pdftotext(&pdf);
        for expected in [
            "Comune di Esempio",
            "Ufficio servizi scolastici",
            "scuola@comune.example.it · +39 080 0000000",
            "Riepilogo della domanda di iscrizione",
            "Anno scolastico 2025/2026 – Scuola dell’infanzia",
            "Perché ricevi questo documento",
            "La domanda è stata registrata.",
            "Città di residenza: Forlì.",
            "È possibile",
            "€ 3,50",
            "«Già inviata»",
            "Codice domanda",
            "ISC-2025-000123",
            "Niccolò Pàrola",
            "Via della Libertà 12",
            "Prossimi passi",
            "• Controlla i dati entro venerdì.",
            "Perché sì: così è più semplice.",
            "Documento generato il 22/04/2025 alle 09:15",
            "Pagina 1 di 1",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
        }
        assert!(
            !text.contains('\u{FFFD}'),
            "replacement character in:\n{text}"
        );
    }

    #[test]
    fn the_writer_reports_no_warnings() {
        for doc in [sample(), long_document(200), Document::default()] {
            let (_, warnings) = render_with_warnings(&doc).expect("render");
            assert!(warnings.is_empty(), "{warnings:?}");
        }
    }

    #[test]
    fn title_is_the_only_metadata() {
        let pdf = render(&sample()).expect("render");
        let raw = String::from_utf8_lossy(&pdf);
        // The Info dictionary stores the title as UTF-16BE hex.
        let hex: String = "Riepilogo"
            .encode_utf16()
            .map(|u| format!("{u:04X}"))
            .collect();
        assert!(
            raw.to_uppercase().contains(&hex),
            "title not in the metadata"
        );
        for personal in ["Niccol", "ISC-2025"] {
            assert!(!raw.contains(personal), "{personal} leaked in clear text");
        }
    }

    #[test]
    fn long_document_breaks_pages_and_numbers_every_page() {
        let pdf = render(&long_document(200)).expect("render");
        let text = pdftotext(&pdf);
        let pages: Vec<&str> = text
            .split('\x0c')
            .filter(|p| !p.trim().is_empty())
            .collect();
        let total = pages.len();
        assert!(total >= 3, "200 paragraphs on {total} pages");
        for (i, page) in pages.iter().enumerate() {
            let label = format!("Pagina {} di {total}", i + 1);
            assert!(page.contains(&label), "page {} lacks {label:?}", i + 1);
            assert!(
                page.contains("Comune di Esempio"),
                "page {} lacks the header",
                i + 1
            );
            assert!(
                page.contains("Piè di pagina"),
                "page {} lacks the footer",
                i + 1
            );
        }
        // Nothing lost at the page breaks.
        for i in [0, 57, 123, 199] {
            assert!(
                text.contains(&format!("Paragrafo {i}:")),
                "paragraph {i} lost"
            );
        }
    }

    #[test]
    fn lines_never_run_into_the_margin() {
        let fonts = fonts().expect("fonts");
        let text = clean(fonts, &"Perché la città è così ".repeat(200), true);
        for style in [BODY, HEADING, TITLE, LABEL] {
            for line in wrap(fonts, style, &text, CONTENT_WIDTH) {
                assert!(fonts.width(style, &line) <= CONTENT_WIDTH + 0.01, "{line}");
            }
        }
        let word = "x".repeat(10_000);
        let lines = wrap(fonts, BODY, &word, 100.0);
        assert!(lines.len() > 10);
        assert!(lines.iter().all(|l| fonts.width(BODY, l) <= 100.0 + 0.01));
        assert_eq!(lines.concat(), word);
    }

    #[test]
    fn hostile_input_renders_without_panic() {
        let word = "Ä".repeat(10_000);
        let controls = "a\u{0}b\u{7}c\u{1b}[31md\u{7f}e\u{9b}f\tg\r\nh\u{202e}i\u{200b}j\u{feff}k";
        let emoji = "Ciao 🦄 😀 👨‍👩‍👧 ✅ 🇮🇹 \u{10FFFF} \u{E000} fine";
        let docs = [
            Document::default(),
            Document {
                title: String::new(),
                subtitle: Some(String::new()),
                header: Header {
                    organisation: String::new(),
                    lines: vec![String::new(); 3],
                },
                blocks: vec![
                    Block::Heading(String::new()),
                    Block::Paragraph(String::new()),
                    Block::Paragraph(" \n\n \t ".into()),
                    Block::Fields(vec![(String::new(), String::new())]),
                    Block::Bullets(vec![String::new()]),
                    Block::Spacer,
                ],
                footer: String::new(),
            },
            Document {
                title: word.clone(),
                subtitle: Some(controls.into()),
                header: Header {
                    organisation: word.clone(),
                    lines: vec![word.clone(), emoji.into(), controls.into()],
                },
                blocks: vec![
                    Block::Heading(word.clone()),
                    Block::Paragraph(word.clone()),
                    Block::Paragraph(controls.into()),
                    Block::Paragraph(emoji.into()),
                    Block::Fields(vec![
                        (word.clone(), word.clone()),
                        (emoji.into(), controls.into()),
                    ]),
                    Block::Bullets(vec![word.clone(), emoji.into(), controls.into()]),
                    Block::Spacer,
                ],
                footer: word.clone(),
            },
            Document {
                blocks: vec![Block::Spacer; 10_000],
                ..Document::default()
            },
            Document {
                blocks: vec![Block::Heading("Titolo".into()); 2_000],
                ..Document::default()
            },
        ];
        for doc in &docs {
            let pdf = render(doc).expect("render");
            assert!(pdf.starts_with(b"%PDF-"));
        }

        let text = pdftotext(&render(&docs[2]).expect("render"));
        assert!(
            text.contains("abc[31mdef g"),
            "control characters not stripped:\n{text}"
        );
        assert!(
            text.contains("hijk"),
            "invisible characters not stripped:\n{text}"
        );
        assert!(text.contains("Ciao ?"), "emoji not replaced:\n{text}");
        assert!(text.contains("fine"));
        assert!(!text.contains('\u{1b}') && !text.contains('\u{0}'));
        assert!(text.contains('…'), "long header not cut with an ellipsis");
    }

    #[test]
    fn absurd_documents_are_refused_not_panicking() {
        let doc = long_document(20_000);
        assert!(matches!(render(&doc), Err(PdfError::TooManyPages { .. })));
    }

    #[test]
    fn one_page_summary_is_small_and_fits_one_page() {
        let pdf = render(&sample()).expect("render");
        assert_eq!(page_count(&pdf), 1);
        println!("one-page summary: {} bytes", pdf.len());
        let long = render(&long_document(200)).expect("render");
        println!(
            "200 paragraphs: {} pages, {} bytes",
            page_count(&long),
            long.len()
        );
    }

    #[test]
    fn render_time_of_a_one_page_summary() {
        let doc = sample();
        let start = Instant::now();
        render(&doc).expect("render");
        // The first render in a process also parses the fonts, unless an
        // earlier test already did.
        println!("first render in this test: {:?}", start.elapsed());
        let runs: u32 = 20;
        let start = Instant::now();
        for _ in 0..runs {
            render(&doc).expect("render");
        }
        println!(
            "render of a one-page summary: {:?} on average",
            start.elapsed() / runs
        );
    }
}
