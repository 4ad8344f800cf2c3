//! The template library: six modules of utility code, their tests, and the
//! bug sites in each. `${name}` marks a placeholder (see [`crate::catalogue`]).

use crate::catalogue::{BugFamily::*, Outcome::*, Site, Template};

/// Every template, in a fixed order (the order bug sites are numbered in).
pub(crate) static TEMPLATES: &[Template] = &[STATS, TEXT, DATES, CART, GRID, TOKENS];

// ---------------------------------------------------------------- stats ---

const STATS: Template = Template {
    key: "stats",
    blurb: "descriptive statistics for lists of numbers",
    modules: &["stats", "metrics", "summary"],
    axes: &[
        &[
            &[("mean", "mean")],
            &[("mean", "average")],
            &[("mean", "arithmetic_mean")],
        ],
        &[&[("spread", "spread")], &[("spread", "value_range")]],
        &[
            &[("window", "2"), ("ma_default", "[1.5, 2.5, 3.5, 4.5]")],
            &[("window", "3"), ("ma_default", "[2.0, 3.0, 4.0]")],
        ],
    ],
    source: r#""""Descriptive statistics for small lists of numbers."""


def ${mean}(values):
    """Return the arithmetic mean of ``values``."""
    values = list(values)
    if not values:
        raise ValueError("${mean}() of an empty sequence")
    return sum(values) / len(values)


def median(values):
    """Return the median of ``values``."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("median() of an empty sequence")
    mid = len(ordered) // 2
    if len(ordered) % 2 == 1:
        return ordered[mid]
    return (ordered[mid - 1] + ordered[mid]) / 2


def ${spread}(values):
    """Return the distance between the largest and the smallest value."""
    values = list(values)
    if not values:
        return 0
    return max(values) - min(values)


def count_above(values, threshold):
    """Count the values strictly greater than ``threshold``."""
    return sum(1 for value in values if value > threshold)


def percent_of(part, whole):
    """Return ``part`` as a percentage of ``whole``."""
    if whole == 0:
        raise ZeroDivisionError("whole must not be zero")
    return part * 100.0 / whole


def shares(values):
    """Return each value's share of the total, in per cent."""
    total = sum(values)
    return [percent_of(value, total) for value in values]


def moving_average(values, window=${window}):
    """Return the mean of every run of ``window`` (default ${window}) consecutive values."""
    if window <= 0:
        raise ValueError("window must be positive")
    values = list(values)
    result = []
    for start in range(len(values) - window + 1):
        chunk = values[start:start + window]
        result.append(sum(chunk) / window)
    return result
"#,
    tests: r#"import unittest

from ${pkg} import ${module}


class TestMean(unittest.TestCase):
    def test_mean_of_integers(self):
        self.assertEqual(${module}.${mean}([1, 2, 3, 4]), 2.5)

    def test_accepts_generators(self):
        self.assertEqual(${module}.${mean}(x for x in (2, 4)), 3.0)

    def test_empty_raises_value_error(self):
        with self.assertRaises(ValueError):
            ${module}.${mean}([])


class TestMedian(unittest.TestCase):
    def test_odd_length(self):
        self.assertEqual(${module}.median([3, 1, 2]), 2)

    def test_even_length(self):
        self.assertEqual(${module}.median([4, 1, 3, 2]), 2.5)

    def test_empty_raises_value_error(self):
        with self.assertRaises(ValueError):
            ${module}.median([])


class TestSpread(unittest.TestCase):
    def test_spread(self):
        self.assertEqual(${module}.${spread}([3, 9, 4]), 6)

    def test_negative_values(self):
        self.assertEqual(${module}.${spread}([-2, 5]), 7)

    def test_empty_is_zero(self):
        self.assertEqual(${module}.${spread}([]), 0)


class TestCountAbove(unittest.TestCase):
    def test_strictly_greater(self):
        self.assertEqual(${module}.count_above([1, 2, 3, 4], 2), 2)

    def test_none_above(self):
        self.assertEqual(${module}.count_above([1, 2], 5), 0)


class TestShares(unittest.TestCase):
    def test_percent_of(self):
        self.assertEqual(${module}.percent_of(1, 4), 25.0)

    def test_percent_of_zero_whole(self):
        with self.assertRaises(ZeroDivisionError):
            ${module}.percent_of(1, 0)

    def test_shares(self):
        self.assertEqual(${module}.shares([1, 3]), [25.0, 75.0])


class TestMovingAverage(unittest.TestCase):
    def test_window_two(self):
        self.assertEqual(${module}.moving_average([1, 2, 3, 4], 2), [1.5, 2.5, 3.5])

    def test_default_window(self):
        self.assertEqual(${module}.moving_average([1, 2, 3, 4, 5]), ${ma_default})

    def test_window_longer_than_input(self):
        self.assertEqual(${module}.moving_average([1, 2], 3), [])

    def test_invalid_window(self):
        with self.assertRaises(ValueError):
            ${module}.moving_average([1, 2], 0)


if __name__ == "__main__":
    unittest.main()
"#,
    sites: &[
        Site {
            id: "mean-empty",
            family: MissingEdgeCase,
            kind: "empty-input guard removed",
            fixed: "    if not values:\n        raise ValueError(\"${mean}() of an empty sequence\")\n",
            buggy: "",
            breaks: &["TestMean.test_empty_raises_value_error"],
            summary: "`${mean}()` crashes with a ZeroDivisionError on an empty list instead of raising ValueError like `median()` does",
            context: "aggregating sensor readings, where some batches arrive empty, and catching ValueError around the statistics calls",
            setup: "",
            expr: "${module}.${mean}([])",
            expected: Raises("ValueError"),
            actual: Raises("ZeroDivisionError"),
        },
        Site {
            id: "median-even",
            family: OffByOne,
            kind: "middle pair taken one position too far right",
            fixed: "    return (ordered[mid - 1] + ordered[mid]) / 2\n",
            buggy: "    return (ordered[mid] + ordered[mid + 1]) / 2\n",
            breaks: &["TestMedian.test_even_length"],
            summary: "`median()` gives the wrong answer for lists with an even number of elements",
            context: "computing the median response time of a benchmark with four runs",
            setup: "",
            expr: "${module}.median([10, 20, 30, 40])",
            expected: Value("25.0"),
            actual: Value("35.0"),
        },
        Site {
            id: "spread-sign",
            family: WrongOperator,
            kind: "`-` → `+`",
            fixed: "    return max(values) - min(values)\n",
            buggy: "    return max(values) + min(values)\n",
            breaks: &["TestSpread.test_spread", "TestSpread.test_negative_values"],
            summary: "`${spread}()` returns a number larger than the maximum of the data",
            context: "reporting how far apart the daily temperature readings were",
            setup: "",
            expr: "${module}.${spread}([3, 9, 4])",
            expected: Value("6"),
            actual: Value("12"),
        },
        Site {
            id: "count-above-strict",
            family: WrongOperator,
            kind: "`>` → `>=`",
            fixed: "    return sum(1 for value in values if value > threshold)\n",
            buggy: "    return sum(1 for value in values if value >= threshold)\n",
            breaks: &["TestCountAbove.test_strictly_greater"],
            summary: "`count_above()` also counts values equal to the threshold, although the docstring says strictly greater",
            context: "counting how many scores beat the passing mark",
            setup: "",
            expr: "${module}.count_above([1, 2, 3, 4], 2)",
            expected: Value("2"),
            actual: Value("3"),
        },
        Site {
            id: "shares-swapped",
            family: SwappedArguments,
            kind: "arguments of `percent_of` swapped",
            fixed: "    return [percent_of(value, total) for value in values]\n",
            buggy: "    return [percent_of(total, value) for value in values]\n",
            breaks: &["TestShares.test_shares"],
            summary: "`shares()` returns percentages far above 100 that do not add up to 100",
            context: "building a pie chart of expenses by category",
            setup: "",
            expr: "${module}.shares([1, 3])",
            expected: Value("[25.0, 75.0]"),
            actual: Value("[400.0, 133.33333333333334]"),
        },
        Site {
            id: "moving-average-range",
            family: OffByOne,
            kind: "range stops one window early",
            fixed: "    for start in range(len(values) - window + 1):\n",
            buggy: "    for start in range(len(values) - window):\n",
            breaks: &[
                "TestMovingAverage.test_window_two",
                "TestMovingAverage.test_default_window",
            ],
            summary: "`moving_average()` drops the last window, so the result is one element short",
            context: "smoothing a short price series before plotting it",
            setup: "",
            expr: "${module}.moving_average([1, 2, 3, 4], 2)",
            expected: Value("[1.5, 2.5, 3.5]"),
            actual: Value("[1.5, 2.5]"),
        },
        Site {
            id: "moving-average-default",
            family: WrongDefault,
            kind: "default window changed",
            fixed: "def moving_average(values, window=${window}):\n",
            buggy: "def moving_average(values, window=1):\n",
            breaks: &["TestMovingAverage.test_default_window"],
            summary: "`moving_average()` called without a window returns the input unchanged instead of smoothing over ${window} values",
            context: "relying on the documented default smoothing window of ${window} values",
            setup: "",
            expr: "${module}.moving_average([1, 2, 3, 4, 5])",
            expected: Value("${ma_default}"),
            actual: Value("[1.0, 2.0, 3.0, 4.0, 5.0]"),
        },
    ],
};

