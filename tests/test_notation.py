"""Every chapter uses the intro's notation table (book/intro.md, section "Notation").

The table fixes PyTorch's names: inputs $x_t$, hidden state $h_t$, cell state $c_t$
(lower case), gates $i_t, f_t, o_t$ and the cell candidate $g_t$, weights $W_{ih}$
and $W_{hh}$ with the gate blocks $W_{ii}, W_{if}, W_{ig}, W_{io}$ and
$W_{hi}, W_{hf}, W_{hg}, W_{ho}$, column vectors ($W x_t$), $\\odot$ for the elementwise
product. The popular articles' notations are the deviations this test looks for, in
every chapter's markdown and code comments and in the book's other pages.

Chapters do quote the wrong notation where they correct it, and a few sections use a
paper's own symbols for a different model (xLSTM's matrix memory $C_t$, minGRU's
$W_z$). Those are listed in ALLOWED, each tied to a passage of one file and with its
reason; an allowance that no longer matches anything fails too, so the list stays true.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from lstm_course.book_tools.reproduce import ROOT, chapter_notebooks

# rule -> (pattern, what the course writes instead)
RULES: dict[str, tuple[re.Pattern, str]] = {
    "x-subscript weights": (
        re.compile(r"(?<![\w\\])W_\{?(?:x\w?|hx|hc|c[ifo]|h)\}?(?![\w{])"),
        "weights are W_{ih}, W_{hh} and their gate blocks W_{ii}, W_{hf}, ... (PyTorch's "
        "names), not W_{xh}, W_{hx}, W_{xi}, W_{hc}, W_x, W_h or peephole weights W_{ci}",
    ),
    "U recurrent weights": (
        re.compile(r"(?<![\w\\])U_\{?[a-z]{1,2}\}?(?![\w{])"),
        "recurrent weights are the blocks W_{hi}, W_{hf}, W_{hg}, W_{ho} of W_{hh}, not U_f, U_i",
    ),
    "one weight per gate": (
        re.compile(r"(?<![\w\\])W_\{?[fiocgzr]\}?(?![\w{])"),
        "a gate reads x_t and h_{t-1} through two blocks, W_{if} x_t + W_{hf} h_{t-1}, not "
        "one W_f applied to [h_{t-1}, x_t]",
    ),
    "capital C cell state": (
        re.compile(r"(?<![\w\\])C_\{?(?:t|t-1|\{t-1\}|t\+1|0|T|prev)\}?(?![\w])"),
        "the cell state is c_t, lower case",
    ),
    "tilde candidate": (
        re.compile(
            r"\\tilde\s*\{?\s*[cC](?![A-Za-z])|[cC]\u0303|(?<![\w])(?:[cC]_tilde|c_hat)(?![\w])"
        ),
        "the cell candidate is g_t (PyTorch's g block), not \\tilde{C}_t",
    ),
    "product symbol": (
        re.compile(r"\\(?:circ|otimes|ast)(?![A-Za-z])"),
        "the elementwise product is \\odot",
    ),
    "subscripted sigmoid": (
        re.compile(r"\\sigma_\{?[gch]\}?(?![\w{])"),
        "the logistic sigmoid is \\sigma and the candidate's nonlinearity \\tanh",
    ),
    "E as the embedding matrix": (
        re.compile(
            r"(?<![\w\\])E_\{?w|\\tilde\s*E\b|W_\{hy\}\s*=\s*E\b|(?<![\w\\])E\s*\\in\s*\\mathbb"
        ),
        "E is the embedding size; the embedding matrix is U (V x E), its row for word w is u_w",
    ),
    "tau as the clipping threshold": (
        re.compile(r"\\mathrm\{clip\}_\{?\\tau|(?:threshold|clipping at|norm) \$\\tau"),
        "tau is the sampling temperature; the clipping threshold is kappa",
    ),
    "logits as z": (
        re.compile(
            r"(?<![\w\\])z_\{?t,\s*w\}?"  # $z_{t,w} = u_w \cdot h_t + ...$
            r"|logits?\s+\$\s*z(?![\w])"  # logits $z_t$
            r"|(?<![\w\\])z_\{?[tn]\}?\s*=\s*W_\{hy\}"  # $z_t = W_{hy} h_t + b_y$
            r"|softmax\}?\(\s*z_"  # \operatorname{softmax}(z_n)
        ),
        "logits are s_t = W_{hy} h_t + b_y (the intro's table); z is the GRU's update gate",
    ),
    "row-vector products": (
        re.compile(
            r"(?<![\w\\])[xh]_\{?t(?:-1)?\}?\s*W_(?:\{\w+\}|\w+)(?!\s*\^\s*\{?(?:\\top|T)\}?)"
        ),
        "vectors are columns: W_{ih} x_t on paper; a batch of rows is x_t W_{ih}^\\top "
        "(x @ W.T in code), never x_t W",
    ),
}


@dataclass(frozen=True)
class Allowance:
    file: str  # file name, e.g. "02_lstm_cell.ipynb"
    rule: str
    passage: str  # text that the allowed cell (or page) contains
    reason: str


ALLOWED = [
    Allowance(
        "15_where_lstms_stand.ipynb",
        "capital C cell state",
        "The **mLSTM** goes further",
        "xLSTM's mLSTM has a matrix memory $C_t \\in \\R^{d \\times d}$, the paper's "
        "symbol for a different object than the LSTM's cell state",
    ),
    Allowance(
        "15_where_lstms_stand.ipynb",
        "one weight per gate",
        "The **mLSTM** goes further",
        "the mLSTM's gates read $x_t$ alone, through one matrix each ($W_o x_t$)",
    ),
    Allowance(
        "15_where_lstms_stand.ipynb",
        "capital C cell state",
        "**Mamba**",
        "Mamba's $B_t$, $C_t$ are the state-space model's input and output matrices",
    ),
    Allowance(
        "15_where_lstms_stand.ipynb",
        "one weight per gate",
        "\\text{minLSTM:}",
        "minGRU and minLSTM have no recurrent weights: one matrix per gate on $x_t$ "
        "($W_z$, $W_f$, $W_i$), as in Feng et al.",
    ),
    Allowance(
        "15_where_lstms_stand.ipynb",
        "x-subscript weights",
        "\\text{minGRU:}",
        "minGRU's candidate weight $W_h$ (on $x_t$), Feng et al.'s symbol",
    ),
    Allowance(
        "15_where_lstms_stand.ipynb",
        "product symbol",
        "(a_2, b_2) \\circ (a_1, b_1)",
        "$\\circ$ is the composition of two affine maps in the parallel scan, not a product",
    ),
]


@dataclass(frozen=True)
class Deviation:
    file: str
    where: str  # "cell 12 (markdown)", "cell 3 (comment)" or "page"
    rule: str
    found: str
    text: str  # the whole cell or page, to match allowances against

    def __str__(self):
        return f"{self.file} {self.where}: {self.found!r} ({self.rule}; {RULES[self.rule][1]})"


def comments(code: str) -> str:
    """The comments of a code cell, one per line (text after ``#`` outside strings)."""
    found = []
    for line in code.splitlines():
        quote = None
        for i, ch in enumerate(line):
            if quote:
                if ch == quote and line[i - 1] != "\\":
                    quote = None
            elif ch in "'\"":
                quote = ch
            elif ch == "#":
                found.append(line[i + 1 :])
                break
    return "\n".join(found)


def check_text(text: str, file: str, where: str) -> list[Deviation]:
    """Every deviation from the notation in one piece of text."""
    return [
        Deviation(file, where, rule, match.group(0), text)
        for rule, (pattern, _) in RULES.items()
        for match in pattern.finditer(text)
    ]


def scan(path: Path) -> list[Deviation]:
    """The deviations in a chapter notebook (markdown, code comments) or a markdown page."""
    if path.suffix == ".md":
        return check_text(path.read_text(encoding="utf-8"), path.name, "page")
    found = []
    for i, cell in enumerate(json.loads(path.read_text(encoding="utf-8"))["cells"]):
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            found += check_text(source, path.name, f"cell {i} (markdown)")
        elif cell["cell_type"] == "code":
            found += check_text(comments(source), path.name, f"cell {i} (comment)")
    return found


def allowance_for(deviation: Deviation) -> Allowance | None:
    return next(
        (
            a
            for a in ALLOWED
            if a.file == deviation.file and a.rule == deviation.rule and a.passage in deviation.text
        ),
        None,
    )


def book_files() -> list[Path]:
    return chapter_notebooks() + sorted((ROOT / "book").glob("*.md"))


def test_every_chapter_and_page_follows_the_notation():
    problems = [str(d) for path in book_files() for d in scan(path) if not allowance_for(d)]
    assert not problems, "deviations from the intro's notation table:\n" + "\n".join(problems)


def test_every_allowance_is_still_needed():
    used = {allowance_for(d) for path in book_files() for d in scan(path)}
    stale = [a for a in ALLOWED if a not in used]
    assert not stale, f"allowances that match nothing any more (remove them): {stale}"


def test_the_intro_defines_the_notation_the_rules_protect():
    intro = (ROOT / "book" / "intro.md").read_text(encoding="utf-8")
    notation = intro.split("(notation)=", 1)[1]
    for symbol in (
        "$c_t$",
        "$i_t, f_t, g_t, o_t$",
        "$W_{ih}$",
        "$W_{hh}$",
        "\\odot",
        "W_{if} x_t",
        "W_{hf} h_{t-1}",
    ):
        assert symbol in notation, symbol
    assert not check_text(notation, "intro.md", "page")


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("$h_t = \\tanh(W_{xh} x_t + W_{hh} h_{t-1})$", "x-subscript weights"),
        ("$W_{hx}$", "x-subscript weights"),
        ("$i_t = \\sigma(W_{xi} x_t + W_{hi} h_{t-1} + W_{ci} c_{t-1})$", "x-subscript weights"),
        ("$f_t = \\sigma(W_f x_t + U_f h_{t-1} + b_f)$", "U recurrent weights"),
        ("$f_t = \\sigma(W_f \\cdot [h_{t-1}, x_t] + b_f)$", "one weight per gate"),
        ("$C_t = f_t * C_{t-1} + i_t * \\tilde{C}_t$", "capital C cell state"),
        ("$C_t = f_t * C_{t-1} + i_t * \\tilde{C}_t$", "tilde candidate"),
        ("the candidate $\\tilde c_t$", "tilde candidate"),
        ("$c_t = f_t \\circ c_{t-1}$", "product symbol"),
        ("$h_t = o_t \\otimes \\tanh(c_t)$", "product symbol"),
        ("$\\sigma_g(W_{if} x_t)$", "subscripted sigmoid"),
        ("$x_t W_{xi} + h_{t-1} W_{hi}$", "row-vector products"),
    ],
)
def test_the_checker_catches_each_deviation(text, rule):
    assert rule in {d.rule for d in check_text(text, "new.ipynb", "cell 0")}


