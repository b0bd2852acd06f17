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
from ..spec import ConvSpec, ConvTransposeSpec
from ..values import json_number
from .problem import GROUP_WORDS, Problem, per_axis
from .report import STAGE_TITLES

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
    lines += [f"{key} = {_toml_value(value)}" for key, value in problem_options(derivation)]
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


NET_ASK = ("forward", "gradients", "update")


def net_answer_template(net, ask: str | None = None, student: str = "") -> str:
    """The TOML text of an empty answer file for a network problem: [answer.stageK] per stage."""
    from ..values import format_number
    from .net import NetProblem

    problem = NetProblem(net, None)
    chosen = _net_ask(ask, net)
    lines = [
        "# symgrad answer file",
        f"# Problem: {problem.describe()}",
        "#",
        "# Fill in every '' in the [answer.stageK] tables, then check it:  symgrad check THIS_FILE.toml",
        "#",
        "# Each stage is answered in its own names (as `symgrad net ... --format json` writes them); the",
        "# gradient a stage receives is d + its output's name (dz_1_1 is dL/dz_1_1, from the stage after it).",
    ]
    for stage_problem in problem.stages:
        stage = stage_problem.stage
        names = ", ".join(f"{stage_problem.name_range(g)}" for g in stage_problem.groups.values())
        lines.append(f"#   stage {stage.spec.index} {stage.spec.text}: {names}")
        if stage.kind == "relu" and net.values_data is None:
            lines.append(f"#     ReLU's derivative H(z) (0 at z <= 0) is written Heaviside({stage_problem.name_range(stage.d.symbols['input']).split(' ')[0]})")
        if stage.kind in ("sigmoid", "tanh", "softmax-ce") and not stage_problem.answer_keys():
            lines.append("#     (needs exp: asked only when the problem has values)")
    if net.lr is not None:
        lines.append(f"# new_kernel, new_weight, new_bias: each parameter after the update w - lr*dL/dw (lr = {format_number(net.lr)}).")
    if net.values_given:
        lines.append("# The problem has values: answers may be numbers (or sums with numbers put in).")
    lines += ["", f"student = {json.dumps(student)}", "", "[problem]", 'layer = "net"',
              f"input = {_toml_value('x'.join(map(str, net.spec.input_shape[1:])))}",
              f"layers = {_toml_value(' | '.join(s.spec.text for s in net.stages))}"]
    if net.spec.input_shape[0] > 1:
        lines.append(f"in_channels = {net.spec.input_shape[0]}")
    if net.lr is not None:
        lines.append(f"lr = {_toml_value(format_number(net.lr))}")
    if net.spec.index != "matrix":
        lines.append(f"index = {_toml_value(net.spec.index)}")
    letters = [net.stages[0].d.symbols["input"].letter] + [s.d.symbols["output"].letter for s in net.stages if not s.spec.is_loss]
    from ..layers.net import stage_namings

    default = [stage_namings(net.spec)[0].input] + [n.output for n, s in zip(stage_namings(net.spec), net.stages) if not s.spec.is_loss]
    if letters != default:
        lines.append(f"names = {_toml_value(','.join(letters))}")
    if net.values_data is not None:
        lines += ["", "[problem.values]"]
        lines += [f"{key} = {_toml_value(_plain(value))}" for key, value in net.values_data.items()]
    for i, stage_problem in enumerate(problem.stages, 1):
        keys = [key for key in stage_problem.answer_keys() if _asked(key, chosen)]
        if not keys:
            continue
        lines += ["", f"[answer.stage{i}]  # {stage_problem.stage.spec.text}"]
        for key in keys:
            lines += _answer_block(stage_problem, key)
    return "\n".join(lines) + "\n"


def _net_ask(ask: str | None, net) -> set[str]:
    if ask is None:
        return {"gradients"} | ({"update"} if net.lr is not None else set())
    chosen = {part.strip() for part in ask.split(",") if part.strip()}
    allowed = NET_ASK if net.lr is not None else NET_ASK[:2]
    if not chosen or not chosen <= set(allowed):
        raise OptionError(f"--ask got {ask!r}; expected a comma-separated list of: {', '.join(allowed)}")
    return chosen


