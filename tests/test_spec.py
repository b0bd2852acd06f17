"""Layer specs: parsing tables, error messages pinned at their start, output sizes, the size budget."""

from __future__ import annotations

import itertools
import math
import random
import tracemalloc

import pytest
from conftest import counting_work

from symgrad import ConvSpec, Naming, SymgradError, derive_conv
from symgrad.errors import OptionError, SpecError, TooLargeError
from symgrad.spec import DEFAULT_MAX_TERMS

# --- valid input: what each option parses to

VALID = [
    # kwargs, input_size, kernel_size, stride, padding, dilation, output_size
    (dict(input="5x5", kernel="3x3", stride=2), (5, 5), (3, 3), (2, 2), (0, 0), (1, 1), (2, 2)),
    (dict(input="3x3", kernel="2x2"), (3, 3), (2, 2), (1, 1), (0, 0), (1, 1), (2, 2)),
    (dict(input="7", kernel="3"), (7,), (3,), (1,), (0,), (1,), (5,)),
    (dict(input=7, kernel=3, stride=3), (7,), (3,), (3,), (0,), (1,), (2,)),
    (dict(input="5X6", kernel="3×2"), (5, 6), (3, 2), (1, 1), (0, 0), (1, 1), (3, 5)),
    (dict(input=" 5 x 5 ", kernel="3 x 3"), (5, 5), (3, 3), (1, 1), (0, 0), (1, 1), (3, 3)),
    (dict(input=(5, 6), kernel=[3, 3], stride=(2, 1)), (5, 6), (3, 3), (2, 1), (0, 0), (1, 1), (2, 4)),
    (dict(input="5x6", kernel="3x3", stride="2x1", padding="0x1"), (5, 6), (3, 3), (2, 1), (0, 1), (1, 1), (2, 6)),
    (dict(input="5x5", kernel="3x3", padding=1), (5, 5), (3, 3), (1, 1), (1, 1), (1, 1), (5, 5)),
    (dict(input="7x7", kernel="3x3", dilation=2), (7, 7), (3, 3), (1, 1), (0, 0), (2, 2), (3, 3)),
    (dict(input="7x8", kernel="3x3", dilation="1x2", stride=2), (7, 8), (3, 3), (2, 2), (0, 0), (1, 2), (3, 2)),
    (dict(input="3x5x5", kernel="1x3x3"), (3, 5, 5), (1, 3, 3), (1, 1, 1), (0, 0, 0), (1, 1, 1), (3, 3, 3)),
    (dict(input="4x6x6", kernel="2x3x3", stride="2x1x3", padding="0x1x0"), (4, 6, 6), (2, 3, 3), (2, 1, 3), (0, 1, 0), (1, 1, 1), (2, 6, 2)),
    (dict(input="1", kernel="3", padding=1), (1,), (3,), (1,), (1,), (1,), (1,)),  # kernel fits only thanks to padding
    (dict(input="2", kernel="1", padding=3, stride=2), (2,), (1,), (2,), (3,), (1,), (4,)),
    (dict(input="6", kernel="3", stride=2), (6,), (3,), (2,), (0,), (1,), (2,)),  # floor: x_6 unused
]


@pytest.mark.parametrize("kwargs, n, k, s, p, d, out", VALID, ids=[str(row[0]) for row in VALID])
def test_valid_specs_parse(kwargs, n, k, s, p, d, out):
    spec = ConvSpec.build(**kwargs)
    assert (spec.input_size, spec.kernel_size, spec.stride, spec.padding, spec.dilation) == (n, k, s, p, d)
    assert spec.output_size == out
    assert spec.ndim == len(n)
    assert spec.padded_size == tuple(ni + 2 * pi for ni, pi in zip(n, p))
    assert spec.dilated_kernel_size == tuple(di * (ki - 1) + 1 for ki, di in zip(k, d))


def test_channels_and_shapes():
    spec = ConvSpec.build(input="4x5", kernel="2x3", in_channels="3", out_channels=2, bias=True)
    assert (spec.in_channels, spec.out_channels, spec.bias) == (3, 2, True)
    assert spec.input_shape == (3, 4, 5)
    assert spec.kernel_shape == (2, 3, 2, 3)
    assert spec.output_shape == (2, 3, 3)
    assert ConvSpec.build(input="4", kernel="2").bias is False


# --- invalid input: the error class and the start of its one-line message

