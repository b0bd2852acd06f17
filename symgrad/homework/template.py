"""`symgrad template`: an answer file with the problem filled in and every answer entry empty.

The file is TOML (DESIGN §3). Answers are literal strings ('...'), so LaTeX can be typed as is; the
comments say which names to use and which entry is which.

>>> from symgrad import api
>>> text = answer_template(api.conv("3x3", "2x2"))
>>> print(text[text.index("\\n[answer]"):].strip())
[answer]
# dL/dW, 2x2: grad_kernel[i][j] is dL/dw_(i+1)_(j+1)
grad_kernel = [
  ['', ''],  # dL/dw_1_1, dL/dw_1_2
  ['', ''],  # dL/dw_2_1, dL/dw_2_2
]
# dL/dX, 3x3: grad_input[i][j] is dL/dx_(i+1)_(j+1)
grad_input = [
  ['', '', ''],  # dL/dx_1_1, dL/dx_1_2, dL/dx_1_3
  ['', '', ''],  # dL/dx_2_1, dL/dx_2_2, dL/dx_2_3
  ['', '', ''],  # dL/dx_3_1, dL/dx_3_2, dL/dx_3_3
]
"""

from __future__ import annotations

import json

import numpy as np

from ..errors import OptionError
from ..spec import ConvSpec
from ..values import json_number
from .problem import GROUP_WORDS, Problem, per_axis

ASK = {"forward": "forward", "grad-kernel": "grad_kernel", "grad-input": "grad_input", "grad-bias": "grad_bias"}


def parse_ask(ask: str | None, derivation) -> tuple[str, ...]:
    """The answer keys a template asks for (`--ask grad-kernel,grad-input`); default: every gradient."""
    keys = [key for key, _ in derivation.gradients()]
    if ask is None:
        return tuple(keys)
    allowed = {name: key for name, key in ASK.items() if key in keys or key == "forward"}
    chosen = [part.strip() for part in ask.split(",") if part.strip()]
    if not chosen or any(part not in allowed for part in chosen):
        raise OptionError(f"--ask got {ask!r}; expected a comma-separated list of: {', '.join(allowed)}")
    return tuple(key for key in ("forward", "grad_kernel", "grad_input", "grad_bias") if key in {allowed[c] for c in chosen})


def answer_template(derivation, ask: tuple[str, ...] | None = None, student: str = "") -> str:
    """The TOML text of an empty answer file for this derivation's problem."""
    ask = ask if ask is not None else tuple(key for key, _ in derivation.gradients())
    problem = Problem(derivation, None)
    symbols = derivation.symbols
    z = symbols["output"].letter
    lines = [
        "# symgrad answer file",
        f"# Problem: {problem.describe()}",
        "#",
        "# Fill in every '' in [answer], then check it:  symgrad check THIS_FILE.toml",
        "#",
        "# Names to use (as `symgrad " + derivation.layer + " ... --format json` writes them):",
    ]
    for key in ("input", "kernel", "bias", "grad_output", "output", "target"):
        group = problem.groups.get(symbols[key].letter) if key in symbols.groups else None
        if group is None or group.key != key or (key == "output" and derivation.loss != "mse"):
            continue
        what = GROUP_WORDS[group.key][1].format(z=z)
        lines.append(f"#   {what:<14} {problem.name_range(group)}")
    if symbols.naming.index == "matrix" and len(derivation.spec.input_size) > 1:
        lines.append("#   (indices count from 1: x_i_j is row i, column j" +
                     ("; a channel index comes first" if any(any(g.shown_channels) for g in problem.groups.values()) else "") + ")")
    example = _example(symbols)
    first_output = symbols.identifier(symbols["output"].offset)
    lines += [
        f"# d{first_output} is the gradient dL/d{first_output} arriving at output {first_output}; "
        f"you may also write it dL/d{first_output}.",
        "# Write sums of products with * and + (powers with ^ or **), for example",
        f"#   '{example[0]}'",
        "# or LaTeX inside $...$, for example",
        f"#   '{example[1]}'",
    ]
    if derivation.layer == "pool" and derivation.spec.mode == "max" and derivation.numeric is None:
        masks = (symbols["mask"].offset + i for i in range(symbols["mask"].size))
        found = next(((m, problem.meaning(m).single_atom()) for m in masks if problem.meaning(m).single_atom() is not None), None)
        if found is not None:
            mask, indicator = found
            g = symbols.identifier(symbols["grad_output"].offset + derivation.mask_cell(mask)[0])  # that window's output
            lines += ["# Max pooling without input values: write dy/dx as the JSON output does, e.g.",
                      f"#   '{problem.atom_text(indicator)}*{g}'"]
    if derivation.numeric is not None:
        lines.append("# The problem has values: answers may be numbers (or sums with numbers put in).")
    lines += ["", f"student = {json.dumps(student)}", "", "[problem]"]
    lines += [f"{key} = {_toml_value(value)}" for key, value in _options(derivation)]
    if derivation.numeric is not None:
        lines += ["", "[problem.values]"]
        for key in derivation.numeric.given:
            group = symbols[key]
            kept = [n for axis, n in enumerate(group.shape) if axis >= group.channel_axes or n > 1]
            nested = derivation.numeric.tensor(group.ids).reshape(kept)
            lines.append(f"{key} = {_toml_value(_nested_numbers(nested))}")
    lines += ["", "[answer]"]
    for key in ask:
        lines += _answer_block(problem, key)
    return "\n".join(lines) + "\n"


