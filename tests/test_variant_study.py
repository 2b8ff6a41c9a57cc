import math
import re

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from lstm_course.data.batching import batchify, bptt_batches
from lstm_course.experiments.variant_study import (
    VARIANTS,
    CellLanguageModel,
    StateTrace,
    chance_separated,
    compare_pairs,
    count_parameters,
    equal_size_hidden,
    first_blow_up,
    set_forget_bias,
    summarize,
    train_language_model,
)
from lstm_course.training.language_model import LanguageModel, evaluate, train_epoch


@pytest.mark.parametrize("name", list(VARIANTS))
def test_every_variant_runs_in_the_language_model_and_carries_its_state(name):
    torch.manual_seed(0)
    model = CellLanguageModel(7, 5, VARIANTS[name](5, 6))
    tokens = torch.randint(0, 7, (12, 3))
    logits, state = model(tokens)
    assert logits.shape == (12, 3, 7)
    # Reading the sequence in two windows with the state carried gives the same logits.
    first, mid = model(tokens[:5])
    second, _ = model(tokens[5:], mid)
    torch.testing.assert_close(torch.cat([first, second]), logits, atol=1e-6, rtol=0)


def test_np_variant_equals_the_nn_lstm_language_model_with_copied_weights():
    torch.manual_seed(0)
    ours = CellLanguageModel(9, 4, VARIANTS["NP"](4, 6)).double()
    ref = LanguageModel(9, 4, 6, 1).double()
    cell = ours.layer.cell
    ref.embedding.load_state_dict(ours.embedding.state_dict())
    ref.decoder.load_state_dict(ours.decoder.state_dict())
    ref.lstm.load_state_dict({f"{k}_l0": v for k, v in cell.state_dict().items()})
    tokens = torch.randint(0, 9, (10, 2))
    torch.testing.assert_close(ours(tokens)[0], ref(tokens)[0], atol=1e-12, rtol=0)
    batches = bptt_batches(batchify(torch.randint(0, 9, (200,)), 4), 8)
    assert evaluate(ours, batches) == pytest.approx(evaluate(ref, batches), abs=1e-10)


def test_train_epoch_trains_a_cell_model():
    torch.manual_seed(0)
    model = CellLanguageModel(3, 4, VARIANTS["CIFG"](4, 8))
    ids = torch.arange(600) % 3  # "abcabc...": the next token is determined
    batches = bptt_batches(batchify(ids, 4), 10)
    untrained = evaluate(model, batches)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(4):
        train_epoch(model, batches, optimizer, progress=False)
    assert evaluate(model, batches) < 0.05 < 0.9 < untrained < 1.3  # ln 3 = 1.1 untrained


def test_train_language_model_learns_a_periodic_text_and_reports_per_epoch():
    torch.manual_seed(0)
    ids = torch.tensor([0, 1, 2, 1] * 300)  # after 1 comes 2 or 0, alternately: needs memory
    model = CellLanguageModel(3, 4, VARIANTS["vanilla"](4, 8))
    val_batches = bptt_batches(batchify(ids[1000:], 4), 10)
    untrained = evaluate(model, val_batches)
    result = train_language_model(
        model, ids[:1000], ids[1000:], batch=4, bptt=10, epochs=6, lr=0.03, progress=False
    )
    assert len(result["train_loss"]) == len(result["val_loss"]) == 6
    assert result["updates"] == 6 * len(bptt_batches(batchify(ids[:1000], 4), 10))
    assert result["val_loss"][-1] < 0.1 < 0.9 < untrained and result["seconds"] > 0
    assert result["val_loss"][-1] == pytest.approx(evaluate(model, val_batches))
    # the schedule ended at a learning rate of (about) 0: the last epoch barely moved
    assert abs(result["train_loss"][-1] - result["train_loss"][-2]) < 0.05


def test_count_parameters_matches_the_gate_formula():
    D, H = 5, 6
    formula = {
        "vanilla": 4 * H * (D + H) + 8 * H + 3 * H,
        "NP": 4 * H * (D + H) + 8 * H,
        "CIFG": 3 * H * (D + H) + 6 * H,
        "NFG": 3 * H * (D + H) + 6 * H,
        "NOAF": 4 * H * (D + H) + 8 * H,
        "LN": 4 * H * (D + H) + 16 * H + 2 * H,
        "GRU": 3 * H * (D + H) + 6 * H,
    }
    assert {name: count_parameters(make(D, H)) for name, make in VARIANTS.items()} == formula
    frozen = nn.Linear(2, 3)
    frozen.bias.requires_grad_(False)
    assert count_parameters(frozen) == 6


