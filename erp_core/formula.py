"""A safe evaluator for formulas users type into rules, e.g. ``15 + score`` or
``if(score >= 90, 100, max(0, 100 - (90 - score) * 2))``.

Never Python ``eval``: a small recursive-descent parser over Decimal with a fixed set of
operators, named variables and whitelisted functions. No attributes, no indexing, no
imports, no calls to anything else; exponents are bounded. Errors name the position.
"""
import re
from decimal import Decimal, InvalidOperation, localcontext

from flask_babel import gettext as _

from .errors import ValidationError
from .money import half_up

FUNCTIONS = {
    "min": (2, None, lambda *a: min(a)), "max": (2, None, lambda *a: max(a)),
    "abs": (1, 1, lambda a: abs(a)), "round": (1, 2, lambda a, n=Decimal(0): half_up(a, n)),   # half-up, like every figure
    "if": (3, 3, None),          # lazy: if(condition, then, else)
}
TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d+)?|\.\d+)|([A-Za-z_\u4e00-\u9fff][A-Za-z0-9_\u4e00-\u9fff]*)|(<=|>=|==|!=|[-+*/^(),<>]))")
MAX_LENGTH, MAX_EXPONENT, MAX_MAGNITUDE = 500, 10, Decimal("1e12")


class FormulaError(ValidationError):
    def __init__(self, message, position):
        super().__init__(_("Formula error at position %(pos)s: %(msg)s", pos=position + 1, msg=message))
        self.position = position


def tokenize(text):
    if len(text) > MAX_LENGTH:
        raise FormulaError(_("the formula is longer than %(n)s characters", n=MAX_LENGTH), MAX_LENGTH)
    tokens, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = TOKEN.match(text, pos)
        if not m:
            start = pos + len(text[pos:]) - len(text[pos:].lstrip())
            raise FormulaError(_("unexpected character %(c)s", c=repr(text[start])), start)
        start = m.start(m.lastindex)
        kind = ("num", "name", "op")[m.lastindex - 1]
        tokens.append((kind, m.group(m.lastindex), start))
        pos = m.end()
    tokens.append(("end", "", len(text)))
    return tokens


