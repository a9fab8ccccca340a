from fractions import Fraction

import pytest

from ansible_collections.k8s_ee.platform.plugins.module_utils import _quantity as q


@pytest.mark.parametrize(
    ("text", "cores"),
    [
        ("1", 1),
        ("250m", Fraction(1, 4)),
        ("0.5", Fraction(1, 2)),
        (".5", Fraction(1, 2)),
        ("1.", 1),
        ("100u", Fraction(1, 10**4)),
        ("2k", 2000),
        ("1e3", 1000),
        ("1E-3", Fraction(1, 1000)),
        (2, 2),
        (0.25, Fraction(1, 4)),
    ],
)
def test_parse_cpu(text, cores):
    assert q.parse(text) == cores


@pytest.mark.parametrize(
    ("text", "mib"),
    [
        ("1Mi", 1),
        ("1Gi", 1024),
        ("512Ki", Fraction(1, 2)),
        ("1M", Fraction(10**6, 2**20)),
        ("1Ti", 1024 * 1024),
        ("1048576", 1),
    ],
)
def test_parse_memory(text, mib):
    assert q.mebibytes(text) == mib


@pytest.mark.parametrize("text", ["", "-1", "1.2.3", "1mi", "Gi", "1 Gi", "1GB", True, None, "1e", "+1"])
def test_parse_rejects(text):
    with pytest.raises(q.QuantityError):
        q.parse(text)


@pytest.mark.parametrize(("millis", "text"), [(1000, "1"), (2000, "2"), (1500, "1500m"), (690, "690m"), (0, "0")])
def test_format_cpu(millis, text):
    assert q.format_cpu(millis) == text


@pytest.mark.parametrize(
    ("mib", "text"), [(1024, "1Gi"), (1178, "1178Mi"), (3584, "3584Mi"), (1048576, "1Ti"), (0, "0"), (3072, "3Gi")]
)
def test_format_memory(mib, text):
    assert q.format_memory(mib) == text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # exact fractions make 10**10000000 cost seconds and megabytes: bounded before any arithmetic
        ("1e10000000", "'1e10000000' has an exponent of more than 2 digits; write it with a suffix (e.g. 1Gi, 500m)"),
        ("1e100", "'1e100' has an exponent of more than 2 digits; write it with a suffix (e.g. 1Gi, 500m)"),
        ("1" * 21, f"'{'1' * 21}' has more than 20 digits in a row; write it with a suffix (e.g. 1Gi, 500m)"),
        ("1e1.5", "'1e1.5' is not a Kubernetes quantity (e.g. 250m, 0.5, 512Mi, 1Gi)"),
        ("9" * 5000, f"'{'9' * 20}'... has 5000 characters; a quantity has at most 48 (e.g. 250m, 512Mi, 1Gi)"),
        (float("inf"), "inf is not a finite number"),
        (float("nan"), "nan is not a finite number"),
    ],
)
def test_parse_bounds_what_it_computes(text, message):
    with pytest.raises(q.QuantityError) as raised:
        q.parse(text)
    assert str(raised.value) == message


@pytest.mark.parametrize(("text", "cores"), [("1e99", 10**99), ("1E-9", Fraction(1, 10**9)), ("9" * 20, 10**20 - 1)])
def test_parse_keeps_the_bounded_forms(text, cores):
    assert q.parse(text) == cores


def test_the_code_and_the_schema_share_one_grammar():
    from ansible_collections.k8s_ee.platform.plugins.module_utils._schema import SCHEMA

    assert SCHEMA["$defs"]["quantity"]["pattern"] == q.QUANTITY_PATTERN
