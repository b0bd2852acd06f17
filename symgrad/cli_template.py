"""`symgrad template conv|pool|net`: an answer file with the problem filled in and every answer empty."""

# No `from __future__ import annotations` here: typer would evaluate every annotation string on every run.

from typing import Optional

import typer

from .cli_parts import (
    BIAS, CHANNELS, CONV_NAMES, CONV_VALUES, Command, DILATION, INDEX, INPUT, IN_CHANNELS, KERNEL, LOSS, LR, MODE,
    NET_LAYERS, NET_NAMES, NET_VALUES, OUTPUT, OUT_CHANNELS, GROUPS, OUTPUT_PADDING, PADDING_MODE, TRANSPOSE_PADDING, PADDING, POOL_NAMES, POOL_PADDING, POOL_STRIDE, POOL_VALUES,
    STRIDE, STUDENT, TEMPLATE_MAX_TERMS, TIES, VARIANT_SEED, VARIANTS, WINDOW,
    OUTPUT_SIZE, POOL_DILATION, CEIL_MODE, NO_COUNT_INCLUDE_PAD, DIVISOR, pool_options, check_output, emit, parse_limit, sub_app,
)
from .errors import OptionError, printable

template_app = sub_app("Write an empty answer file (TOML) for a conv, pool or net problem, to fill in and `symgrad check`.",
)


@template_app.command("conv", cls=Command, short_help="An answer file for a convolution problem.",
                      options_metavar="--input SIZE --kernel SIZE [OPTIONS]")
def template_conv(
    input: str = INPUT,
    kernel: str = KERNEL,
    stride: str = STRIDE,
    padding: str = PADDING,
    dilation: str = DILATION,
    in_channels: str = IN_CHANNELS,
    out_channels: str = OUT_CHANNELS,
    groups: str = GROUPS,
    padding_mode: str = PADDING_MODE,
    bias: bool = BIAS,
    loss: str = LOSS,
    index: str = INDEX,
    names: Optional[str] = CONV_NAMES,
    values: Optional[str] = CONV_VALUES,
    ask: Optional[str] = typer.Option(None, "--ask", metavar="LIST",
                                      help="Answers to ask for: forward, grad-kernel, grad-input, grad-bias (needs "
                                           "--bias), as a comma-separated list.  [default: every gradient]"),
    student: str = STUDENT,
    variants: Optional[str] = VARIANTS,
    seed: Optional[str] = VARIANT_SEED,
    max_terms: str = TEMPLATE_MAX_TERMS,
    output: Optional[str] = OUTPUT,
) -> None:
    """An answer file for a convolution problem: the problem filled in, every answer ''.

    \b
    Examples:
      symgrad template conv --input 5x5 --kernel 3x3 --stride 2 > hw3.toml
      symgrad template conv --input 3x3 --kernel 2x2 --values numbers.json \\
                            -o hw3.toml
      symgrad template conv --input 4x4 --kernel 3x3 --ask grad-input
      symgrad template conv --input 5x5 --kernel 3x3 --variants roster.txt \\
                            --seed 2026 -o hw/
    """
    from . import api

    _write_template(lambda limit, numbers: api.conv(input, kernel, stride, padding, dilation, in_channels, out_channels, bias,
                                                    loss, index, names, max_terms=limit, values=numbers, groups=groups,
                                                    padding_mode=padding_mode),
                    values, ask, student, max_terms, output, variants, seed)


@template_app.command("convtranspose", cls=Command, short_help="An answer file for a transposed convolution problem.",
                      options_metavar="--input SIZE --kernel SIZE [OPTIONS]")
