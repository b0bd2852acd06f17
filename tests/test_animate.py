"""`symgrad animate`: every frame's highlighted cells equal the receptive fields computed here with plain
index loops (forward, grad-kernel, grad-input, routing), from the frame data model; then the pictures:
the GIF's frames, the SVG as XML (and in a headless browser when one is installed), PNG pixels at
known cell centres."""

from __future__ import annotations

import io
import itertools
import random
import shutil
import subprocess
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import symgrad
from symgrad.render import draw
from symgrad.render.frames import animation

from conftest import run

PIL = pytest.importorskip("PIL.Image")


def _x(values) -> str:
    return "x".join(map(str, values))


def random_layer(rng):
    while True:
        ndim = rng.choice([1, 2])
        size = tuple(rng.randint(3, 7) for _ in range(ndim))
        kernel = tuple(rng.randint(1, 3) for _ in range(ndim))
        stride = tuple(rng.randint(1, 3) for _ in range(ndim))
        dilation = tuple(rng.randint(1, 2) for _ in range(ndim))
        padding = tuple(rng.randint(0, 1) for _ in range(ndim))
        try:
            d = symgrad.conv(_x(size), _x(kernel), _x(stride), _x(padding), _x(dilation))
        except symgrad.SymgradError:
            continue
        return d, size, kernel, stride, dilation, padding


def cell(pos, shape):
    return (0, pos[0]) if len(shape) == 1 else tuple(pos)


def names(d, key):
    return [d.symbols.unicode(int(i)) for i in d.symbols[key].ids.ravel()]


@pytest.mark.parametrize("seed", range(10))
def test_conv_frames_equal_index_loops(seed):
    d, size, kernel, stride, dilation, padding = random_layer(random.Random(seed))
    out = d.spec.output_size
    padded = tuple(n + 2 * p for n, p in zip(size, padding))
    w_names, g_names, x_names = names(d, "kernel"), names(d, "grad_output"), names(d, "input")
    outputs, offsets = list(itertools.product(*map(range, out))), list(itertools.product(*map(range, kernel)))
    read = lambda o, k: tuple(s * oo + dl * kk for oo, kk, s, dl in zip(o, k, stride, dilation))  # noqa: E731  (padded coords)

    forward = animation(d, "forward", frames=10**6)
    assert forward.total == len(outputs)
    for o, frame in zip(outputs, forward.frames):
        want = {cell(read(o, k), padded): w_names[i] for i, k in enumerate(offsets)}
        assert frame.panels[0].marked == want, (o, d.spec)
        assert frame.panels[2].current == {cell(o, out)}

    grad_kernel = animation(d, "grad-kernel", frames=10**6)
    for i, (k, frame) in enumerate(zip(offsets, grad_kernel.frames)):
        want = {cell(read(o, k), padded): g_names[j] for j, o in enumerate(outputs)}
        assert frame.panels[0].marked == want, (k, d.spec)

    grad_input = animation(d, "grad-input", frames=10**6)
    assert grad_input.total == len(x_names)
    full = tuple(dl * (kk - 1) for dl, kk in zip(dilation, kernel))
    for j, (p, frame) in enumerate(zip(itertools.product(*map(range, size)), grad_input.frames)):
        want = {}
        for oi, o in enumerate(outputs):
            for ki, k in enumerate(offsets):
                if read(o, k) == tuple(pp + pad for pp, pad in zip(p, padding)):
                    want[cell(tuple(f + s * oo for f, s, oo in zip(full, stride, o)), (0,) * len(size))] = w_names[ki]
        assert frame.panels[0].marked == want, (p, d.spec)
        if not want:
            assert frame.caption.endswith("0") or "exactly 0" in frame.caption, frame.caption


def test_pool_routing_frames_and_the_maximum():
    d = symgrad.pool("5x5", "3x3", stride=2, padding=1, values={"input": np.arange(25).reshape(5, 5).tolist()})
    a = animation(d, "routing")
    assert a.total == 9
    for o, frame in zip(itertools.product(range(3), range(3)), a.frames):
        cells = {(2 * o[0] + i, 2 * o[1] + j) for i in range(3) for j in range(3)}  # padded coordinates
        assert set(frame.panels[0].marked) == cells
        real = [(r, c) for r, c in cells if 1 <= r <= 5 and 1 <= c <= 5]
        best = max(real, key=lambda rc: (rc[0] - 1) * 5 + (rc[1] - 1))  # the values grow row by row
        assert [rc for rc, label in frame.panels[0].marked.items() if label == "★"] == [best]


