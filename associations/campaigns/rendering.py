"""Placeholders and the safe, limited formatting of campaign and reminder messages.

A message is plain text written by the coordinator. Placeholders ``{prenom}``, ``{nom}``,
``{lien_renouvellement}``, ``{montant}``, ``{date_limite}`` and ``{association}`` are replaced per
recipient; ``{{`` and ``}}`` write literal braces. The HTML version escapes everything and knows only
paragraphs, line breaks, ``- `` bullet lists, ``**gras**``, ``*italique*`` and links (web addresses
and the renewal link), so nothing a coordinator types can inject markup into an e-mail.

Rendering a campaign for thousands of recipients renders the layout templates once, with sentinels
where the per-recipient parts go; each recipient then costs a few string replacements and signatures.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable
from dataclasses import dataclass
from html import unescape

from django.template.loader import render_to_string
from django.utils.html import escape

PLACEHOLDERS: dict[str, str] = {
    "prenom": "Prénom de l'adhérent (vide pour une structure)",
    "nom": "Nom de l'adhérent ou raison sociale de la structure",
    "lien_renouvellement": "Lien personnel de renouvellement en ligne",
    "montant": "Montant de la cotisation",
    "date_limite": "Date limite",
    "association": "Nom de la CPTS",
}
LINK_PLACEHOLDERS = {"lien_renouvellement"}
RENEWAL_LINK_LABEL = "Renouveler mon adhésion en ligne"

_SENTINEL = "\x00{}\x00"
_SENTINEL_RE = re.compile("\x00([a-z_]+)\x00")
_URL_RE = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")
_BOLD_RE = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_ITALIC_RE = re.compile(r"(?<![*\w])\*(?=\S)([^*]+?)(?<=\S)\*(?![*\w])")


class TemplateError(ValueError):
    """The message cannot be used: the text says why, in French."""


def parse_fields(text: str) -> list[str]:
    """Placeholder names used in ``text``, in order. Raises TemplateError on a lone brace."""
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError:
        raise TemplateError(
            "Accolade non fermée : écrivez {prenom} pour un champ, ou {{ et }} pour une accolade seule."
        ) from None
    fields = []
    for _literal, field, spec, conversion in parsed:
        if field is None:
            continue
        if spec or conversion:
            raise TemplateError(f"Champ « {{{field}}} » mal formé : écrivez simplement {{{field.split('!')[0]}}}.")
        fields.append(field)
    return fields


def unknown_placeholders(text: str) -> list[str]:
    return [field for field in parse_fields(text) if field not in PLACEHOLDERS]


def validate_template(text: str) -> None:
    """Refuse a text with an unknown placeholder, naming it (and listing the known ones)."""
    unknown = unknown_placeholders(text)
    if unknown:
        names = ", ".join(f"{{{name}}}" for name in dict.fromkeys(unknown))
        known = ", ".join(f"{{{name}}}" for name in PLACEHOLDERS)
        word = "Champ inconnu" if len(set(unknown)) == 1 else "Champs inconnus"
        raise TemplateError(f"{word} : {names}. Champs disponibles : {known}.")


def uses(text: str, name: str) -> bool:
    return name in parse_fields(text)


def fill_text(text: str, values: dict[str, str]) -> str:
    return string.Formatter().vformat(text, (), values)


def _inline(escaped: str) -> str:
    escaped = _BOLD_RE.sub(r"<strong>\1</strong>", escaped)
    escaped = _ITALIC_RE.sub(r"<em>\1</em>", escaped)
    return _URL_RE.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escaped)


def body_to_html(text: str) -> str:
    """HTML of a message body with placeholders left as sentinels (filled by ``fill_html``)."""
    with_sentinels = "".join(
        literal + ("" if field is None else _SENTINEL.format(field))
        for literal, field, _spec, _conv in string.Formatter().parse(text)
    )
    blocks = re.split(r"\n\s*\n", with_sentinels.replace("\r\n", "\n").strip())
    html = []
    for block in blocks:
        lines = [line.rstrip() for line in block.split("\n") if line.strip()]
        if not lines:
            continue
        if all(line.lstrip().startswith(("- ", "* ", "• ")) for line in lines):
            items = "".join(f"<li>{_inline(escape(line.lstrip()[2:].strip()))}</li>" for line in lines)
            html.append(f'<ul style="margin:0 0 16px 0;padding-left:22px">{items}</ul>')
        else:
            html.append('<p style="margin:0 0 16px 0">' + "<br>".join(_inline(escape(line)) for line in lines)
                        + "</p>")
    return "\n".join(html)


def fill_html(html: str, values: dict[str, str], link: Callable[[str], str] = lambda url: url) -> str:
    """Replace sentinels by escaped values; the renewal link becomes a link (through ``link``, which the
    click tracking uses to wrap addresses). Plain web addresses in the text go through ``link`` too."""
    def value(match: re.Match) -> str:
        name = match.group(1)
        raw = values.get(name, "")
        if name in LINK_PLACEHOLDERS and raw:
            return f'<a href="{escape(link(raw))}" style="color:#0b5ed7;font-weight:bold">{RENEWAL_LINK_LABEL}</a>'
        return escape(raw)

    # The address in the HTML is already escaped (``&amp;``): the link gets the real one, escaped once.
    html = re.sub(r'<a href="(https?://[^"]+)">',
                  lambda m: f'<a href="{escape(link(unescape(m.group(1))))}">', html)
    return _SENTINEL_RE.sub(value, html)


@dataclass(frozen=True)
class Layout:
    """The e-mail layout of an association, rendered once, with sentinels for per-recipient parts."""

    text: str
    html: str

    BODY = "\x01BODY\x01"
    UNSUBSCRIBE = "\x01UNSUBSCRIBE\x01"
    PIXEL = "\x01PIXEL\x01"

    @classmethod
    def for_association(cls, association, *, kind_label: str) -> Layout:
        from django.conf import settings

        context = {"association": association, "kind_label": kind_label, "site_url": settings.SITE_URL,
                   "body": cls.BODY, "unsubscribe_url": cls.UNSUBSCRIBE, "pixel": cls.PIXEL}
        text = render_to_string("emails/campaign.txt", context)
        html = render_to_string("emails/campaign.html", context)
        return cls(text=text, html=html)

    def render(self, *, body_text: str, body_html: str, unsubscribe_url: str, pixel_url: str = "") -> tuple[str, str]:
        text = self.text.replace(self.BODY, body_text.strip()).replace(self.UNSUBSCRIBE, unsubscribe_url)
        pixel = (f'<img src="{escape(pixel_url)}" width="1" height="1" alt="" style="display:block;border:0">'
                 if pixel_url else "")
        html = (self.html.replace(self.BODY, body_html).replace(self.UNSUBSCRIBE, escape(unsubscribe_url))
                .replace(self.PIXEL, pixel))
        return text, html
