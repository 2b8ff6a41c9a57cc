import numpy as np
import pytest

from lstm_course.data import DatasetError, co2, load_co2


def test_load_co2_is_the_complete_monthly_stretch():
    months, values = load_co2()
    assert len(months) == len(values) == 452
    assert str(months[0]) == "1964-05" and str(months[-1]) == "2001-12"
    assert np.all(np.diff(months).astype(int) == 1)  # consecutive months, none missing
    assert not np.isnan(values).any()
    assert 315 < values.min() < values.max() < 375  # ppm over 1964-2001
    # the seasonal cycle: May is above the yearly mean, September/October below
    assert values[0] > values[:12].mean() > values[5]


def test_load_co2_whole_record_marks_the_five_gaps():
    months, values = load_co2(complete=False)
    assert len(months) == 526 and str(months[0]) == "1958-03"
    gaps = [str(m) for m in months[np.isnan(values)]]
    assert gaps == ["1958-06", "1958-10", "1964-02", "1964-03", "1964-04"]


def test_load_co2_checks_the_file(tmp_path, monkeypatch):
    changed = tmp_path / "co2.csv"
    changed.write_bytes(co2.CO2_FILE.read_bytes().replace(b"371.020", b"371.021"))
    monkeypatch.setattr(co2, "CO2_FILE", changed)
    with pytest.raises(DatasetError, match="corrupt"):
        load_co2()


def test_read_co2_csv_rejects_another_table(tmp_path):
    other = tmp_path / "other.csv"
    other.write_text("date,value\n2000-01,1.0\n", encoding="utf-8")
    with pytest.raises(ValueError, match="header"):
        co2.read_co2_csv(other)


def test_load_co2_complete_must_be_a_bool():
    with pytest.raises(TypeError, match="complete must be True or False"):
        load_co2(complete=1)
