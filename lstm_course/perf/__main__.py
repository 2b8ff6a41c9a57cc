"""``python -m lstm_course.perf``: the benchmarks ``make bench`` runs."""

import sys

from lstm_course.perf.timing import main

sys.exit(main())
