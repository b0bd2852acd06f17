"""A network as one document: the stages in order for the forward pass, in reverse for the backward
pass (each stage's own document sections, written by its kind's content), the links between them, and
the update w − α·∂L/∂w.

Every stage's sections come from the same document builder as a single layer's (document.py), so a
network reads like the layers a student already knows, with one more level of headings.
"""

from __future__ import annotations

import dataclasses

from ..layers.loss import Content as LossContent
from ..layers.net import GRADIENT_OF, PARAM_GROUP
from .document import Builder, Document, DocumentSettings, Heading, Para, values_phrase
from .notation import Notation

SECTIONS = ("setup", "forward", "backward", "identities", "im2col", "update")


def build_net(net, settings: DocumentSettings, n: Notation) -> Document:
    show = settings.show if settings.show is not None else frozenset(SECTIONS)
    blocks: list = []

    def heading(text: str, level: int, *math: str) -> None:
        blocks.append(Heading((("text", text),) + tuple(("math", m) for m in math), level))

    def para(*parts, small: bool = False) -> None:
        blocks.append(Para(tuple(("text", p) if isinstance(p, str) else p for p in parts), small))

    def stage_blocks(stage, sections: set[str]) -> list:
        builder = Builder(stage.d, dataclasses.replace(settings, show=frozenset(sections)), n, level=3, in_net=True)
        builder.document()
        return builder.blocks

    letter = lambda stage: stage.d.symbols["output"].letter  # noqa: E731
    delta = lambda name: n.partial("L", name)  # noqa: E731
    tensor = lambda name: _tensor_name(name, n)  # noqa: E731
    stages = net.stages

    if "setup" in show:
        heading("The network", 1)
        shape = n.shape(net.spec.input_shape)
        para("Input ", ("math", tensor(stages[0].d.symbols["input"].letter)), ", shape ", ("math", shape),
             ". Each stage is derived in its own names, and the stages are linked by the chain rule: the gradient a "
             "stage receives (∂L/∂ of its output) is the gradient with respect to the input of the stage after it.")
        for stage in stages:
            spec = stage.spec
            if spec.is_loss:
                para(f"{spec.index}. {spec.text}: ", ("math", n.shape(spec.input_shape)), " → the loss ", ("math", "L"), ".")
            else:
                para(f"{spec.index}. {spec.text}: ", ("math", n.shape(spec.input_shape)), " → ", ("math", n.shape(spec.output_shape)),
                     "; output ", ("math", tensor(letter(stage))), ".")
        if net.values_given:
            kind = "exact (integers and fractions)" if net.exact else "floating point"
            why = ""
            if net.float_stages:
                why = "; " + ", ".join(f"stage {i} ({stages[i - 1].kind})" for i in net.float_stages) + " makes irrational numbers, so floats"
            source = values_phrase(next((s.d.numeric for s in stages if s.d.numeric is not None), None)) if any(
                s.d.numeric is not None for s in stages) else "values given"
            para(f"Numbers ({source}); arithmetic is {kind}{why}.", small=True)
        if net.lr is not None:
            para("Learning rate ", ("math", f"α = {n.number(net.lr)}" if not n.tex else rf"\alpha = {n.number(net.lr)}"), ".")

    if "forward" in show:
        heading("Forward pass", 1)
        for stage in stages:
            heading(f"Stage {stage.spec.index}: {stage.spec.text}", 2)
            blocks.extend(stage_blocks(stage, {"setup", "forward"}))

    if "backward" in show or "identities" in show or "im2col" in show:
        heading("Backward pass", 1)
        para("From the loss back to the input: each stage turns the gradient it receives into the gradients of its "
             "parameters and of its input, which the stage before it receives.")
        for i in range(len(stages) - 1, -1, -1):
            stage = stages[i]
            heading(f"Stage {stage.spec.index}: {stage.spec.text}", 2)
            if stage.spec.is_loss:
                builder = Builder(stage.d, settings, n, level=3, in_net=True)
                LossContent.loss_gradient(builder)
                blocks.extend(builder.blocks)
                continue
            received = delta(tensor(letter(stage)))
            if i + 1 < len(stages):
                nxt = stages[i + 1]
                source = "the loss" if nxt.spec.is_loss else f"stage {nxt.spec.index} ({nxt.spec.kind})"
                para("Receives ", ("math", received), f" from {source}: its gradient with respect to its input.")
            else:
                given = stage.d.numeric is not None and "grad_output" in stage.d.numeric.given
                para("Receives ", ("math", received), ": no loss stage follows, so it is " + ("given as numbers." if given else "kept as symbols."))
            if stage.d.numeric is not None and stage.d.numeric.any_known(stage.d.symbols["grad_output"].ids):
                builder = Builder(stage.d, settings, n, level=3, in_net=True)
                ids = stage.d.symbols["grad_output"].ids
                builder.matrices(received, ids[None] if ids.ndim == 1 else ids, ("",) if ids.ndim == 1 else ("c",))
                blocks.extend(builder.blocks)
            sections = {key.replace("_", "-") for key, _ in stage.d.gradients()} if "backward" in show else set()
            sections |= {name for name in ("identities", "im2col") if name in show}
            blocks.extend(stage_blocks(stage, sections))

    if "update" in show and net.lr is not None:
        heading("The update: every parameter moves against its gradient", 1)
        rule = "w ← w − α·∂L/∂w" if not n.tex else r"w \leftarrow w - \alpha \frac{\partial L}{\partial w}"
        para(("math", rule), ", with ", ("math", f"α = {n.number(net.lr)}" if not n.tex else rf"\alpha = {n.number(net.lr)}"), ".")
        for stage in stages:
            if stage.update is None:
                continue
            heading(f"Stage {stage.spec.index}: {stage.spec.text}", 2)
            blocks.extend(_update_blocks(stage, net.lr, settings, n))

    title = ("net", "input " + "x".join(map(str, net.spec.input_shape)), " | ".join(s.spec.text for s in stages))
    return Document(title, tuple(blocks), settings.full_matrices)


def _tensor_name(letter: str, n: Notation) -> str:
    """A tensor's letter as a document writes it: z, or z⁽¹⁾ / z^{(1)} for a numbered one."""
    from ..naming import latex_letter, unicode_name

    return latex_letter(letter) if n.tex else unicode_name(letter, "")


def _update_blocks(stage, lr, settings: DocumentSettings, n: Notation) -> list:
    """Per parameter entry: new w = w − α·∂L/∂w, with the numbers when they are known."""
    builder = Builder(stage.d, settings, n, level=3, in_net=True)
    for param, (known, new) in stage.update.items():
        group = stage.d.symbols[PARAM_GROUP[param]]
        labels = ("f", "c") if stage.kind in ("conv", "convtranspose") and param == "kernel" else ()
        builder.update_entries(group, GRADIENT_OF[param], known, new, lr, labels)
    return builder.blocks