def test_frames_are_cut_and_say_so():
    a = animation(symgrad.conv("8x8", "3x3"), "forward", frames=5)
    assert a.total == 36 and len(a.frames) == 5
    assert "[5 of 36 steps shown; --frames 36 shows all]" in a.frames[-1].caption


def test_gif_png_svg(tmp_path, capsys):
    code, _, err = run(["animate", "conv", "--input", "5x5", "--kernel", "3x3", "--stride", "2", "--pass", "forward",
                        "-o", str(tmp_path / "a.gif")], capsys)
    assert code == 0 and err == ""
    gif = PIL.open(tmp_path / "a.gif")
    assert gif.n_frames == 4
    pictures = []
    for i in range(gif.n_frames):
        gif.seek(i)
        pictures.append(np.asarray(gif.convert("RGB")))
    assert all(not np.array_equal(pictures[i], pictures[i + 1]) for i in range(3))

    d = symgrad.conv("5x5", "3x3", stride=2)
    a = animation(d, "forward")
    lay = draw.layout(a)
    sheet = np.asarray(PIL.open(io.BytesIO(draw.to_png(a, columns=1))).convert("RGB"))
    for f, frame in enumerate(a.frames):  # a marked input cell is yellow, the written output red, a plain one white
        top = f * lay.height
        for (r, c) in [(0, 0), (2, 2), (4, 4)]:
            x0, y0, _, _ = draw.cell_box(lay.origins[0], (r, c))
            pixel = sheet[top + y0 + 7, x0 + 7]
            marked = (r, c) in frame.panels[0].marked
            assert tuple(pixel) == (tuple(int(draw.COLORS["marked"][i:i + 2], 16) for i in (1, 3, 5)) if marked else (255, 255, 255))
        (current,) = frame.panels[2].current
        x0, y0, _, _ = draw.cell_box(lay.origins[2], current)
        assert tuple(sheet[top + y0 + 8, x0 + 8]) == tuple(int(draw.COLORS["current"][i:i + 2], 16) for i in (1, 3, 5))

    code, _, _ = run(["animate", "pool", "--input", "4x4", "--window", "2x2", "-o", str(tmp_path / "r.svg")], capsys)
    root = ET.parse(tmp_path / "r.svg").getroot()
    assert root.tag.endswith("svg") and len(root.findall(".//{http://www.w3.org/2000/svg}animate")) == 4
    assert "<script" not in (tmp_path / "r.svg").read_text()


@pytest.mark.skipif(not any(shutil.which(b) for b in ("chromium", "chromium-browser")), reason="no headless Chromium")
def test_svg_renders_in_a_browser(tmp_path):
    browser = next(shutil.which(b) for b in ("chromium", "chromium-browser") if shutil.which(b))
    svg = tmp_path / "a.svg"
    svg.write_text(draw.to_svg(animation(symgrad.conv("4x4", "2x2"), "forward")))
    shot = tmp_path / "shot.png"
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", f"--screenshot={shot}",
                    "--window-size=800,400", svg.as_uri()], capture_output=True, timeout=120)
    pixels = np.asarray(PIL.open(shot).convert("L"))
    assert pixels.min() < 100 and pixels.max() > 200  # drawn: dark text and lines on white