// ----------------------------------------------------------------- text ---

const TEXT: Template = Template {
    key: "text",
    blurb: "string helpers: slugs, truncation, padding and wrapping",
    modules: &["textutils", "strtools", "text"],
    axes: &[
        &[&[("slugify", "slugify")], &[("slugify", "make_slug")]],
        &[
            &[("sep", "-"), ("bad_sep", "_")],
            &[("sep", "_"), ("bad_sep", "-")],
        ],
    ],
    source: r#""""String helpers: slugs, truncation, padding and wrapping."""


def ${slugify}(text, sep="${sep}"):
    """Lower-case ``text`` and join its alphanumeric runs with ``sep`` (default ``"${sep}"``)."""
    words = []
    current = []
    for ch in text.lower():
        if ch.isalnum():
            current.append(ch)
        elif current:
            words.append("".join(current))
            current = []
    if current:
        words.append("".join(current))
    return sep.join(words)


def truncate(text, width, suffix="..."):
    """Shorten ``text`` to at most ``width`` characters, ending in ``suffix``."""
    if width < len(suffix):
        raise ValueError("width is smaller than the suffix")
    if len(text) <= width:
        return text
    return text[:width - len(suffix)] + suffix


def pad_left(text, width, fill=" "):
    """Right-align ``text`` in a field of ``width`` characters."""
    if len(text) >= width:
        return text
    return fill * (width - len(text)) + text


def count_words(text):
    """Number of whitespace-separated words; ``None`` counts as no words."""
    if text is None:
        return 0
    return len(text.split())


def wrap(text, width):
    """Greedily break ``text`` into lines of at most ``width`` characters."""
    lines = []
    line = ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        elif line:
            line = line + " " + word
        else:
            line = word
    if line:
        lines.append(line)
    return lines


def label(key, value):
    """Render one ``key=value`` pair."""
    return "{}={}".format(key, value)


def render_pairs(mapping):
    """Render a mapping as ``key=value`` pairs sorted by key."""
    return ", ".join(label(key, value) for key, value in sorted(mapping.items()))
"#,
    tests: r#"import unittest

from ${pkg} import ${module}


class TestSlug(unittest.TestCase):
    def test_default_separator(self):
        self.assertEqual(${module}.${slugify}("Hello, World!"), "hello${sep}world")

    def test_custom_separator(self):
        self.assertEqual(${module}.${slugify}("a b", sep="."), "a.b")

    def test_strips_punctuation(self):
        self.assertEqual(${module}.${slugify}("  --Rust & Python--  ", sep="+"), "rust+python")


class TestTruncate(unittest.TestCase):
    def test_short_text_unchanged(self):
        self.assertEqual(${module}.truncate("abc", 6), "abc")

    def test_exact_width_unchanged(self):
        self.assertEqual(${module}.truncate("abcdef", 6), "abcdef")

    def test_truncates_long_text(self):
        self.assertEqual(${module}.truncate("abcdefghij", 6), "abc...")

    def test_result_fits_width(self):
        self.assertLessEqual(len(${module}.truncate("abcdefghij", 7)), 7)

    def test_width_smaller_than_suffix(self):
        with self.assertRaises(ValueError):
            ${module}.truncate("abcdef", 2)


class TestPadLeft(unittest.TestCase):
    def test_pads(self):
        self.assertEqual(${module}.pad_left("7", 3, "0"), "007")

    def test_long_text_unchanged(self):
        self.assertEqual(${module}.pad_left("1234", 3), "1234")


class TestCountWords(unittest.TestCase):
    def test_counts_words(self):
        self.assertEqual(${module}.count_words("  one two\tthree\n"), 3)

    def test_none_is_zero(self):
        self.assertEqual(${module}.count_words(None), 0)


class TestWrap(unittest.TestCase):
    def test_wraps_at_width(self):
        self.assertEqual(${module}.wrap("the quick brown fox", 10), ["the quick", "brown fox"])

    def test_single_word(self):
        self.assertEqual(${module}.wrap("hello", 10), ["hello"])

    def test_long_word_kept_whole(self):
        self.assertEqual(${module}.wrap("extraordinary", 5), ["extraordinary"])

    def test_empty(self):
        self.assertEqual(${module}.wrap("", 5), [])


class TestRenderPairs(unittest.TestCase):
    def test_label(self):
        self.assertEqual(${module}.label("x", 1), "x=1")

    def test_sorted_pairs(self):
        self.assertEqual(${module}.render_pairs({"b": 2, "a": 1}), "a=1, b=2")

    def test_empty_mapping(self):
        self.assertEqual(${module}.render_pairs({}), "")


if __name__ == "__main__":
    unittest.main()
"#,
    sites: &[
        Site {
            id: "slug-default-sep",
            family: WrongDefault,
            kind: "default separator changed",
            fixed: "def ${slugify}(text, sep=\"${sep}\"):\n",
            buggy: "def ${slugify}(text, sep=\"${bad_sep}\"):\n",
            breaks: &["TestSlug.test_default_separator"],
            summary: "`${slugify}()` joins words with the wrong character when no separator is given",
            context: "generating URL slugs for blog post titles with the default settings",
            setup: "",
            expr: "${module}.${slugify}(\"Hello, World!\")",
            expected: Value("'hello${sep}world'"),
            actual: Value("'hello${bad_sep}world'"),
        },
        Site {
            id: "truncate-slice",
            family: OffByOne,
            kind: "slice keeps one character too many",
            fixed: "    return text[:width - len(suffix)] + suffix\n",
            buggy: "    return text[:width - len(suffix) + 1] + suffix\n",
            breaks: &[
                "TestTruncate.test_truncates_long_text",
                "TestTruncate.test_result_fits_width",
            ],
            summary: "`truncate()` returns strings one character longer than the requested width",
            context: "fitting product names into a fixed-width table column",
            setup: "",
            expr: "${module}.truncate(\"abcdefghij\", 6)",
            expected: Value("'abc...'"),
            actual: Value("'abcd...'"),
        },
        Site {
            id: "truncate-boundary",
            family: WrongOperator,
            kind: "`<=` → `<`",
            fixed: "    if len(text) <= width:\n",
            buggy: "    if len(text) < width:\n",
            breaks: &["TestTruncate.test_exact_width_unchanged"],
            summary: "`truncate()` shortens text that already fits exactly into the width",
            context: "truncating column headers to six characters",
            setup: "",
            expr: "${module}.truncate(\"python\", 6)",
            expected: Value("'python'"),
            actual: Value("'pyt...'"),
        },
        Site {
            id: "count-words-none",
            family: MissingEdgeCase,
            kind: "`None` guard removed",
            fixed: "    if text is None:\n        return 0\n",
            buggy: "",
            breaks: &["TestCountWords.test_none_is_zero"],
            summary: "`count_words(None)` crashes with an AttributeError although the docstring says None counts as no words",
            context: "counting words in form fields, some of which are missing (None)",
            setup: "",
            expr: "${module}.count_words(None)",
            expected: Value("0"),
            actual: Raises("AttributeError"),
        },
        Site {
            id: "wrap-and",
            family: WrongOperator,
            kind: "`and` → `or`",
            fixed: "        if line and len(line) + 1 + len(word) > width:\n",
            buggy: "        if line or len(line) + 1 + len(word) > width:\n",
            breaks: &[
                "TestWrap.test_wraps_at_width",
                "TestWrap.test_long_word_kept_whole",
            ],
            summary: "`wrap()` puts every word on its own line even when several fit",
            context: "wrapping help text for a command-line tool to the terminal width",
            setup: "",
            expr: "${module}.wrap(\"the quick brown fox\", 10)",
            expected: Value("['the quick', 'brown fox']"),
            actual: Value("['the', 'quick', 'brown', 'fox']"),
        },
        Site {
            id: "render-pairs-swapped",
            family: SwappedArguments,
            kind: "arguments of `label` swapped",
            fixed: "    return \", \".join(label(key, value) for key, value in sorted(mapping.items()))\n",
            buggy: "    return \", \".join(label(value, key) for key, value in sorted(mapping.items()))\n",
            breaks: &["TestRenderPairs.test_sorted_pairs"],
            summary: "`render_pairs()` prints values before their keys",
            context: "logging request parameters as key=value pairs",
            setup: "",
            expr: "${module}.render_pairs({\"b\": 2, \"a\": 1})",
            expected: Value("'a=1, b=2'"),
            actual: Value("'1=a, 2=b'"),
        },
    ],
};

