"""Money arithmetic: Decimal only, rounded half-up to the cent (China's 四舍五入)."""
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")


def D(value):  # noqa: N802 - reads like a literal
    """Decimal from str/int/Decimal; floats are refused (they carry binary noise)."""
    if isinstance(value, float):
        raise TypeError("money must not be a float")
    try:
        result = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        result = None
    if result is None or not result.is_finite():
        from flask_babel import gettext as _
        from .errors import ValidationError
        raise ValidationError(_("Not an amount: %(value)s", value=str(value)[:40]))
    return result


def cents(value):
    return D(value).quantize(CENT, rounding=ROUND_HALF_UP)


def yuan(value):
    """'¥1,234.50' for screens and prints."""
    return f"¥{cents(value):,.2f}"
