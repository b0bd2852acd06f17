"""Drawing an animation's frames (frames.py): Pillow for GIF and PNG, drawsvg for SVG.

Why these: Pillow writes animated GIFs and PNGs with no system dependency, and its bundled FreeType font
needs no font files on the machine; drawsvg builds SVG as objects (no string pasting, correct escaping)
and has SMIL animation elements, so an SVG animates with no script. Both are small, pure-Python or
wheel-only, and well kept. Layout is shared: one `Layout` places the panels and cells, and both
back-ends draw the same rectangles and texts.

Cells carry marks besides colour (a thick border for a cell involved, a double border for the cell
being written, grey with its 0 or −∞ for padding), so the pictures read in black and white too.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, replace

from ..errors import OptionError

CELL = 48
MIN_CELL = 10
MAX_WIDTH = 1600  # pixels: a layer with many columns gets smaller cells
GAP = 36
MARGIN = 18
TITLE = 26
LABEL = 20
LINE = 18
DURATION_MS = 1000
SHEET_WIDTH = 4000  # pixels across a PNG sheet at most
COLORS = {"window": "#1f5fbf", "background": "#ffffff", "grid": "#555555", "padding": "#d9d9d9", "marked": "#ffe08a",
          "marked_edge": "#9a6a00", "current": "#f6b3b3", "current_edge": "#b0281a", "text": "#111111", "small": "#5a3d00"}
_SUBSCRIPTS = set("₀₁₂₃₄₅₆₇₈₉,")
_PLAIN = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")
FORMATS = ("gif", "svg", "png")


@dataclass(frozen=True)
class Layout:
    width: int
    height: int
    origins: tuple[tuple[int, int], ...]  # each panel's top-left cell corner
    cell: int = CELL  # cell size in pixels: smaller for a large layer, so the picture stays MAX_WIDTH wide

    @property
    def names(self) -> bool:
        """Whether cells are big enough to hold their names (a large layer's cells are coloured squares)."""
        return self.cell >= 34


def layout(animation) -> Layout:
    panels = animation.frames[0].panels
    columns = sum(p.shape[1] for p in panels)
    cell = max(MIN_CELL, min(CELL, (MAX_WIDTH - 2 * MARGIN - GAP * (len(panels) - 1)) // columns))
    x, origins = MARGIN, []
    for panel in panels:
        origins.append((x, MARGIN + TITLE + LABEL))
        x += max(panel.shape[1] * cell, int(len(panel.label) * 8.6)) + GAP  # a long label keeps its room
    width = max(x - GAP + MARGIN, 520, int(len(animation.title) * 8.6) + 2 * MARGIN)  # the title fits
    grid_height = max(p.shape[0] for p in panels) * cell
    per_line = _per_line(width)
    lines = max(len(_wrap(frame.caption, per_line)) for frame in animation.frames)
    height = MARGIN + TITLE + LABEL + grid_height + 12 + lines * LINE + MARGIN
    return Layout(width, height, tuple(origins), cell)


def _per_line(width: int) -> int:
    """Characters of caption on a line of a picture `width` pixels wide."""
    return max(20, (width - 2 * MARGIN) // 8)


def _wrap(text: str, width: int) -> list[str]:
    lines, current = [], ""
    for word in text.split(" "):
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = "    " + word
        else:
            current = f"{current} {word}" if current else word
    return lines + [current]


def _split_name(text: str) -> tuple[str, str]:
    """`x₁₃` -> ("x", "13"): the base and its subscript (drawn smaller, lower)."""
    i = len(text)
    while i > 0 and text[i - 1] in _SUBSCRIPTS:
        i -= 1
    return text[:i], text[i:].translate(_PLAIN)


def cell_box(origin: tuple[int, int], cell: tuple[int, int], size: int = CELL) -> tuple[int, int, int, int]:
    x0, y0 = origin[0] + cell[1] * size, origin[1] + cell[0] * size
    return x0, y0, x0 + size, y0 + size


def _cell_fill(panel, cell) -> str:
    if cell in panel.current:
        return COLORS["current"]
    if cell in panel.marked:
        return COLORS["marked"]
    if cell in panel.padding:
        return COLORS["padding"]
    return COLORS["background"]


# --- Pillow: GIF and PNG


_FALLBACK = str.maketrans({"∂": "d", "−": "-", "∞": "inf", "★": "*", "⁽": "(", "⁾": ")", "×": "x", "◆": "", "●": "",
                           **{sup: str(i) for i, sup in enumerate("⁰¹²³⁴⁵⁶⁷⁸⁹")}})


def _fonts():
    """(cell, small, title) fonts: DejaVu Sans when the system has it (every symbol symgrad writes), else
    Pillow's bundled font, for which the few symbols it lacks are written in ASCII (∂ as d, ∞ as inf)."""
    from PIL import ImageFont

    try:
        fonts = tuple(ImageFont.truetype("DejaVuSans.ttf", size) for size in (14, 10, 15))
        return fonts + (False,)
    except OSError:
        return tuple(ImageFont.load_default(size=size) for size in (14, 10, 15)) + (True,)


def _text(ink, x: float, y: float, text: str, font, small, fill, ascii_only: bool) -> None:
    """Text with its subscript runs (x₁₃) drawn smaller and lower, in any font."""
    if ascii_only:
        text = text.translate(_FALLBACK)
    for i, part in enumerate(_runs(text)):
        if not part:
            continue
        if i % 2:  # a subscript run
            ink.text((x, y + 6), part.translate(_PLAIN), fill=fill, font=small)
            x += ink.textlength(part.translate(_PLAIN), font=small)
        else:
            ink.text((x, y), part, fill=fill, font=font)
            x += ink.textlength(part, font=font)


def _text_width(ink, text: str, font, small, ascii_only: bool) -> float:
    if ascii_only:
        text = text.translate(_FALLBACK)
    return sum(ink.textlength(part.translate(_PLAIN), font=small if i % 2 else font) for i, part in enumerate(_runs(text)))


def _runs(text: str) -> list[str]:
    """Alternating runs: plain, subscript, plain, subscript, ... (a comma belongs to a subscript run)."""
    runs, current, sub = [], "", False
    for ch in text:
        is_sub = ch in "₀₁₂₃₄₅₆₇₈₉" or (ch == "," and sub)
        if is_sub != sub:
            runs.append(current)
            current, sub = "", is_sub
        current += ch
    return runs + [current]


def _draw_cell(ink, panel, origin, cell, fonts, size: int = CELL) -> None:
    big, small, _, ascii_only = fonts
    box = cell_box(origin, cell, size)
    edge = 3 if size >= 24 else 2
    ink.rectangle(box, fill=_cell_fill(panel, cell), outline=COLORS["grid"], width=1)
    if cell in panel.current:
        ink.rectangle(box, outline=COLORS["current_edge"], width=edge)
        if size >= 24:
            ink.rectangle((box[0] + 5, box[1] + 5, box[2] - 5, box[3] - 5), outline=COLORS["current_edge"], width=1)
    elif cell in panel.marked:
        ink.rectangle(box, outline=COLORS["marked_edge"], width=edge)
    elif cell in panel.window:
        ink.rectangle((box[0] + 2, box[1] + 2, box[2] - 2, box[3] - 2), outline=COLORS["window"], width=2 if size >= 24 else 1)
    if size < 34:  # too small for names: the colours and borders say it (the caption has the sum)
        return
    text = panel.texts[cell[0]][cell[1]]
    x = (box[0] + box[2] - _text_width(ink, text, big, small, ascii_only)) / 2
    y = box[1] + (9 if panel.marked.get(cell) else 15)
    _text(ink, x, y, text, big, small, COLORS["text"], ascii_only)
    note = panel.marked.get(cell)
    if note:
        nx = (box[0] + box[2] - _text_width(ink, note, small, small, ascii_only)) / 2
        _text(ink, nx, box[3] - 16, note, small, small, COLORS["small"], ascii_only)


def _highlighted(panel) -> set:
    return set(panel.marked) | set(panel.current) | set(panel.window)


def base_image(animation, lay: Layout, fonts):
    """What every frame shares: the title, the panels' labels and every cell unhighlighted (drawn once)."""
    from PIL import Image, ImageDraw

    big, small, title_font, ascii_only = fonts
    image = Image.new("RGB", (lay.width, lay.height), COLORS["background"])
    ink = ImageDraw.Draw(image)
    _text(ink, MARGIN, MARGIN, animation.title, title_font, small, COLORS["text"], ascii_only)
    for panel, origin in zip(animation.frames[0].panels, lay.origins):
        _text(ink, origin[0], origin[1] - LABEL + 2, panel.label, big, small, COLORS["text"], ascii_only)
        plain = replace(panel, marked={}, current=frozenset(), window=frozenset())
        for r in range(panel.shape[0]):
            for c in range(panel.shape[1]):
                _draw_cell(ink, plain, origin, (r, c), fonts, lay.cell)
    return image


def draw_frame(animation, frame, lay: Layout, base=None, fonts=None):
    """One frame as a Pillow image: the shared base, then this frame's highlighted cells and caption."""
    from PIL import ImageDraw

    fonts = fonts or _fonts()
    image = (base or base_image(animation, lay, fonts)).copy()
    ink = ImageDraw.Draw(image)
    for panel, origin in zip(frame.panels, lay.origins):  # a pass's panels keep their cells' texts: only marks change
        for cell in _highlighted(panel):
            _draw_cell(ink, panel, origin, cell, fonts, lay.cell)
    big, small, _, ascii_only = fonts
    per_line = _per_line(lay.width)
    y = lay.origins[0][1] + max(p.shape[0] for p in frame.panels) * lay.cell + 12
    for line in _wrap(frame.caption, per_line):
        _text(ink, MARGIN, y, line, big, small, COLORS["text"], ascii_only)
        y += LINE
    return image


def _images(animation, convert=None):
    """The layout and every frame drawn (each passed through `convert` as soon as it is drawn)."""
    lay = layout(animation)
    fonts = _fonts()
    base = base_image(animation, lay, fonts)
    convert = convert or (lambda image: image)
    return lay, [convert(draw_frame(animation, frame, lay, base, fonts)) for frame in animation.frames]


def to_gif(animation) -> bytes:
    palette = []  # one palette for every frame (they share their colours), taken from the first

    def quantized(image):
        if not palette:
            palette.append(image.quantize(colors=64))
        return image.quantize(palette=palette[0], dither=0)

    _, images = _images(animation, quantized)
    out = io.BytesIO()
    images[0].save(out, format="GIF", save_all=True, append_images=images[1:], duration=DURATION_MS, loop=0,
                   disposal=1)
    return out.getvalue()


def to_png(animation, columns: int = 3) -> bytes:
    """Every frame on one sheet (for print): `columns` frames a row."""
    from PIL import Image

    lay, images = _images(animation)
    scale = min(1.0, SHEET_WIDTH / (lay.width * min(columns, len(images))))  # a large layer's sheet is shrunk to print
    if scale < 1:
        size = (max(1, int(lay.width * scale)), max(1, int(lay.height * scale)))
        images = [image.resize(size, Image.BILINEAR) for image in images]
        lay = replace(lay, width=size[0], height=size[1])
    columns = min(columns, len(images))
    rows = (len(images) + columns - 1) // columns
    sheet = Image.new("RGB", (columns * lay.width, rows * lay.height), COLORS["background"])
    for i, image in enumerate(images):
        sheet.paste(image, ((i % columns) * lay.width, (i // columns) * lay.height))
    out = io.BytesIO()
    sheet.save(out, format="PNG", compress_level=6)
    return out.getvalue()


# --- drawsvg: an animated SVG, no scripts


def to_svg(animation) -> str:
    """An animated SVG: the cells every frame shares drawn once, then per frame its highlighted cells and
    caption, shown in turn by SMIL `<animate>` (no script)."""

    import drawsvg as dw

    lay = layout(animation)
    n = len(animation.frames)
    drawing = dw.Drawing(lay.width, lay.height, origin=(0, 0))
    drawing.append(dw.Rectangle(0, 0, lay.width, lay.height, fill=COLORS["background"]))
    drawing.append(dw.Text(animation.title, 16, MARGIN, MARGIN + 14, font_family="sans-serif", fill=COLORS["text"]))
    for panel, origin in zip(animation.frames[0].panels, lay.origins):
        drawing.append(dw.Text(panel.label, 15, origin[0], origin[1] - 6, font_family="sans-serif", fill=COLORS["text"]))
        plain = replace(panel, marked={}, current=frozenset(), window=frozenset())
        for r in range(panel.shape[0]):
            for c in range(panel.shape[1]):
                _svg_cell(drawing, plain, origin, (r, c), lay)
    per_line = _per_line(lay.width)
    for i, frame in enumerate(animation.frames):
        group = dw.Group(visibility="visible" if n == 1 else "hidden")
        if n > 1:
            times, values = _key_times(i, n)
            group.append(dw.Animate("visibility", f"{n * DURATION_MS / 1000:g}s", values, keyTimes=times,
                                    repeatCount="indefinite", calcMode="discrete"))
        for panel, origin in zip(frame.panels, lay.origins):
            for cell in sorted(_highlighted(panel)):
                _svg_cell(group, panel, origin, cell, lay)
        y = lay.origins[0][1] + max(p.shape[0] for p in frame.panels) * lay.cell + 24
        for line in _wrap(frame.caption, per_line):
            group.append(dw.Text(line, 15, MARGIN, y, font_family="sans-serif", fill=COLORS["text"]))
            y += LINE
        drawing.append(group)
    return drawing.as_svg()


def _svg_cell(parent, panel, origin, cell, lay: Layout) -> None:
    import drawsvg as dw

    x0, y0, x1, y1 = cell_box(origin, cell, lay.cell)
    edge, stroke = COLORS["grid"], 1
    if cell in panel.current:
        edge, stroke = COLORS["current_edge"], 3
    elif cell in panel.marked:
        edge, stroke = COLORS["marked_edge"], 3
    elif cell in panel.window:
        edge, stroke = COLORS["window"], 2
    parent.append(dw.Rectangle(x0, y0, lay.cell, lay.cell, fill=_cell_fill(panel, cell), stroke=edge, stroke_width=stroke))
    if cell in panel.current and lay.cell >= 24:
        parent.append(dw.Rectangle(x0 + 5, y0 + 5, lay.cell - 10, lay.cell - 10, fill="none", stroke=edge, stroke_width=1))
    if not lay.names:
        return
    base, sub = _split_name(panel.texts[cell[0]][cell[1]])
    y = y0 + (26 if panel.marked.get(cell) else 30)
    text = dw.Text([], 15, (x0 + x1) / 2, y, font_family="sans-serif", text_anchor="middle", fill=COLORS["text"])
    text.append(dw.TSpan(base))
    if sub:
        text.append(dw.TSpan(sub, font_size=10, dy=4))
    parent.append(text)
    note = panel.marked.get(cell)
    if note:
        nb, ns = _split_name(note)
        parent.append(dw.Text(nb + ns, 10, (x0 + x1) / 2, y1 - 4, font_family="sans-serif", text_anchor="middle",
                              fill=COLORS["small"]))


def _key_times(i: int, n: int) -> tuple[str, str]:
    """Frame i of n shows from i/n to (i+1)/n of the cycle (discrete visibility keyframes)."""
    points = [(0.0, "visible" if i == 0 else "hidden")]
    if i > 0:
        points.append((i / n, "visible"))
    if i + 1 < n:
        points.append(((i + 1) / n, "hidden"))
    times = ";".join(f"{t:.6g}" for t, _ in points)
    values = ";".join(v for _, v in points)
    return times, values


def render(animation, fmt: str):
    """The file's content (bytes for GIF and PNG, text for SVG)."""
    if fmt == "gif":
        return to_gif(animation)
    if fmt == "png":
        return to_png(animation)
    if fmt == "svg":
        return to_svg(animation)
    raise OptionError(f"an animation is written as {', '.join(FORMATS)}; got {fmt!r}")


class Picture:
    """An animation to keep or show: `save("a.gif")` (or .svg, .png); in a notebook it displays inline as
    the animated GIF (`_repr_html_`, an <img> with the GIF as a data URI)."""

    def __init__(self, animation):
        self.animation = animation

    def save(self, path: str) -> None:
        import os

        from ..files import write_atomic

        write_atomic(path, render(self.animation, os.path.splitext(path)[1].lower().lstrip(".")))

    def _repr_html_(self) -> str:
        import base64
        import html

        data = base64.b64encode(to_gif(self.animation)).decode("ascii")
        return f'<img alt="{html.escape(self.animation.title)}" src="data:image/gif;base64,{data}"/>'

    def __repr__(self) -> str:
        return f"Picture({self.animation.title}, {len(self.animation.frames)} of {self.animation.total} steps)"
