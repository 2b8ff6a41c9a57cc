"""``python -m lstm_course.perf``: the benchmarks ``make bench`` runs (see ``cli``)."""

import sys

from lstm_course.perf.cli import main

sys.exit(main())
