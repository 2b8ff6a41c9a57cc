"""Batches of token ids, the two ways an LSTM reads text.

Classification (IMDB): each review is its own sequence, so a batch is a padded
``(B, T)`` tensor plus the true lengths; :func:`pack` lets the LSTM skip the padding
and :func:`last_valid_step` reads each review's real final output.

Language models (PTB, characters): the whole corpus is one token stream, cut into
``B`` parallel streams by :func:`batchify` and walked in windows of ``bptt`` steps by
:func:`bptt_batches`, time-major like PyTorch's word_language_model example.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import torch
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence
from torch.utils.data import Sampler

from lstm_course.checks import check_int

__all__ = [
    "pad_batch",
    "pack",
    "unpack",
    "last_valid_step",
    "length_buckets",
    "BucketBatchSampler",
    "batchify",
    "num_bptt_batches",
    "BPTTBatches",
    "bptt_batches",
]


# ----------------------------------------------------------------------------------
# Classification batches: pad, pack, read the last real step


def _lengths_tensor(lengths, batch: int, max_steps: int) -> torch.Tensor:
    """Lengths as a CPU LongTensor, checked against a (batch, max_steps) layout."""
    lengths = torch.as_tensor(lengths).detach().to("cpu", torch.long).reshape(-1)
    if len(lengths) != batch:
        raise ValueError(f"got {len(lengths)} lengths for a batch of {batch} sequences")
    if len(lengths) and (lengths.min() < 1 or lengths.max() > max_steps):
        raise ValueError(
            f"lengths must lie in 1..{max_steps} (the padded time axis), "
            f"got min {int(lengths.min())} and max {int(lengths.max())}"
        )
    return lengths


def pad_batch(
    sequences: Sequence[Sequence[int] | torch.Tensor],
    pad_index: int = 0,
    max_len: int | None = None,
    truncate: str = "end",
) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad token-id sequences into one batch.

    Returns ``tokens`` (B, T) LongTensor, T = the longest (truncated) sequence, and
    ``lengths`` (B,) LongTensor on the CPU. Sequences longer than ``max_len`` lose
    their ``truncate`` side: ``"end"`` (default) keeps the beginning, ``"start"``
    keeps the end, as Keras's ``pad_sequences`` does by default.
    """
    if truncate not in ("end", "start"):
        raise ValueError(f"truncate must be 'end' or 'start', got {truncate!r}")
    if max_len is not None:
        check_int("max_len", max_len)
    if len(sequences) == 0:
        raise ValueError("pad_batch got no sequences")
    rows = [torch.as_tensor(seq, dtype=torch.long) for seq in sequences]
    for i, row in enumerate(rows):
        if row.dim() != 1 or len(row) == 0:
            raise ValueError(
                f"sequence {i} has shape {tuple(row.shape)}: each must be a "
                "non-empty 1-D list of ids (drop empty ones before batching)"
            )
    if max_len is not None:
        rows = [row[:max_len] if truncate == "end" else row[-max_len:] for row in rows]
    lengths = torch.tensor([len(row) for row in rows], dtype=torch.long)
    tokens = torch.full((len(rows), int(lengths.max())), pad_index, dtype=torch.long)
    for i, row in enumerate(rows):
        tokens[i, : len(row)] = row
    return tokens, lengths


def pack(embedded: torch.Tensor, lengths, batch_first: bool = True) -> PackedSequence:
    """Pack a right-padded batch so an ``nn.LSTM`` stops at each sequence's end.

    ``embedded`` is (B, T, E) with ``batch_first`` or (T, B, E) without; ``lengths``
    (B,) may be a list or a tensor on any device. No need to sort the batch first.
    """
    if embedded.dim() < 2:
        raise ValueError(
            f"pack needs a (B, T, ...) or (T, B, ...) tensor, got {tuple(embedded.shape)}"
        )
    batch, steps = embedded.shape[:2] if batch_first else embedded.shape[1::-1]
    lengths = _lengths_tensor(lengths, batch, steps)
    return pack_padded_sequence(embedded, lengths, batch_first=batch_first, enforce_sorted=False)


