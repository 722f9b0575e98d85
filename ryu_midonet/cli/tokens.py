"""Splitting a command line into words, and recognising verbs."""

from __future__ import annotations

import shlex

from ryu_midonet.cli.errors import CliError

# verb -> the shortest prefix accepted (None: only the whole word)
_VERBS: dict[str, tuple[str, str | None]] = {
    "list": ("list", "l"),
    "show": ("show", "s"),
    "delete": ("delete", "del"),
    "describe": ("describe", "desc"),
    "create": ("create", None),
    "add": ("create", None),
    "set": ("set", None),
    "clear": ("clear", None),
}


def tokenize(line: str) -> list[str]:
    """Shell-like words: quotes group words, ``!`` and ``:`` are ordinary characters."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=False)
    lexer.whitespace_split = True
    lexer.commenters = ""
    try:
        return list(lexer)
    except ValueError as exc:
        raise CliError(f"syntax error: {exc}") from None


def verb_of(word: str) -> str | None:
    """The verb a word stands for (``l`` and ``lis`` are ``list``, ``add`` is ``create``)."""
    for name, (verb, shortest) in _VERBS.items():
        if word == name:
            return verb
        if shortest and word.startswith(shortest) and name.startswith(word):
            return verb
    return None
