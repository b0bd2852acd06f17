"""--groups: the spec's rule and shapes, the document's words, the JSON option, the pictures' channel
check. (PyTorch agreement: tests/test_parity_oracle.py and the grouped nets of tests/test_net_oracle.py.)"""

from __future__ import annotations

import json

import numpy as np
import pytest

import symgrad
from symgrad import ConvSpec, cli
from symgrad.errors import SpecError


def test_the_kernel_has_pytorchs_weight_shape():
    spec = ConvSpec.build("5x5", "3x3", in_channels=4, out_channels=6, groups=2)
    assert spec.kernel_shape == (6, 2, 3, 3) and (spec.group_in, spec.group_out) == (2, 3)
    assert [spec.input_channel(f, 0) for f in range(6)] == [0, 0, 0, 2, 2, 2]
    depthwise = ConvSpec.build("5x5", "3x3", in_channels=3, out_channels=3, groups=3)
    assert depthwise.kernel_shape == (3, 1, 3, 3)


@pytest.mark.parametrize("channels, message", [
    ((3, 2, 2), "--groups 2 must divide both --in-channels 3 and --out-channels 2 (PyTorch's rule); expected a common divisor such as 1"),
    ((4, 6, 4), "--groups 4 must divide both --in-channels 4 and --out-channels 6 (PyTorch's rule); expected a common divisor such as 2"),
])
def test_groups_that_do_not_divide_are_one_line(channels, message):
    with pytest.raises(SpecError) as error:
        ConvSpec.build("4x4", "2x2", in_channels=channels[0], out_channels=channels[1], groups=channels[2])
    assert str(error.value) == message


def test_cli_errors(capsys):
    assert cli.main(["conv", "--input", "4x4", "--kernel", "2x2", "--groups", "0"]) == 2
    assert capsys.readouterr().err.strip() == "Error: --groups must be a positive integer, got '0'"


def test_a_depthwise_layer_never_mixes_channels():
    d = symgrad.conv("3x3", "2x2", in_channels=2, out_channels=2, groups=2)
    x = d.symbols["input"]
    # output channel 2 reads only input channel 2; dL/dx of channel 1 holds only dL/dz of channel 1
    forward = d.forward
    second = forward.entry >= 4
    assert set(x.ids[1].ravel()) >= set(forward.b[second]) and not set(x.ids[0].ravel()) & set(forward.b[second])
    g = d.symbols["grad_output"].ids
    first_channel = d.grad_input.entry < 9
    assert set(d.grad_input.a[first_channel]) <= set(g[0].ravel())


def test_documents_and_json_say_so(capsys):
    d = symgrad.conv("3x3", "2x2", in_channels=4, out_channels=2, groups=2)
    text = d.to_markdown()
    assert "groups 2" in text.splitlines()[5]  # the title, after the frontmatter
    assert "Groups: 2. The 4 input and 2 output channels split, in order, into 2 groups" in text
    assert r"\sum_{c=1}^{C/G}" in text
    data = json.loads(d.to_json())
    assert data["options"]["groups"] == 2 and data["kernel_shape"] == [2, 2, 2, 2]
    assert "groups" not in json.loads(symgrad.conv("3x3", "2x2").to_json())["options"]  # the contract, unchanged


def test_pictures_check_the_channel_is_the_filters(capsys, tmp_path):
    args = ["animate", "conv", "--input", "4x4", "--kernel", "2x2", "--in-channels", "4", "--out-channels", "2",
            "--groups", "2", "--pass", "forward", "-o", str(tmp_path / "a.gif")]
    assert cli.main(args + ["--filter", "2", "--channel", "1"]) == 2
    assert "--channel 1 is not read by --filter 2 (groups 2: filter 2 reads input channels 3..4)" in capsys.readouterr().err
    assert cli.main(args + ["--filter", "2", "--channel", "4"]) == 0
