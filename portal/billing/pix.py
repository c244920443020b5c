"""PIX "copia e cola": the EMV BR Code payload an open invoice is paid with, and its QR code.

The payload (Banco Central do Brasil, "Manual de Padrões para Iniciação do Pix", EMV QRCPS
merchant-presented mode) is a sequence of TLV fields — a two-digit id, a two-digit length,
the value:

- ``00`` payload format indicator, ``01``;
- ``01`` point of initiation method, ``12`` (one payment) when ``single_use``;
- ``26`` merchant account information: ``00`` the GUI ``br.gov.bcb.pix``, ``01`` the PIX key;
- ``52`` merchant category code ``0000``; ``53`` currency ``986`` (BRL);
- ``54`` the amount (``123.45``), when there is one;
- ``58`` country ``BR``; ``59`` merchant name (at most 25 characters); ``60`` merchant city
  (at most 15); both folded to ASCII (apps print them as they are);
- ``62`` additional data: ``05`` the txid (letters and digits, at most 25; ``***`` when none);
- ``63`` CRC16-CCITT-FALSE (polynomial 0x1021, initial value 0xFFFF) over the whole payload
  including ``6304``, four upper-case hex digits.

The QR code is drawn by ``segno`` as an inline SVG (no image request, nothing downloaded).
"""

from __future__ import annotations

import io
import re
import unicodedata
from decimal import Decimal

import segno
from flask import current_app

GUI = "br.gov.bcb.pix"
NAME_MAX = 25
CITY_MAX = 15
TXID_MAX = 25


def crc16(data: str) -> str:
    """CRC16-CCITT-FALSE of ``data`` (UTF-8), as four upper-case hex digits."""
    crc = 0xFFFF
    for byte in data.encode("utf-8"):
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return f"{crc:04X}"


def field(tag: str, value: str) -> str:
    length = len(value)
    if length > 99:
        raise ValueError(f"PIX field {tag} is longer than 99 characters")
    return f"{tag}{length:02d}{value}"


def ascii_fold(text: str, maximum: int) -> str:
    """``text`` without accents or characters outside printable ASCII, at most ``maximum``
    characters ("São Paulo" → "Sao Paulo")."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    plain = "".join(c for c in decomposed if 32 <= ord(c) < 127)
    return " ".join(plain.split())[:maximum]


def txid_of(number: int | str) -> str:
    """The txid of an invoice: ``FAT`` and its number (letters and digits only)."""
    return re.sub(r"[^A-Za-z0-9]", "", f"FAT{number}")[:TXID_MAX]


def payload(
    key: str,
    name: str,
    city: str,
    amount: Decimal | None = None,
    txid: str = "***",
    *,
    single_use: bool = False,
    gui: str = GUI,
) -> str:
    """The "Pix copia e cola" text. (``gui``: apps accept the GUI in either case; some
    published examples write it upper-case.)"""
    body = field("00", "01")
    if single_use:
        body += field("01", "12")
    body += field("26", field("00", gui) + field("01", key.strip()))
    body += field("52", "0000") + field("53", "986")
    if amount is not None:
        body += field("54", f"{Decimal(amount).quantize(Decimal('0.01'))}")
    body += field("58", "BR")
    body += field("59", ascii_fold(name, NAME_MAX))
    body += field("60", ascii_fold(city, CITY_MAX))
    body += field("62", field("05", txid or "***"))
    body += "6304"
    return body + crc16(body)


def invoice_payload(number: int, total: Decimal) -> str:
    """The payload of an open invoice: the configured key (``PIX_KEY``), the receiver's
    name (``PIX_MERCHANT_NAME``) and city (``ISSUER_CITY``), the total, the txid from the
    number."""
    config = current_app.config
    return payload(
        config["PIX_KEY"],
        config.get("PIX_MERCHANT_NAME") or config["ISSUER_NAME"],
        config["ISSUER_CITY"],
        total,
        txid_of(number),
        single_use=True,
    )


def qr_svg(text: str, title: str) -> str:
    """The QR code of ``text`` as an inline ``<svg>`` (error correction M, 4 modules of
    quiet zone, scaled by CSS)."""
    qr = segno.make(text, error="m", micro=False)
    out = io.BytesIO()
    qr.save(
        out,
        kind="svg",
        xmldecl=False,
        svgns=True,
        nl=False,
        scale=4,
        border=4,
        title=title,
        svgclass="pix-qr",
        lineclass=None,
        omitsize=True,
    )
    return out.getvalue().decode("utf-8")
