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


def half_up(value, places=0):
    """THE rounding rule of the project (四舍五入): half away from zero, to ``places``
    decimals. The formula language's round(), the assessment engine and the annual
    figures all round through here, so a printed step can be redone with a pencil."""
    return D(value).quantize(Decimal(1).scaleb(-int(places)), rounding=ROUND_HALF_UP)


def cents(value):
    return half_up(value, 2)


def yuan(value):
    """'¥1,234.50' for screens and prints."""
    return f"¥{cents(value):,.2f}"