@pytest.mark.parametrize(
    "text",
    [
        "$i_t = \\sigma(W_{ii} x_t + b_{ii} + W_{hi} h_{t-1} + b_{hi})$",
        "$c_t = f_t \\odot c_{t-1} + i_t \\odot g_t$, $h_t = o_t \\odot \\tanh(c_t)$",
        "$W_{ih} \\in \\R^{4H \\times D}$, $W_{hh}$, $b_{ih}$, $b_{hh}$, $W_{hy} h_t + b_y$",
        "the forget-gate bias $b_f$; the GRU's $W_{ir}, W_{hz}, W_{hn}$; $\\tilde h_t$",
        "$h_{t+1}$ and $\\partial h_t / \\partial h_{t-1}$",
        "Tiny Shakespeare's $C$ characters, $\\mathcal{C}_t$",
        "a batch of rows: $x_t W_{ih}^\\top + h_{t-1} W_{hh}^{\\top}$",
    ],
)
def test_the_checker_accepts_the_course_notation(text):
    assert check_text(text, "ok.ipynb", "cell 0") == []


def test_code_comments_are_checked_but_code_and_strings_are_not():
    code = 'C_t = 1  # keep C_t here\nprint("# C_t in a string")\n'
    assert comments(code) == " keep C_t here"
    (deviation,) = check_text(comments(code), "new.ipynb", "cell 1 (comment)")
    assert deviation.rule == "capital C cell state"


