"""The CESQL lexer: expression text to tokens, each with its offset for error messages."""

from __future__ import annotations

import re
from typing import Final, Literal, NamedTuple

__all__ = ["KEYWORDS", "SyntaxProblem", "Token", "TokenKind", "tokenize"]

#: ``word`` is an attribute or function name; ``int`` is unsigned digits (the sign is the parser's).
TokenKind = Literal["int", "str", "word", "keyword", "op", "end"]

KEYWORDS: Final = frozenset({"AND", "OR", "XOR", "NOT", "LIKE", "EXISTS", "IN", "TRUE", "FALSE"})

# Only the four whitespace characters the spec's grammar skips separate tokens.
_TOKEN: Final = re.compile(
    r"""
    (?P<space>[ \t\r\n]+)
    | (?P<word>[A-Za-z0-9_]+)
    | (?P<str>'(?:\\.|[^'\\])*' | "(?:\\.|[^"\\])*")
    | (?P<op><>|!=|>=|<=|[=<>+\-*/%(),])
    """,
    re.VERBOSE | re.DOTALL,
)
_ESCAPE: Final = re.compile(r"\\(.)", re.DOTALL)


class SyntaxProblem(Exception):
    """Raised inside the lexer and parser only; ``compile`` turns it into ``CesqlParseError``."""

    def __init__(self, position: int, message: str) -> None:
        super().__init__(message)
        self.position = position
        self.message = message


class Token(NamedTuple):
    """One token: its kind, its source text, its decoded value and where it starts.

    A named tuple rather than a frozen dataclass: a filter has a dozen tokens, and building
    them was half the cost of compiling.
    """

    kind: TokenKind
    text: str
    #: Keywords upper-cased, string literals unescaped; otherwise the text as written.
    value: str
    position: int

    def describe(self) -> str:
        """How an error message names this token."""
        if self.kind == "end":
            return "the end of the expression"
        if self.kind == "str":
            return "a string literal"
        return repr(self.text)


def _unquote(literal: str) -> str:
    """The value of a string literal: ``\\'`` (or ``\\"``) is its quote; other pairs stay as is.

    Keeping every other backslash is what lets ``LIKE 'a\\_b'`` reach the pattern with its
    escape intact (the TCK's escaped-wildcard cases depend on it).
    """
    quote = literal[0]
    return _ESCAPE.sub(lambda m: quote if m[1] == quote else m[0], literal[1:-1])


def tokenize(text: str) -> list[Token]:
    """The tokens of ``text``, ending with an ``end`` token; ``SyntaxProblem`` on a bad one."""
    tokens: list[Token] = []
    position = 0
    size = len(text)
    while position < size:
        match = _TOKEN.match(text, position)
        if match is None:
            char = text[position]
            if char in "'\"":
                raise SyntaxProblem(
                    position, f"unterminated string literal: add the closing {char}"
                )
            raise SyntaxProblem(position, f"unexpected character {char!r}")
        kind = match.lastgroup
        lexeme = match.group()
        if kind == "word":
            tokens.append(_word(lexeme, position))
        elif kind == "str":
            tokens.append(Token(kind="str", text=lexeme, value=_unquote(lexeme), position=position))
        elif kind == "op":
            tokens.append(Token(kind="op", text=lexeme, value=lexeme, position=position))
        position = match.end()
    tokens.append(Token(kind="end", text="", value="", position=size))
    return tokens


def _word(lexeme: str, position: int) -> Token:
    if lexeme.isdigit():
        return Token(kind="int", text=lexeme, value=lexeme, position=position)
    upper = lexeme.upper()
    if upper in KEYWORDS:
        return Token(kind="keyword", text=lexeme, value=upper, position=position)
    return Token(kind="word", text=lexeme, value=lexeme, position=position)
