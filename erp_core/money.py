"""Money arithmetic: Decimal only, rounded half-up to the cent (China's 四舍五入)."""
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal(10) ** 12


def D(value):  # noqa: N802 - reads like a literal
    """Decimal from str/int/Decimal; floats are refused (they carry binary noise)."""
    if isinstance(value, float):
        raise TypeError("money must not be a float")
    try:
        result = None if isinstance(value, (bool, list, dict)) else \
            value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        result = None
    # 10^12 is beyond any amount a hospital's logistics handles and within every Numeric column
    if result is None or not result.is_finite() or abs(result) >= MAX_AMOUNT:
        from flask_babel import gettext as _
        from .errors import ValidationError
        raise ValidationError(_("Not an amount: %(value)s", value=str(value)[:40]))
    return result


def cents(value):
    return D(value).quantize(CENT, rounding=ROUND_HALF_UP)


def yuan(value):
    """'¥1,234.50' for screens and prints."""
    return f"¥{cents(value):,.2f}"
