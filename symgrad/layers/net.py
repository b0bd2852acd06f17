"""A network: a chain of stages, each derived by its own layer kind in its own names, linked by the
gradients they pass back, with the numbers carried forward and backward and the weight update.

Every stage is derived locally: its outputs in terms of its input's symbols, its gradients in terms
of the δ symbols dL/d(its output) (`dz_1_1`, shown as ∂L/∂z₁₁). The link between stages is the
chain rule itself: the δ stage k receives is dL/d(input) of stage k + 1. With values, the numbers
flow forward (each stage's outputs become the next stage's input) and then backward (the loss gives
the last δ, each stage's dL/d(input) becomes the previous stage's δ), and every stage's sums, checks
and identities are evaluated on them. With a learning rate α, every parameter gets w − α·∂L/∂w.

>>> d = derive_net(NetSpec.build("3x3", "conv 2x2 | flatten | dense 1 | mse"))
>>> [stage.d.symbols["output"].letter for stage in d.stages]
['z', 'f', 'y', 'L']
>>> str(d.stages[0].d.gradient_expr("grad_kernel", 0))
'dz_1_1*x_1_1 + dz_1_2*x_1_2 + dz_2_1*x_2_1 + dz_2_2*x_2_2'
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..errors import OptionError, ValuesError
from ..naming import LETTERS_RE, RESERVED_WORDS, Naming
from ..netspec import CONVS, OUTPUT_LETTERS, PARAM_LETTERS, NetSpec, Stage
from ..numeric import Numeric, _refuse_huge_denominators, descend, entry_values, learning_rate, substitute
from ..values import FROM_PYTHON, _where, flatten
from . import activation, conv, convtranspose, dense, loss, pool
from .base import Displayable, Kind

if TYPE_CHECKING:
    import sympy

PARAM_GROUP = {"kernel": "kernel", "weight": "kernel", "bias": "bias"}  # values/JSON key -> symbol group
GRADIENT_OF = {"kernel": "grad_kernel", "weight": "grad_weight", "bias": "grad_bias"}  # param -> its gradient key


@dataclass(frozen=True, eq=False)
class NetStage:
    """One stage: its checked spec and its derivation (with its numbers, when there are any)."""

    spec: Stage
    d: object
    update: dict | None = None  # param key -> (known mask, values) of w − α·dL/dw, with --lr

    @property
    def kind(self) -> str:
        return self.spec.kind


@dataclass(frozen=True, eq=False, repr=False)
class NetDerivation(Displayable):
    """Everything `symgrad net` derives: the stages, the loss value, the update."""

    spec: NetSpec
    stages: tuple[NetStage, ...]
    lr: object = None  # α, as given (int / Fraction / float), or None
    exact: bool = True
    values_given: bool = False
    source: str = FROM_PYTHON
    float_stages: tuple[int, ...] = ()  # stages whose functions make floats (sigmoid, tanh, softmax-ce)
    values_data: dict | None = None  # the values as given (for an answer template)

    kind = None  # set below: NET


    @property
    def loss_stage(self) -> NetStage | None:
        return self.stages[-1] if self.stages[-1].spec.is_loss else None

    @property
    def loss_value(self):
        stage = self.loss_stage
        return stage.d.value if stage is not None else None

    @property
    def all_hold(self) -> bool:
        return all(identity.holds for stage in self.stages for identity in stage.d.identities) and all(
            all(stage.d.numeric.identities.values()) for stage in self.stages if stage.d.numeric is not None)

    def loss_expr(self) -> "sympy.Expr":
        """The composed loss as one SymPy expression of the network's input, parameters and targets
        (for tiny networks: it grows with every stage). Without a loss stage: Σ_k δ_k·y_k with the last
        stage's δ symbols (the linear part, whose gradient is the chain rule with unknown dL/dy)."""
        import sympy

        first = self.stages[0].d.symbols["input"]
        current = [first_symbol for first_symbol in (self.stages[0].d.symbols.sympy_symbol(i) for i in first.ids.ravel())]
        for stage in self.stages:
            d = stage.d
            inputs = [d.symbols.sympy_symbol(i) for i in d.symbols["input"].ids.ravel()]
            mapping = dict(zip(inputs, current))
            if stage.spec.is_loss:
                return d.loss_expr().xreplace(mapping)
            current = [d.forward_expr(k).xreplace(mapping) for k in range(d.symbols["output"].size)]
        last = self.stages[-1].d.symbols
        return sympy.Add(*[last.sympy_symbol(g) * y for g, y in zip(last["grad_output"].ids.ravel(), current)])

    def json_problem(self, max_terms: int) -> str | None:
        for stage in self.stages:
            problem = stage.d.json_problem(max_terms)
            if problem:
                return f"{stage.spec.label}: {problem}"
        return None

    def __repr__(self) -> str:
        return f"NetDerivation({' | '.join(stage.spec.text for stage in self.stages)}, input {'x'.join(map(str, self.spec.input_shape))})"


