"""Exact point values (积分): Decimals with at most one decimal place, never floats."""

from decimal import Decimal, InvalidOperation

TENTH = Decimal("0.1")
LIMIT = Decimal("1000000000")


def to_points(value, *, allow_text=True):
    """Return `value` as an exact Decimal with at most one decimal place.

    Accepts Decimal, int, float (through its shortest text, so 0.1 stays 0.1) and, when
    `allow_text`, numeric text. Raises ValueError whose message completes a sentence
    that starts with the field's name: "points must have at most one decimal place".
    """
    number = _as_decimal(value, allow_text)
    if not number.is_finite():
        raise ValueError("must be a finite number")
    if abs(number) >= LIMIT:
        raise ValueError("is too large")
    if number != number.quantize(TENTH):
        raise ValueError(f"must have at most one decimal place (got {value})")
    return canonical(number)


def canonical(number):
    """Write each value one way: 2.50 → 2.5, 5.0 → 5, -0 → 0."""
    if number == 0:
        return Decimal(0)
    if number == number.to_integral_value():
        return number.quantize(Decimal(1))
    return number.quantize(TENTH)


def to_whole(value):
    """Return `value` as an int; bools, fractions and text are refused with ValueError."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("must be a whole number")
    return value


def _as_decimal(value, allow_text):
    if isinstance(value, bool):
        raise ValueError("must be a number, not yes/no or true/false")
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, str):
        if not allow_text:
            raise ValueError(f"must be a number, not text ({value!r})")
        try:
            return Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"must be a number (got {value!r})") from None
    raise ValueError("must be a number")
