"""Network problems: one `Problem` per stage, in the stage's own names and numbers, and the update.

An answer file for a network keeps each stage's answers in its own table, `[answer.stage3]`, with the
keys the stage has: `forward`, `grad_input`, `grad_kernel` (conv) or `grad_weight` (dense), `grad_bias`,
and with a learning rate the updated parameters `new_kernel`, `new_weight`, `new_bias`. They are read
as flat keys (`stage3.grad_input`) and each is judged by its stage's problem: a conv or pooling stage is
exactly a layer problem (its slips included), with the δ it receives (dL/d its output) as symbols
(`dz_1_1`) or, with values, as numbers. The network's own slips:

- activation_derivative_left_out: dL/dz = dL/da, the activation's derivative forgotten;
- relu_slope_one_at_zero: ReLU'(0) taken as 1 (PyTorch, and symgrad, take 0);
- loss_gradient_sign: the loss's gradient with its sign flipped (softmax-ce: t − p instead of p − t);
- update_added: w + α·∂L/∂w;
- lr_not_applied: w − ∂L/∂w.

Answers involving exp (sigmoid, tanh, softmax) can only be judged as numbers: without values those
stages' keys are not asked.

>>> p = NetProblem.build({"input": "3x3", "layers": "conv 2x2 | relu | flatten | dense 1 | mse", "lr": "1/10"}, None)
>>> p.answer_keys()[:5]
('stage1.forward', 'stage1.grad_kernel', 'stage1.grad_input', 'stage1.new_kernel', 'stage2.grad_input')
>>> stage, key = p.stage_problem("stage2.grad_input")
>>> stage.poly_text(stage.expected(key)[0])
'da_1_1*Heaviside(z_1_1)'
"""

from __future__ import annotations

import re
from fractions import Fraction

import numpy as np

from ..errors import AnswerError
from ..layers.net import GRADIENT_OF as LAYER_GRADIENT_OF, PARAM_GROUP
from ..spec import CHECK_MAX_TERMS
from .poly import Poly
from .answers import check_judgeable
from .problem import DEFAULT_TOLERANCE, Problem, number

PARAM_OF = {f"new_{param}": param for param in LAYER_GRADIENT_OF}  # new_kernel -> kernel: the updated parameter
GRADIENT_OF = {key: LAYER_GRADIENT_OF[param] for key, param in PARAM_OF.items()}  # new_kernel -> grad_kernel
STAGE_KEY = re.compile(r"stage([0-9]{1,3})\.([a-z_]+)")
EXP_KINDS = ("sigmoid", "tanh", "softmax-ce")  # their answers need exp: numbers only