# --- names


def stage_namings(spec: NetSpec, names: str | None = None) -> list[Naming]:
    """Letters for every stage: x for the input; z (conv), a (activations), p (pooling), f (flatten),
    y (dense) for the outputs; w, b (conv) and v, c (dense) for the parameters. A letter that several
    stages would share is numbered (z1, z2; shown z⁽¹⁾, z⁽²⁾). `names`: letters for the input and then
    each stage's output, comma-separated; an empty place keeps the default (`a,z` for the seed's names)."""
    outputs = [OUTPUT_LETTERS.get(stage.kind, "L") for stage in spec.stages]
    numbered = _numbered(outputs, [stage.kind for stage in spec.stages])
    params: dict[int, dict[str, str]] = {}
    for letters in {tuple(sorted(letters.items())) for letters in PARAM_LETTERS.values()}:  # kinds sharing letters count together
        kinds = {kind for kind, own in PARAM_LETTERS.items() if tuple(sorted(own.items())) == letters}
        indices = [s.index for s in spec.stages if s.kind in kinds]
        for n, i in enumerate(indices, 1):
            params[i] = {key: letter + (str(n) if len(indices) > 1 else "") for key, letter in letters}
    input_letter = "x"
    if names is not None:
        parts = [part.strip() for part in str(names).split(",")]
        if len(parts) > 1 + len(outputs):
            raise OptionError(f"--names {names!r} has {len(parts)} letters but the input and the {len(outputs)} stages "
                              f"take at most {1 + len(outputs)}")
        for part in parts:
            if part and (not LETTERS_RE.fullmatch(part) or part in RESERVED_WORDS or part in ("L", "t", "p")):
                raise OptionError(f"--names {names!r}: {part!r} is not a usable name; expected letters like a or z "
                                  f"(not L, t, p or a function name)")
        if parts and parts[0]:
            input_letter = parts[0]
        for i, part in enumerate(parts[1:]):
            if part:
                numbered[i] = part
    taken = [input_letter] + [n for s, n in zip(spec.stages, numbered) if not s.is_loss]
    taken += [letter for p in params.values() for letter in p.values()]
    taken += ["d" + letter for letter in taken]
    if len(set(taken)) != len(taken):
        raise OptionError(f"--names {names!r} gives two tensors the same letter; choose distinct letters")
    namings, previous = [], input_letter
    for stage, out in zip(spec.stages, numbered):
        p = params.get(stage.index, {})
        kernel = p.get("kernel", p.get("weight", "w"))
        namings.append(Naming(index=spec.index, input=previous, kernel=kernel, output=out, bias=p.get("bias", "b"), target="t"))
        previous = out
    return namings


def _numbered(letters: list[str], kinds: list[str]) -> list[str]:
    out, seen = [], {}
    for letter, kind in zip(letters, kinds):
        count = letters.count(letter)
        seen[letter] = seen.get(letter, 0) + 1
        out.append(letter + str(seen[letter]) if count > 1 and kind not in ("softmax-ce", "mse", "sum") else letter)
    return out


# --- the stages, derived symbolically