def test_chance_separated():
    assert chance_separated(3, 3) == pytest.approx(0.1)
    assert chance_separated(4, 4) == pytest.approx(2 / 70)
    assert chance_separated(1, 1) == 1.0
    with pytest.raises(ValueError, match="n must be an int >= 1"):
        chance_separated(0, 3)


def test_summarize_means_spreads_and_separation():
    scores = {
        "vanilla": [1.0, 1.2, 1.1],
        "worse": [1.5, 1.4, 1.6],
        "same": [1.05, 1.3, 0.9],
        "better": [0.8, 0.7, 0.9],
    }
    table = summarize(scores, "vanilla")
    assert table["vanilla"]["mean"] == pytest.approx(1.1)
    assert table["vanilla"]["std"] == pytest.approx(0.1)
    assert not table["vanilla"]["separated"] and not table["vanilla"]["better"]
    assert table["worse"]["diff"] == pytest.approx(0.4)
    assert table["worse"]["separated"] and not table["worse"]["better"]
    assert not table["same"]["separated"] and table["same"]["min"] == 0.9
    assert table["better"]["separated"] and table["better"]["better"]
    flipped = summarize(scores, "vanilla", higher_is_better=True)
    assert flipped["worse"]["better"] and not flipped["better"]["better"]


def test_clear_errors():
    with pytest.raises(ValueError, match=re.escape("reference 'x' is not among the variants")):
        summarize({"a": [1.0, 2.0]}, "x")
    with pytest.raises(ValueError, match="a has 1 score"):
        summarize({"a": [1.0]}, "a")
    with pytest.raises(ValueError, match="layer must read embed_size = 4 inputs"):
        CellLanguageModel(5, 4, VARIANTS["NP"](3, 6))
    with pytest.raises(TypeError, match="layer must be an nn.Module"):
        CellLanguageModel(5, 4, "NP")
    with pytest.raises(ValueError, match=re.escape("tokens must be (T, B) ids")):
        CellLanguageModel(5, 4, VARIANTS["GRU"](4, 6))(torch.zeros(3, dtype=torch.long))
    model = CellLanguageModel(5, 4, VARIANTS["NP"](4, 6))
    with pytest.raises(ValueError, match="epochs must be an int >= 1"):
        train_language_model(
            model,
            torch.zeros(50, dtype=torch.long),
            torch.zeros(50, dtype=torch.long),
            batch=2,
            bptt=4,
            epochs=0,
            lr=1e-3,
        )


@pytest.mark.parametrize("name", ["vanilla", "NP", "NOAF", "LN"])
def test_set_forget_bias_opens_the_forget_gate_at_the_start(name):
    torch.manual_seed(0)
    H = 6
    layer = set_forget_bias(VARIANTS[name](4, H), 2.0)
    cell = layer.cell
    assert torch.equal(cell.bias_ih[H : 2 * H], torch.full((H,), 2.0))
    assert torch.equal(cell.bias_hh[H : 2 * H], torch.zeros(H))
    with torch.no_grad():  # with zero weights the forget gate is exactly sigmoid(2)
        cell.weight_ih.zero_()
        cell.weight_hh.zero_()
        _, gates = cell.forward_with_gates(torch.randn(3, 4))
    torch.testing.assert_close(gates["f"], torch.full((3, H), torch.sigmoid(torch.tensor(2.0))))


def test_set_forget_bias_refuses_cells_without_their_own_forget_gate():
    for name in ("CIFG", "NFG"):
        with pytest.raises(ValueError, match="3 gate blocks"):
            set_forget_bias(VARIANTS[name](4, 6), 1.0)
    with pytest.raises(ValueError, match="no cell with an LSTM forget gate"):
        set_forget_bias(VARIANTS["GRU"](4, 6), 1.0)
    with pytest.raises(ValueError, match="must be finite"):
        set_forget_bias(VARIANTS["NP"](4, 6), math.inf)
    with pytest.raises(TypeError, match="value must be a number"):
        set_forget_bias(VARIANTS["NP"](4, 6), "1")