class Formula:
    """Parse once (``Formula(text, variables)`` validates), evaluate many times."""

    def __init__(self, text, variables=("score",)):
        self.text, self.variables = text or "", set(variables)
        self.tokens, self.i = tokenize(self.text), 0
        self.tree = self._expr()
        if self._peek()[0] != "end":
            raise FormulaError(_("unexpected %(tok)s", tok=repr(self._peek()[1])), self._peek()[2])

    # grammar: expr := cmp ; cmp := sum (op sum)? ; sum := term (+|- term)* ; term := unary (*|/ unary)*
    #          unary := (+|-) unary | power ; power := atom (^ unary)? ; atom := num | name | call | ( expr )
    def _peek(self):
        return self.tokens[self.i]

    def _take(self, value=None):
        tok = self.tokens[self.i]
        if value is not None and tok[1] != value:
            raise FormulaError(_("expected %(want)s", want=repr(value)), tok[2])
        self.i += 1
        return tok

    def _expr(self):
        left = self._sum()
        if self._peek()[1] in ("<", "<=", ">", ">=", "==", "!="):
            op = self._take()
            return ("cmp", op[1], left, self._sum(), op[2])
        return left

    def _sum(self):
        node = self._term()
        while self._peek()[1] in ("+", "-"):
            op = self._take()
            node = ("bin", op[1], node, self._term(), op[2])
        return node

    def _term(self):
        node = self._unary()
        while self._peek()[1] in ("*", "/"):
            op = self._take()
            node = ("bin", op[1], node, self._unary(), op[2])
        return node

    def _unary(self):
        if self._peek()[1] in ("+", "-"):
            op = self._take()
            return ("neg", self._unary(), op[2]) if op[1] == "-" else self._unary()
        return self._power()

    def _power(self):
        node = self._atom()
        if self._peek()[1] == "^":
            op = self._take()
            return ("bin", "^", node, self._unary(), op[2])
        return node

    def _atom(self):
        kind, value, pos = self._take()
        if kind == "num":
            return ("num", Decimal(value), pos)
        if kind == "name":
            if self._peek()[1] == "(":
                if value not in FUNCTIONS:
                    raise FormulaError(_("unknown function %(name)s", name=value), pos)
                self._take("(")
                args = [self._expr()]
                while self._peek()[1] == ",":
                    self._take()
                    args.append(self._expr())
                self._take(")")
                low, high, _fn = FUNCTIONS[value]
                if len(args) < low or (high is not None and len(args) > high):
                    raise FormulaError(_("wrong number of arguments for %(name)s", name=value), pos)
                return ("call", value, args, pos)
            if value not in self.variables:
                raise FormulaError(_("unknown name %(name)s (use: %(known)s)", name=value,
                                        known=", ".join(sorted(self.variables))), pos)
            return ("var", value, pos)
        if value == "(":
            node = self._expr()
            self._take(")")
            return node
        raise FormulaError(_("unexpected %(tok)s", tok=repr(value) if value else _("end of formula")), pos)

    def evaluate(self, **values):
        with localcontext() as ctx:
            ctx.prec = 28
            result = self._eval(self.tree, {k: Decimal(str(v)) for k, v in values.items()})
        if isinstance(result, bool):
            raise FormulaError(_("the formula gives a comparison, not a number"), 0)
        return result

    def words(self):
        """The formula as a contract says it: '若 得分 ≥ 85，则 100，否则 15 + 得分'."""
        return self._words(self.tree, 0)

    PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "^": 3}
    SYMBOLS = {"+": "+", "-": "−", "*": "×", "/": "÷", "^": "^", "<": "<", "<=": "≤", ">": ">", ">=": "≥",
               "==": "=", "!=": "≠"}

    def _words(self, node, outer):
        kind = node[0]
        if kind == "num":
            return format(node[1].normalize(), "f")
        if kind == "var":
            return _("score") if node[1] == "score" else node[1]
        if kind == "neg":
            return "−" + self._words(node[1], 3)
        if kind == "cmp":
            return f"{self._words(node[2], 0)} {self.SYMBOLS[node[1]]} {self._words(node[3], 0)}"
        if kind == "call":
            name, args = node[1], [self._words(a, 0) for a in node[2]]
            if name == "if":
                return _("if %(cond)s then %(a)s, otherwise %(b)s", cond=args[0], a=args[1], b=args[2])
            if name in ("min", "max"):
                text = _("the smaller of %(args)s") if name == "min" else _("the larger of %(args)s")
                return "（" + text % {"args": "、".join(args)} + "）"
            if name == "abs":
                return f"|{args[0]}|"
            return "（" + _("%(x)s rounded half-up to %(n)s places", x=args[0], n=args[1] if len(args) > 1 else 0) + "）"
        prec = self.PRECEDENCE[node[1]]
        text = f"{self._words(node[2], prec)} {self.SYMBOLS[node[1]]} {self._words(node[3], prec + 1)}"
        return f"({text})" if prec < outer else text

    def _eval(self, node, env):
        kind = node[0]
        if kind == "num":
            return node[1]
        if kind == "var":
            return env[node[1]]
        if kind == "neg":
            return -self._eval(node[1], env)
        if kind == "call":
            _kind, name, args, pos = node
            if name == "if":
                return self._eval(args[1] if self._eval(args[0], env) else args[2], env)
            return FUNCTIONS[name][2](*[self._eval(a, env) for a in args])
        if kind == "cmp":
            _k, op, left, right, _pos = node
            a, b = self._eval(left, env), self._eval(right, env)
            return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b, "==": a == b, "!=": a != b}[op]
        _k, op, left, right, pos = node
        a, b = self._eval(left, env), self._eval(right, env)
        try:
            if op == "+":
                r = a + b
            elif op == "-":
                r = a - b
            elif op == "*":
                r = a * b
            elif op == "/":
                if b == 0:
                    raise FormulaError(_("division by zero"), pos)
                r = a / b
            else:
                if b != b.to_integral_value() or abs(b) > MAX_EXPONENT or abs(a) > MAX_MAGNITUDE:
                    raise FormulaError(_("exponents are whole numbers up to %(n)s", n=MAX_EXPONENT), pos)
                r = a ** int(b)
        except InvalidOperation:
            raise FormulaError(_("the result is not a number"), pos)
        if abs(r) > MAX_MAGNITUDE:
            raise FormulaError(_("the result is too large"), pos)
        return r
