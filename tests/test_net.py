"""`symgrad net` beyond the PyTorch oracle: sympy.diff of the composed loss on tiny networks, seed 000's
story in its own naming, the stage grammar and its one-line errors, the values file, the JSON contract
(every expression parsed by SymPy), the documents (LaTeX compiled) and `symgrad conv --lr`."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from fractions import Fraction

import numpy as np
import pytest
import sympy
from sympy.parsing.sympy_parser import parse_expr

import symgrad
from symgrad.errors import OptionError, SpecError, ValuesError
from symgrad.layers.net import derive_net
from symgrad.naming import Naming
from symgrad.netspec import NetSpec
from symgrad.spec import ConvSpec
from symgrad.symbols import SymbolTable

from conftest import run


def sym_values(d, stage_index: int, key: str):
    """SymPy symbols of one group of a stage, flat."""
    symbols = d.stages[stage_index].d.symbols
    return [symbols.sympy_symbol(int(i)) for i in symbols[key].ids.ravel()]


# --- sympy.diff of the composed loss equals the chain rule, stage by stage


TINY = [
    ("3x3", "conv 2x2 bias | relu | flatten | dense 2 bias | mse"),
    ("4", "conv 2 out=2 | maxpool 2 | flatten | dense 1 | sum"),
    ("2x4", "avgpool 2x2 | flatten | dense 2 | tanh | mse"),
    ("3x3", "conv 2x2 stride=2 padding=1 | sigmoid | flatten | dense 2 bias | softmax-ce"),
    ("5", "conv 3 dilation=2 bias | flatten | dense 2"),
]


@pytest.mark.parametrize("size,layers", TINY)
def test_sympy_diff_of_the_composed_loss_equals_the_chain(size, layers):
    """Differentiate L(x, w, b, v, c) as one SymPy expression and evaluate at random points; the
    network's chain (every stage's numbers) must give the same gradient for every parameter and input."""
    spec = NetSpec.build(size, layers)
    rng = random.Random(size + layers)
    symbolic = derive_net(spec)
    loss = symbolic.loss_expr()
    checked = [0]
    derivatives, functions = {}, {}  # one sympy.diff (and one lambdify) per symbol, for every trial
    for trial in range(2):
        values = {"input": np.array([Fraction(rng.randint(-99, 99), rng.choice([1, 7, 13])) for _ in range(int(np.prod(spec.input_shape)))],
                                    dtype=object).reshape(spec.input_shape).tolist(), "layers": []}
        subs = {}
        for i, stage in enumerate(spec.stages):
            item = {}
            for key, group in (("kernel", "kernel"), ("weight", "kernel"), ("bias", "bias")):
                if (key == "kernel" and stage.kind == "conv") or (key == "weight" and stage.kind == "dense") or (key == "bias" and stage.bias):
                    shape = symbolic.stages[i].d.symbols[group].shape
                    item[key] = [str(Fraction(rng.randint(-5, 5), rng.choice([1, 2]))) for _ in range(int(np.prod(shape)))]
            if stage.kind == "mse":
                item["target"] = [rng.randint(-2, 2) for _ in range(stage.input_shape[0])]
            if stage.kind == "softmax-ce":
                item["target"] = rng.randint(1, stage.input_shape[0])
            values["layers"].append(item)
        # the flat lists of the values file, nested as the stages want them
        for i, (stage, item) in enumerate(zip(spec.stages, values["layers"])):
            for key in list(item):
                if key in ("kernel", "weight", "bias"):
                    group = symbolic.stages[i].d.symbols["kernel" if key != "bias" else "bias"]
                    item[key] = np.array(item[key], dtype=object).reshape(group.shape).tolist()
                    subs.update({s: sympy.Rational(v) for s, v in zip(sym_values(symbolic, i, "kernel" if key != "bias" else "bias"),
                                                                      np.array(item[key], dtype=object).ravel())})
                if key == "target" and stage.kind == "mse":
                    subs.update({s: sympy.Integer(v) for s, v in zip(sym_values(symbolic, i, "target"), item[key])})
        if spec.loss is None:
            g = [rng.randint(-3, 3) for _ in range(int(np.prod(spec.output_shape)))]
            values["grad_output"] = g
            subs.update({s: sympy.Integer(v) for s, v in zip(sym_values(symbolic, len(spec.stages) - 1, "grad_output"), g)})
        subs.update({s: sympy.Rational(str(v)) for s, v in zip(sym_values(symbolic, 0, "input"),
                                                             np.array(values["input"], dtype=object).ravel())})
        d = derive_net(spec, values)
        the_loss = loss
        if spec.loss is not None and spec.loss.kind == "softmax-ce":  # the class is a number now
            the_loss = d.loss_expr()
        for i, stage in enumerate(d.stages):
            for key, gradient in (("kernel", "grad_kernel"), ("kernel", "grad_weight"), ("bias", "grad_bias"), ("input", "grad_input")):
                if gradient not in dict(stage.d.gradients()) or (key == "input" and i > 0):
                    continue
                got = stage.d.numeric.result(gradient).ravel()
                for symbol, value in zip(sym_values(d, i, key), got):
                    if (symbol, the_loss) not in derivatives:
                        derivatives[symbol, the_loss] = sympy.diff(the_loss, symbol)
                    derivative = derivatives[symbol, the_loss]
                    steps = [h.args[0].subs(subs) for h in derivative.atoms(sympy.Heaviside)]
                    if any(step == 0 for step in steps):
                        continue  # a tie (a max or a ReLU at 0): SymPy's H(0) = 1/2 is not PyTorch's rule; test_net_oracle covers ties
                    if d.float_stages:  # exp and tanh: SymPy's own expression, evaluated in floats (subs is slow there)
                        if (symbol, the_loss) not in functions:
                            functions[symbol, the_loss] = sympy.lambdify(list(subs), derivative, modules="math")
                        want = functions[symbol, the_loss](*[float(v) for v in subs.values()])
                    else:
                        want = derivative.subs(subs)
                    assert abs(float(want) - float(value)) <= 1e-9 * max(1.0, abs(float(want))), (layers, trial, symbol, want, value)
                    checked[0] += 1
        if spec.loss is not None:
            value = sympy.lambdify(list(subs), the_loss, modules="math")(*[float(v) for v in subs.values()]) if d.float_stages \
                else the_loss.subs(subs)
            assert abs(float(value) - float(d.loss_value)) <= 1e-9 * max(1.0, abs(float(d.loss_value)))
    assert checked[0] >= 10


def test_sympy_diff_of_one_symbolic_chain():
    """Without numbers: dL/dw of conv → flatten → dense 1 → sum, from the composed loss, equals the
    conv stage's chain rule with δ = dL/dz put in from the later stages (V's entries)."""
    d = derive_net(NetSpec.build("3x3", "conv 2x2 | flatten | dense 1 | sum"))
    loss = d.loss_expr()
    conv, dense = d.stages[0].d, d.stages[2].d
    v = [dense.symbols.sympy_symbol(int(i)) for i in dense.symbols["kernel"].ids.ravel()]
    dz = [conv.symbols.sympy_symbol(int(i)) for i in conv.symbols["grad_output"].ids.ravel()]
    for k in range(4):
        chain = conv.gradient_expr("grad_kernel", k).subs(dict(zip(dz, v)))
        assert sympy.expand(sympy.diff(loss, conv.symbols.sympy_symbol(int(conv.symbols["kernel"].ids.ravel()[k]))) - chain) == 0


# --- seed 000's story, in its own naming


SEED_LAYERS = "conv 3x3 stride=2 | flatten | dense 1 | mse"


def seed_net(values=None, lr=None):
    return symgrad.net("5x5", SEED_LAYERS, index="flat", names="a,z", values=values, lr=lr)


def test_seed000_story_names_and_chain():
    """5x5 input a_1..a_25, 3x3 kernel w_1..w_9, stride 2: z_1..z_4, flattened, ŷ = y_1, the loss."""
    d = seed_net()
    conv = d.stages[0].d
    assert conv.symbols.nested_identifiers("input")[0][0][:3] == ["a_1", "a_2", "a_3"]
    assert conv.symbols.nested_identifiers("kernel")[0][0][0] == ["w_1", "w_2", "w_3"]
    assert conv.symbols.nested_identifiers("output") == [[["z_1", "z_2"], ["z_3", "z_4"]]]
    # the seed's dL/dw_1 = a_1 dL/dz_1 + a_3 dL/dz_2 + a_11 dL/dz_3 + a_13 dL/dz_4
    assert str(conv.gradient_expr("grad_kernel", 0)) == "a_1*dz_1 + a_11*dz_3 + a_13*dz_4 + a_3*dz_2"
    # the link: dL/dz_k = dL/dŷ · ∂ŷ/∂z_k = v_1k · dy_1 (flatten passes it on unchanged)
    dense = d.stages[2].d
    assert str(dense.gradient_expr("grad_input", 2)) == "dy_1*v_3"  # flat indices, as the seed numbers
    assert str(d.stages[1].d.gradient_expr("grad_input", 3)) == "df_4"


def test_seed000_story_with_numbers_and_the_update():
    """Numbers by hand: X = 1..25 row by row, W = ones, V = [1, 0, 0, 0], t = 100: z_1 = 1+2+3+6+7+8+11+12+13
    = 63, ŷ = 63, dL/dŷ = -37, dL/dz = [-37, 0, 0, 0], dL/dw_i = -37·(the a under w_i in z_1's window),
    new w_1 = 1 - (1/10)(-37·1) = 47/10."""
    values = {"input": [[5 * r + c + 1 for c in range(5)] for r in range(5)],
              "layers": [{"kernel": [[1] * 3] * 3}, {}, {"weight": [[1, 0, 0, 0]]}, {"target": [100]}]}
    d = seed_net(values, lr="0.1")
    assert d.exact and d.lr == Fraction(1, 10)
    conv = d.stages[0]
    assert conv.d.numeric.result("forward").ravel().tolist() == [63, 81, 153, 171]
    assert d.stages[2].d.numeric.result("forward").tolist() == [63]
    assert d.loss_value == Fraction(37 * 37, 2)
    assert conv.d.numeric.result("grad_kernel").ravel().tolist() == [-37 * a for a in (1, 2, 3, 6, 7, 8, 11, 12, 13)]
    known, new = conv.update["kernel"]
    assert known.all() and new.tolist() == [1 + Fraction(37 * a, 10) for a in (1, 2, 3, 6, 7, 8, 11, 12, 13)]
    assert new[0] == Fraction(47, 10)
    text = d.to_markdown()
    assert r"{w_{1}}^{\text{new}}" in text and r"\frac{47}{10}" in text


# --- the stage grammar


@pytest.mark.parametrize("layers,message", [
    ("conv 3x3 | maxpool 2x2 strid=2", "stage 2 'maxpool 2x2 strid=2': unknown option 'strid'; expected stride=, padding=, ties=, dilation= or output_size="),
    ("conv 3x3 | dense 3", "stage 2 'dense 3': its input has shape 1x4x4; dense needs a vector, so put a flatten stage before it"),
    ("flatten | conv 3x3", "stage 2 'conv 3x3': its input has shape 36, a vector; conv needs channels and spatial axes"),
    ("maxpool 7x7", "stage 1 'maxpool 7x7': window 7x7 is larger than the padded input 6x6"),
    ("mse | relu", "stage 1 'mse': mse is a loss, so it must be the last stage"),
    ("conv", "stage 1 'conv': needs a size"),
    ("relu 3", "stage 1 'relu 3': unexpected '3'; expected just 'relu'"),
    ("conv 3x3 out=0", "stage 1 'conv 3x3 out=0': out= must be a positive integer"),
    ("conv 3 | relu", "stage 1 'conv 3': size '3' has 1 axis but input"),
    ("conv 3x3 | | relu", "stage 2 of --layers 'conv 3x3 | | relu' is empty"),
    ("sofmax", "stage 1 'sofmax': unknown stage 'sofmax'; expected one of conv, convtranspose, maxpool"),
    ("conv 3x3 stride=2x2x2", "stage 1 'conv 3x3 stride=2x2x2': stride= has 3 axes"),
    ("conv 3x3 | softmax-ce", "stage 2 'softmax-ce': its input has shape 1x4x4; softmax-ce needs a vector"),
    ("avgpool 2x2 ties=split", "stage 1 'avgpool 2x2 ties=split': unknown option 'ties'"),
])
def test_a_bad_stage_is_one_line_naming_it(layers, message, capsys):
    code, out, err = run(["net", "--input", "6x6", "--layers", layers], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("Error: " + message), err


def test_shapes_chain_in_1d_2d_and_3d():
    for size, layers, shape in [("10", "conv 3 stride=2 out=2 | avgpool 2 | flatten", (4,)),
                                ("6x5", "conv 3x2 stride=2 | maxpool 2x2 stride=1", (1, 1, 1)),
                                ("7x9", "conv 3x3 padding=1 | maxpool 2x3", (1, 3, 3)),
                                ("4x4x4", "conv 2x2x2 out=3 | maxpool 3x3x3 | flatten | dense 2", (2,))]:
        assert NetSpec.build(size, layers).stages[-1].output_shape == shape


def test_letters_are_numbered_when_a_kind_repeats():
    d = derive_net(NetSpec.build("12x12", "conv 3x3 | relu | conv 3x3 bias | relu | flatten | dense 3 bias | relu | dense 2 | mse"))
    letters = [(s.d.symbols["input"].letter, s.d.symbols["output"].letter) for s in d.stages]
    assert letters == [("x", "z1"), ("z1", "a1"), ("a1", "z2"), ("z2", "a2"), ("a2", "f"), ("f", "y1"), ("y1", "a3"),
                       ("a3", "y2"), ("y2", "L")]
    assert d.stages[2].d.symbols.nested_identifiers("kernel")[0][0][0] == ["w2_1_1", "w2_1_2", "w2_1_3"]
    assert d.stages[2].d.symbols.unicode(int(d.stages[2].d.symbols["kernel"].offset)) == "w⁽²⁾₁₁"
    assert d.stages[2].d.symbols.latex(int(d.stages[2].d.symbols["kernel"].offset)) == "w^{(2)}_{11}"
    assert d.stages[5].d.symbols["bias"].letter == "c1"


def test_names_option_is_checked():
    spec = NetSpec.build("4x4", "conv 3x3 | flatten")
    with pytest.raises(OptionError, match="same letter"):
        derive_net(spec, names="x,x")
    with pytest.raises(OptionError, match="not a usable name"):
        derive_net(spec, names="x,z1")


def test_too_large_a_network_is_refused_from_arithmetic():
    with pytest.raises(symgrad.SymgradError, match="network too large"):
        NetSpec.build("300x300", "conv 9x9 out=8 | relu | conv 9x9 out=8")


# --- values


def test_values_are_checked_stage_by_stage():
    spec = NetSpec.build("3x3", "conv 2x2 | relu | flatten | dense 2 | softmax-ce")
    good = {"input": [[1, 2, 3]] * 3, "layers": [{"kernel": [[1, 0], [0, 1]]}, {}, {}, {"weight": [[1] * 4, [0] * 4]}, {"target": 2}]}
    assert derive_net(spec, good).loss_value is not None
    cases = [
        ({**good, "layers": good["layers"][:3]}, '"layers" must be a list with one object per stage (5), got 3 entries'),
        ({**good, "layers": [{"kernel": [[1, 0], [0, 1]]}, {"kernel": [1]}, {}, {}, {}]}, "layers[1] (stage 2 'relu'): unknown key 'kernel'; this stage takes none"),
        ({**good, "layers": good["layers"][:4] + [{"target": 3}]}, '"target" must be a class number from 1 to 2, got 3'),
        ({**good, "layers": [{"kernel": [[1, 0, 0], [0, 1, 0]]}, {}, {}, {}, {}]}, '"kernel" must be nested like'),
        ({**good, "grad_output": [1, 2]}, "unknown key 'grad_output'; dL/dy comes from the loss stage"),
        ({**good, "kernel": [1]}, 'per-stage numbers go in "layers"'),
    ]
    for values, message in cases:
        with pytest.raises(ValuesError) as error:
            derive_net(spec, values)
        assert message in str(error.value)


def test_partial_values_leave_the_rest_symbolic():
    """Only the input given: the conv stage's outputs are sums in w, the later stages stay in their own symbols."""
    spec = NetSpec.build("3x3", "conv 2x2 | relu | flatten | dense 1 | mse")
    d = derive_net(spec, {"input": [[1, 2, 0], [0, 1, 0], [3, 0, 1]]})
    data = json.loads(d.to_json())
    assert data["stages"][0]["forward"][0][0][0] == "w_1_1 + 2*w_1_2 + w_2_2"
    assert data["stages"][1]["forward"][0][0][0] == "Max(0, z_1_1)"
    assert data["stages"][4]["forward"] == ["(-t_1 + y_1)**2/2"]


# --- JSON


def _strings(value):
    if isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, str):
        yield value


