"""What keeps the book honest: ``report`` (``glue`` measured numbers into the prose,
``meets_bar``), ``reproduce`` (find the chapters in reading order, re-execute them in
full mode) and ``exercises`` (generate the exercises page).
"""

from lstm_course.book_tools.report import glue, meets_bar
from lstm_course.book_tools.reproduce import chapter_notebooks, toc_files

__all__ = ["chapter_notebooks", "glue", "meets_bar", "toc_files"]
