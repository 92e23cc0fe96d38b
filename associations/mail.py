"""E-mails sent on behalf of an association: template trio, the association's name in From,
its contact address in Reply-To, and a List-Id carrying the association."""

from __future__ import annotations

from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from associations.models import Association


def from_address(association: Association) -> str:
    _name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    return formataddr((association.sender_name, address))


def render_email(name: str, context: dict) -> tuple[str, str, str]:
    """Render ``emails/<name>.subject.txt``, ``.txt`` and ``.html``."""
    subject = " ".join(render_to_string(f"emails/{name}.subject.txt", context).split())
    text = render_to_string(f"emails/{name}.txt", context)
    html = render_to_string(f"emails/{name}.html", context)
    return subject, text, html


def build_message(association: Association, name: str, context: dict, to: list[str]) -> EmailMultiAlternatives:
    context = {"association": association, "site_url": settings.SITE_URL, **context}
    subject, text, html = render_email(name, context)
    headers = {"List-Id": f"{association.name} <{association.slug}.{association.pk}.cpts>"}
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=from_address(association),
        to=to,
        reply_to=[association.contact_email] if association.contact_email else None,
        headers=headers,
    )
    message.attach_alternative(html, "text/html")
    return message