def test_json_contract_and_every_expression_parses():
    d = symgrad.net("4x4", "conv 3x3 out=2 bias | relu | maxpool 2x2 | flatten | dense 3 bias | softmax-ce", lr="1/10")
    data = json.loads(d.to_json())
    assert data["layer"] == "net" and data["input_shape"] == [1, 4, 4]
    assert [s["kind"] for s in data["stages"]] == ["conv", "relu", "maxpool", "flatten", "dense", "softmax-ce"]
    for stage in data["stages"]:
        assert {"kind", "input_shape", "output_shape", "symbols", "forward", "grad_input"} <= set(stage)
        assert np.array(stage["grad_input"], dtype=object).shape == tuple(stage["input_shape"])
        if stage["kind"] != "softmax-ce":
            assert np.array(stage["forward"], dtype=object).shape == tuple(stage["output_shape"])
        for text in [*_strings(stage["forward"]), *_strings(stage["grad_input"])]:
            parse_expr(text)
    conv, dense = data["stages"][0], data["stages"][4]
    assert {"grad_kernel", "grad_bias", "identities"} <= set(conv) and {"grad_weight", "grad_bias"} <= set(dense)
    assert all(identity["holds"] for identity in conv["identities"])
    assert data["stages"][5]["forward"] == ["-y_1*KroneckerDelta(1, t) - y_2*KroneckerDelta(2, t) - y_3*KroneckerDelta(3, t) + log(exp(y_1) + exp(y_2) + exp(y_3))"]
    assert data["update"]["lr"] == "1/10"
    assert [sorted(layer) for layer in data["update"]["layers"]] == [["bias", "kernel"], [], [], [], ["bias", "weight"], []]
    assert data["update"]["layers"][4]["bias"][0] == "c_1 - 1/10*(dy_1)"
    for text in _strings(data["update"]["layers"][0]["kernel"]):
        parse_expr(text)