def template_convtranspose(
    input: str = INPUT,
    kernel: str = KERNEL,
    stride: str = STRIDE,
    padding: str = TRANSPOSE_PADDING,
    output_padding: str = OUTPUT_PADDING,
    dilation: str = DILATION,
    in_channels: str = IN_CHANNELS,
    out_channels: str = OUT_CHANNELS,
    groups: str = GROUPS,
    bias: bool = BIAS,
    loss: str = LOSS,
    index: str = INDEX,
    names: Optional[str] = CONV_NAMES,
    values: Optional[str] = CONV_VALUES,
    ask: Optional[str] = typer.Option(None, "--ask", metavar="LIST",
                                      help="Answers to ask for: forward, grad-kernel, grad-input, grad-bias (needs "
                                           "--bias), as a comma-separated list.  [default: every gradient]"),
    student: str = STUDENT,
    variants: Optional[str] = VARIANTS,
    seed: Optional[str] = VARIANT_SEED,
    max_terms: str = TEMPLATE_MAX_TERMS,
    output: Optional[str] = OUTPUT,
) -> None:
    """An answer file for a transposed convolution problem: the problem filled in, every answer ''.

    \b
    Examples:
      symgrad template convtranspose --input 3x3 --kernel 3x3 --stride 2 \\
                                     -o hw4.toml
    """
    from . import api

    _write_template(lambda limit, numbers: api.convtranspose(input, kernel, stride, padding, output_padding, dilation, in_channels,
                                                             out_channels, groups, bias, loss, index, names, max_terms=limit,
                                                             values=numbers), values, ask, student, max_terms, output, variants, seed)


@template_app.command("pool", cls=Command, short_help="An answer file for a pooling problem.",
                      options_metavar="--input SIZE --window SIZE [OPTIONS]")
def template_pool(
    input: str = INPUT,
    window: Optional[str] = WINDOW,
    output_size: Optional[str] = OUTPUT_SIZE,
    stride: Optional[str] = POOL_STRIDE,
    padding: str = POOL_PADDING,
    dilation: str = POOL_DILATION,
    ceil_mode: bool = CEIL_MODE,
    mode: str = MODE,
    no_count_include_pad: bool = NO_COUNT_INCLUDE_PAD,
    divisor: Optional[str] = DIVISOR,
    channels: str = CHANNELS,
    ties: str = TIES,
    index: str = INDEX,
    names: Optional[str] = POOL_NAMES,
    values: Optional[str] = POOL_VALUES,
    ask: Optional[str] = typer.Option(None, "--ask", metavar="LIST",
                                      help="Answers to ask for: forward, grad-input, or both as forward,grad-input.  "
                                           "[default: grad-input]"),
    student: str = STUDENT,
    variants: Optional[str] = VARIANTS,
    seed: Optional[str] = VARIANT_SEED,
    max_terms: str = TEMPLATE_MAX_TERMS,
    output: Optional[str] = OUTPUT,
) -> None:
    """An answer file for a pooling problem: the problem filled in, every answer ''.

    \b
    Examples:
      symgrad template pool --input 4x4 --window 2x2 --values numbers.json \\
                            > pool.toml
      symgrad template pool --input 5x5 --window 3x3 --stride 2 --mode avg
    """
    from . import api

    _write_template(lambda limit, numbers: api.pool(input, window, stride, padding, mode, channels, ties, index, names,
                                                    max_terms=limit, values=numbers,
                                                    **pool_options(dilation, ceil_mode, no_count_include_pad, divisor, output_size)),
                    values, ask, student, max_terms, output, variants, seed)


@template_app.command("net", cls=Command, short_help="An answer file for a network problem.",
                      options_metavar="--input SIZE --layers STAGES [OPTIONS]")