// ---------------------------------------------------------------- dates ---

const DATES: Template = Template {
    key: "dates",
    blurb: "date helpers: ranges, business days and closed intervals",
    modules: &["dates", "spans", "calendar_tools"],
    axes: &[&[&[("overlaps", "overlaps")], &[("overlaps", "intersects")]]],
    source: r#""""Date helpers: ranges, business days and closed intervals."""

import datetime


def days_between(start, end):
    """Days from ``start`` to ``end``; negative when ``end`` is earlier."""
    return (end - start).days


def date_range(start, end, step=1):
    """Every ``step``-th date (by default every date) from ``start`` up to and including ``end``."""
    if step <= 0:
        raise ValueError("step must be positive")
    result = []
    for offset in range(0, days_between(start, end) + 1, step):
        result.append(start + datetime.timedelta(days=offset))
    return result


def add_business_days(start, days):
    """The date ``days`` working days (Monday to Friday) after ``start``."""
    current = start
    added = 0
    while added < days:
        current += datetime.timedelta(days=1)
        if current.weekday() < 5:
            added += 1
    return current


def quarter(day):
    """Calendar quarter (1 to 4) of ``day``."""
    return (day.month - 1) // 3 + 1


def ${overlaps}(a_start, a_end, b_start, b_end):
    """True when the closed intervals [a_start, a_end] and [b_start, b_end] share a point."""
    return a_start <= b_end and b_start <= a_end


def merge_intervals(intervals):
    """Merge overlapping or touching ``(start, end)`` intervals."""
    merged = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def average_gap(days):
    """Mean number of days between consecutive dates; 0.0 for fewer than two."""
    ordered = sorted(days)
    if len(ordered) < 2:
        return 0.0
    return days_between(ordered[0], ordered[-1]) / (len(ordered) - 1)
"#,
    tests: r#"import datetime
import unittest

from ${pkg} import ${module}

D = datetime.date


class TestDateRange(unittest.TestCase):
    def test_inclusive(self):
        self.assertEqual(
            ${module}.date_range(D(2024, 1, 1), D(2024, 1, 3)),
            [D(2024, 1, 1), D(2024, 1, 2), D(2024, 1, 3)],
        )

    def test_single_day(self):
        self.assertEqual(${module}.date_range(D(2024, 1, 1), D(2024, 1, 1)), [D(2024, 1, 1)])

    def test_step(self):
        self.assertEqual(
            ${module}.date_range(D(2024, 1, 1), D(2024, 1, 5), step=2),
            [D(2024, 1, 1), D(2024, 1, 3), D(2024, 1, 5)],
        )

    def test_end_before_start(self):
        self.assertEqual(${module}.date_range(D(2024, 1, 5), D(2024, 1, 1)), [])

    def test_invalid_step(self):
        with self.assertRaises(ValueError):
            ${module}.date_range(D(2024, 1, 1), D(2024, 1, 5), step=0)


class TestBusinessDays(unittest.TestCase):
    def test_within_week(self):
        self.assertEqual(${module}.add_business_days(D(2024, 3, 4), 3), D(2024, 3, 7))

    def test_skips_weekend(self):
        self.assertEqual(${module}.add_business_days(D(2024, 3, 8), 1), D(2024, 3, 11))

    def test_zero_days(self):
        self.assertEqual(${module}.add_business_days(D(2024, 3, 9), 0), D(2024, 3, 9))


class TestQuarter(unittest.TestCase):
    def test_first_month(self):
        self.assertEqual(${module}.quarter(D(2024, 1, 15)), 1)

    def test_every_month(self):
        quarters = [${module}.quarter(D(2024, month, 1)) for month in range(1, 13)]
        self.assertEqual(quarters, [1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4])


class TestIntervals(unittest.TestCase):
    def test_overlapping(self):
        self.assertTrue(${module}.${overlaps}(D(2024, 1, 1), D(2024, 1, 10), D(2024, 1, 5), D(2024, 1, 20)))

    def test_touching(self):
        self.assertTrue(${module}.${overlaps}(D(2024, 1, 1), D(2024, 1, 5), D(2024, 1, 5), D(2024, 1, 9)))

    def test_disjoint(self):
        self.assertFalse(${module}.${overlaps}(D(2024, 1, 1), D(2024, 1, 2), D(2024, 1, 5), D(2024, 1, 6)))

    def test_disjoint_reversed(self):
        self.assertFalse(${module}.${overlaps}(D(2024, 1, 5), D(2024, 1, 6), D(2024, 1, 1), D(2024, 1, 2)))

    def test_merge_overlapping(self):
        self.assertEqual(${module}.merge_intervals([(2, 6), (1, 4), (8, 9)]), [(1, 6), (8, 9)])

    def test_merge_touching(self):
        self.assertEqual(${module}.merge_intervals([(3, 5), (1, 3)]), [(1, 5)])

    def test_merge_empty(self):
        self.assertEqual(${module}.merge_intervals([]), [])


class TestAverageGap(unittest.TestCase):
    def test_gaps(self):
        self.assertEqual(${module}.average_gap([D(2024, 1, 1), D(2024, 1, 11), D(2024, 1, 5)]), 5.0)

    def test_single_date(self):
        self.assertEqual(${module}.average_gap([D(2024, 1, 1)]), 0.0)

    def test_no_dates(self):
        self.assertEqual(${module}.average_gap([]), 0.0)


if __name__ == "__main__":
    unittest.main()
"#,
    sites: &[
        Site {
            id: "date-range-inclusive",
            family: OffByOne,
            kind: "range stops one day early",
            fixed: "    for offset in range(0, days_between(start, end) + 1, step):\n",
            buggy: "    for offset in range(0, days_between(start, end), step):\n",
            breaks: &[
                "TestDateRange.test_inclusive",
                "TestDateRange.test_single_day",
                "TestDateRange.test_step",
            ],
            summary: "`date_range()` leaves out the end date although the docstring says the range is inclusive",
            context: "listing every day of a booking so I can show it on a calendar",
            setup: "import datetime\n",
            expr: "${module}.date_range(datetime.date(2024, 1, 1), datetime.date(2024, 1, 3))",
            expected: Value(
                "[datetime.date(2024, 1, 1), datetime.date(2024, 1, 2), datetime.date(2024, 1, 3)]",
            ),
            actual: Value("[datetime.date(2024, 1, 1), datetime.date(2024, 1, 2)]"),
        },
        Site {
            id: "date-range-default-step",
            family: WrongDefault,
            kind: "default step changed",
            fixed: "def date_range(start, end, step=1):\n",
            buggy: "def date_range(start, end, step=2):\n",
            breaks: &["TestDateRange.test_inclusive"],
            summary: "`date_range()` without a step skips every other day",
            context: "building a day-by-day report for a short sprint",
            setup: "import datetime\n",
            expr: "${module}.date_range(datetime.date(2024, 1, 1), datetime.date(2024, 1, 3))",
            expected: Value(
                "[datetime.date(2024, 1, 1), datetime.date(2024, 1, 2), datetime.date(2024, 1, 3)]",
            ),
            actual: Value("[datetime.date(2024, 1, 1), datetime.date(2024, 1, 3)]"),
        },
        Site {
            id: "date-range-swapped",
            family: SwappedArguments,
            kind: "arguments of `days_between` swapped",
            fixed: "    for offset in range(0, days_between(start, end) + 1, step):\n",
            buggy: "    for offset in range(0, days_between(end, start) + 1, step):\n",
            breaks: &[
                "TestDateRange.test_inclusive",
                "TestDateRange.test_step",
                "TestDateRange.test_end_before_start",
            ],
            summary: "`date_range()` returns an empty list for a perfectly ordinary start and end date",
            context: "generating the list of days in a holiday period",
            setup: "import datetime\n",
            expr: "${module}.date_range(datetime.date(2024, 1, 1), datetime.date(2024, 1, 3))",
            expected: Value(
                "[datetime.date(2024, 1, 1), datetime.date(2024, 1, 2), datetime.date(2024, 1, 3)]",
            ),
            actual: Value("[]"),
        },
        Site {
            id: "business-days-weekday",
            family: WrongOperator,
            kind: "`<` → `<=`",
            fixed: "        if current.weekday() < 5:\n",
            buggy: "        if current.weekday() <= 5:\n",
            breaks: &["TestBusinessDays.test_skips_weekend"],
            summary: "`add_business_days()` can land on a Saturday",
            context: "computing invoice due dates one working day after a Friday delivery",
            setup: "import datetime\n",
            expr: "${module}.add_business_days(datetime.date(2024, 3, 8), 1)",
            expected: Value("datetime.date(2024, 3, 11)"),
            actual: Value("datetime.date(2024, 3, 9)"),
        },
        Site {
            id: "quarter-operator",
            family: WrongOperator,
            kind: "`-` → `+`",
            fixed: "    return (day.month - 1) // 3 + 1\n",
            buggy: "    return (day.month + 1) // 3 + 1\n",
            breaks: &["TestQuarter.test_every_month"],
            summary: "`quarter()` puts the end of March into the second quarter",
            context: "grouping sales by fiscal quarter",
            setup: "import datetime\n",
            expr: "${module}.quarter(datetime.date(2024, 3, 31))",
            expected: Value("1"),
            actual: Value("2"),
        },
        Site {
            id: "overlaps-and",
            family: WrongOperator,
            kind: "`and` → `or`",
            fixed: "    return a_start <= b_end and b_start <= a_end\n",
            buggy: "    return a_start <= b_end or b_start <= a_end\n",
            breaks: &[
                "TestIntervals.test_disjoint",
                "TestIntervals.test_disjoint_reversed",
            ],
            summary: "`${overlaps}()` reports that two periods a month apart overlap",
            context: "checking room bookings for clashes",
            setup: "import datetime\n",
            expr: "${module}.${overlaps}(datetime.date(2024, 1, 1), datetime.date(2024, 1, 5), datetime.date(2024, 2, 1), datetime.date(2024, 2, 3))",
            expected: Value("False"),
            actual: Value("True"),
        },
        Site {
            id: "merge-touching",
            family: WrongOperator,
            kind: "`<=` → `<`",
            fixed: "        if merged and start <= merged[-1][1]:\n",
            buggy: "        if merged and start < merged[-1][1]:\n",
            breaks: &["TestIntervals.test_merge_touching"],
            summary: "`merge_intervals()` does not merge intervals that touch, although the docstring says it should",
            context: "collapsing consecutive shifts into continuous working periods",
            setup: "",
            expr: "${module}.merge_intervals([(1, 3), (3, 5)])",
            expected: Value("[(1, 5)]"),
            actual: Value("[(1, 3), (3, 5)]"),
        },
        Site {
            id: "average-gap-guard",
            family: MissingEdgeCase,
            kind: "guard for fewer than two dates removed",
            fixed: "    if len(ordered) < 2:\n        return 0.0\n",
            buggy: "",
            breaks: &[
                "TestAverageGap.test_single_date",
                "TestAverageGap.test_no_dates",
            ],
            summary: "`average_gap()` crashes when given a single date",
            context: "computing the average time between a customer's orders, including customers with one order",
            setup: "import datetime\n",
            expr: "${module}.average_gap([datetime.date(2024, 5, 1)])",
            expected: Value("0.0"),
            actual: Raises("ZeroDivisionError"),
        },
    ],
};