def test_json_with_values_matches_the_numbers():
    values = {"input": [[1, -2, 0], [2, 1, 1], [0, -1, 3]],
              "layers": [{"kernel": [[1, "1/2"], [0, -1]], "bias": ["1/3"]}, {}, {}, {"weight": [[1, 2, 0, -1]], "bias": [0]}, {"target": [2]}]}
    d = symgrad.net("3x3", "conv 2x2 bias | relu | flatten | dense 1 bias | mse", values=values, lr="1/2")
    data = json.loads(d.to_json())
    assert data["values"] == {"exact": True, "float_stages": []}
    conv = data["stages"][0]
    want = d.stages[0].d.numeric.result("forward").ravel().tolist()
    assert [Fraction(v) for v in np.array(conv["forward"]).ravel()] == want
    new = d.stages[0].update["kernel"][1]
    assert [Fraction(v) for v in np.array(data["update"]["layers"][0]["kernel"]).ravel()] == new.tolist()
    assert Fraction(data["loss"]["value"]) == d.loss_value


# --- documents and the CLI


def test_text_document_reads_as_the_story(capsys):
    code, out, err = run(["net", "--input", "3x3", "--layers", "conv 2x2 | relu | flatten | dense 1 | mse", "--lr", "1/10"], capsys)
    assert code == 0 and err == ""
    order = [out.index(part) for part in ("THE NETWORK", "FORWARD PASS", "BACKWARD PASS", "THE UPDATE")]
    assert order == sorted(order)
    assert "Receives ∂L/∂z from stage 2 (relu)" in out
    assert "∂L/∂z₁₁ = ∂a₁₁/∂z₁₁·∂L/∂a₁₁" in out and "= H(z₁₁)·∂L/∂a₁₁" in out
    assert "new w₁₁ = w₁₁ − α·∂L/∂w₁₁" in out
    assert max(len(line) for line in out.splitlines()) <= 80


