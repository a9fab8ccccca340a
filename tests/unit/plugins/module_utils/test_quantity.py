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