def derive_stage(stage: Stage, naming: Naming, target_class: int | None = None, im2col: bool = False):
    if stage.kind == "conv":
        return conv.derive_conv(stage.layer, naming, im2col=im2col)
    if stage.kind == "convtranspose":
        return convtranspose.derive_convtranspose(stage.layer, naming)
    if stage.kind in ("maxpool", "avgpool"):
        return pool.derive_pool(stage.layer, naming)
    if stage.kind in activation.FUNCTIONS:
        return activation.derive_activation(stage.kind, stage.input_shape, naming)
    if stage.kind == "flatten":
        return dense.derive_flatten(stage.input_shape, naming)
    if stage.kind == "dense":
        return dense.derive_dense(stage.input_shape[0], stage.output_shape[0], stage.bias, naming)
    return loss.derive_loss(stage.kind, stage.input_shape, naming, target_class)


def derive_net(spec: NetSpec, values: dict | None = None, lr=None, names: str | None = None,
               source: str = FROM_PYTHON, im2col: bool = False) -> NetDerivation:
    """Derive every stage, then (with values) carry the numbers forward and backward, and (with lr) update.
    `im2col`: conv stages also carry their matrix form and its identities."""
    namings = stage_namings(spec, names)
    parsed = NetValues.parse(values, spec, namings, source) if values is not None else None
    float_stages = tuple(s.index for s in spec.stages if s.kind in ("sigmoid", "tanh", "softmax-ce"))
    exact = (parsed is None or parsed.exact) and not float_stages
    rate = learning_rate(lr) if lr is not None else None
    if isinstance(rate, float):
        exact = False
    elif rate is not None and parsed is not None and not exact:
        rate = float(rate)  # the numbers are floats: so is the update
    target_class = parsed.target_class if parsed is not None else None
    derivations = [derive_stage(stage, naming, target_class if stage.kind == "softmax-ce" else None, im2col)
                   for stage, naming in zip(spec.stages, namings)]
    net = NetDerivation(spec, tuple(NetStage(s, d) for s, d in zip(spec.stages, derivations)), rate, exact,
                        parsed is not None, source, float_stages, values)
    if parsed is None:
        return dataclasses.replace(net, stages=tuple(_with_update(stage, rate, None) for stage in net.stages)) if rate is not None else net
    return _evaluate(net, parsed)


# --- values


@dataclass(frozen=True)
class NetValues:
    """The numbers a values file gives: per stage, per key, the flat entries (int / Fraction / float)."""

    exact: bool
    input: list | None
    layers: tuple[dict, ...]
    grad_output: list | None
    target_class: int | None
    source: str

    @classmethod
    def parse(cls, data, spec: NetSpec, namings: list[Naming], source: str) -> "NetValues":
        where = _where(source)
        if not isinstance(data, dict):
            raise ValuesError(f'{where} must be an object like {{"input": [[...]], "layers": [{{}}, ...]}}')
        allowed = ("input", "layers") + (("grad_output",) if spec.loss is None else ())
        for key in data:
            if key not in allowed:
                hint = ("; dL/dy comes from the loss stage" if key == "grad_output" else
                        '; per-stage numbers go in "layers", one object per stage' if key in ("kernel", "bias", "weight", "target") else "")
                raise ValuesError(f"{where}: unknown key {key!r}{hint}; allowed keys for this network: "
                                  + ", ".join(f'"{k}"' for k in allowed))
        stages = spec.stages
        shapes = {}  # groups for flatten(): shapes with their channel axes
        first = derive_symbols_for_values(stages[0].input_shape)
        entries_input = flatten("input", data["input"], first, where) if "input" in data else None
        layers_data = data.get("layers", [{}] * len(stages))
        if not isinstance(layers_data, list) or len(layers_data) != len(stages):
            got = f"{len(layers_data)} entries" if isinstance(layers_data, list) else f"a {type(layers_data).__name__}"
            raise ValuesError(f'{where}: "layers" must be a list with one object per stage ({len(stages)}), got {got}')
        layers, target_class = [], None
        for stage, item in zip(stages, layers_data):
            at = f'{where}: layers[{stage.index - 1}] ({stage.label})'
            if not isinstance(item, dict):
                raise ValuesError(f"{at} must be an object like {{}} or {{\"kernel\": ...}}")
            keys = stage.params + (("target",) if stage.kind in ("softmax-ce", "mse") else ())
            out = {}
            for key, value in item.items():
                if key not in keys:
                    allowed_text = ", ".join(f'"{k}"' for k in keys) if keys else "none (use {})"
                    raise ValuesError(f"{at}: unknown key {key!r}; this stage takes {allowed_text}")
                if stage.kind == "softmax-ce":
                    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= stage.input_shape[0]:
                        raise ValuesError(f'{at}: "target" must be a class number from 1 to {stage.input_shape[0]}, got {value!r}')
                    target_class = value - 1
                    continue
                shape = param_shape(stage, key)
                shapes[key] = shape
                out[key] = flatten(key, value, derive_symbols_for_values(shape, channel_axes=_channel_axes(stage, key)), at)
            layers.append(out)
        grad_output = None
        if "grad_output" in data:
            grad_output = flatten("grad_output", data["grad_output"], derive_symbols_for_values(spec.output_shape), where)
        every = (entries_input or []) + [v for layer in layers for flat in layer.values() for v in flat] + (grad_output or [])
        exact = not any(isinstance(v, float) for v in every)
        if exact:
            _refuse_huge_denominators(every, source)
        return cls(exact, entries_input, tuple(layers), grad_output, target_class, source)