def test_show_picks_parts(capsys):
    code, out, _ = run(["net", "--input", "3x3", "--layers", "conv 2x2 | flatten | sum", "--show", "backward"], capsys)
    assert code == 0 and "BACKWARD PASS" in out and "FORWARD PASS" not in out
    code, _, err = run(["net", "--input", "3x3", "--layers", "conv 2x2 | flatten", "--show", "grad-kernel"], capsys)
    assert code == 2 and "--show got 'grad-kernel'" in err


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not installed")
def test_net_latex_compiles(tmp_path):
    values = {"input": [[1, 2, 0, 1], [0, 1, 3, 2], [2, -2, 1, 0], [1, 0, 0, 1]],
              "layers": [{"kernel": [[[[1, 0, -1], [2, 1, 0], [0, 1, 1]]], [[[0, 1, 0], [1, -1, 1], [0, 0, 1]]]], "bias": [1, -1]},
                         {}, {}, {}, {"weight": [[1, -1], [2, 0], [0, 1]], "bias": [0, 1, -1]}, {"target": 2}]}
    d = symgrad.net("4x4", "conv 3x3 out=2 bias | relu | maxpool 2x2 | flatten | dense 3 bias | softmax-ce", values=values, lr="0.1")
    path = tmp_path / "net.tex"
    path.write_text(d.to_latex())
    result = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", path.name], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-2000:]
    tex = path.read_text()
    assert r"\section*{Forward pass}" in tex and r"\subsection*{Stage 1: conv 3x3 out=2 bias}" in tex
    assert r"\subsubsection*{Setup}" in tex