INVALID = [
    (dict(stride=0), SpecError, r"^--stride must be a positive integer, got 0$"),
    (dict(stride="0"), SpecError, r"^--stride must be a positive integer, got '0'$"),
    (dict(stride=-1), SpecError, r"^--stride must be a positive integer, got -1$"),
    (dict(stride="-1"), SpecError, r"^--stride must be a positive integer, or one per axis like 2x2, got '-1'$"),
    (dict(stride="2x0"), SpecError, r"^--stride must be a positive integer, got '2x0'$"),
    (dict(stride=(0, 1)), SpecError, r"^--stride must be a positive integer, got 0x1$"),
    (dict(stride="2x1x1"), SpecError, r"^--stride has 3 axes \('2x1x1'\) but the input has 2; give one value or 2$"),
    (dict(stride="2x2x2x2"), SpecError, r"^--stride has more than 3 axes: '2x2x2x2'"),
    (dict(stride="abc"), SpecError, r"^--stride must be a positive integer, or one per axis like 2x2, got 'abc'$"),
    (dict(stride="2.5"), SpecError, r"^--stride must be a positive integer.* got '2.5'$"),
    (dict(stride=1.5), SpecError, r"^--stride must be a positive integer.* got 1.5$"),
    (dict(stride=True), SpecError, r"^--stride must be a positive integer.* got True$"),
    (dict(stride=[]), SpecError, r"^--stride must be a positive integer.* got \[\]$"),
    (dict(padding=-1), SpecError, r"^--padding must be a non-negative integer, got -1$"),
    (dict(padding="1.5"), SpecError, r"^--padding must be a non-negative integer.* got '1.5'$"),
    (dict(padding="1x2x3"), SpecError, r"^--padding has 3 axes"),
    (dict(dilation=0), SpecError, r"^--dilation must be a positive integer, got 0$"),
    (dict(dilation="0x1"), SpecError, r"^--dilation must be a positive integer, got '0x1'$"),
    (dict(in_channels=0), SpecError, r"^--in-channels must be a positive integer, got 0$"),
    (dict(in_channels="x"), SpecError, r"^--in-channels must be a positive integer, got 'x'$"),
    (dict(in_channels="-3"), SpecError, r"^--in-channels must be a positive integer, got '-3'$"),
    (dict(in_channels=2.0), SpecError, r"^--in-channels must be a positive integer, got 2.0$"),
    (dict(in_channels=True), SpecError, r"^--in-channels must be a positive integer, got True$"),
    (dict(out_channels=-2), SpecError, r"^--out-channels must be a positive integer, got -2$"),
    (dict(out_channels=None), SpecError, r"^--out-channels must be a positive integer, got None$"),
    (dict(input="5x0"), SpecError, r"^--input must have positive sizes, got '5x0'"),
    (dict(input=0, kernel=1), SpecError, r"^--input must have positive sizes, got 0"),
    (dict(input=""), SpecError, r"^--input must be a size like 5, 5x5 or 3x5x5 with positive integers, got ''$"),
    (dict(input="5 by 5"), SpecError, r"^--input must be a size like .* got '5 by 5'$"),
    (dict(input="5x5x5x5"), SpecError, r"^--input has more than 3 axes: '5x5x5x5'"),
    (dict(input="5x5x"), SpecError, r"^--input must be a size like .* got '5x5x'$"),
    (dict(input="x5"), SpecError, r"^--input must be a size like .* got 'x5'$"),
    (dict(input="-5"), SpecError, r"^--input must be a size like .* got '-5'$"),
    (dict(input=None), SpecError, r"^--input must be a size like .* got None$"),
    (dict(input=5.0, kernel="3"), SpecError, r"^--input must be a size like .* got 5.0$"),
    (dict(input=()), SpecError, r"^--input must be a size like .* got \(\)$"),
    (dict(input="9999999999999", kernel="3"), SpecError, r"^--input must be a size like .* got '9999999999999'$"),
    (dict(kernel="3x3x"), SpecError, r"^--kernel must be a size like .* got '3x3x'$"),
    (dict(kernel="0x3"), SpecError, r"^--kernel must have positive sizes, got '0x3'"),
    (dict(kernel="3"), SpecError, r"^--kernel '3' has 1 axis but --input '5x5' has 2; give both the same number of axes$"),
    (dict(input="3x3", kernel="5x5"), SpecError,
     r"^kernel 5x5 is larger than the padded input 3x3 along the height axis; expected a kernel that fits"),
    (dict(input="5x3", kernel="3x5"), SpecError, r"^kernel 3x5 is larger than the padded input 5x3 along the width axis"),
    (dict(input="3x3", kernel="5x5", padding="1x0"), SpecError,
     r"^kernel 5x5 is larger than the padded input 5x3 along the width axis"),
    (dict(input="3x3", kernel="2x2", dilation=3), SpecError,
     r"^kernel 2x2 with dilation 3 spans 4 is larger than the padded input 3x3 along the height axis"),
    (dict(input="4", kernel="2", dilation=4), SpecError, r"^kernel 2 with dilation 4 spans 5 is larger than the padded input 4 along the length axis"),
    (dict(input="4x4x3", kernel="2x2x4"), SpecError, r"^kernel 2x2x4 is larger than the padded input 4x4x3 along the width axis"),
    (dict(input="100000x100000"), TooLargeError, r"^layer too large: about [\d,]+ product terms \(input 100000x100000, kernel 3x3"),
]


