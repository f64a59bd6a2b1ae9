"""Unified social credit code (统一社会信用代码, GB 32100-2015) check digit."""
CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def check_char(first17):
    total = sum(CHARSET.index(c) * w for c, w in zip(first17, WEIGHTS))
    return CHARSET[(31 - total % 31) % 31]


def is_valid(code):
    code = (code or "").strip().upper()
    return (len(code) == 18 and all(c in CHARSET for c in code)
            and check_char(code[:17]) == code[17])
