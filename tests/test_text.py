import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader

from lstm_course.data.batching import (
    BucketBatchSampler,
    batchify,
    bptt_batches,
    last_valid_step,
    length_buckets,
    num_bptt_batches,
    pack,
    pad_batch,
    unpack,
)
from lstm_course.data.text import Vocab, tokenize

# --- tokenize -----------------------------------------------------------------------


def test_word_tokens_lowercase_split_punctuation_and_drop_html_breaks():
    text = "Great film!<br /><br />Don't miss it, OK?<BR>The end."
    assert tokenize(text) == [
        "great",
        "film",
        "!",
        "don't",
        "miss",
        "it",
        ",",
        "ok",
        "?",
        "the",
        "end",
        ".",
    ]


def test_word_tokens_keep_markers_whole():
    assert tokenize("a <unk> b <eos>") == ["a", "<unk>", "b", "<eos>"]


def test_char_tokens_keep_case_and_spaces():
    assert tokenize("Hi you", level="char") == ["H", "i", " ", "y", "o", "u"]


def test_tokenize_rejects_unknown_level_and_non_strings():
    with pytest.raises(ValueError, match="level"):
        tokenize("x", level="sentence")
    with pytest.raises(TypeError, match="tokenize needs a str, got list"):
        tokenize(["x"])


# --- Vocab ----------------------------------------------------------------------------


def test_vocab_order_specials_then_frequency_then_alphabet():
    vocab = Vocab([["b", "a", "c", "a"], ["b", "d", "a"]])
    # a:3, b:2, c:1, d:1 -> the tie c/d goes alphabetically
    assert vocab.itos == ["<pad>", "<unk>", "a", "b", "c", "d"]
    assert vocab.pad_index == 0 and vocab.unk_index == 1
    assert vocab.stoi["b"] == 3 and len(vocab) == 6
    assert vocab.counts["a"] == 3


def test_vocab_accepts_flat_tokens_and_generators():
    flat = Vocab(["x", "y", "x"])
    nested = Vocab(doc for doc in [["x"], ["y", "x"]])
    assert flat.itos == nested.itos == ["<pad>", "<unk>", "x", "y"]


def test_vocab_lookup_encode_decode_and_unknowns():
    vocab = Vocab(tokenize("the cat sat on the mat"))
    ids = vocab.encode(["the", "dog", "sat"])
    assert ids == [vocab["the"], vocab.unk_index, vocab["sat"]]
    assert vocab.decode(ids) == ["the", "<unk>", "sat"]
    assert vocab.decode(torch.tensor(ids)) == ["the", "<unk>", "sat"]
    assert "cat" in vocab and "dog" not in vocab
    with pytest.raises(ValueError, match="outside"):
        vocab.decode([len(vocab)])
    with pytest.raises(TypeError, match="not a string: tokenize it first"):
        vocab.encode("the cat")


def test_vocab_min_freq_and_max_size_counts_specials():
    tokens = list("aaaabbbccd")
    assert Vocab(tokens, min_freq=2).itos == ["<pad>", "<unk>", "a", "b", "c"]
    capped = Vocab(tokens, max_size=4)
    assert capped.itos == ["<pad>", "<unk>", "a", "b"] and len(capped) == 4
    assert capped["d"] == capped.unk_index


def test_vocab_without_specials_uses_unk_from_the_data_like_ptb():
    # PTB style: <unk> and <eos> are ordinary tokens, the vocabulary is exactly the data's.
    stream = "the <unk> cat <eos> the dog <eos>".split()
    vocab = Vocab(stream, specials=())
    assert len(vocab) == len(set(stream)) == 5
    assert vocab.pad_index is None
    assert vocab["zebra"] == vocab.unk_index == vocab.stoi["<unk>"]
    capped = Vocab(stream, specials=(), max_size=2)
    assert capped.itos == ["<eos>", "the"]


def test_vocab_without_unk_raises_a_clear_key_error():
    vocab = Vocab(["a", "b"], specials=("<pad>",))
    assert vocab.unk_index is None
    with pytest.raises(KeyError, match="no '<unk>'"):
        vocab["zebra"]


def test_specials_in_the_data_are_not_duplicated():
    vocab = Vocab(["<unk>", "a", "<unk>"])
    assert vocab.itos == ["<pad>", "<unk>", "a"]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"min_freq": 0}, "min_freq must be an int >= 1, got 0"),
        ({"max_size": 1}, r"max_size must be an int >= 2 \(it counts the specials\), got 1"),
        ({"specials": ("<pad>", "<pad>")}, "distinct"),
        ({"min_freq": 5, "specials": ()}, "empty"),
    ],
)
def test_vocab_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Vocab(["a", "b"], **kwargs)


