"""Helper package of the LSTM course. Notebooks import from here; see DESIGN in the book."""

from lstm_course.runtime import config, get_device, is_fast, mode, pick, seed_everything, setup

__all__ = ["config", "get_device", "is_fast", "mode", "pick", "seed_everything", "setup"]
__version__ = "0.1.0"