def unpack(
    packed: PackedSequence, batch_first: bool = True, total_length: int | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Inverse of :func:`pack`: ``(output (B, T, H), lengths (B,))``, zeros in the padding."""
    return pad_packed_sequence(packed, batch_first=batch_first, total_length=total_length)


def last_valid_step(output: torch.Tensor, lengths, batch_first: bool = True) -> torch.Tensor:
    """Each sequence's output at its last real step: (B, T, H) -> (B, H).

    ``output[:, -1]`` would read padding for every sequence shorter than T. For a
    bidirectional LSTM this is right for the forward half only: the backward half
    ends at step 0, so use the final hidden state ``h_n`` there instead.
    """
    if output.dim() != 3:
        raise ValueError(f"last_valid_step needs a 3-D output, got shape {tuple(output.shape)}")
    if not batch_first:
        output = output.transpose(0, 1)
    lengths = _lengths_tensor(lengths, output.shape[0], output.shape[1])
    rows = torch.arange(output.shape[0], device=output.device)
    return output[rows, (lengths - 1).to(output.device)]


_POOL_BATCHES = 50  # when shuffling, sort this many batches' worth of examples together


def length_buckets(
    lengths,
    batch_size: int,
    shuffle: bool = True,
    seed: int | None = None,
    generator: torch.Generator | None = None,
) -> list[list[int]]:
    """Batches of indices whose sequences have similar lengths, so little is padding.

    Every index appears exactly once. Without ``shuffle`` the batches follow sorted
    length. With it, random pools of ``50 * batch_size`` examples are each sorted and
    cut into batches, and the batches are shuffled: similar lengths together, but a
    different grouping each call. Randomness comes from ``generator``, else ``seed``,
    else torch's global generator.
    """
    check_int("batch_size", batch_size)
    if seed is not None and generator is not None:
        raise ValueError("pass either seed or generator, not both")
    lengths = torch.as_tensor(lengths).reshape(-1)
    if not shuffle:
        order = torch.argsort(lengths, stable=True)
        return [order[i : i + batch_size].tolist() for i in range(0, len(order), batch_size)]

    if seed is not None:
        generator = torch.Generator().manual_seed(seed)
    shuffled = torch.randperm(len(lengths), generator=generator)
    pool = batch_size * _POOL_BATCHES
    batches = []
    for start in range(0, len(shuffled), pool):
        chunk = shuffled[start : start + pool]
        chunk = chunk[torch.argsort(lengths[chunk], stable=True)]
        batches += [chunk[i : i + batch_size].tolist() for i in range(0, len(chunk), batch_size)]
    return [batches[i] for i in torch.randperm(len(batches), generator=generator)]


class BucketBatchSampler(Sampler):
    """:func:`length_buckets` for a ``DataLoader(..., batch_sampler=...)``.

    Draws a new grouping every epoch; ``seed`` makes the whole run reproducible.
    """

    def __init__(self, lengths, batch_size: int, shuffle: bool = True, seed: int | None = None):
        super().__init__()
        self.lengths = torch.as_tensor(lengths).reshape(-1)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.generator = torch.Generator().manual_seed(seed) if seed is not None else None
        check_int("batch_size", batch_size)

    def __iter__(self) -> Iterator[list[int]]:
        return iter(
            length_buckets(self.lengths, self.batch_size, self.shuffle, generator=self.generator)
        )

    def __len__(self) -> int:
        return math.ceil(len(self.lengths) / self.batch_size)


# ----------------------------------------------------------------------------------
# Language-model batches: parallel streams walked in bptt windows


def batchify(ids: Sequence[int] | torch.Tensor, batch_size: int) -> torch.Tensor:
    """Cut one token stream into ``batch_size`` contiguous streams: (N,) -> (N // B, B).

    Column ``b`` holds tokens ``b * n .. (b + 1) * n - 1`` (n = N // B), so each column
    reads on where it left off, batch after batch; the last ``N % B`` tokens are dropped.
    """
    check_int("batch_size", batch_size)
    ids = torch.as_tensor(ids, dtype=torch.long)
    if ids.dim() != 1:
        raise ValueError(f"batchify needs a 1-D token stream, got shape {tuple(ids.shape)}")
    n_steps = len(ids) // batch_size
    if n_steps < 2:
        raise ValueError(
            f"{len(ids)} tokens give fewer than 2 steps per stream with "
            f"batch_size={batch_size}: use a smaller batch_size or more text"
        )
    return ids[: n_steps * batch_size].view(batch_size, n_steps).t().contiguous()


def num_bptt_batches(n_steps: int, bptt: int) -> int:
    """How many windows :func:`bptt_batches` gives for ``streams.shape[0] == n_steps``."""
    check_int("bptt", bptt)
    check_int("n_steps", n_steps, minimum=2)  # an input step and its target
    return math.ceil((n_steps - 1) / bptt)


class BPTTBatches:
    """Re-iterable ``(inputs (T, B), targets (T, B))`` windows over (N, B) streams.

    Targets are the inputs shifted one step ahead; the last window is shorter when
    ``bptt`` does not divide ``N - 1``. Iterating again starts over, so it can serve
    as a ``train_loader`` for several epochs.
    """

    def __init__(self, streams: torch.Tensor, bptt: int):
        check_int("bptt", bptt)
        if not isinstance(streams, torch.Tensor) or streams.dim() != 2 or len(streams) < 2:
            raise ValueError("streams must be an (N, B) tensor with N >= 2: use batchify(ids, B)")
        self.streams = streams
        self.bptt = bptt

    def __len__(self) -> int:
        return num_bptt_batches(len(self.streams), self.bptt)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        last = len(self.streams) - 1  # the final step is only ever a target
        for start in range(0, last, self.bptt):
            steps = min(self.bptt, last - start)
            yield (self.streams[start : start + steps], self.streams[start + 1 : start + 1 + steps])


def bptt_batches(streams: torch.Tensor, bptt: int) -> BPTTBatches:
    """Windows over ``streams`` (N, B), as :func:`batchify` makes them: ``(inputs, targets)``
    pairs, each (T, B) with T = ``bptt`` except a shorter last window, targets one step
    ahead of inputs; ``ceil((N - 1) / bptt)`` windows. See :class:`BPTTBatches`."""
    return BPTTBatches(streams, bptt)
