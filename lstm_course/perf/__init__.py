"""Measuring speed: ``timing`` (timers side by side, with warm-up and medians; it imports
nothing else of the course) and ``implementations`` (the LSTMs chapter 6 times, their
ceilings and sweeps). ``python -m lstm_course.perf`` runs the benchmarks (``make bench``).
"""

from lstm_course.perf.timing import time_interleaved, time_it

__all__ = ["time_interleaved", "time_it"]
