"""Values files: layout by symbol id, exact vs float numbers, every refusal's message, safe loading, formatting."""

from __future__ import annotations

import json
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest

from symgrad import ConvSpec, Naming
from symgrad.errors import OptionError, SymgradError
from symgrad.symbols import SymbolTable
from symgrad.values import ValuesError, format_number, json_number, load_values, parse_values


def layer(in_channels=1, out_channels=1, bias=False):
    spec = ConvSpec.build("3x3", "2x2", in_channels=in_channels, out_channels=out_channels, bias=bias)
    return spec, SymbolTable.for_conv(spec, Naming())


def parse(data, loss="generic", source="v.json", **layer_options):
    spec, symbols = layer(**layer_options)
    return parse_values(data, symbols, spec, loss, source), symbols


def refusal(data, loss="generic", source="v.json", **layer_options) -> str:
    with pytest.raises(ValuesError) as caught:
        parse(data, loss, source, **layer_options)
    message = str(caught.value)
    assert "\n" not in message
    return message


KERNEL_1x2 = [[[1, 2], [3, 4]], [[5, 6], [7, 8]]]  # C_in = 2, the C_out level (size 1) left out


# --- layout and exact numbers


def test_kernel_with_a_channel_level_left_out_is_placed_by_symbol_id():
    values, symbols = parse({"kernel": KERNEL_1x2}, in_channels=2)
    ids = symbols["kernel"].ids
    assert ids.shape == (1, 2, 2, 2)
    for c, i, j in np.ndindex(2, 2, 2):
        assert values.number[ids[0, c, i, j]] == KERNEL_1x2[c][i][j]
    assert values.exact and values.number.dtype == object
    assert all(type(v) is int for v in values.number)
    assert values.known.tolist() == symbols["kernel"].contains(np.arange(values.known.size)).tolist()
    assert values.known.size == max(g.offset + g.size for g in symbols.groups.values())
    assert values.given == ("kernel",) and values.source == "v.json"


def test_kernel_with_every_level_matches_the_shortened_form():
    full, symbols = parse({"kernel": [KERNEL_1x2]}, in_channels=2)
    short, _ = parse({"kernel": KERNEL_1x2}, in_channels=2)
    assert full.number.tolist() == short.number.tolist()
    assert full.tensor("kernel", symbols).tolist() == [KERNEL_1x2]


def test_two_output_channels_with_the_input_channel_level_left_out():
    values, symbols = parse({"kernel": KERNEL_1x2}, out_channels=2)
    ids = symbols["kernel"].ids
    assert ids.shape == (2, 1, 2, 2)
    for f, i, j in np.ndindex(2, 2, 2):
        assert values.number[ids[f, 0, i, j]] == KERNEL_1x2[f][i][j]


def test_two_by_two_channels_placed_by_symbol_id():
    data = [[[[8 * f + 4 * c + 2 * i + j for j in range(2)] for i in range(2)] for c in range(2)] for f in range(2)]
    values, symbols = parse({"kernel": data}, in_channels=2, out_channels=2)
    ids = symbols["kernel"].ids
    for f, c, i, j in np.ndindex(2, 2, 2, 2):
        assert values.number[ids[f, c, i, j]] == data[f][c][i][j]
    assert values.tensor("kernel", symbols).shape == (2, 2, 2, 2)


@pytest.mark.parametrize("data", [[[1, 2], [3, 4]], [[[1, 2], [3, 4]]], [[[[1, 2], [3, 4]]]]])
def test_single_channel_kernel_accepts_any_depth_from_2_to_4(data):
    values, symbols = parse({"kernel": data})
    assert values.tensor("kernel", symbols).tolist() == [[[[1, 2], [3, 4]]]]


def test_every_group_lands_in_its_own_range():
    data = {
        "target": [[1, 2], [3, 4]],
        "bias": 5,
        "input": [[6, 7, 8], [9, 10, 11], [12, 13, 14]],
        "kernel": [[15, 16], [17, 18]],
    }
    values, symbols = parse(data, loss="mse", bias=True)
    assert values.given == ("input", "kernel", "bias", "target")  # KEYS order, not the dict's
    assert values.tensor("bias", symbols).tolist() == [5]
    assert values.tensor("target", symbols).tolist() == [[[1, 2], [3, 4]]]
    assert values.tensor("input", symbols).tolist() == [[[6, 7, 8], [9, 10, 11], [12, 13, 14]]]
    assert values.tensor("grad_output", symbols) is None
    for key in ("grad_output", "output"):
        group = symbols[key]
        assert not values.known[group.offset : group.offset + group.size].any()
        assert values.number[group.offset : group.offset + group.size].tolist() == [0] * group.size
    assert int(values.known.sum()) == 4 + 1 + 9 + 4