def test_equal_size_hidden_finds_the_closest_count():
    target = count_parameters(VARIANTS["vanilla"](32, 128))
    assert equal_size_hidden("vanilla", 32, target) == 128
    for name in ("CIFG", "NFG", "GRU"):
        h = equal_size_hidden(name, 32, target)
        gaps = [abs(count_parameters(VARIANTS[name](32, k)) - target) for k in (h - 1, h, h + 1)]
        assert gaps[1] == min(gaps) and gaps[1] / target < 0.01
    assert equal_size_hidden("CIFG", 32, target) == 151  # 3 blocks: about sqrt(4/3) wider
    with pytest.raises(ValueError, match="name must be one of"):
        equal_size_hidden("FGR", 32, target)


def test_state_trace_records_every_training_window_and_changes_nothing():
    torch.manual_seed(0)
    model = CellLanguageModel(5, 3, VARIANTS["NOAF"](3, 4))
    tokens = torch.randint(0, 5, (7, 2))
    with StateTrace(model) as trace:
        model.train()
        logits, (h_T, c_T) = model(tokens)
        model.eval()
        model(tokens)  # validation windows are not recorded
    assert len(trace.loss) == len(trace.h_max) == len(trace.c_max) == 1
    # by hand: run the cell step by step and take the largest |h_t| and |c_t|
    state, hs, cs = None, [], []
    for x_t in model.embedding(tokens):
        state = model.layer.cell(x_t, state)
        hs.append(state[0].abs().max().item())
        cs.append(state[1].abs().max().item())
    assert trace.h_max[0] == pytest.approx(max(hs)) and trace.c_max[0] == pytest.approx(max(cs))
    expected = F.cross_entropy(logits[:-1].reshape(-1, 5), tokens[1:].reshape(-1))
    assert trace.loss[0] == pytest.approx(expected.item())
    model.train()
    model(tokens)  # hooks removed on leaving the block
    assert len(trace.loss) == 1
    gru = CellLanguageModel(5, 3, VARIANTS["GRU"](3, 4))
    with StateTrace(gru) as gru_trace:
        gru(tokens)
    assert math.isnan(gru_trace.c_max[0]) and gru_trace.h_max[0] > 0
    with pytest.raises(TypeError, match="model must be a CellLanguageModel"):
        StateTrace(nn.Linear(2, 2))


def test_train_language_model_trace_is_one_entry_per_update_and_same_result():
    ids = torch.tensor([0, 1, 2, 1] * 100)
    runs = []
    for trace in (False, True):
        torch.manual_seed(0)
        model = CellLanguageModel(3, 4, VARIANTS["NP"](4, 5))
        runs.append(
            train_language_model(
                model,
                ids[:300],
                ids[300:],
                batch=2,
                bptt=8,
                epochs=2,
                lr=0.02,
                progress=False,
                trace=trace,
            )
        )
    plain, traced = runs
    assert plain["val_loss"] == traced["val_loss"] and "trace" not in plain
    assert len(traced["trace"]["loss"]) == len(traced["grad_norms"]) == traced["updates"]
    assert traced["best_epoch"] == 1 + min(range(2), key=lambda e: traced["val_loss"][e])


def test_first_blow_up():
    assert first_blow_up([3.0, 2.5, 2.0, 2.4, 1.9]) is None
    assert first_blow_up([3.0, 2.0, 3.5, 1.0]) == 2  # 1.5 nats above the lowest before
    assert first_blow_up([3.0, 2.0, 2.6], jump=0.5) == 2
    assert first_blow_up([3.0, math.nan, 1.0]) == 1
    with pytest.raises(ValueError, match="jump"):
        first_blow_up([1.0], jump=0)


def test_compare_pairs():
    scores = {"a": [1.0, 1.2, 1.1], "b": [2.0, 2.2, 2.1], "c": [1.05, 1.3, 0.9]}
    rows = compare_pairs(scores, [("b", "a"), ("c", "a"), ("a", "b")])
    assert [(r["a"], r["b"]) for r in rows] == [("b", "a"), ("c", "a"), ("a", "b")]
    assert rows[0]["diff"] == pytest.approx(1.0) and rows[0]["std_b"] == pytest.approx(0.1)
    assert rows[0]["separated"] and not rows[0]["better"] and rows[0]["twice_std"]
    assert not rows[1]["separated"] and not rows[1]["twice_std"]
    assert rows[2]["better"] and rows[2]["diff"] == pytest.approx(-1.0)
    with pytest.raises(ValueError, match="'z' is not among the scored arms"):
        compare_pairs(scores, [("a", "z")])