def _asked(key: str, chosen: set[str]) -> bool:
    if key == "forward":
        return "forward" in chosen
    if key.startswith("new_"):
        return "update" in chosen
    return "gradients" in chosen


def _plain(value):
    """Values as given (lists, numbers, strings; numpy arrays and Fractions too) as TOML-ready data."""
    if isinstance(value, dict):
        return {key: _plain(v) for key, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    return json_number(value) if not isinstance(value, (str, bool, float)) else value


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


def problem_options(derivation) -> list[tuple[str, object]]:
    spec = derivation.spec

    out: list[tuple[str, object]] = [("layer", derivation.layer), ("input", "x".join(map(str, spec.input_size)))]
    if isinstance(spec, ConvTransposeSpec):
        out += [("kernel", spec.kernel_text), ("stride", per_axis(spec.stride)), ("padding", per_axis(spec.padding)),
                ("output_padding", per_axis(spec.output_padding)), ("dilation", per_axis(spec.dilation)),
                ("in_channels", spec.in_channels), ("out_channels", spec.out_channels)] + (
                [("groups", spec.groups)] if spec.groups > 1 else []) + [("bias", spec.bias), ("loss", derivation.loss)]
        letters = (derivation.naming.input, derivation.naming.kernel, derivation.naming.output)
        default_letters = ("x", "w", "z")
    elif isinstance(spec, ConvSpec):
        out += [("kernel", spec.kernel_text), ("stride", per_axis(spec.stride)),
                ("padding", spec.padding_word or per_axis(spec.padding))] + (
                [("padding_mode", spec.padding_mode)] if spec.padding_mode != "zeros" else []) + [
                ("dilation", per_axis(spec.dilation)), ("in_channels", spec.in_channels),
                ("out_channels", spec.out_channels)] + ([("groups", spec.groups)] if spec.groups > 1 else []) + [
                ("bias", spec.bias), ("loss", derivation.loss)]
        letters = (derivation.naming.input, derivation.naming.kernel, derivation.naming.output)
        default_letters = ("x", "w", "z")
    else:
        if spec.adaptive_size:
            out += [("output_size", "x".join(map(str, spec.adaptive_size))), ("mode", spec.mode), ("channels", spec.channels)]
        else:
            out += [("window", "x".join(map(str, spec.window))), ("stride", per_axis(spec.stride)),
                    ("padding", per_axis(spec.padding)), ("mode", spec.mode), ("channels", spec.channels)]
            out += [("dilation", per_axis(spec.dilation))] if spec.dilation else []
            out += [("ceil_mode", True)] if spec.ceil_mode else []
            out += [("count_include_pad", False)] if not spec.count_include_pad else []
            out += [("divisor", spec.divisor_override)] if spec.divisor_override else []
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
    if isinstance(value, dict):  # an inline table
        return "{" + ", ".join(f"{key} = {_toml_value(v)}" for key, v in value.items()) + "}"
    return json.dumps(str(value))  # a TOML basic string (JSON escapes are valid TOML escapes)


def _answer_block(problem, key: str) -> list[str]:
    """`key = [...]` with one line per innermost row and a comment naming its entries."""
    group = problem.answer_group(key)
    symbols = problem.symbols
    kept = [axis for axis in range(len(group.shape)) if axis >= group.channel_axes or group.shape[axis] > 1]
    shape = tuple(group.shape[axis] for axis in kept)
    layer_titles = {"forward": "the outputs", "grad_kernel": "dL/dW", "grad_input": "dL/dX", "grad_bias": "dL/db"}
    title = STAGE_TITLES[key] if hasattr(problem, "stage") else layer_titles[key]
    prefix = "" if key == "forward" or key.startswith("new_") else "dL/d"
    channel_letters = ("f", "c") if group.key == "kernel" else ("f",) if group.channel_axes and group.key != "input" and problem.derivation.layer in ("conv", "convtranspose") else ("c",)
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
