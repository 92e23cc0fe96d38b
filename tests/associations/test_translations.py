"""Every user-visible string goes through gettext, and the catalogues are complete.

Two static checks (they read the sources, nothing runs): Python messages given to users (ServiceError,
ValidationError, flash messages, form errors) are gettext calls, not literals or f-strings; template
text is inside ``{% translate %}``/``{% blocktranslate %}``. French is the source language; the
English catalogue translates every message of ours.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.template.base import Lexer, TokenType
from django.utils import translation

ROOT = Path(__file__).resolve().parents[2]
APPS = ["associations", "missions", "finance", "indicators", "cpts"]

# --- Python ------------------------------------------------------------------------------------

MESSAGE_CALLS = {"ServiceError": 0, "ValidationError": 0, "Http404": 0}
FLASH = {"success", "error", "info", "warning"}


def _literal(node: ast.AST) -> bool:
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return bool(re.search(r"[A-Za-zÀ-ÿ]{2,}", node.value))
    if isinstance(node, ast.BinOp):
        return _literal(node.left) or _literal(node.right)
    return False


def _message_args(call: ast.Call) -> list[ast.AST]:
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    owner = func.value.id if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else ""
    if name in MESSAGE_CALLS:
        return call.args[:1]
    if owner == "messages" and name in FLASH:
        return call.args[1:2]
    if name == "add_error":
        return call.args[1:2]
    return []


def python_literals() -> list[str]:
    found = []
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts or "management" in path.parts:
                continue  # migrations are frozen; management commands talk to the operator's terminal
            source = path.read_text(encoding="utf-8")
            for node in ast.walk(ast.parse(source)):
                if isinstance(node, ast.Call):
                    for arg in _message_args(node):
                        if _literal(arg):
                            rel = path.relative_to(ROOT)
                            found.append(f"{rel}:{arg.lineno}: {ast.get_source_segment(source, arg)[:80]}")
    return found


def test_messages_shown_to_users_go_through_gettext():
    found = python_literals()
    assert not found, "Wrap these in gettext (_(...) with %(name)s placeholders):\n" + "\n".join(found)


def test_the_python_check_finds_a_literal():
    tree = ast.parse('raise ServiceError(f"Adhérent {x} inconnu")\nmessages.success(request, _("Bien"))')
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and _message_args(n)]
    assert [_literal(a) for c in calls for a in _message_args(c)] == [True, False]


# --- Templates ---------------------------------------------------------------------------------

SKIP_OPEN = {"blocktranslate", "blocktrans", "comment", "verbatim"}
SKIP_CLOSE = {"endblocktranslate", "endblocktrans", "endcomment", "endverbatim"}
VISIBLE_ATTR = re.compile(r'\b(aria-label|title|alt|placeholder)="([^"]*)"')
# Templates that hold markup only (allauth element overrides: attributes and wrappers, no wording).
MARKUP_ONLY = {"allauth/elements/_field_attrs.html", "allauth/elements/field.html"}


def _words(text: str) -> bool:
    # Identifiers such as SIRET, FINESS, INSEE, RPPS are the same in every language.
    words = re.findall(r"[A-Za-zÀ-ÿ]{2,}", text)
    return any(not word.isupper() for word in words)


def untranslated_template_text(source: str) -> list[str]:
    parts, skip = [], 0
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.BLOCK:
            command = (token.contents.split() or [""])[0]
            if command in SKIP_OPEN:
                skip += 1
            elif command in SKIP_CLOSE:
                skip -= 1
            parts.append("\x00")
        elif token.token_type in (TokenType.VAR, TokenType.COMMENT):
            parts.append("\x00")
        elif not skip:
            parts.append(token.contents)
    document = re.sub(r"<(script|style)\b.*?</\1>", " ", "".join(parts), flags=re.S)
    hits = [f'{attr}="{value}"' for attr, value in VISIBLE_ATTR.findall(document) if _words(value.replace("\x00", " "))]
    text = re.sub(r"&[a-z]+;|&#\d+;", " ", re.sub(r"<[^>]*>", " ", document, flags=re.S))
    hits += [" ".join(chunk.split()) for chunk in text.split("\x00") if _words(chunk)]
    return hits


def test_template_text_goes_through_gettext():
    found = []
    for path in sorted((ROOT / "templates").rglob("*")):
        name = path.relative_to(ROOT / "templates").as_posix()
        if path.suffix not in (".html", ".txt") or name in MARKUP_ONLY:
            continue
        found += [f"{name}: {hit[:80]}" for hit in untranslated_template_text(path.read_text(encoding="utf-8"))]
    assert not found, "Put this text inside {% translate %} / {% blocktranslate %}:\n" + "\n".join(found)


def test_the_template_check_finds_plain_text():
    hits = untranslated_template_text(
        '{% load i18n %}<p title="Aide">{% translate "Bonjour" %} {{ name }}</p><p>SIRET : {{ s }}</p>'
        "<p>Texte oublié</p>{% blocktranslate %}Bien {{ x }}{% endblocktranslate %}"
    )
    assert hits == ['title="Aide"', "Texte oublié"]


# --- Catalogues --------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["fr", "en"])
def test_catalogue_is_compiled_and_active(language):
    with translation.override(language):
        label = str(translation.gettext("Adhérent créé"))
    assert label == {"fr": "Adhérent créé", "en": "Member created"}[language]