def derive_symbols_for_values(shape: tuple[int, ...], channel_axes: int | None = None):
    """A stand-in group for values.flatten(): the shape and how many leading axes are channels."""
    from ..symbols import Group

    axes = (1 if len(shape) > 1 else 0) if channel_axes is None else channel_axes
    return Group("values", "", 0, tuple(shape), axes, tuple(True for _ in range(axes)))


def param_shape(stage: Stage, key: str) -> tuple[int, ...]:
    if stage.kind in CONVS:
        return stage.layer.kernel_shape if key == "kernel" else (stage.layer.out_channels,)
    if stage.kind == "dense":
        return (stage.output_shape[0], stage.input_shape[0]) if key == "weight" else stage.output_shape
    return stage.input_shape  # mse targets


def _channel_axes(stage: Stage, key: str) -> int:
    if stage.kind in CONVS and key == "kernel":
        return 2
    if stage.kind == "dense":
        return 0
    return 1 if len(param_shape(stage, key)) > 1 else 0


# --- numbers: forward, then backward, then the update


def _blank(d, exact: bool) -> tuple[np.ndarray, np.ndarray]:
    total = max(g.offset + g.size for g in d.symbols.groups.values())
    number = np.zeros(total, dtype=object if exact else np.float64)
    return np.zeros(total, dtype=bool), number


def _put(known, number, group, mask, values, exact: bool) -> None:
    sl = slice(group.offset, group.offset + group.size)
    mask = np.asarray(mask, dtype=bool)
    known[sl] = mask
    column = np.zeros(group.size, dtype=object if exact else np.float64)
    if mask.any():
        vals = np.asarray(values, dtype=object)[mask]
        column[mask] = vals if exact else [float(v) for v in vals]
    number[sl] = column


def _forward(stage: NetStage, known, number, exact: bool, source: str):
    """(which outputs are numbers, their values, the substituted forward table of a sum-of-products stage,
    kept for the backward pass, or None)."""
    d, kind = stage.d, stage.kind
    if kind in (*CONVS, "dense", "flatten"):
        table = substitute(d.forward, known, number, exact)
        return (*entry_values(table, exact), table)
    if kind in ("maxpool", "avgpool"):
        numeric = pool.evaluate(d, known, number, exact, (), source)
        if numeric.forward is None:
            size = d.symbols["output"].size
            return np.zeros(size, dtype=bool), np.zeros(size, dtype=object if exact else np.float64), None
        return (*entry_values(numeric.forward, exact), None)
    return (*activation.forward_numbers(d, known, number, exact), None)