def test_vocab_rejects_a_raw_string():
    with pytest.raises(TypeError, match="single string"):
        Vocab("some text")


# --- padding, packing, last step ------------------------------------------------------


def test_pad_batch_right_pads_and_returns_lengths():
    tokens, lengths = pad_batch([[5, 6, 7], [8], torch.tensor([9, 10])], pad_index=0)
    assert tokens.tolist() == [[5, 6, 7], [8, 0, 0], [9, 10, 0]]
    assert lengths.tolist() == [3, 1, 2]
    assert tokens.dtype == lengths.dtype == torch.long


def test_pad_batch_truncates_end_by_default_or_start():
    seqs = [[1, 2, 3, 4, 5], [6, 7]]
    tokens, lengths = pad_batch(seqs, max_len=3)
    assert tokens.tolist() == [[1, 2, 3], [6, 7, 0]] and lengths.tolist() == [3, 2]
    tokens, _ = pad_batch(seqs, max_len=3, truncate="start", pad_index=-1)
    assert tokens.tolist() == [[3, 4, 5], [6, 7, -1]]


@pytest.mark.parametrize(
    "seqs, kwargs, match",
    [
        ([[1]], {"truncate": "middle"}, "truncate"),
        ([[1]], {"max_len": 0}, "max_len"),
        ([], {}, "no sequences"),
        ([[1], []], {}, r"sequence 1 has shape \(0,\)"),
        ([[1], torch.ones(2, 2)], {}, "non-empty 1-D"),
    ],
)
def test_pad_batch_bad_arguments(seqs, kwargs, match):
    with pytest.raises(ValueError, match=match):
        pad_batch(seqs, **kwargs)


def test_pack_then_lstm_matches_running_each_sequence_alone():
    torch.manual_seed(0)
    lstm = nn.LSTM(4, 3, batch_first=True)
    seqs = [torch.randn(5, 4), torch.randn(2, 4), torch.randn(3, 4)]
    lengths = torch.tensor([5, 2, 3])
    padded = torch.zeros(3, 5, 4)
    for i, s in enumerate(seqs):
        padded[i, : len(s)] = s
    out, (h_n, _) = lstm(pack(padded, lengths))
    out, out_lengths = unpack(out)
    assert out.shape == (3, 5, 3) and out_lengths.tolist() == [5, 2, 3]
    last = last_valid_step(out, lengths)
    for i, s in enumerate(seqs):
        alone, _ = lstm(s[None])
        torch.testing.assert_close(last[i], alone[0, -1])
        torch.testing.assert_close(h_n[0, i], alone[0, -1])
    assert out[1, 2:].abs().sum() == 0  # padding steps are zeros, not real outputs


def test_pack_time_major_and_lengths_on_any_device():
    x = torch.randn(4, 2, 3)  # (T, B, E)
    packed = pack(x, [4, 1], batch_first=False)
    assert packed.batch_sizes.tolist() == [2, 1, 1, 1]


def test_pack_and_last_step_check_lengths():
    with pytest.raises(ValueError, match="2 lengths"):
        pack(torch.zeros(3, 4, 1), [1, 2])
    with pytest.raises(ValueError, match="1..4"):
        pack(torch.zeros(2, 4, 1), [0, 2])
    with pytest.raises(ValueError, match="1..4"):
        last_valid_step(torch.zeros(2, 4, 1), [5, 2])
    with pytest.raises(ValueError, match="3-D"):
        last_valid_step(torch.zeros(2, 4), [1, 2])


def test_last_valid_step_picks_by_hand():
    out = torch.arange(2 * 3).float().reshape(2, 3, 1)  # [[0,1,2],[3,4,5]]
    assert last_valid_step(out, torch.tensor([2, 3])).flatten().tolist() == [1.0, 5.0]
    assert last_valid_step(out.transpose(0, 1), [1, 2], batch_first=False).flatten().tolist() == [
        0.0,
        4.0,
    ]


# --- length buckets -------------------------------------------------------------------


def test_length_buckets_cover_every_index_once_in_sorted_groups():
    lengths = [5, 1, 9, 3, 7, 2, 8]
    batches = length_buckets(lengths, batch_size=3, shuffle=False)
    assert batches == [[1, 5, 3], [0, 4, 6], [2]]