def test_grad_output_and_bias_list_with_two_output_channels():
    dz = [[[1, 2], [3, 4]], [[5, 6], [7, 8]]]
    values, symbols = parse({"grad_output": dz, "bias": ["1/2", -1]}, out_channels=2, bias=True)
    assert values.tensor("grad_output", symbols).tolist() == dz
    assert values.tensor("bias", symbols).tolist() == [Fraction(1, 2), -1]


STRINGS = [
    ("1/3", Fraction(1, 3)),
    ("-1/3", Fraction(-1, 3)),
    (" +2/5 ", Fraction(2, 5)),
    ("4/2", 2),
    ("0.25", Fraction(1, 4)),
    ("-1.5", Fraction(-3, 2)),
    (".5", Fraction(1, 2)),
    ("3", 3),
    ("-0", 0),
    ("2.000", 2),
    ("999999999999999999", 10**18 - 1),
]


@pytest.mark.parametrize("text, expected", STRINGS)
def test_exact_strings(text, expected):
    values, symbols = parse({"kernel": [[text, 0], [0, 0]]})
    got = values.tensor("kernel", symbols)[0, 0, 0, 0]
    assert values.exact
    assert got == expected and type(got) is type(expected)  # a Fraction with denominator 1 becomes an int


def test_python_numbers_fractions_tuples_and_numpy_arrays():
    data = {"kernel": ((np.int64(2), Fraction(6, 3)), [Fraction(1, 3), -7]), "input": np.arange(9).reshape(3, 3)}
    values, symbols = parse(data)
    assert values.exact
    kernel = values.tensor("kernel", symbols).ravel().tolist()
    assert kernel == [2, 2, Fraction(1, 3), -7]
    assert [type(v) for v in kernel] == [int, int, Fraction, int]
    assert values.tensor("input", symbols).ravel().tolist() == list(range(9))
    assert all(type(v) is int for v in values.tensor("input", symbols).ravel())


def test_a_float_anywhere_makes_every_number_float64():
    values, symbols = parse({"kernel": [[1, "1/3"], ["0.25", 2]], "bias": 0.5}, bias=True)
    assert not values.exact
    assert values.number.dtype == np.float64
    assert values.tensor("kernel", symbols).dtype == np.float64
    assert values.tensor("kernel", symbols).ravel().tolist() == [1.0, 1 / 3, 0.25, 2.0]
    assert values.tensor("bias", symbols).tolist() == [0.5]


def test_numpy_bool_arrays_are_refused():
    assert "kernel[0][0] is a boolean (true)" in refusal({"kernel": np.ones((2, 2), dtype=bool)})


def test_numpy_float_arrays_are_floats():
    values, symbols = parse({"kernel": np.full((1, 1, 2, 2), 0.5, dtype=np.float32)})
    assert not values.exact and values.tensor("kernel", symbols).tolist() == [[[[0.5, 0.5], [0.5, 0.5]]]]


def test_empty_dict_gives_nothing_known():
    values, symbols = parse({})
    assert values.given == () and not values.known.any() and values.exact


def test_json_number_output_can_be_fed_back():
    numbers = [3, -1, Fraction(1, 3), Fraction(-7, 2)]
    encoded = json.loads(json.dumps([json_number(x) for x in numbers]))
    values, symbols = parse({"kernel": [encoded[:2], encoded[2:]]})
    assert values.tensor("kernel", symbols).ravel().tolist() == numbers
    floats = [0.1 + 0.2, -1e-20]
    encoded = json.loads(json.dumps([json_number(x) for x in floats] + [1.0, 2.0]))
    values, symbols = parse({"kernel": [encoded[:2], encoded[2:]]})
    assert values.tensor("kernel", symbols).ravel().tolist() == floats + [1.0, 2.0]


# --- refusals: key, expected shape, where it went wrong

