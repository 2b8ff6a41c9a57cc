"""Monthly atmospheric CO2 at Mauna Loa, 1958-2001: a small real series shipped in the package.

The file ``co2_mauna_loa_monthly.csv`` beside this module holds monthly means of the
weekly averages of C. D. Keeling and T. P. Whorf (Scripps Institution of Oceanography),
as distributed with statsmodels (public domain). ``CO2_README.md`` gives the source,
the licence and the exact conversion. It is small (10 kB), so it needs no data home and
no download; it is still checked against its SHA-256 on every load.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lstm_course.checks import check_bool
from lstm_course.data.checksum import verify_checksum

__all__ = [
    "CO2_FILE",
    "CO2_CHECKSUM",
    "FIRST_COMPLETE_MONTH",
    "read_co2_csv",
    "load_co2",
]

CO2_FILE = Path(__file__).with_name("co2_mauna_loa_monthly.csv")
CO2_CHECKSUM = "sha256:21c40766885944717e56bd8a01afe050fd7b96fadce4356d104983649890d384"
# The last month without any weekly value is April 1964 (also June and October 1958):
# from May 1964 on, every month has at least one week of data.
FIRST_COMPLETE_MONTH = np.datetime64("1964-05", "M")


def read_co2_csv(path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parse the CSV: ``(months, co2, weeks)``, months as ``datetime64[M]``, missing as NaN."""
    months, values, weeks = [], [], []
    with open(path, encoding="utf-8") as f:
        lines = [line.strip() for line in f if line.strip() and not line.startswith("#")]
    if not lines or lines[0] != "month,co2_ppm,weeks":
        raise ValueError(f"{path} is not the CO2 table: expected the header 'month,co2_ppm,weeks'")
    for line in lines[1:]:
        month, value, count = line.split(",")
        months.append(np.datetime64(month, "M"))
        values.append(float(value) if value else np.nan)
        weeks.append(int(count))
    return np.array(months), np.array(values), np.array(weeks)


def load_co2(complete: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Monthly mean CO2 concentration at Mauna Loa, in ppm (parts per million).

    Args:
        complete: True (default): the months from May 1964 to December 2001 (452
            values), the longest stretch in which every month has data, so nothing is
            missing and nothing is interpolated. False: every month from March 1958
            (526 values), NaN for the 5 months without any weekly value.

    Returns:
        ``(months, co2)``: a ``datetime64[M]`` array and a float64 array of equal length.

    Raises:
        TypeError: ``complete`` is not a bool.
        DatasetError: the packaged file is missing or was modified (checksum mismatch).
    """
    check_bool("complete", complete)
    verify_checksum(CO2_FILE, CO2_CHECKSUM)
    months, values, _ = read_co2_csv(CO2_FILE)
    if complete:
        keep = months >= FIRST_COMPLETE_MONTH
        months, values = months[keep], values[keep]
    return months, values