// ----------------------------------------------------------------- cart ---

const CART: Template = Template {
    key: "cart",
    blurb: "a shopping cart with stock-keeping helpers",
    modules: &["cart", "inventory", "orders"],
    axes: &[
        &[&[("Cart", "Cart")], &[("Cart", "Basket")]],
        &[
            &[
                ("tax", "0.1"),
                ("total_full", "22.0"),
                ("total_half", "11.0"),
                ("total_half_bad", "33.0"),
            ],
            &[
                ("tax", "0.2"),
                ("total_full", "24.0"),
                ("total_half", "12.0"),
                ("total_half_bad", "36.0"),
            ],
            &[
                ("tax", "0.25"),
                ("total_full", "25.0"),
                ("total_half", "12.5"),
                ("total_half_bad", "37.5"),
            ],
        ],
        &[
            &[("threshold", "5"), ("threshold_minus", "4")],
            &[("threshold", "10"), ("threshold_minus", "9")],
        ],
    ],
    source: r#""""A shopping cart with stock-keeping helpers."""

TAX_RATE = ${tax}


class Item:
    """One line of a cart: a SKU, its unit price and a quantity."""

    def __init__(self, sku, price, quantity):
        if price < 0:
            raise ValueError("price must not be negative")
        self.sku = sku
        self.price = price
        self.quantity = quantity

    def subtotal(self):
        return self.price * self.quantity


class ${Cart}:
    """Items keyed by SKU."""

    def __init__(self):
        self.items = {}

    def add(self, sku, price, quantity=1):
        """Add ``quantity`` units of ``sku`` (one unless told otherwise)."""
        if sku in self.items:
            self.items[sku].quantity += quantity
        else:
            self.items[sku] = Item(sku, price, quantity)

    def remove(self, sku, quantity=1):
        item = self.items.get(sku)
        if item is None:
            raise KeyError(sku)
        item.quantity -= quantity
        if item.quantity <= 0:
            del self.items[sku]

    def skus(self):
        return sorted(self.items)

    def count(self):
        return sum(item.quantity for item in self.items.values())

    def subtotal(self):
        return sum(item.subtotal() for item in self.items.values())

    def total(self, discount=0.0):
        """Subtotal less ``discount`` (a fraction), plus tax, rounded to cents."""
        net = self.subtotal() * (1 - discount)
        return round(net * (1 + TAX_RATE), 2)


def apply_discount(amount, percent):
    """``amount`` reduced by ``percent`` per cent."""
    return amount * (100 - percent) / 100


def bulk_price(unit_price, quantity, bulk_from=10, percent=10):
    """Price of ``quantity`` units, ``percent`` off from ``bulk_from`` units on."""
    gross = unit_price * quantity
    if quantity >= bulk_from:
        return apply_discount(gross, percent)
    return gross


def restock_needed(stock, threshold=${threshold}):
    """SKUs whose stock level is strictly below ``threshold``, sorted."""
    return sorted(sku for sku, level in stock.items() if level < threshold)
"#,
    tests: r#"import unittest

from ${pkg} import ${module}


def filled_cart():
    c = ${module}.${Cart}()
    c.add("apple", 2.0, 5)
    c.add("pear", 5.0, 2)
    return c


class TestItem(unittest.TestCase):
    def test_subtotal(self):
        self.assertEqual(${module}.Item("x", 2.5, 4).subtotal(), 10.0)

    def test_negative_price_rejected(self):
        with self.assertRaises(ValueError):
            ${module}.Item("x", -1.0, 1)


class TestCart(unittest.TestCase):
    def test_add_default_quantity(self):
        c = ${module}.${Cart}()
        c.add("apple", 1.5)
        self.assertEqual(c.count(), 1)

    def test_add_same_sku_accumulates(self):
        c = ${module}.${Cart}()
        c.add("apple", 1.0, 2)
        c.add("apple", 1.0, 3)
        self.assertEqual(c.count(), 5)
        self.assertEqual(c.skus(), ["apple"])

    def test_remove_some(self):
        c = ${module}.${Cart}()
        c.add("apple", 1.0, 3)
        c.remove("apple")
        self.assertEqual(c.count(), 2)
        self.assertEqual(c.skus(), ["apple"])

    def test_remove_all_drops_sku(self):
        c = ${module}.${Cart}()
        c.add("apple", 1.0, 2)
        c.add("pear", 1.0, 1)
        c.remove("apple", 2)
        self.assertEqual(c.skus(), ["pear"])

    def test_remove_unknown(self):
        with self.assertRaises(KeyError):
            ${module}.${Cart}().remove("ghost")


class TestTotals(unittest.TestCase):
    def test_subtotal(self):
        self.assertEqual(filled_cart().subtotal(), 20.0)

    def test_total_without_discount(self):
        self.assertAlmostEqual(filled_cart().total(), ${total_full})

    def test_total_with_discount(self):
        self.assertAlmostEqual(filled_cart().total(discount=0.5), ${total_half})


class TestBulkPrice(unittest.TestCase):
    def test_apply_discount(self):
        self.assertEqual(${module}.apply_discount(50.0, 20), 40.0)

    def test_below_threshold(self):
        self.assertEqual(${module}.bulk_price(2.0, 3), 6.0)

    def test_at_threshold(self):
        self.assertEqual(${module}.bulk_price(1.0, 10), 9.0)

    def test_discount_applied(self):
        self.assertEqual(${module}.bulk_price(2.0, 20), 36.0)


class TestRestock(unittest.TestCase):
    def test_default_threshold(self):
        stock = {"a": 0, "b": ${threshold}, "c": 100, "d": ${threshold_minus}}
        self.assertEqual(${module}.restock_needed(stock), ["a", "d"])

    def test_explicit_threshold(self):
        self.assertEqual(${module}.restock_needed({"a": 1, "b": 7}, threshold=3), ["a"])


if __name__ == "__main__":
    unittest.main()
"#,
    sites: &[
        Site {
            id: "cart-add-default",
            family: WrongDefault,
            kind: "default quantity changed",
            fixed: "    def add(self, sku, price, quantity=1):\n",
            buggy: "    def add(self, sku, price, quantity=0):\n",
            breaks: &["TestCart.test_add_default_quantity"],
            summary: "adding an item to a `${Cart}` without a quantity adds nothing",
            context: "adding single items to a cart from a web form that leaves the quantity out",
            setup: "my_cart = ${module}.${Cart}()\nmy_cart.add(\"apple\", 1.5)\n",
            expr: "my_cart.count()",
            expected: Value("1"),
            actual: Value("0"),
        },
        Site {
            id: "cart-remove-boundary",
            family: WrongOperator,
            kind: "`<=` → `<`",
            fixed: "        if item.quantity <= 0:\n",
            buggy: "        if item.quantity < 0:\n",
            breaks: &["TestCart.test_remove_all_drops_sku"],
            summary: "after removing every unit of a product it still shows up in `${Cart}.skus()`",
            context: "emptying a cart line by line in a checkout flow",
            setup: "my_cart = ${module}.${Cart}()\nmy_cart.add(\"apple\", 1.5, 2)\nmy_cart.remove(\"apple\", 2)\n",
            expr: "my_cart.skus()",
            expected: Value("[]"),
            actual: Value("['apple']"),
        },
        Site {
            id: "cart-total-discount",
            family: WrongOperator,
            kind: "`-` → `+`",
            fixed: "        net = self.subtotal() * (1 - discount)\n",
            buggy: "        net = self.subtotal() * (1 + discount)\n",
            breaks: &["TestTotals.test_total_with_discount"],
            summary: "`${Cart}.total()` goes up, not down, when a discount is passed",
            context: "applying a 50% promotion code at checkout",
            setup: "my_cart = ${module}.${Cart}()\nmy_cart.add(\"apple\", 2.0, 5)\nmy_cart.add(\"pear\", 5.0, 2)\n",
            expr: "my_cart.total(discount=0.5)",
            expected: Value("${total_half}"),
            actual: Value("${total_half_bad}"),
        },
        Site {
            id: "item-negative-price",
            family: MissingEdgeCase,
            kind: "negative-price check removed",
            fixed: "        if price < 0:\n            raise ValueError(\"price must not be negative\")\n",
            buggy: "",
            breaks: &["TestItem.test_negative_price_rejected"],
            summary: "`Item` silently accepts a negative price",
            context: "importing a price list that contained a typo (a minus sign)",
            setup: "",
            expr: "${module}.Item(\"x\", -1.0, 1).price",
            expected: Raises("ValueError"),
            actual: Value("-1.0"),
        },
        Site {
            id: "bulk-price-swapped",
            family: SwappedArguments,
            kind: "arguments of `apply_discount` swapped",
            fixed: "        return apply_discount(gross, percent)\n",
            buggy: "        return apply_discount(percent, gross)\n",
            breaks: &["TestBulkPrice.test_discount_applied"],
            summary: "`bulk_price()` returns absurdly low prices for large orders",
            context: "quoting a wholesale order of twenty units",
            setup: "",
            expr: "${module}.bulk_price(2.0, 20)",
            expected: Value("36.0"),
            actual: Value("6.0"),
        },
        Site {
            id: "bulk-price-threshold",
            family: WrongOperator,
            kind: "`>=` → `>`",
            fixed: "    if quantity >= bulk_from:\n",
            buggy: "    if quantity > bulk_from:\n",
            breaks: &["TestBulkPrice.test_at_threshold"],
            summary: "`bulk_price()` gives no discount when the quantity is exactly the bulk threshold",
            context: "checking that an order of exactly ten units gets the bulk discount",
            setup: "",
            expr: "${module}.bulk_price(1.0, 10)",
            expected: Value("9.0"),
            actual: Value("10.0"),
        },
        Site {
            id: "restock-strict",
            family: WrongOperator,
            kind: "`<` → `<=`",
            fixed: "    return sorted(sku for sku, level in stock.items() if level < threshold)\n",
            buggy: "    return sorted(sku for sku, level in stock.items() if level <= threshold)\n",
            breaks: &["TestRestock.test_default_threshold"],
            summary: "`restock_needed()` lists products whose stock is exactly at the threshold",
            context: "generating the weekly reorder list for the warehouse",
            setup: "",
            expr: "${module}.restock_needed({\"bolts\": ${threshold}, \"nuts\": 0})",
            expected: Value("['nuts']"),
            actual: Value("['bolts', 'nuts']"),
        },
    ],
};