def test_markdown_heading_levels():
    md = symgrad.net("3x3", "conv 2x2 | flatten | sum").to_markdown()
    assert md.startswith("---\nnumbering:\n  equation: false\n---\n\n# symgrad net: ") and md.count("\n# ") == 1
    assert "\n## Forward pass\n" in md and "\n### Stage 1: conv 2x2\n" in md and "\n#### Setup\n" in md


def test_repr_is_short():
    assert repr(symgrad.net("3x3", "conv 2x2 | flatten | sum")) == "NetDerivation(conv 2x2 | flatten | sum, input 1x3x3)"


# --- symgrad conv --lr


def test_conv_lr_update_by_hand():
    """x = 1..9, w = [[1, 0], [0, -1]], dL/dZ = [[1, 1/2], [0, -1]]: dL/dw_11 = 1 + 2/2 - 5 = -3, so new
    w_11 = 1 - (1/10)(-3) = 13/10 (checked by hand)."""
    values = {"input": [[1, 2, 3], [4, 5, 6], [7, 8, 9]], "kernel": [[1, 0], [0, -1]], "grad_output": [[1, "1/2"], [0, -1]]}
    d = symgrad.conv("3x3", "2x2", values=values, lr="0.1")
    known, new = d.update["kernel"]
    assert known.all() and new.tolist() == [Fraction(13, 10), Fraction(1, 4), Fraction(3, 20), Fraction(-9, 10)]
    data = json.loads(d.to_json())
    assert data["update"] == {"lr": "1/10", "kernel": [[[["13/10", "1/4"], ["3/20", "-9/10"]]]]}