def template_net(
    input: str = INPUT,
    layers: str = NET_LAYERS,
    in_channels: str = IN_CHANNELS,
    values: Optional[str] = NET_VALUES,
    lr: Optional[str] = LR,
    index: str = INDEX,
    names: Optional[str] = NET_NAMES,
    ask: Optional[str] = typer.Option(None, "--ask", metavar="LIST",
                                      help="Answers to ask for: forward, gradients, update (needs --lr), comma-separated.  "
                                           "[default: gradients and the update]"),
    student: str = STUDENT,
    variants: Optional[str] = VARIANTS,
    seed: Optional[str] = VARIANT_SEED,
    max_terms: str = TEMPLATE_MAX_TERMS,
    output: Optional[str] = OUTPUT,
) -> None:
    """An answer file for a network problem: one [answer.stageK] table per stage, every answer ''.

    \b
    Examples:
      symgrad template net --input 3x3 --layers 'conv 2x2 | relu | flatten |
                           dense 1 | mse' --lr 0.1 > net.toml
      symgrad template net --input 4x4 --layers 'conv 3x3 | flatten | dense 2 |
                           softmax-ce' --values net.json --lr 0.1 -o net.toml
    """
    from . import api
    from .homework.answers import check_judgeable
    from .homework.template import net_answer_template

    limit = parse_limit(max_terms)

    def write(numbers, who: str) -> str:
        derivation = api.net(input, layers, in_channels, numbers, lr, index, names, max_terms=limit)
        for stage in derivation.stages:  # handed out only for a problem check can judge
            if stage.kind in ("conv", "convtranspose", "maxpool", "avgpool"):
                check_judgeable(stage.d, limit)
        return net_answer_template(derivation, ask, who)

    if variants is not None or seed is not None:
        options = {"input": input, "layers": layers, "in_channels": in_channels, "index": index}
        _write_variants(write, lambda: ("net", options), values, student, output, variants, seed)
        return
    output = check_output(output, {"the --values file": values})
    _check_student(student)
    emit(write(values, student), output)


def _check_student(student: str) -> None:
    from .homework.answers import MAX_STUDENT

    if len(student) > MAX_STUDENT:
        raise OptionError(f"--student is {len(student)} characters long; expected a plain id of at most {MAX_STUDENT}")
    if any(not ch.isprintable() for ch in student):
        raise OptionError(f"--student \"{printable(student)}\" contains a control character; expected a plain id")


def _write_template(derive, values: str | None, ask: str | None, student: str, max_terms: str, output: str | None,
                    variants: str | None = None, seed: str | None = None) -> None:
    """The shared body of `template conv`, `convtranspose` and `pool`: derive(limit, values) builds the layer."""
    from .homework.answers import check_judgeable
    from .homework.template import answer_template, parse_ask, problem_options

    limit = parse_limit(max_terms)

    def write(numbers, who: str) -> str:
        derivation = derive(limit, numbers)
        check_judgeable(derivation, limit)  # a template is handed out only for a problem check can judge
        return answer_template(derivation, parse_ask(ask, derivation), who)

    if variants is not None or seed is not None:
        def problem():
            options = dict(problem_options(derive(limit, None)))
            return options.pop("layer"), options

        _write_variants(write, problem, values, student, output, variants, seed)
        return
    output = check_output(output, {"the --values file": values})
    _check_student(student)
    emit(write(values, student), output)


def _write_variants(write, problem, values, student: str, output: str | None, variants: str | None, seed: str | None) -> None:
    """DIR/<id>.toml for every student of the roster, each with the numbers the seed gives the id;
    write(values, student) is one file's text, problem() the layer and options as answer files hold them."""
    import os

    from .files import write_atomic
    from .homework.variants import Variants, draw_values

    if variants is None or seed is None:
        raise OptionError("--variants ROSTER and --seed S go together: one file per student, with numbers from the seed")
    if values is not None:
        raise OptionError("--variants draws every student's numbers; leave out --values")
    if student:
        raise OptionError("--variants names each file's student from the roster; leave out --student")
    if output is None:
        raise OptionError("--variants writes one file per student into a folder: give -o DIR")
    chosen = Variants.read(variants, seed)
    if os.path.exists(output) and not os.path.isdir(output):
        raise OptionError(f"-o {output!r} is a file; with --variants, -o names a folder for the students' files")
    layer, options = problem()
    texts = {who: write(draw_values(layer, options, chosen.seed, who), who) for who in sorted(chosen.students)}
    try:
        os.makedirs(output, exist_ok=True)
    except OSError as error:
        raise OptionError(f"-o {output!r}: the folder cannot be made ({error.strerror})") from None
    for who, text in texts.items():
        write_atomic(os.path.join(output, f"{who}.toml"), text)
    emit(f"wrote {len(texts)} answer files to {output} (one per student of {variants}, numbers from seed {chosen.seed})\n", None)