// ----------------------------------------------------------------- grid ---

const GRID: Template = Template {
    key: "grid",
    blurb: "a fixed-size grid of cells and list-of-lists matrix helpers",
    modules: &["grid", "board", "matrix"],
    axes: &[&[
        &[("Grid", "Grid")],
        &[("Grid", "Board")],
        &[("Grid", "CellGrid")],
    ]],
    source: r#""""A fixed-size grid of cells and list-of-lists matrix helpers."""


class ${Grid}:
    """``rows`` x ``cols`` cells, all starting as ``fill`` (zero by default)."""

    def __init__(self, rows, cols, fill=0):
        if rows <= 0 or cols <= 0:
            raise ValueError("a grid needs at least one row and one column")
        self.rows = rows
        self.cols = cols
        self.cells = [[fill] * cols for _ in range(rows)]

    def in_bounds(self, row, col):
        return 0 <= row < self.rows and 0 <= col < self.cols

    def get(self, row, col):
        if not self.in_bounds(row, col):
            raise IndexError((row, col))
        return self.cells[row][col]

    def set(self, row, col, value):
        if not self.in_bounds(row, col):
            raise IndexError((row, col))
        self.cells[row][col] = value

    def neighbours(self, row, col):
        """In-bounds cells directly above, below, left and right."""
        result = []
        for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1)):
            if self.in_bounds(row + dr, col + dc):
                result.append((row + dr, col + dc))
        return result

    def row_sums(self):
        return [sum(row) for row in self.cells]


