"""What every layer kind shares: the closed-form `Identity`, the matrices shown beside it, and the
`Derivation` base class whose display hooks hand a derivation to a renderer.

A layer kind is one module (conv.py, pool.py) that keeps everything about the kind side by side, as
micrograd keeps an op's forward and backward together:

- `derive_<kind>(spec, naming, ..., values, source)`: the forward expansion, the chain rule, the
  closed-form identities checked against it, and (with values) the numbers (`evaluate`);
- the derivation dataclass (a `Derivation`): the term tables, `gradients()`, `forward_terms`, the
  SymPy views, and the kind's size limits (`json_problem`);
- a `Content` class: the kind's format-neutral content — the title, the sentences, formulas, notes and
  matrices of each section (`setup`, `forward`, `gradient_intro`, `identities`) — written through the
  document builder's calls (render/document.py), with any formula of its own given in both notations
  as `M(text, tex)`; every renderer (terminal, LaTeX, Markdown, notebook) lays out the same facts;
- `KIND`, the kind's fixed facts (sections, which group each gradient differentiates by, answer keys).

Registering `KIND` in `layers/__init__.py` makes the kind known to the document model and the CLI's
--show. The spec classes live in spec.py (beside the shared parsing), the JSON builders in
render/json.py (the contract), and what homework checking needs of a kind in homework/.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..tensor import Terms


@dataclass(frozen=True)
class M:
    """A formula of a kind's content written in both notations: plain unicode text and TeX math."""

    text: str
    tex: str


@dataclass(frozen=True)
class Kind:
    """A layer kind's fixed facts, read by the renderers and the CLI instead of testing `layer == "pool"`."""

    name: str  # "conv", "pool": the JSON "layer"
    sections: tuple[str, ...]  # what --show accepts, in document order
    gradient_of: dict[str, str]  # gradient key -> the symbol group it differentiates by
    tensor_of: dict[str, str]  # gradient key -> the tensor's letter (W, X, b)
    answers: tuple[str, ...]  # the keys an answer file may hold
    options: tuple[str, ...]  # the options a problem file may give (symgrad.api's keywords), required first
    required: tuple[str, ...]  # the options it must give
    noun: str  # "convolution", "pooling": in messages
    content: type  # the Content class: title, name, setup, forward, gradient_intro, identities
    figures: tuple[tuple[str, str], ...] = ()  # (section key, animation pass) drawn with --figures


@dataclass(frozen=True, eq=False)
class Intermediate:
    """A symbolic matrix shown on the way to a closed form (e.g. dilated dL/dZ, rot180 W)."""

    label: str
    ids: np.ndarray  # symbol ids (ZERO for zeros), or plain counts when kind == "counts"; spatial axes only
    note: str = ""
    kind: str = "symbols"


@dataclass(frozen=True, eq=False)
class Identity:
    """One closed form, computed independently by tensor operations and compared with the chain rule."""

    name: str  # grad_kernel, grad_input, grad_bias
    statement: str  # the formula, plain text
    holds: bool
    compared_terms: int
    computed: Terms
    intermediates: tuple[Intermediate, ...] = ()
    notes: tuple[str, ...] = ()
    operator: str = ""  # the first two intermediates combine by it (⋆: correlation), shown as a matrix equation
    gradient: str = ""  # the gradient it equals, when its name is not that gradient's (im2col_grad_kernel)

    @property
    def of(self) -> str:
        """The key of the gradient this identity computes (grad_kernel, ...)."""
        return self.gradient or self.name

    def checked(self, chain: Terms) -> "Identity":
        """This identity with its verdict: the same sums as the chain rule, term by term."""
        return replace(self, holds=self.computed.same_sums(chain))


class Displayable:
    """The display hooks of a derivation (a layer's or a network's): each hands off to a renderer."""

    kind: Kind

    @property
    def layer(self) -> str:
        return self.kind.name

    def __repr__(self) -> str:
        """`ConvDerivation(input 5x5, kernel 3x3, stride 2, ...)`: the layer in a few words, not its arrays."""
        return f"{type(self).__name__}({', '.join(self.kind.content.title(self)[1:])})"

    def __rich__(self):
        from ..render.terminal import render_rich

        return render_rich(self)

    def _repr_latex_(self) -> str:
        """Jupyter's LaTeX display: the derivation as display math (summarised when large)."""
        from ..render.notebook import render_notebook_latex

        return render_notebook_latex(self)

    def _repr_markdown_(self) -> str:
        """Jupyter's Markdown display (preferred to the LaTeX one where both are shown): headings and prose
        left-aligned as text, the math typeset; summarised like the LaTeX display."""
        from ..render.document import DocumentSettings
        from ..render.markdown import render_markdown
        from ..render.notebook import NOTEBOOK_TERMS

        return render_markdown(self, DocumentSettings.choose(self, budget=NOTEBOOK_TERMS), page=False)

    def to_latex(self, fragment: bool = False, full: bool = False) -> str:
        """A standalone LaTeX document (or its body, with fragment=True)."""
        from ..render.document import DocumentSettings
        from ..render.latex import render_latex

        return render_latex(self, DocumentSettings.choose(self, full=full), fragment=fragment)

    def to_markdown(self, full: bool = False) -> str:
        """MyST Markdown for a Jupyter Book page."""
        from ..render.document import DocumentSettings
        from ..render.markdown import render_markdown

        return render_markdown(self, DocumentSettings.choose(self, full=full))

    def to_json(self) -> str:
        """The JSON contract (DESIGN §3) as text."""
        from ..render.json import render_json

        return render_json(self)

    def animation(self, pass_: str, frames: int = 36, channel: int = 1, filter: int = 1):
        """A pass drawn one step a frame (`symgrad animate`): a `Picture` that shows itself in a notebook
        (the animated GIF inline) and saves as .gif, .svg or .png."""
        from ..render.draw import Picture
        from ..render.frames import animation

        return Picture(animation(self, pass_, frames, channel, filter))


class Derivation(Displayable):
    """What every layer kind's derivation shares."""

    def tensor_name(self, key: str) -> str:
        """The letter of the tensor a gradient differentiates by (W, X, b), as the documents write it."""
        return self.kind.tensor_of[key]

    @property
    def divisor(self) -> int:
        """What every local derivative is divided by (average pooling: the window size); 1 for most kinds."""
        return 1

    @property
    def all_hold(self) -> bool:
        return all(identity.holds for identity in self.identities)


def sum_of_products(table: Terms, flat_index: int, first, second):
    """Entry `flat_index` of a term table as a SymPy sum, each factor made by `first` / `second`."""
    import sympy

    mask = table.entry == flat_index
    return sympy.Add(*[int(c) * first(a) * second(b) for a, b, c in zip(table.a[mask], table.b[mask], table.coef[mask])])