def test_shuffled_buckets_are_tight_reproducible_and_vary_between_calls():
    g = torch.Generator().manual_seed(0)
    lengths = torch.randint(1, 500, (1000,), generator=g)
    batches = length_buckets(lengths, batch_size=32, seed=1)
    assert sorted(i for b in batches for i in b) == list(range(1000))
    assert len(batches) == 32 and all(len(b) <= 32 for b in batches)
    spread = sum(int(lengths[b].max() - lengths[b].min()) for b in batches) / len(batches)
    assert spread < 50  # random batches of 32 would spread over ~470
    assert batches == length_buckets(lengths, batch_size=32, seed=1)
    assert batches != length_buckets(lengths, batch_size=32, seed=2)


def test_length_buckets_bad_arguments():
    with pytest.raises(ValueError, match="batch_size must be an int >= 1, got 0"):
        length_buckets([1, 2], batch_size=0)
    with pytest.raises(TypeError, match=r"batch_size must be an int >= 1, got 2.0 \(float\)"):
        length_buckets([1, 2], batch_size=2.0)
    with pytest.raises(ValueError, match="either"):
        length_buckets([1, 2], 1, seed=0, generator=torch.Generator())


def test_bucket_batch_sampler_works_with_a_data_loader_and_reshuffles():
    lengths = list(range(1, 101))
    sampler = BucketBatchSampler(lengths, batch_size=8, seed=0)
    loader = DataLoader(list(range(100)), batch_sampler=sampler)
    first, second = [b.tolist() for b in loader], [b.tolist() for b in loader]
    assert len(first) == len(sampler) == 13
    assert sorted(i for b in first for i in b) == list(range(100))
    assert first != second


# --- language-model batches -----------------------------------------------------------


def test_batchify_makes_contiguous_columns_and_drops_the_remainder():
    streams = batchify(list(range(26)), batch_size=4)
    assert streams.shape == (6, 4)
    assert streams[:, 0].tolist() == [0, 1, 2, 3, 4, 5]
    assert streams[:, 1].tolist() == [6, 7, 8, 9, 10, 11]
    assert streams[0].tolist() == [0, 6, 12, 18]  # tokens 24, 25 are dropped


def test_bptt_batches_shift_targets_and_end_with_a_shorter_window():
    streams = batchify(torch.arange(26), batch_size=4)
    windows = bptt_batches(streams, bptt=4)
    assert len(windows) == num_bptt_batches(6, 4) == 2
    (x1, y1), (x2, y2) = list(windows)
    assert x1.shape == y1.shape == (4, 4) and x2.shape == y2.shape == (1, 4)
    assert x1[:, 0].tolist() == [0, 1, 2, 3] and y1[:, 0].tolist() == [1, 2, 3, 4]
    assert x2[:, 1].tolist() == [10] and y2[:, 1].tolist() == [11]
    assert len(list(windows)) == 2  # re-iterable: one pass per epoch


def test_bptt_windows_cover_every_prediction_once():
    streams = batchify(torch.arange(100), batch_size=3)  # 33 steps
    for bptt in (1, 5, 32, 40):
        targets = torch.cat([y for _, y in bptt_batches(streams, bptt)])
        assert torch.equal(targets, streams[1:])
        assert len(bptt_batches(streams, bptt)) == num_bptt_batches(33, bptt)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: batchify([1, 2, 3], batch_size=2), "fewer than 2"),
        (lambda: batchify([1, 2, 3], batch_size=0), "batch_size"),
        (lambda: batchify(torch.zeros(2, 4, dtype=torch.long), 1), "1-D"),
        (lambda: bptt_batches(torch.zeros(5, 2), bptt=0), "bptt"),
        (lambda: bptt_batches(torch.zeros(5), bptt=2), "streams"),
        (lambda: num_bptt_batches(1, 2), "n_steps"),
    ],
)
def test_lm_batching_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: batchify([1, 2, 3, 4], batch_size=True), "batch_size must be an int >= 1"),
        (lambda: bptt_batches(torch.zeros(5, 2), bptt=2.5), "bptt must be an int >= 1"),
        (lambda: pad_batch([[1]], max_len="3"), "max_len must be an int >= 1"),
        (lambda: Vocab(["a"], min_freq=None), "min_freq must be an int >= 1"),
    ],
)
def test_counts_of_the_wrong_type_raise_type_error(call, match):
    with pytest.raises(TypeError, match=match):
        call()