def from_rows(rows):
    """Build a grid from a non-empty list of equally long rows."""
    grid = ${Grid}(len(rows), len(rows[0]))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            grid.set(r, c, value)
    return grid


def transpose(matrix):
    """Swap rows and columns; the empty matrix stays empty."""
    if not matrix:
        return []
    return [[row[c] for row in matrix] for c in range(len(matrix[0]))]


def matmul(a, b):
    """Product of two matrices given as lists of rows."""
    if len(a[0]) != len(b):
        raise ValueError("inner dimensions differ")
    result = []
    for i in range(len(a)):
        row = []
        for j in range(len(b[0])):
            row.append(sum(a[i][k] * b[k][j] for k in range(len(b))))
        result.append(row)
    return result
"#,
    tests: r#"import unittest

from ${pkg} import ${module}


class TestGrid(unittest.TestCase):
    def test_rejects_empty_dimension(self):
        with self.assertRaises(ValueError):
            ${module}.${Grid}(0, 3)

    def test_default_fill(self):
        self.assertEqual(${module}.${Grid}(2, 2).get(1, 1), 0)

    def test_set_get(self):
        g = ${module}.${Grid}(2, 2, fill=1)
        g.set(0, 1, 5)
        self.assertEqual(g.get(0, 1), 5)

    def test_get_out_of_bounds(self):
        with self.assertRaises(IndexError):
            ${module}.${Grid}(2, 3).get(2, 0)

    def test_in_bounds_edges(self):
        g = ${module}.${Grid}(2, 3)
        self.assertTrue(g.in_bounds(1, 2))
        self.assertFalse(g.in_bounds(2, 0))
        self.assertFalse(g.in_bounds(0, -1))

    def test_neighbours_middle(self):
        self.assertEqual(len(${module}.${Grid}(3, 3).neighbours(1, 1)), 4)

    def test_neighbours_corner(self):
        self.assertEqual(sorted(${module}.${Grid}(2, 3).neighbours(1, 2)), [(0, 2), (1, 1)])

    def test_row_sums_fresh(self):
        self.assertEqual(${module}.${Grid}(2, 3).row_sums(), [0, 0])

    def test_row_sums(self):
        g = ${module}.${Grid}(2, 2, fill=1)
        g.set(1, 0, 4)
        self.assertEqual(g.row_sums(), [2, 5])


class TestFromRows(unittest.TestCase):
    def test_square(self):
        self.assertEqual(${module}.from_rows([[1, 2], [3, 4]]).get(0, 1), 2)

    def test_rectangular(self):
        self.assertEqual(${module}.from_rows([[1, 2, 3], [4, 5, 6]]).row_sums(), [6, 15])


class TestMatrix(unittest.TestCase):
    def test_transpose(self):
        self.assertEqual(${module}.transpose([[1, 2, 3], [4, 5, 6]]), [[1, 4], [2, 5], [3, 6]])

    def test_transpose_empty(self):
        self.assertEqual(${module}.transpose([]), [])

    def test_matmul(self):
        self.assertEqual(${module}.matmul([[1, 2], [3, 4]], [[5, 6], [7, 8]]), [[19, 22], [43, 50]])

    def test_matmul_identity(self):
        m = [[2, 3], [4, 5]]
        self.assertEqual(${module}.matmul([[1, 0], [0, 1]], m), m)

    def test_matmul_shape_mismatch(self):
        with self.assertRaises(ValueError):
            ${module}.matmul([[1, 2]], [[1, 2]])