class StageProblem(Problem):
    """One stage of a network as a problem: a layer's, plus the stage kinds' meanings and the update."""

    def __init__(self, stage, lr, tolerance):
        self.stage, self.lr = stage, lr
        super().__init__(stage.d, tolerance)
        d = stage.d
        kind = stage.kind
        accepted = ["input", "grad_output", "output"]
        if kind == "dense":
            accepted += ["kernel"] + (["bias"] if stage.spec.bias else [])
        if stage.spec.is_loss:
            accepted = ["input"] + (["target"] if kind == "mse" else [])
        if kind not in ("conv", "convtranspose", "maxpool", "avgpool"):
            self.groups = {d.symbols[key].letter: d.symbols[key] for key in accepted}
            self.letters = set(self.groups)

    @property
    def spec(self):
        return getattr(self.derivation, "spec", None) or self.stage.spec

    def describe(self) -> str:
        return f"stage {self.stage.spec.index} {self.stage.spec.text}"

    def name(self, letters: str, groups: tuple[str, ...], text: str) -> Poly:
        """A stage's name; a numbered letter (w1_1_1, the first conv's kernel) is read as the JSON writes it."""
        if letters not in self.groups and groups and letters + groups[0] in self.groups and text.startswith(letters + groups[0]):
            letters, groups = letters + groups[0], groups[1:]
        return super().name(letters, groups, text)

    # --- meanings of the stage kinds' symbols

    def _compute_meaning(self, symbol_id: int) -> Poly:
        if self.numeric is not None and self.numeric.known[symbol_id]:
            return Poly.const(number(self.numeric.number[symbol_id]))
        group = self.symbols.group_of(symbol_id)
        if group.key == "slope":  # ReLU's H(z_k), symbolic (sigmoid and tanh are judged as numbers only)
            return self.function_atom(("relu", self.symbols["input"].offset + symbol_id - group.offset))
        if group.key == "output" and self.stage.kind not in ("conv", "convtranspose", "maxpool", "avgpool"):
            return self._stage_output(symbol_id - group.offset)
        return super()._compute_meaning(symbol_id)

    def _stage_output(self, k: int) -> Poly:
        d = self.derivation
        if self.stage.kind in ("dense", "flatten"):
            lo, hi = np.searchsorted(d.forward.entry, [k, k + 1])
            return self._sum(d.forward, range(lo, hi), 1)
        value = self.numeric.output_value(k) if self.numeric is not None and self.numeric.forward is not None else None
        if value is None:
            raise AnswerError("this stage's outputs are judged as numbers only (give the problem values)")
        return Poly.const(number(value))

    def heaviside(self, arg: Poly, text: str) -> Poly:
        """ReLU's H(z_k) (`Heaviside(z_1_1)`); max pooling's form otherwise."""
        atom = arg.single_atom()
        if self.stage.kind == "relu" and atom is not None and arg.terms.get((atom,)) == 1 and atom < self.base \
                and self.symbols.group_of(atom).key == "input":
            return self.function_atom(("relu", atom))
        if self.stage.kind == "relu":
            raise AnswerError(f"{text}(...) takes one input of this stage, like Heaviside({self.symbols.identifier(self.symbols['input'].offset)})")
        return super().heaviside(arg, text)

    def atom_text(self, atom: int) -> str:
        if atom >= self.base and self.atom_of[atom - self.base][0] == "relu":
            return f"Heaviside({self.symbols.identifier(self.atom_of[atom - self.base][1])})"
        return super().atom_text(atom)

    # --- expected entries

    def answer_group(self, key: str):
        if key in PARAM_OF:
            return self.symbols[PARAM_GROUP[PARAM_OF[key]]]
        if key == "grad_weight":
            return self.symbols["kernel"]
        return super().answer_group(key)

    def expected(self, key: str) -> list[Poly]:
        if key in self._expected:
            return self._expected[key]
        d = self.derivation
        if self.stage.spec.is_loss:
            self._expected[key] = self._loss_expected(key)
        elif key in GRADIENT_OF:
            group = self.answer_group(key)
            lr = number(self.lr)
            self._expected[key] = [self.meaning(group.offset + j) - g.scale(lr) for j, g in enumerate(self.expected(GRADIENT_OF[key]))]
        elif key == "forward" and self.stage.kind in ("dense", "flatten"):
            out = self.symbols["output"]
            self._expected[key] = [self._stage_output(k) for k in range(out.size)]
        elif key == "grad_weight":
            self._expected[key] = self.expand(dict(d.gradients())["grad_weight"])
        else:
            return super().expected(key)
        return self._expected[key]

    def _loss_expected(self, key: str) -> list[Poly]:
        d = self.derivation
        if key == "forward":
            if d.value is None:
                if d.function == "sum":
                    total = Poly()
                    for k in range(d.size):
                        total.add_in_place(self.meaning(self.symbols["input"].offset + k))
                    return [total]
                if d.function == "mse":
                    total = Poly()
                    for k in range(d.size):
                        diff = self.meaning(self.symbols["input"].offset + k) - self.meaning(self.symbols["target"].offset + k)
                        total.add_in_place(diff * diff, Fraction(1, 2))
                    return [total]
                raise AnswerError("the softmax-ce loss is judged as a number only (give the problem values)")
            return [Poly.const(number(d.value))]
        known, values = d.grad if d.grad is not None else (np.zeros(d.size, dtype=bool), None)
        out = []
        for k in range(d.size):
            if known[k]:
                out.append(Poly.const(number(values[k])))
            elif d.function == "mse":
                out.append(self.meaning(self.symbols["input"].offset + k) - self.meaning(self.symbols["target"].offset + k))
            elif d.function == "sum":
                out.append(Poly.const(Fraction(1)))
            else:
                raise AnswerError("the softmax-ce gradient is judged as numbers only (give the problem values)")
        return out

    def answer_keys(self) -> tuple[str, ...]:
        return stage_keys(self.stage, self.lr, self.numeric is not None or self.stage.d.numeric is not None)

    # --- the network's slips

    def variants(self, key: str) -> list[tuple[str, object]]:
        if key in self._variants:
            return self._variants[key]
        out = list(super().variants(key)) if self.stage.kind in ("conv", "convtranspose", "maxpool", "avgpool") and key not in GRADIENT_OF else []
        kind = self.stage.kind
        if key == "grad_input" and kind in ("relu", "sigmoid", "tanh"):
            delta = self.symbols["grad_output"]
            out.append(("activation_derivative_left_out", lambda e: [self.meaning(delta.offset + e)]))
            if kind == "relu" and self.numeric is not None:
                z = self.symbols["input"]

                def slope_one(e: int) -> list[Poly]:
                    value = self.numeric.value(z.offset + e)
                    return [self.meaning(delta.offset + e)] if value is not None and value == 0 else []

                out.append(("relu_slope_one_at_zero", slope_one))
        if key == "grad_input" and self.stage.spec.is_loss and kind != "sum":
            out.append(("loss_gradient_sign", lambda e: [-self.expected(key)[e]]))
        if key in GRADIENT_OF:
            group, lr = self.answer_group(key), number(self.lr)
            gradient = lambda e: self.expected(GRADIENT_OF[key])[e]  # noqa: E731
            out.append(("update_added", lambda e: [self.meaning(group.offset + e) + gradient(e).scale(lr)]))
            out.append(("lr_not_applied", lambda e: [self.meaning(group.offset + e) - gradient(e)]))
        self._variants[key] = out
        return out