def test_conv_lr_symbolic_and_errors(capsys):
    d = symgrad.conv("3x3", "2x2", bias=True, lr=0.5)
    data = json.loads(d.to_json())
    assert data["update"]["bias"] == ["b - 0.5*(dz_1_1 + dz_1_2 + dz_2_1 + dz_2_2)"]
    code, out, _ = run(["conv", "--input", "3x3", "--kernel", "2x2", "--lr", "1/10", "--show", "update"], capsys)
    assert code == 0 and "new w₁₁ = w₁₁ − α·∂L/∂w₁₁" in out and "w₁₁ − (1/10)·∂L/∂w₁₁" in out
    for bad in ("-1", "0", "abc", "1/0"):
        code, _, err = run(["conv", "--input", "3x3", "--kernel", "2x2", "--lr", bad], capsys)
        assert code == 2 and err.startswith("Error: --lr must be a positive number like 0.1 or 1/10")
    code, _, err = run(["conv", "--input", "3x3", "--kernel", "2x2", "--show", "update"], capsys)
    assert code == 2 and "--show update needs --lr" in err


def test_nested_identifiers_equal_identifier_entry_by_entry():
    for index in ("matrix", "flat"):
        for spec in [ConvSpec.build("5x5", "3x3", in_channels=2, out_channels=3, bias=True), ConvSpec.build("12x3", "2x2"),
                     ConvSpec.build("4x4x4", "2x2x2", out_channels=2), ConvSpec.build("7", "3")]:
            table = SymbolTable.for_conv(spec, Naming(index=index))
            for key, group in table.groups.items():
                want = [table.identifier(int(i)) for i in group.ids.ravel()]
                assert np.array(table.nested_identifiers(key), dtype=object).ravel().tolist() == want if group.size else True