KEY_REFUSALS = [
    (
        {"foo": 1},
        "generic",
        {},
        ['unknown key "foo"', 'allowed keys for this layer and --loss generic: "input", "kernel", "grad_output"'],
    ),
    (
        {"grad_output": 1},
        "sum",
        {},
        ['"grad_output" is not used with --loss sum (dL/dz is 1', 'allowed keys for this layer and --loss sum: "input", "kernel"'],
    ),
    (
        {"grad_output": 1},
        "mse",
        {},
        ['"grad_output" is not used with --loss mse', 'give "target"', '"input", "kernel", "target"'],
    ),
    ({"target": 1}, "generic", {}, ['"target" is only used with --loss mse']),
    ({"bias": [1]}, "generic", {}, ["the layer has no bias (add --bias)"]),
    ({"output": 1}, "generic", {}, ['"output" cannot be given']),
    ({"kernel": [[1, 2], [3, 4]], "bias": 1, "foo": 2}, "sum", {"bias": True}, ['unknown key "foo"', '"kernel", "bias"']),
]


@pytest.mark.parametrize("data, loss, options, parts", KEY_REFUSALS, ids=[str(r[:2]) for r in KEY_REFUSALS])
def test_key_refusals(data, loss, options, parts):
    message = refusal(data, loss, **options)
    assert message.startswith("values file 'v.json': ")
    for part in parts:
        assert part in message


SHAPE_REFUSALS = [
    # layer options, data, the exact message after the source
    (
        {},
        {"kernel": [[1, 2], [3, 4], [5, 6]]},
        '"kernel" must be nested like 2x2 (kernel shape 1x1x2x2; channel levels of size 1 may be left out), '
        "but kernel has 3 entries",
    ),
    (
        {},
        {"kernel": [[1, 2], [3]]},
        '"kernel" must be nested like 2x2 (kernel shape 1x1x2x2; channel levels of size 1 may be left out), '
        "but kernel[1] has 1 entry",
    ),
    (
        {"in_channels": 2},
        {"kernel": [[[1, 2], [3, 4]], [[5, 6], [7, 8, 9]]]},
        '"kernel" must be nested like 2x2x2 (kernel shape 1x2x2x2; channel levels of size 1 may be left out), '
        "but kernel[1][1] has 3 entries",
    ),
    (
        {"in_channels": 2, "out_channels": 2},
        {"kernel": KERNEL_1x2},
        '"kernel" must be nested like 2x2x2x2 (kernel shape 2x2x2x2), but it is nested 3 levels deep',
    ),
    (
        {"in_channels": 2},
        {"kernel": [[1, 2], [3, 4]]},
        '"kernel" must be nested like 1x2x2x2 or 2x2x2 (kernel shape 1x2x2x2; channel levels of size 1 may be '
        "left out), but it is nested 2 levels deep",
    ),
    (
        {},
        {"kernel": [[[[[1]]]]]},
        '"kernel" must be nested like 1x1x2x2 or 1x2x2 or 2x2 (kernel shape 1x1x2x2; channel levels of size 1 may be '
        "left out), but it is nested more than 4 levels deep",
    ),
    ({}, {"kernel": 3}, "but it is a number"),
    ({}, {"kernel": {"a": 1}}, "but it is an object"),
    ({}, {"kernel": []}, "but kernel is an empty list"),
    ({}, {"kernel": [[], [1, 2]]}, "but kernel[0] is an empty list"),
    ({}, {"kernel": [[1, 2], []]}, "but kernel[1] is an empty list"),
    ({}, {"kernel": [[1, 2], 3]}, "but kernel[1] is a number, not a list of 2"),
    ({}, {"kernel": [[1, [2]], [3, 4]]}, "but kernel[0][1] is a list, not a number"),
    ({}, {"input": [[1, 2, 3], [4, 5, 6]]}, '"input" must be nested like 3x3 (input shape 1x3x3; channel levels'),
    (
        {"in_channels": 2},
        {"input": [[1, 2, 3], [4, 5, 6], [7, 8, 9]]},
        '"input" must be nested like 2x3x3 (input shape 2x3x3), but it is nested 2 levels deep',
    ),
    (
        {"out_channels": 2, "bias": True},
        {"bias": 1},
        '"bias" must be nested like 2 (bias shape 2), but it is a number',
    ),
    (
        {"bias": True},
        {"bias": [1, 2]},
        '"bias" must be nested like 1 (bias shape 1; channel levels of size 1 may be left out), but bias has 2 entries',
    ),
    (
        {"out_channels": 2},
        {"grad_output": [[1, 2], [3, 4]]},
        '"grad_output" must be nested like 2x2x2 (grad_output shape 2x2x2), but it is nested 2 levels deep',
    ),
]


