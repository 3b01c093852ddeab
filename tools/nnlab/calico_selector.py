# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Calico's label selector language, the subset BGPPeers use: all(), has(k), k == 'v', k != 'v',
k in {'a', 'b'}, k not in {...}, !, &&, || and parentheses. A selector that does not parse is an
error, as calico-node would refuse it (and a peer that never comes up shows it)."""

import re

TOKEN = re.compile(r"\s*(all\(\)|has\(|\)|\(|\{|\}|,|&&|\|\||==|!=|!|not\s+in\b|in\b|'[^']*'|\"[^\"]*\"|[A-Za-z0-9_./-]+)")


def tokens(text):
    pos, out = 0, []
    text = text.strip()
    while pos < len(text):
        match = TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise ValueError("selector %r: cannot read at %r" % (text, text[pos:]))
        out.append(match.group(1))
        pos = match.end()
    return out


def parse(text):
    """A predicate over a label dict; ValueError when `text` is not a selector."""
    toks = tokens(text)
    expr, rest = _or(toks, text)
    if rest:
        raise ValueError("selector %r: unexpected %r" % (text, rest[0]))
    return expr


def _chain(toks, text, operator, operand, combine):
    """operand (operator operand)*, folded left with combine."""
    left, toks = operand(toks, text)
    while toks and toks[0] == operator:
        right, toks = operand(toks[1:], text)
        left = (lambda a, b: lambda labels: combine(a(labels), b(labels)))(left, right)
    return left, toks


def _or(toks, text):
    return _chain(toks, text, "||", _and, lambda a, b: a or b)


def _and(toks, text):
    return _chain(toks, text, "&&", _unary, lambda a, b: a and b)


def _unary(toks, text):
    if not toks:
        raise ValueError("selector %r ends early" % text)
    head = toks[0]
    if head == "!":
        inner, rest = _unary(toks[1:], text)
        return (lambda labels: not inner(labels)), rest
    if head == "(":
        inner, rest = _or(toks[1:], text)
        if not rest or rest[0] != ")":
            raise ValueError("selector %r: missing ')'" % text)
        return inner, rest[1:]
    if head == "all()":
        return (lambda labels: True), toks[1:]
    if head == "has(":
        if len(toks) < 3 or toks[2] != ")":
            raise ValueError("selector %r: has() takes one label" % text)
        key = toks[1]
        return (lambda labels: key in labels), toks[3:]
    key = head
    if len(toks) >= 3 and toks[1] in ("==", "!="):
        value = unquote(toks[2], text)
        if toks[1] == "==":
            return (lambda labels: labels.get(key) == value), toks[3:]
        return (lambda labels: labels.get(key) != value), toks[3:]
    if len(toks) >= 2 and (toks[1] == "in" or toks[1].startswith("not")):
        negate = toks[1] != "in"
        if len(toks) < 3 or toks[2] != "{":
            raise ValueError("selector %r: 'in' takes a set {...}" % text)
        values, rest = [], toks[3:]
        while rest and rest[0] != "}":
            if rest[0] != ",":
                values.append(unquote(rest[0], text))
            rest = rest[1:]
        if not rest:
            raise ValueError("selector %r: missing '}'" % text)
        return (lambda labels: (labels.get(key) in values) != negate), rest[1:]
    raise ValueError("selector %r: cannot read %r" % (text, head))


def unquote(token, text):
    if len(token) >= 2 and token[0] == token[-1] and token[0] in "'\"":
        return token[1:-1]
    raise ValueError("selector %r: %r must be a quoted string" % (text, token))