def test_a_bad_size_error_from_python_is_a_spec_error():
    with pytest.raises(SpecError):
        NetSpec.build("0x3", "relu")


def test_notebook_display_of_a_net():
    """The notebook's text/latex: every part and stage, and the numbers (exact here)."""
    values = {"input": [[1, 2, 0], [0, 1, 3], [2, 1, 1]], "layers": [{"kernel": [[1, -1], [0, 2]]}, {}, {"target": [[1, 0], [0, 1]]}]}
    tex = symgrad.net("3x3", "conv 2x2 | relu | mse", values=values, lr="1/2")._repr_latex_()
    for part in ("Forward pass", "Backward pass", "Stage 1: conv 2x2", "Stage 3: mse", "The update"):
        assert part in tex, part
    assert r"w_{11}" in tex and "$$" in tex


def test_maxpool_stage_ties_split_shares_the_gradient():
    """A tie of three cells under ties=split: each gets 1/3 of dL/dp = 1 (sum loss)."""
    d = symgrad.net("2x2", "maxpool 2x2 ties=split | flatten | sum", values={"input": [[1, 1], [0, 1]], "layers": [{}, {}, {}]})
    third = Fraction(1, 3)
    assert d.stages[0].d.numeric.result("grad_input").ravel().tolist() == [third, third, 0, third]
    assert json.loads(d.to_json())["stages"][0]["masks"] == [[[[["1/3", "1/3"], [0, "1/3"]]]]]