@pytest.mark.parametrize("options, data, expected", SHAPE_REFUSALS, ids=[str(r[1])[:60] for r in SHAPE_REFUSALS])
def test_shape_refusals(options, data, expected):
    message = refusal(data, **options)
    assert message.startswith("values file 'v.json': ")
    assert expected in message


ENTRY_REFUSALS = [
    (True, "kernel[0][1] is a boolean (true); expected a number"),
    (np.bool_(False), "kernel[0][1] is a boolean (false)"),
    (None, "kernel[0][1] is null; expected a number"),
    ({}, "kernel[0][1] is an object"),
    (Decimal("1.5"), "kernel[0][1] is a Decimal"),
    (1 + 2j, "kernel[0][1] is a complex; expected a number"),
    (float("inf"), "kernel[0][1] is inf, not a finite number"),
    (float("nan"), "kernel[0][1] is nan, not a finite number"),
    (np.float32("inf"), "kernel[0][1] is inf, not a finite number"),
    ("1e400", 'kernel[0][1] is "1e400", not a number'),
    ("abc", 'kernel[0][1] is "abc", not a number'),
    ("2**3", 'kernel[0][1] is "2**3", not a number'),
    ("1/0", 'kernel[0][1] is "1/0": division by zero'),
    ("", 'kernel[0][1] is "", not a number'),
    ("1/-3", 'is "1/-3", not a number'),
    ("0x10", 'is "0x10", not a number'),
    ("1_000", 'is "1_000", not a number'),
    ("nan", 'is "nan", not a number'),
    ("\u0663", 'is "\\u0663", not a number'),  # an Arabic-Indic digit: int() would take it
    ("1\n2", 'is "1\\n2", not a number'),
    ("1" * 41, 'is "' + "1" * 40 + '...", too long: at most 40 characters'),
    (10**18, "kernel[0][1] is too large: at most 18 digits"),
    (10**5000, "kernel[0][1] is too large: at most 18 digits"),  # more digits than str() of an int allows
    (np.uint64(2**63), "kernel[0][1] is too large: at most 18 digits"),
    (-(10**18), "too large: at most 18 digits"),
    ("1/1000000000000000000", 'is "1/1000000000000000000", too large: at most 18 digits'),
    ("0.0000000000000000001", "too large: at most 18 digits"),
    (Fraction(1, 10**18), "too large: at most 18 digits"),
]


@pytest.mark.parametrize("entry, expected", ENTRY_REFUSALS, ids=[f"{type(r[0]).__name__}-{r[1][:30]}" for r in ENTRY_REFUSALS])
def test_entry_refusals(entry, expected):
    message = refusal({"kernel": [[1, entry], [3, 4]]})
    assert message.startswith("values file 'v.json': ")
    assert expected in message


def test_bare_bias_number_is_checked_too():
    assert 'bias is "x", not a number' in refusal({"bias": "x"}, bias=True)


def test_dict_source_and_non_dict_data():
    assert refusal({"foo": 1}, source="").startswith("values: unknown key")
    assert "must be an object" in refusal([1, 2], source="")
    # a file that happens to be called "values" is still named as a file
    assert refusal({"foo": 1}, source="values").startswith("values file 'values': unknown key")


def test_unknown_loss_is_an_option_error():
    spec, symbols = layer()
    with pytest.raises(OptionError, match="--loss must be one of"):
        parse_values({}, symbols, spec, "l1")


def test_values_error_is_a_symgrad_error():
    assert issubclass(ValuesError, SymgradError) and ValuesError.exit_code == 2


# --- loading files


def write(tmp_path, content: bytes, name="v.json"):
    path = tmp_path / name
    path.write_bytes(content)
    return str(path)


def load_refusal(path) -> str:
    with pytest.raises(ValuesError) as caught:
        load_values(path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"values file {str(path)!r}")
    return message


def test_load_a_good_file_and_parse_it(tmp_path):
    path = write(tmp_path, b'\xef\xbb\xbf{"kernel": [["1/2", 2], [3, 4]]}')  # a UTF-8 BOM is fine
    data, source = load_values(path)
    assert data == {"kernel": [["1/2", 2], [3, 4]]} and source == path
    spec, symbols = layer()
    values = parse_values(data, symbols, spec, "generic", source)
    assert values.tensor("kernel", symbols).ravel().tolist() == [Fraction(1, 2), 2, 3, 4]