def test_an_allowance_covers_only_its_own_passage():
    quoted = Deviation(
        "15_where_lstms_stand.ipynb",
        "cell 30 (markdown)",
        "capital C cell state",
        "C_t",
        "The **mLSTM** goes further ... $C_t$",
    )
    elsewhere = Deviation(
        "15_where_lstms_stand.ipynb",
        "cell 5 (markdown)",
        "capital C cell state",
        "C_t",
        "The cell state C_t is written ...",
    )
    assert allowance_for(quoted) is not None
    assert allowance_for(elsewhere) is None


# --- pre-activations are a_t, never z -------------------------------------------------
# The intro's table writes an LSTM's pre-activations a_t = [a^i_t; a^f_t; a^g_t; a^o_t];
# z is the GRU's update gate (logits are s_t). These patterns catch an LSTM
# pre-activation written as z, in the prose and in the code itself (not only comments).
Z_PROSE = re.compile(
    r"(?<![\w\\])z_\{?[ifgo]\}?(?![\w{])"  # $z_i$, $z_{f}$, ...
    r"|(?<![\w\\])z\^\{?[ifgo]\}?"  # $z^i_t$
    r"|(?<![\w\\])z_\{?t\}?\s*=\s*W_\{ih\}"  # $z_t = W_{ih} x_t + ...$
)
Z_CODE = re.compile(
    r"\bz_[ifgo]\b"  # z_i, z_f, z_g, z_o = ...
    r"|^\s*z(?:_t)?\s*=[^=\n]*weight_ih",  # z = x @ weight_ih.T + ...
    re.M,
)