def stage_keys(stage, lr, numeric: bool) -> tuple[str, ...]:
    """The answer keys a stage has (and that can be judged: exp needs numbers)."""
    if stage.kind in EXP_KINDS and not numeric:
        return ()
    if stage.spec.is_loss:
        return ("forward", "grad_input")
    keys = ["forward"] + [key for key, _ in stage.d.gradients()]
    if lr is not None:
        keys += [f"new_{param}" for param in stage.spec.params]
    if stage.kind in ("relu", "sigmoid", "tanh") and not numeric:
        keys.remove("forward")  # max(0, z) is not a polynomial
    return tuple(keys)


class NetProblem:
    """A network problem: the per-stage problems, addressed by `stageK.key`."""

    layer = "net"

    def __init__(self, net, tolerance: float | None):
        self.net = net
        self.tolerance = tolerance if net.values_given else None
        self.stages = [StageProblem(stage, net.lr, tolerance) for stage in net.stages]

    @classmethod
    def build(cls, options: dict, values: dict | None, tolerance: float = DEFAULT_TOLERANCE,
              max_terms: int = CHECK_MAX_TERMS) -> "NetProblem":
        from .. import api

        net = api.net(**options, values=values, max_terms=max_terms)
        for stage in net.stages:
            if stage.kind in ("conv", "convtranspose", "maxpool", "avgpool"):
                check_judgeable(stage.d, max_terms)
        return cls(net, tolerance)

    def describe(self) -> str:
        text = f"net {'x'.join(map(str, self.net.spec.input_shape[1:]))}: " + " | ".join(s.spec.text for s in self.net.stages)
        if self.net.lr is not None:
            text += f", lr {self.net.lr}"
        return text + (", with values" if self.net.values_given else "")

    def answer_keys(self) -> tuple[str, ...]:
        return tuple(f"stage{i + 1}.{key}" for i, problem in enumerate(self.stages) for key in problem.answer_keys())

    def stage_problem(self, key: str) -> tuple[StageProblem, str]:
        match = STAGE_KEY.fullmatch(key)
        if match is None or not 1 <= int(match.group(1)) <= len(self.stages):
            raise KeyError(key)
        return self.stages[int(match.group(1)) - 1], match.group(2)