if __name__ == "__main__":
    unittest.main()
"#,
    sites: &[
        Site {
            id: "grid-size-check",
            family: WrongOperator,
            kind: "`or` → `and`",
            fixed: "        if rows <= 0 or cols <= 0:\n",
            buggy: "        if rows <= 0 and cols <= 0:\n",
            breaks: &["TestGrid.test_rejects_empty_dimension"],
            summary: "a `${Grid}` with zero rows can be created without any error",
            context: "loading level layouts from a file in which one level was empty",
            setup: "",
            expr: "${module}.${Grid}(0, 3).rows",
            expected: Raises("ValueError"),
            actual: Value("0"),
        },
        Site {
            id: "grid-in-bounds",
            family: WrongOperator,
            kind: "`<` → `<=`",
            fixed: "        return 0 <= row < self.rows and 0 <= col < self.cols\n",
            buggy: "        return 0 <= row <= self.rows and 0 <= col < self.cols\n",
            breaks: &[
                "TestGrid.test_in_bounds_edges",
                "TestGrid.test_neighbours_corner",
            ],
            summary: "`${Grid}.neighbours()` returns a cell below the last row",
            context: "running a flood fill from a cell on the bottom edge of the board",
            setup: "my_grid = ${module}.${Grid}(2, 3)\n",
            expr: "sorted(my_grid.neighbours(1, 0))",
            expected: Value("[(0, 0), (1, 1)]"),
            actual: Value("[(0, 0), (1, 1), (2, 0)]"),
        },
        Site {
            id: "grid-default-fill",
            family: WrongDefault,
            kind: "default fill changed",
            fixed: "    def __init__(self, rows, cols, fill=0):\n",
            buggy: "    def __init__(self, rows, cols, fill=None):\n",
            breaks: &["TestGrid.test_default_fill", "TestGrid.test_row_sums_fresh"],
            summary: "`row_sums()` on a freshly created `${Grid}` crashes with a TypeError",
            context: "creating an empty score board and printing its totals before the first round",
            setup: "",
            expr: "${module}.${Grid}(2, 3).row_sums()",
            expected: Value("[0, 0]"),
            actual: Raises("TypeError"),
        },
        Site {
            id: "from-rows-swapped",
            family: SwappedArguments,
            kind: "row and column passed to `set` in the wrong order",
            fixed: "            grid.set(r, c, value)\n",
            buggy: "            grid.set(c, r, value)\n",
            breaks: &["TestFromRows.test_square", "TestFromRows.test_rectangular"],
            summary: "`from_rows()` builds a mirrored grid, and fails outright for non-square input",
            context: "loading a small tile map from nested lists",
            setup: "",
            expr: "${module}.from_rows([[1, 2], [3, 4]]).get(0, 1)",
            expected: Value("2"),
            actual: Value("3"),
        },
        Site {
            id: "transpose-empty",
            family: MissingEdgeCase,
            kind: "empty-matrix guard removed",
            fixed: "    if not matrix:\n        return []\n",
            buggy: "",
            breaks: &["TestMatrix.test_transpose_empty"],
            summary: "`transpose([])` raises an IndexError instead of returning an empty matrix",
            context: "transposing query results, which are sometimes empty",
            setup: "",
            expr: "${module}.transpose([])",
            expected: Value("[]"),
            actual: Raises("IndexError"),
        },
        Site {
            id: "matmul-inner-range",
            family: OffByOne,
            kind: "inner sum stops one term early",
            fixed: "            row.append(sum(a[i][k] * b[k][j] for k in range(len(b))))\n",
            buggy: "            row.append(sum(a[i][k] * b[k][j] for k in range(len(b) - 1)))\n",
            breaks: &["TestMatrix.test_matmul", "TestMatrix.test_matmul_identity"],
            summary: "`matmul()` returns wrong products; multiplying by the identity does not give the matrix back",
            context: "composing two 2x2 transformation matrices",
            setup: "",
            expr: "${module}.matmul([[1, 2], [3, 4]], [[5, 6], [7, 8]])",
            expected: Value("[[19, 22], [43, 50]]"),
            actual: Value("[[5, 6], [15, 18]]"),
        },
    ],
};

// --------------------------------------------------------------- tokens ---