def _evaluate(net: NetDerivation, values: NetValues) -> NetDerivation:
    exact = net.exact
    arrays, forwards = [], []
    # forward
    group = net.stages[0].d.symbols["input"]
    mask = np.zeros(group.size, dtype=bool) if values.input is None else np.ones(group.size, dtype=bool)
    flow = values.input if values.input is not None else [0] * group.size
    loss_value = None
    for stage, layer_values in zip(net.stages, values.layers):
        d = stage.d
        known, number = _blank(d, exact)
        _put(known, number, d.symbols["input"], mask, flow, exact)
        for key, flat in layer_values.items():
            if key == "target":
                if stage.kind == "mse":
                    _put(known, number, d.symbols["target"], np.ones(len(flat), dtype=bool), flat, exact)
                continue
            _put(known, number, d.symbols[PARAM_GROUP[key]], np.ones(len(flat), dtype=bool), flat, exact)
        arrays.append((known, number))
        if stage.spec.is_loss:
            break
        with np.errstate(all="ignore"):
            mask, flow, table = _forward(stage, known, number, exact, values.source)
        forwards.append(table)
    # backward: the loss gives the last δ (or the file does)
    stages = list(net.stages)
    if net.loss_stage is not None:
        known, number = arrays[-1]
        with np.errstate(all="ignore"):
            loss_value, g_mask, g_values = loss.evaluate(stages[-1].d, known, number, exact)
        lstage = stages[-1]
        numeric = Numeric(exact, _given(lstage.d, known), values.source, known, number, None, {}) if known.any() else None
        stages[-1] = dataclasses.replace(lstage, d=dataclasses.replace(lstage.d, numeric=numeric, value=loss_value,
                                                                       grad=(g_mask, g_values)))
        body = range(len(stages) - 2, -1, -1)
    else:
        size = stages[-1].d.symbols["grad_output"].size
        g_mask = np.ones(size, dtype=bool) if values.grad_output is not None else np.zeros(size, dtype=bool)
        g_values = values.grad_output if values.grad_output is not None else [0] * size
        body = range(len(stages) - 1, -1, -1)
    for i in body:
        stage = stages[i]
        known, number = arrays[i]
        _put(known, number, stage.d.symbols["grad_output"], g_mask, g_values, exact)
        numeric = _stage_numeric(stage, known, number, exact, values.source, forwards[i])
        stages[i] = dataclasses.replace(stage, d=dataclasses.replace(stage.d, numeric=numeric if known.any() else None))
        g_mask, g_values = entry_values(numeric.gradients["grad_input"], exact)
    stages = [_with_update(stage, net.lr, stage.d.numeric) for stage in stages]
    return dataclasses.replace(net, stages=tuple(stages))


def _stage_numeric(stage: NetStage, known, number, exact: bool, source: str, forward) -> Numeric:
    """A stage's numbers, its δ now known; `forward` is its substituted forward pass from the way forward."""
    given = _given(stage.d, known)
    kind = stage.kind
    if kind in CONVS:
        return conv.evaluate(stage.d, known, number, exact, given, source, forward=forward)
    if kind in ("dense", "flatten"):
        return dense.evaluate(stage.d, known, number, exact, given, source, forward=forward)
    if kind in ("maxpool", "avgpool"):
        return pool.evaluate(stage.d, known, number, exact, given, source)
    return activation.evaluate(stage.d, known, number, exact, given, source)


def _given(d, known) -> tuple[str, ...]:
    keys = [key for key in ("input", "kernel", "bias", "grad_output", "target") if key in d.symbols.groups
            and d.symbols[key].size and known[d.symbols[key].offset: d.symbols[key].offset + d.symbols[key].size].any()]
    return tuple(keys)


def _with_update(stage: NetStage, lr, numeric: Numeric | None) -> NetStage:
    """w − α·∂L/∂w for every parameter of the stage (numbers where w and its gradient are numbers)."""
    if lr is None or not stage.spec.params:
        return stage
    out = {param: descend(numeric, stage.d.symbols[PARAM_GROUP[param]], GRADIENT_OF[param], lr) for param in stage.spec.params}
    return dataclasses.replace(stage, update=out)

class _NetContent:
    """A network's document is assembled from its stages' (render/net_document.py)."""

    @staticmethod
    def title(net) -> list[str]:
        return ["net", "input " + "x".join(map(str, net.spec.input_shape)), " | ".join(s.spec.text for s in net.stages)]


NET = Kind(
    name="net",
    sections=("setup", "forward", "backward", "identities", "im2col", "update"),
    gradient_of={},
    tensor_of={},
    answers=(),
    options=("input", "layers", "in_channels", "lr", "index", "names"),
    required=("input", "layers"),
    noun="network",
    content=_NetContent,
)
NetDerivation.kind = NET