def _example(symbols) -> tuple[str, str]:
    """A plain and a LaTeX example of the syntax, from the first names (not from any answer)."""
    x, g = symbols["input"], symbols["grad_output"]
    pairs = [(x.offset, g.offset), (x.offset + min(1, x.size - 1), g.offset + min(1, g.size - 1))]
    plain = " + ".join(f"{symbols.identifier(a)}*{symbols.identifier(b)}" for a, b in pairs)
    latex = " + ".join(f"{symbols.latex(a)} \\cdot {_latex_gradient(symbols, b)}" for a, b in pairs)
    return "2*" + plain, f"$2 {latex}$"


def _latex_gradient(symbols, grad_id: int) -> str:
    out = symbols["output"].offset + grad_id - symbols["grad_output"].offset
    return f"\\frac{{\\partial L}}{{\\partial {symbols.latex(out)}}}"


def _options(derivation) -> list[tuple[str, object]]:
    spec = derivation.spec

    out: list[tuple[str, object]] = [("layer", derivation.layer), ("input", "x".join(map(str, spec.input_size)))]
    if isinstance(spec, ConvSpec):
        out += [("kernel", spec.kernel_text), ("stride", per_axis(spec.stride)), ("padding", per_axis(spec.padding)),
                ("dilation", per_axis(spec.dilation)), ("in_channels", spec.in_channels),
                ("out_channels", spec.out_channels), ("bias", spec.bias), ("loss", derivation.loss)]
        letters = (derivation.naming.input, derivation.naming.kernel, derivation.naming.output)
        default_letters = ("x", "w", "z")
    else:
        out += [("window", "x".join(map(str, spec.window))), ("stride", per_axis(spec.stride)),
                ("padding", per_axis(spec.padding)), ("mode", spec.mode), ("channels", spec.channels)]
        if spec.mode == "max":
            out.append(("ties", spec.ties))
        letters = (derivation.naming.input, derivation.naming.output)
        default_letters = ("x", "y")
    if derivation.naming.index != "matrix":
        out.append(("index", derivation.naming.index))
    if letters != default_letters:
        out.append(("names", ",".join(letters)))
    return out


def _nested_numbers(array: np.ndarray):
    return np.vectorize(json_number, otypes=[object])(array).tolist() if array.size else []


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value))  # a TOML basic string (JSON escapes are valid TOML escapes)


def _answer_block(problem, key: str) -> list[str]:
    """`key = [...]` with one line per innermost row and a comment naming its entries."""
    group = problem.answer_group(key)
    symbols = problem.symbols
    kept = [axis for axis in range(len(group.shape)) if axis >= group.channel_axes or group.shape[axis] > 1]
    shape = tuple(group.shape[axis] for axis in kept)
    title = {"forward": "the outputs", "grad_kernel": "dL/dW", "grad_input": "dL/dX", "grad_bias": "dL/db"}[key]
    prefix = "" if key == "forward" else "dL/d"
    channel_letters = ("f", "c") if group.key == "kernel" else ("f",) if group.channel_axes and group.key != "input" and problem.derivation.layer == "conv" else ("c",)
    letters = [channel_letters[axis] if axis < group.channel_axes else "ijk"[axis - group.channel_axes] for axis in kept]
    if symbols.naming.index == "matrix" and shape:
        meaning = f"{key}{''.join(f'[{c}]' for c in letters)} is {prefix}{group.letter}_" + "_".join(f"({c}+1)" for c in letters)
    else:
        meaning = "the comment after each row names its entries"
    lines = [f"# {title}, {'x'.join(map(str, shape)) or '1'}: {meaning}"]
    ids = group.ids.reshape(shape) if shape else group.ids.reshape(1)

    def names(row_ids) -> str:
        row = [prefix + symbols.identifier(int(i)) for i in row_ids]
        return ", ".join(row) if len(row) <= 6 else f"{row[0]}, {row[1]} .. {row[-1]}"

    def rows(sub: np.ndarray, depth: int) -> list[str]:
        pad = "  " * depth
        if sub.ndim == 1:
            return [f"{pad}[{', '.join(repr('') for _ in sub)}],  # {names(sub)}"]
        out = [f"{pad}["]
        for part in sub:
            out += rows(part, depth + 1)
        return out + [f"{pad}],"]

    if len(shape) <= 1:
        row = ids.ravel()
        return lines + [f"{key} = [{', '.join(repr('') for _ in row)}]  # {names(row)}"]
    lines.append(f"{key} = [")
    for part in ids:
        lines += rows(part, 1)
    return lines + ["]"]