def test_load_missing_file(tmp_path):
    assert "does not exist" in load_refusal(str(tmp_path / "nope.json"))


def test_load_directory(tmp_path):
    assert "is a directory" in load_refusal(str(tmp_path))


def test_load_unreadable(tmp_path, monkeypatch):
    import symgrad.files

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(symgrad.files, "open", refuse, raising=False)  # chmod 0 does not stop root
    assert "cannot be read (permission denied)" in load_refusal(write(tmp_path, b"{}"))


def test_load_not_utf8(tmp_path):
    message = load_refusal(write(tmp_path, b'{"kernel": [1, \xff]}'))
    assert "is not UTF-8 text (byte 0xff at offset 15)" in message


def test_load_invalid_json(tmp_path):
    message = load_refusal(write(tmp_path, b'{"kernel": [1, 2]\n  "bias": 3}'))
    assert "is not valid JSON: Expecting ',' delimiter at line 2 column 3" in message


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_load_rejects_nan_and_infinity(tmp_path, literal):
    message = load_refusal(write(tmp_path, f'{{"kernel": [[1, {literal}], [3, 4]]}}'.encode()))
    assert f"contains {literal}; expected finite numbers" in message


TOP_LEVELS = [(b"[1, 2]", "a list"), (b'"x"', "a string"), (b"3", "a number"), (b"null", "null"), (b"true", "a boolean")]


@pytest.mark.parametrize("content, kind", TOP_LEVELS)
def test_load_top_level_must_be_an_object(tmp_path, content, kind):
    message = load_refusal(write(tmp_path, content))
    assert "must hold a JSON object" in message and message.endswith(f"but holds {kind}")


def test_load_deep_nesting_is_a_clean_error(tmp_path):
    message = load_refusal(write(tmp_path, b"[" * 100_000 + b"]" * 100_000))
    assert "is nested too deeply" in message
    message = load_refusal(write(tmp_path, b'{"kernel": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"))
    assert "is nested too deeply" in message


def test_load_huge_integer_literal(tmp_path):
    message = load_refusal(write(tmp_path, b'{"kernel": [[1, ' + b"9" * 5000 + b"], [3, 4]]}"))
    assert "too large: at most 18 digits" in message


def test_load_duplicate_key(tmp_path):
    assert 'has the key "kernel" twice' in load_refusal(write(tmp_path, b'{"kernel": 1, "kernel": 2}'))


def test_load_file_too_large(tmp_path):
    path = tmp_path / "big.json"
    with open(path, "wb") as handle:
        handle.truncate(21 * 1024 * 1024)
    assert "is larger than 20 MB" in load_refusal(str(path))


# --- formatting

FORMATS = [
    # number, text, json, latex
    (3, "3", "3", "3"),
    (-3, "-3", "-3", "-3"),
    (np.int64(7), "7", "7", "7"),
    (Fraction(1, 3), "1/3", "1/3", r"\frac{1}{3}"),
    (Fraction(-1, 3), "-1/3", "-1/3", r"-\frac{1}{3}"),
    (Fraction(4, 2), "2", "2", "2"),
    (0.1 + 0.2, "0.3", "0.30000000000000004", "0.3"),
    (2.0, "2", "2.0", "2"),
    (-0.0, "0", "-0.0", "0"),
    (1e-20, "1e-20", "1e-20", r"1 \times 10^{-20}"),
    (1.5e-20, "1.5e-20", "1.5e-20", r"1.5 \times 10^{-20}"),
    (-2.5e30, "-2.5e+30", "-2.5e+30", r"-2.5 \times 10^{30}"),
    (np.float64(0.25), "0.25", "0.25", "0.25"),
    (123456789.0, "123456789", "123456789.0", "123456789"),
]


@pytest.mark.parametrize("x, text, as_json, latex", FORMATS, ids=[repr(r[0]) for r in FORMATS])
def test_format_number(x, text, as_json, latex):
    assert format_number(x) == text
    assert format_number(x, "text") == text
    assert format_number(x, "json") == as_json
    assert format_number(x, "latex") == latex


def test_format_number_rejects_unknown_style():
    with pytest.raises(ValueError):
        format_number(1, "html")


def test_json_number():
    assert json_number(3) == 3 and type(json_number(np.int64(3))) is int
    assert json_number(Fraction(1, 3)) == "1/3" and json_number(Fraction(6, 3)) == 2
    assert json_number(0.5) == 0.5 and type(json_number(np.float32(0.5))) is float
