"""Shared test settings."""

import pytest
import torch


@pytest.fixture(autouse=True, scope="session")
def one_torch_thread():
    # The unit tests use tiny tensors, which run far faster on one thread than on two
    # threads of a busy 2-core machine (thread hand-off dominates).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