def z_preactivations(path: Path) -> list[str]:
    """Every LSTM pre-activation written as z in a chapter (prose and code) or page."""
    if path.suffix == ".md":
        return [m.group(0) for m in Z_PROSE.finditer(path.read_text(encoding="utf-8"))]
    found = []
    for i, cell in enumerate(json.loads(path.read_text(encoding="utf-8"))["cells"]):
        pattern = Z_PROSE if cell["cell_type"] == "markdown" else Z_CODE
        found += [f"cell {i}: {m.group(0)!r}" for m in pattern.finditer("".join(cell["source"]))]
    return found


@pytest.mark.parametrize("path", book_files(), ids=lambda p: p.name)
def test_lstm_preactivations_are_written_a_not_z(path):
    found = z_preactivations(path)
    assert not found, (
        f"{path.name} writes LSTM pre-activations as z (the intro's table says "
        f"a_t = [a^i_t; a^f_t; a^g_t; a^o_t], code a_i, a_f, a_g, a_o): {found}"
    )


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("$(z_i, z_f, z_g, z_o) = \\operatorname{split}(z_t)$", False),
        ("$i_t = \\sigma(z^i_t)$", False),
        ("$z_t = W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh}$", False),
        ("z_i, z_f, z_g, z_o = z.split(H, dim=1)", True),
        ("    z = x_t @ weight_ih.T + bias_ih", True),
    ],
)
def test_the_z_checker_catches_lstm_preactivations(text, code):
    assert (Z_CODE if code else Z_PROSE).search(text)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("the GRU's update gate $z_t = \\sigma(W_{iz} x_t + b_{iz} + W_{hz} h_{t-1})$", False),
        ("$a^i_t, a^f_t$ and $W_{iz}$, $\\delta z$, logits $s_{t,w}$", False),
        ("r, z = torch.sigmoid(i_r + h_r), torch.sigmoid(i_z + h_z)", True),
        ("a_i, a_f, a_g, a_o = a.chunk(4, dim=1)", True),
    ],
)
def test_the_z_checker_accepts_the_gru_and_a(text, code):
    assert not (Z_CODE if code else Z_PROSE).search(text)


@pytest.mark.parametrize(
    ("text", "caught"),
    [
        ("$$ z_{t,w} = u_w \\cdot h_t + b_{y,w} $$", True),
        ("outputs logits $z_t = W_{hy} h_t + b_y$", True),
        ("\\log \\operatorname{softmax}(z_n)_{y_n}", True),
        ("$s_{t,w} = u_w \\cdot h_t + b_{y,w}$, logits $s_t$", False),
        ("the GRU's update gate $z_t = \\sigma(W_{iz} x_t + b_{iz} + W_{hz} h_{t-1})$", False),
        ("$\\sigma(z) = 1/(1+e^{-z})$", False),
    ],
)
def test_the_logit_checker(text, caught):
    assert bool(RULES["logits as z"][0].search(text)) is caught
