"""Builders of hostile messages for the bounded-work tests (issue 8, §5): raw bytes, CRLF, as a
hostile sender would write them. Every one carries readable top headers (sender, Received)."""
from __future__ import annotations

import base64
import io
import zlib
from datetime import datetime
from email.utils import format_datetime
from zoneinfo import ZoneInfo

from pypdf import PdfReader, PdfWriter
from pypdf.generic import NameObject, StreamObject

from flows.demo_data import cv_pdf

PARIS = ZoneInfo("Europe/Paris")


def top(sender: str, when: datetime, message_id: str) -> bytes:
    return (
        "Received: from mail.example.org (mail.example.org [192.0.2.25]) by mx.plie.example.org with ESMTPS "
        f"id 4ABC; {format_datetime(when.astimezone(PARIS))}\r\n"
        f"From: Expéditeur <{sender}>\r\nTo: plie-aap@example.org\r\nSubject: Dossier\r\n"
        f"Message-ID: {message_id}\r\nMIME-Version: 1.0\r\n"
    ).encode()


def deeply_nested(sender: str, when: datetime, message_id: str, depth: int = 5000) -> bytes:
    """``depth`` multiparts, each inside the previous one."""
    opening = b"".join(
        b'--b%d\r\nContent-Type: multipart/mixed; boundary="b%d"\r\n\r\n' % (i, i + 1) for i in range(depth)
    )
    closing = b"".join(b"--b%d--\r\n" % i for i in reversed(range(depth + 1)))
    return (top(sender, when, message_id) + b'Content-Type: multipart/mixed; boundary="b0"\r\n\r\n'
            + opening + b"--b%d\r\nContent-Type: text/plain\r\n\r\nfond\r\n" % depth + closing)


def many_parts(sender: str, when: datetime, message_id: str, parts: int = 10_000) -> bytes:
    body = b"".join(
        b'--p\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename="cv%d.pdf"\r\n\r\n%%PDF\r\n' % i
        for i in range(parts)
    )
    return top(sender, when, message_id) + b'Content-Type: multipart/mixed; boundary="p"\r\n\r\n' + body + b"--p--\r\n"


def huge_header(sender: str, when: datetime, message_id: str, size: int = 2 * 1024 * 1024) -> bytes:
    folded = b"\r\n ".join([b"x" * 76] * (size // 79))
    return top(sender, when, message_id) + b"X-Bourrage: " + folded + b"\r\n\r\nBonjour.\r\n"


def many_headers(sender: str, when: datetime, message_id: str, count: int = 20_000) -> bytes:
    return top(sender, when, message_id) + b"".join(b"X-En-Tete-%d: valeur\r\n" % i for i in range(count)) + b"\r\nBonjour.\r\n"


def with_attachments(sender: str, when: datetime, message_id: str, attachments: list[tuple[str, bytes]]) -> bytes:
    parts = b"".join(
        b'--a\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="'
        + name.encode() + b'"\r\nContent-Transfer-Encoding: base64\r\n\r\n' + base64.encodebytes(data) + b"\r\n"
        for name, data in attachments
    )
    return top(sender, when, message_id) + b'Content-Type: multipart/mixed; boundary="a"\r\n\r\n' + parts + b"--a--\r\n"


def pdf_bomb(inflated: int = 200 * 1024 * 1024) -> bytes:
    """A one-page PDF whose page content inflates to ``inflated`` bytes (a few hundred kilobytes sent)."""
    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(cv_pdf("CV bombe"))))
    compressor = zlib.compressobj(9)
    chunk = b" " * (1024 * 1024)
    data = b"".join(compressor.compress(chunk) for _ in range(inflated // len(chunk))) + compressor.flush()
    stream = StreamObject()
    stream._data = data
    stream[NameObject("/Filter")] = NameObject("/FlateDecode")
    writer.pages[0][NameObject("/Contents")] = writer._add_object(stream)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def slow_parse(sender: str, when: datetime, message_id: str, comments: int = 24_000) -> bytes:
    """One part whose Content-Disposition holds ``comments`` comments: Python's header parser takes
    a time that grows faster than their number (about 17 s for 12 000 on the test machine)."""
    disposition = b"attachment; filename=cv.pdf " + b"(c)" * comments
    return (top(sender, when, message_id) + b'Content-Type: multipart/mixed; boundary="a"\r\n\r\n'
            b"--a\r\nContent-Type: application/pdf\r\nContent-Disposition: " + disposition
            + b"\r\n\r\n%PDF-1.4\r\n--a--\r\n")
