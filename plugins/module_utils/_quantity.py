# Copyright: (c) 2026, k8s-ee contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes resource quantities as exact numbers.

CPU is handled in millicores and memory/storage in MiB; both are exact
fractions until a result is rounded up at the very end.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

# The grammar of k8s.io/apimachinery/pkg/api/resource (without a sign: a negative quantity is never
# valid here), bounded: at most 20 digits before and after the point and a decimal exponent of at
# most 2 digits. Unbounded, "1e10000000" costs seconds of CPU and megabytes as an exact fraction, and
# the API server would not keep such a number anyway (it caps quantities at 2^63-1).
QUANTITY_PATTERN = (
    r"^(([0-9]{1,20}(\.[0-9]{0,20})?)|(\.[0-9]{1,20}))"
    r"(([KMGTPE]i)|[numkMGTPE]|([eE][+-]?[0-9]{1,2}))?$"
)
_QUANTITY_RE = re.compile(QUANTITY_PATTERN)
MAX_CHARS = 48  # the longest text QUANTITY_PATTERN matches is 45 characters
_LONG_EXPONENT = re.compile(r"[eE][+-]?[0-9]{3,}$")
_LONG_NUMBER = re.compile(r"[0-9]{21,}")

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
    "n": Fraction(1, 10**9),
    "u": Fraction(1, 10**6),
    "m": Fraction(1, 10**3),
    "": Fraction(1),
    "k": Fraction(10**3),
    "M": Fraction(10**6),
    "G": Fraction(10**9),
    "T": Fraction(10**12),
    "P": Fraction(10**15),
    "E": Fraction(10**18),
}
MIB = 2**20


class QuantityError(ValueError):
    """A string that is not a Kubernetes quantity."""


def parse(text: str | int | float) -> Fraction:
    """Return the value of a quantity in base units (cores or bytes)."""
    if isinstance(text, bool):
        raise QuantityError(f"{text!r} is not a quantity")
    if isinstance(text, (int, float)):
        if isinstance(text, float) and not math.isfinite(text):
            raise QuantityError(f"{text!r} is not a finite number")
        if text < 0:
            raise QuantityError(f"{text!r} is negative")
        return Fraction(text) if isinstance(text, int) else Fraction(str(text))
    if not isinstance(text, str):
        raise QuantityError(f"{text!r} is not a Kubernetes quantity (e.g. 250m, 0.5, 512Mi, 1Gi)")
    if len(text) > MAX_CHARS:
        raise QuantityError(
            f"{text[:20]!r}... has {len(text)} characters; a quantity has at most {MAX_CHARS} (e.g. 250m, 512Mi, 1Gi)"
        )
    if not _QUANTITY_RE.match(text):
        if _LONG_EXPONENT.search(text):
            raise QuantityError(
                f"{text!r} has an exponent of more than 2 digits; write it with a suffix (e.g. 1Gi, 500m)"
            )
        if _LONG_NUMBER.search(text):
            raise QuantityError(f"{text!r} has more than 20 digits in a row; write it with a suffix (e.g. 1Gi, 500m)")
        raise QuantityError(f"{text!r} is not a Kubernetes quantity (e.g. 250m, 0.5, 512Mi, 1Gi)")
    match = re.match(r"^([0-9.]+)(.*)$", text)
    number, suffix = Fraction(match.group(1)), match.group(2)
    if suffix in _BINARY:
        return number * _BINARY[suffix]
    if suffix in _DECIMAL:
        return number * _DECIMAL[suffix]
    return number * Fraction(10) ** int(suffix[1:])  # e/E exponent, at most 2 digits


def millicores(text: str | int | float) -> Fraction:
    return parse(text) * 1000


def mebibytes(text: str | int | float) -> Fraction:
    return parse(text) / MIB


def ceil(value: Fraction) -> int:
    return math.ceil(value)


def format_cpu(millis: int) -> str:
    """Millicores in the canonical form the API server stores (1000m is "1")."""
    if millis % 1000 == 0:
        return str(millis // 1000)
    return f"{millis}m"


def format_memory(mib: int) -> str:
    """MiB in the canonical form the API server stores (1024Mi is "1Gi")."""
    if mib == 0:
        return "0"
    for suffix, size in (("Ti", 2**20), ("Gi", 2**10)):
        if mib % size == 0:
            return f"{mib // size}{suffix}"
    return f"{mib}Mi"