def _invalid_id(row) -> str:
    return ",".join(f"{k}={v!r}" for k, v in row[0].items())


@pytest.mark.parametrize("overrides, error, message", INVALID, ids=[_invalid_id(r) for r in INVALID])
def test_invalid_specs_are_refused_with_one_clear_line(overrides, error, message):
    kwargs = dict(input="5x5", kernel="3x3") | overrides
    with pytest.raises(error, match=message) as info:
        ConvSpec.build(**kwargs)
    assert isinstance(info.value, SymgradError) and info.value.exit_code == 2
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("option", ["in_channels", "out_channels"])
def test_channel_count_message_quotes_the_string_given(option):
    """Like --stride '0', a channel count given as text is quoted as given (the CLI passes text)."""
    flag = "--" + option.replace("_", "-")
    with pytest.raises(SpecError, match=rf"^{flag} must be a positive integer, got '0'$"):
        ConvSpec.build(input="5x5", kernel="3x3", **{option: "0"})
    with pytest.raises(SpecError, match=rf"^{flag} must be a positive integer, got '00'$"):
        ConvSpec.build(input="5x5", kernel="3x3", **{option: "00"})


def test_long_input_is_shortened_in_the_message():
    text = "5x" * 40 + "5"
    with pytest.raises(SpecError) as info:
        ConvSpec.build(input=text, kernel="3")
    message = str(info.value)
    assert message.startswith("--input ") and "..." in message and len(message) < 200


# --- output size: the formula, brute force and PyTorch agree


def brute_force_output_length(n: int, k: int, s: int, p: int, d: int) -> int:
    """Count window starts o*s whose last tap d*(k-1) stays inside the padded input."""
    count = 0
    while count * s + d * (k - 1) <= n + 2 * p - 1:
        count += 1
    return count


GRID_1D = [
    (n, k, s, p, d)
    for n, k, s, p, d in itertools.product(range(1, 13), range(1, 5), range(1, 5), range(0, 4), range(1, 4))
    if d * (k - 1) + 1 <= n + 2 * p
]


def test_output_size_matches_the_pytorch_formula_and_brute_force():
    assert len(GRID_1D) > 1500
    for n, k, s, p, d in GRID_1D:
        spec = ConvSpec.build(input=n, kernel=k, stride=s, padding=p, dilation=d)
        formula = (n + 2 * p - d * (k - 1) - 1) // s + 1
        assert spec.output_size == (formula,) == (brute_force_output_length(n, k, s, p, d),), (n, k, s, p, d)
        # The tail no output reads, counted in padded positions.
        assert spec.unused_tail == (n + 2 * p - (s * (formula - 1) + d * (k - 1) + 1),)


def test_output_size_matches_torch():
    torch = pytest.importorskip("torch")
    functional = pytest.importorskip("torch.nn.functional")
    for n, k, s, p, d in GRID_1D:
        out = functional.conv1d(torch.zeros(1, 1, n), torch.zeros(1, 1, k), stride=s, padding=p, dilation=d)
        assert ConvSpec.build(input=n, kernel=k, stride=s, padding=p, dilation=d).output_size == tuple(out.shape[2:])
    rng = random.Random(7)
    conv = {2: functional.conv2d, 3: functional.conv3d}
    for _ in range(150):
        ndim = rng.choice([2, 3])
        axes = []
        for _ in range(ndim):
            k, d, p, s = rng.randint(1, 4), rng.randint(1, 3), rng.randint(0, 3), rng.randint(1, 4)
            lo = max(1, d * (k - 1) + 1 - 2 * p)
            axes.append((rng.randint(lo, max(lo, 9)), k, s, p, d))
        n, k, s, p, d = (tuple(c) for c in zip(*axes))
        x = lambda t: "x".join(map(str, t))
        spec = ConvSpec.build(input=x(n), kernel=x(k), stride=x(s), padding=x(p), dilation=x(d), in_channels=2, out_channels=3)
        out = conv[ndim](torch.zeros(1, 2, *n), torch.zeros(3, 2, *k), stride=s, padding=p, dilation=d)
        assert spec.output_shape == tuple(out.shape[1:]), (n, k, s, p, d)


# --- the size budget


@pytest.mark.parametrize("size", ["100000x100000", "999999999999x999999999999", "999999999999", "99999x99999x99999"])
def test_giant_layers_are_refused_immediately(size):
    kernel = "x".join(["3"] * len(size.split("x")))
    tracemalloc.start()
    try:
        with counting_work(build=False, max_lines=1_000) as work, pytest.raises(
                TooLargeError, match=r"^layer too large: about [\d,]+ product terms .*exceeds the limit of 2,000,000"):
            ConvSpec.build(input=size, kernel=kernel)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert work.lines <= 1_000, work  # arithmetic, not a walk over the layer
    assert peak < 1_000_000, f"refusal allocated {peak:,} bytes"


