"""The bytes of an outbox e-mail, written directly (multipart/alternative: text and HTML in UTF-8).

Django's ``EmailMultiAlternatives.message()`` goes through the ``email`` package's header folding and
encoding, which cost more per message than the SMTP exchange itself on loopback (bench/campaign_send.py
profile). Every header of an outbox row is known in advance: what is the same for a whole association
(From, List-Id) is encoded once and cached; the subject gets RFC 2047 encoded-words only when it is not
ASCII; the bodies are base64 (76-character lines, as RFC 2045 asks). ``tests/campaigns/test_mime.py``
parses the result with the standard library and compares it with the row.
"""

from __future__ import annotations

import base64
import functools
from email.utils import formataddr, formatdate, parseaddr

CRLF = "\r\n"
_MAX_WORD_BYTES = 45  # base64 of 45 bytes is 60 characters: an encoded-word stays under 75


def _is_ascii_text(text: str) -> bool:
    return text.isascii() and all(32 <= ord(char) < 127 for char in text)


def encode_text(text: str) -> str:
    """A header value: as is when printable ASCII, else RFC 2047 encoded-words folded on several lines."""
    if _is_ascii_text(text):
        return text
    words, chunk = [], b""
    for char in text:
        encoded = char.encode("utf-8")
        if len(chunk) + len(encoded) > _MAX_WORD_BYTES:
            words.append(chunk)
            chunk = b""
        chunk += encoded
    if chunk:
        words.append(chunk)
    return (CRLF + " ").join(f"=?utf-8?b?{base64.b64encode(word).decode('ascii')}?=" for word in words)


@functools.lru_cache(maxsize=512)
def encode_address(address: str) -> str:
    """``Name <addr>`` with the display name encoded when needed (the same for every row: cached)."""
    name, addr = parseaddr(address)
    if not name:
        return addr
    if _is_ascii_text(name):
        return formataddr((name, addr))
    return f"{encode_text(name)} <{addr}>"


@functools.lru_cache(maxsize=512)
def encode_list_id(value: str) -> str:
    """``Description <id>``: the description may be any text."""
    description, _sep, rest = value.rpartition(" <")
    if not description:
        return value
    if _is_ascii_text(description) and '"' not in description:
        return value
    return f"{encode_text(description)} <{rest}"


def _body(text: str, subtype: str, boundary: str) -> str:
    encoded = base64.encodebytes(text.encode("utf-8")).decode("ascii").replace("\n", CRLF)
    return (f"--{boundary}{CRLF}Content-Type: text/{subtype}; charset=\"utf-8\"{CRLF}"
            f"Content-Transfer-Encoding: base64{CRLF}{CRLF}{encoded}")


def compose(*, headers: dict[str, str], to: str, subject: str, text: str, html: str, boundary: str,
            date: str | None = None) -> bytes:
    """The message as sent. ``headers`` are the row's (From, Reply-To, Message-ID, List-…); ``to`` must be
    a plain address."""
    lines = [
        f"From: {encode_address(headers['From'])}",
        f"To: {to}",
        f"Subject: {encode_text(subject)}",
        f"Date: {date or formatdate(localtime=True)}",
        f"Message-ID: {headers['Message-ID']}",
    ]
    if headers.get("Reply-To"):
        lines.append(f"Reply-To: {encode_address(headers['Reply-To'])}")
    if headers.get("List-Id"):
        lines.append(f"List-Id: {encode_list_id(headers['List-Id'])}")
    if headers.get("List-Unsubscribe"):
        lines.append("List-Unsubscribe: " + headers["List-Unsubscribe"].replace(">, <", f">,{CRLF} <"))
    if headers.get("List-Unsubscribe-Post"):
        lines.append(f"List-Unsubscribe-Post: {headers['List-Unsubscribe-Post']}")
    lines += ["MIME-Version: 1.0", f'Content-Type: multipart/alternative; boundary="{boundary}"', "", ""]
    message = (CRLF.join(lines) + _body(text, "plain", boundary) + _body(html, "html", boundary)
               + f"--{boundary}--{CRLF}")
    return message.encode("ascii")