@pytest.mark.parametrize("args,message", [
    (["conv", "--input", "5x5", "--kernel", "3x3", "--pass", "backward", "-o", "a.gif"], "--pass 'backward' is not a pass of conv"),
    (["conv", "--input", "5x5", "--kernel", "3x3", "-o", "a.gif"], "--pass is needed"),
    (["conv", "--input", "5x5", "--kernel", "3x3", "--pass", "forward", "-o", "a.jpg"], "an animation is written as .gif, .svg or .png"),
    (["conv", "--input", "5x5", "--kernel", "3x3", "--pass", "forward", "-o", "a.gif", "--frames", "0"], "--frames must be a positive integer"),
    (["conv", "--input", "5x5", "--kernel", "3x3", "--pass", "forward", "-o", "a.gif", "--channel", "2"], "--channel 2 is not an input channel"),
    (["conv", "--input", "4x4x4", "--kernel", "2x2x2", "--pass", "forward", "-o", "a.gif"], "animations draw 1-D and 2-D layers"),
    (["pool", "--input", "4x4", "--window", "2x2", "--pass", "forward", "-o", "a.gif"], "--pass 'forward' is not a pass of pool"),
])
def test_bad_animation_options_are_one_line(args, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(["animate", *args], capsys)
    assert code == 2 and err.count("\n") == 1 and message in err, err
    assert not list(tmp_path.iterdir())


def test_animate_a_network_stage(tmp_path, capsys):
    layers = "conv 3x3 | relu | maxpool 2x2 | flatten | dense 2 | mse"
    values = tmp_path / "v.json"
    values.write_text('{"input": [[1, 2, 0, 1, 3, 1], [0, 1, 3, 2, 1, 0], [2, 1, 1, 0, 2, 1], [1, 0, 2, 1, 1, 3], '
                      '[3, 1, 0, 2, 1, 1], [0, 2, 1, 1, 0, 2]], "layers": [{"kernel": [[1, 0, -1], [1, 0, -1], [1, 0, -1]]}, {}, {}, {}, {}, {}]}')
    code, _, err = run(["animate", "net", "--input", "6x6", "--layers", layers, "--values", str(values), "--stage", "3",
                        "-o", str(tmp_path / "s3.gif")], capsys)
    assert code == 0 and err == "" and PIL.open(tmp_path / "s3.gif").n_frames == 4
    from symgrad.render.frames import animation as frames_of

    net = symgrad.net("6x6", layers, values=str(values))
    a = frames_of(net.stages[2].d, "routing")
    assert "max(a₁₁, a₁₂, a₂₁, a₂₂)" in a.frames[0].caption  # the stage's own names, and its numbers
    code, _, err = run(["animate", "net", "--input", "6x6", "--layers", layers, "--stage", "2", "--pass", "forward",
                        "-o", str(tmp_path / "x.gif")], capsys)
    assert code == 2 and "--stage 2 is not a conv or pool stage of this network; these are: 1, 3" in err


def test_figures_in_markdown_and_latex(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, md, err = run(["conv", "--input", "5x5", "--kernel", "3x3", "--stride", "2", "--format", "markdown", "--figures", "figs"], capsys)
    assert code == 0 and err == ""
    assert md.count("```{figure} figs/") == 3 and "figs/grad-input.gif" in md
    assert sorted(p.name for p in (tmp_path / "figs").iterdir()) == ["forward.gif", "grad-input.gif", "grad-kernel.gif"]
    assert PIL.open(tmp_path / "figs" / "grad-kernel.gif").n_frames == 9
    code, md, _ = run(["pool", "--input", "4x4", "--window", "2x2", "--format", "markdown", "--figures", "p", "--show", "forward"], capsys)
    assert code == 0 and "{figure}" not in md  # the routing picture belongs to the gradient section
    code, _, err = run(["conv", "--input", "5x5", "--kernel", "3x3", "--format", "json", "--figures", "figs"], capsys)
    assert code == 2 and "--figures puts pictures into a document" in err
    if shutil.which("pdflatex"):
        code, _, _ = run(["conv", "--input", "5x5", "--kernel", "3x3", "--stride", "2", "--padding", "1", "--format", "latex",
                          "--figures", "tex-figs", "-o", "doc.tex"], capsys)
        assert code == 0 and (tmp_path / "tex-figs" / "grad-input.png").exists()
        result = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"], cwd=tmp_path,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stdout[-1500:]


def test_the_python_api_and_the_notebook_display(tmp_path):
    """`d.animation(pass)` shows itself inline in a notebook (an <img> holding the GIF) and saves any format."""
    import base64
    import re as regex

    picture = symgrad.conv("5x5", "3x3", stride=2).animation("grad-kernel", frames=4)
    assert repr(picture).endswith("4 of 9 steps)")
    html = picture._repr_html_()
    data = regex.search(r'src="data:image/gif;base64,([^"]+)"', html).group(1)
    assert PIL.open(io.BytesIO(base64.b64decode(data))).n_frames == 4
    for name in ("a.gif", "a.svg", "a.png"):
        picture.save(str(tmp_path / name))
        assert (tmp_path / name).stat().st_size > 1000