@pytest.mark.parametrize("overrides", [dict(padding="999999999999"), dict(in_channels="999999999"), dict(out_channels=10**9)])
def test_other_giant_options_are_refused_too(overrides):
    with pytest.raises(TooLargeError, match=r"^layer too large"):
        ConvSpec.build(**(dict(input="5", kernel="3") | overrides))


def test_the_budget_is_an_inclusive_limit_and_can_be_lifted():
    spec = ConvSpec.build(input="5x5", kernel="3x3", stride=2)
    cost = spec.estimated_terms
    # 4 outputs * 9 taps, plus one per input, kernel and output entry.
    assert cost == 4 * 9 + 25 + 9 + 4
    assert ConvSpec.build(input="5x5", kernel="3x3", stride=2, max_terms=cost) == spec
    with pytest.raises(TooLargeError, match=rf"^layer too large: about {cost} product terms .* limit of {cost - 1}; "):
        ConvSpec.build(input="5x5", kernel="3x3", stride=2, max_terms=cost - 1)
    assert ConvSpec.build(input="100000x100000", kernel="3x3", max_terms=None).output_size == (99998, 99998)


@pytest.mark.parametrize("kwargs", [
    dict(input="6x5", kernel="3x2", stride="2x1"),
    dict(input="4x4", kernel="3x3", padding=2, in_channels=2, out_channels=3, bias=True),
    dict(input="7", kernel="3", dilation=2, padding=1),
    dict(input="3x4x5", kernel="2x2x2", stride=2, out_channels=2),
])
def test_estimate_bounds_the_real_derivation(kwargs):
    spec = ConvSpec.build(**kwargs)
    d = derive_conv(spec)
    products = spec.out_channels * spec.in_channels * math.prod(spec.output_size) * math.prod(spec.kernel_size)
    bias_terms = math.prod(spec.output_shape) if spec.bias else 0
    forward_no_bias = len(d.forward) - bias_terms
    if any(spec.padding):
        assert forward_no_bias < products  # taps on the padding zeros are dropped
    else:
        assert forward_no_bias == products
    assert len(d.grad_kernel) == len(d.grad_input) == forward_no_bias
    assert spec.estimated_terms >= len(d.forward)


def test_lenet_first_layer_fits_the_default_budget():
    spec = ConvSpec.build(input="32x32", kernel="5x5", in_channels=3, out_channels=6)
    assert spec.output_shape == (6, 28, 28)
    assert 6 * 3 * 28 * 28 * 25 <= spec.estimated_terms < DEFAULT_MAX_TERMS
    assert spec.estimated_terms == 6 * 3 * 28 * 28 * 25 + 3 * 32 * 32 + 6 * 3 * 5 * 5 + 6 * 28 * 28


# --- naming and loss options (OptionError)

NAMING_INVALID = [
    (dict(index="diag"), r"^--index must be one of flat, matrix, got 'diag'$"),
    (dict(names="x,w"), r"^--names must be three comma-separated letters for input, kernel and output"),
    (dict(names="x,w,z,q"), r"^--names must be three comma-separated letters"),
    (dict(names="x1,w,z"), r"^--names must be three comma-separated letters.*got 'x1,w,z'$"),
    (dict(names="x_,w,z"), r"^--names must be three comma-separated letters"),
    (dict(names="a,a,z"), r"^--names 'a,a,z' clashes with another name"),
    (dict(names="x,w,b"), r"^--names 'x,w,b' clashes with another name"),
    (dict(names="x,t,z"), r"^--names 'x,t,z' clashes with another name"),
    (dict(names="dz,w,z"), r"^--names 'dz,w,z' clashes with another name"),
]


@pytest.mark.parametrize("kwargs, message", NAMING_INVALID, ids=[str(r[0]) for r in NAMING_INVALID])
def test_invalid_naming_is_refused(kwargs, message):
    with pytest.raises(OptionError, match=message) as info:
        Naming.build(**kwargs)
    assert isinstance(info.value, SymgradError) and "\n" not in str(info.value)


def test_valid_naming():
    naming = Naming.build("flat", " a , w , z ")
    assert (naming.index, naming.input, naming.kernel, naming.output, naming.grad_output) == ("flat", "a", "w", "z", "dz")
    assert Naming.build() == Naming(index="matrix", input="x", kernel="w", output="z")


def test_unknown_loss_is_refused():
    with pytest.raises(OptionError, match=r"^--loss must be one of generic, sum, mse, got 'l1'$"):
        derive_conv(ConvSpec.build("3", "2"), loss="l1")