const TOKENS: Template = Template {
    key: "tokens",
    blurb: "a word tokenizer with n-gram and frequency helpers",
    modules: &["tokens", "tokenizer", "lexer"],
    axes: &[
        &[&[("tokenize", "tokenize")], &[("tokenize", "split_tokens")]],
        &[
            &[
                ("n", "2"),
                ("ngram_default", "[('a', 'b'), ('b', 'c'), ('c', 'd')]"),
            ],
            &[
                ("n", "3"),
                ("ngram_default", "[('a', 'b', 'c'), ('b', 'c', 'd')]"),
            ],
        ],
    ],
    source: r#""""A small word tokenizer with n-gram and frequency helpers."""

PUNCTUATION = frozenset(".,;:!?")
STOPWORDS = frozenset({"a", "an", "and", "of", "the", "to"})


def ${tokenize}(text, lowercase=True):
    """Split ``text`` into word and punctuation tokens, lower-cased unless
    ``lowercase`` is false; ``None`` gives no tokens."""
    if text is None:
        return []
    if lowercase:
        text = text.lower()
    tokens = []
    word = ""
    for ch in text:
        if ch.isalnum() or ch == "'":
            word += ch
            continue
        if word:
            tokens.append(word)
            word = ""
        if ch in PUNCTUATION:
            tokens.append(ch)
    if word:
        tokens.append(word)
    return tokens


def content_words(tokens):
    """Tokens that are neither stop words nor punctuation."""
    return [t for t in tokens if t not in STOPWORDS and t not in PUNCTUATION]


def ngrams(tokens, n=${n}):
    """Every run of ``n`` consecutive tokens, as tuples."""
    if n <= 0:
        raise ValueError("n must be positive")
    return [tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]


def frequencies(tokens):
    """Map each token to the number of times it occurs."""
    counts = {}
    for token in tokens:
        counts[token] = counts.get(token, 0) + 1
    return counts


def top_k(tokens, k=3):
    """The ``k`` most frequent tokens, ties broken alphabetically."""
    ranked = sorted(frequencies(tokens).items(), key=lambda kv: (-kv[1], kv[0]))
    return [token for token, _ in ranked[:k]]


def coverage(query, document):
    """Fraction of the distinct ``query`` tokens that occur in ``document``."""
    wanted = set(query)
    if not wanted:
        return 1.0
    return len(wanted & set(document)) / len(wanted)


def contains_all(text, required):
    """True when every token of ``required`` occurs in ``text``."""
    return coverage(${tokenize}(required), ${tokenize}(text)) == 1.0
"#,
    tests: r#"import unittest

from ${pkg} import ${module}


class TestTokenize(unittest.TestCase):
    def test_lowercases_by_default(self):
        self.assertEqual(${module}.${tokenize}("Hello, World!"), ["hello", ",", "world", "!"])

    def test_keep_case(self):
        self.assertEqual(${module}.${tokenize}("Hi there", lowercase=False), ["Hi", "there"])

    def test_apostrophes(self):
        self.assertEqual(${module}.${tokenize}("don't stop"), ["don't", "stop"])

    def test_none_gives_no_tokens(self):
        self.assertEqual(${module}.${tokenize}(None), [])

    def test_content_words(self):
        toks = ["the", "cat", ",", "sat"]
        self.assertEqual(${module}.content_words(toks), ["cat", "sat"])


class TestNgrams(unittest.TestCase):
    def test_bigrams(self):
        self.assertEqual(${module}.ngrams(["a", "b", "c"], 2), [("a", "b"), ("b", "c")])

    def test_unigrams(self):
        self.assertEqual(${module}.ngrams(["a", "b"], 1), [("a",), ("b",)])

    def test_default_n(self):
        self.assertEqual(${module}.ngrams(["a", "b", "c", "d"]), ${ngram_default})

    def test_too_short(self):
        self.assertEqual(${module}.ngrams(["a"], 3), [])

    def test_invalid_n(self):
        with self.assertRaises(ValueError):
            ${module}.ngrams(["a"], 0)


class TestFrequencies(unittest.TestCase):
    def test_counts(self):
        self.assertEqual(${module}.frequencies(["x", "y", "x"]), {"x": 2, "y": 1})

    def test_top_k(self):
        toks = ["b", "a", "b", "c", "b", "a"]
        self.assertEqual(${module}.top_k(toks, 2), ["b", "a"])

    def test_top_k_ties_alphabetical(self):
        self.assertEqual(${module}.top_k(["y", "x"], 2), ["x", "y"])


class TestCoverage(unittest.TestCase):
    def test_coverage(self):
        self.assertEqual(${module}.coverage(["a", "b"], ["b", "c"]), 0.5)

    def test_empty_query(self):
        self.assertEqual(${module}.coverage([], ["a"]), 1.0)

    def test_contains_all(self):
        self.assertTrue(${module}.contains_all("the quick brown fox", "quick fox"))

    def test_contains_all_missing(self):
        self.assertFalse(${module}.contains_all("the quick fox", "slow fox"))


if __name__ == "__main__":
    unittest.main()
"#,
    sites: &[
        Site {
            id: "tokenize-default-lowercase",
            family: WrongDefault,
            kind: "default `lowercase` changed",
            fixed: "def ${tokenize}(text, lowercase=True):\n",
            buggy: "def ${tokenize}(text, lowercase=False):\n",
            breaks: &["TestTokenize.test_lowercases_by_default"],
            summary: "`${tokenize}()` no longer lower-cases its input by default",
            context: "building a case-insensitive search index",
            setup: "",
            expr: "${module}.${tokenize}(\"Hello, World!\")",
            expected: Value("['hello', ',', 'world', '!']"),
            actual: Value("['Hello', ',', 'World', '!']"),
        },
        Site {
            id: "tokenize-none",
            family: MissingEdgeCase,
            kind: "`None` guard removed",
            fixed: "    if text is None:\n        return []\n",
            buggy: "",
            breaks: &["TestTokenize.test_none_gives_no_tokens"],
            summary: "`${tokenize}(None)` raises an AttributeError although the docstring says None gives no tokens",
            context: "tokenizing the optional description field of database rows",
            setup: "",
            expr: "${module}.${tokenize}(None)",
            expected: Value("[]"),
            actual: Raises("AttributeError"),
        },
        Site {
            id: "content-words-and",
            family: WrongOperator,
            kind: "`and` → `or`",
            fixed: "    return [t for t in tokens if t not in STOPWORDS and t not in PUNCTUATION]\n",
            buggy: "    return [t for t in tokens if t not in STOPWORDS or t not in PUNCTUATION]\n",
            breaks: &["TestTokenize.test_content_words"],
            summary: "`content_words()` returns its input unchanged, stop words and punctuation included",
            context: "extracting keywords from product reviews",
            setup: "",
            expr: "${module}.content_words([\"the\", \"cat\", \"sat\", \".\"])",
            expected: Value("['cat', 'sat']"),
            actual: Value("['the', 'cat', 'sat', '.']"),
        },
        Site {
            id: "ngrams-slice",
            family: OffByOne,
            kind: "slice one token too short",
            fixed: "    return [tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]\n",
            buggy: "    return [tuple(tokens[i:i + n - 1]) for i in range(len(tokens) - n + 1)]\n",
            breaks: &[
                "TestNgrams.test_bigrams",
                "TestNgrams.test_unigrams",
                "TestNgrams.test_default_n",
            ],
            summary: "`ngrams()` returns tuples that are one token shorter than n",
            context: "counting word pairs for a simple language model",
            setup: "",
            expr: "${module}.ngrams([\"to\", \"be\", \"or\"], 2)",
            expected: Value("[('to', 'be'), ('be', 'or')]"),
            actual: Value("[('to',), ('be',)]"),
        },
        Site {
            id: "ngrams-range",
            family: OffByOne,
            kind: "range stops one n-gram early",
            fixed: "    return [tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]\n",
            buggy: "    return [tuple(tokens[i:i + n]) for i in range(len(tokens) - n)]\n",
            breaks: &[
                "TestNgrams.test_bigrams",
                "TestNgrams.test_unigrams",
                "TestNgrams.test_default_n",
            ],
            summary: "`ngrams()` misses the last n-gram of the sequence",
            context: "extracting phrases from short search queries",
            setup: "",
            expr: "${module}.ngrams([\"to\", \"be\", \"or\"], 2)",
            expected: Value("[('to', 'be'), ('be', 'or')]"),
            actual: Value("[('to', 'be')]"),
        },
        Site {
            id: "frequencies-operator",
            family: WrongOperator,
            kind: "`+` → `-`",
            fixed: "        counts[token] = counts.get(token, 0) + 1\n",
            buggy: "        counts[token] = counts.get(token, 0) - 1\n",
            breaks: &["TestFrequencies.test_counts", "TestFrequencies.test_top_k"],
            summary: "`frequencies()` reports negative counts, and `top_k()` therefore returns the rarest tokens",
            context: "building a word-frequency table for a corpus",
            setup: "",
            expr: "${module}.frequencies([\"a\", \"b\", \"a\"])",
            expected: Value("{'a': 2, 'b': 1}"),
            actual: Value("{'a': -2, 'b': -1}"),
        },
        Site {
            id: "top-k-slice",
            family: OffByOne,
            kind: "slice one element too short",
            fixed: "    return [token for token, _ in ranked[:k]]\n",
            buggy: "    return [token for token, _ in ranked[:k - 1]]\n",
            breaks: &[
                "TestFrequencies.test_top_k",
                "TestFrequencies.test_top_k_ties_alphabetical",
            ],
            summary: "`top_k()` returns one token fewer than asked for",
            context: "showing the three most common tags on a dashboard",
            setup: "",
            expr: "${module}.top_k([\"b\", \"a\", \"b\", \"c\"], 2)",
            expected: Value("['b', 'a']"),
            actual: Value("['b']"),
        },
        Site {
            id: "contains-all-swapped",
            family: SwappedArguments,
            kind: "arguments of `coverage` swapped",
            fixed: "    return coverage(${tokenize}(required), ${tokenize}(text)) == 1.0\n",
            buggy: "    return coverage(${tokenize}(text), ${tokenize}(required)) == 1.0\n",
            breaks: &["TestCoverage.test_contains_all"],
            summary: "`contains_all()` returns False even when every required word is in the text",
            context: "filtering documents that mention all of the user's search terms",
            setup: "",
            expr: "${module}.contains_all(\"the quick brown fox\", \"quick fox\")",
            expected: Value("True"),
            actual: Value("False"),
        },
    ],
};
