"""PIX "copia e cola": byte-for-byte against published BR Code examples, the CRC against
its check value and known payloads, and every payload through a small TLV decoder."""

from __future__ import annotations

from decimal import Decimal

import pytest

from portal.billing import pix

# The example of the BCB's "Manual de Padrões para Iniciação do Pix" (Anexo I, p. 16): a
# static code with a random key, no amount.
BCB_MANUAL = (
    "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-426655440000"
    "5204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***63041D3D"
)
# The manual's example with a phone key and R$ 10,00 (the GUI written upper-case).
BCB_PHONE_AMOUNT = (
    "00020126360014BR.GOV.BCB.PIX0114+5561988888888520400005303986540510.00"
    "5802BR5913FULANO DE TAL6008BRASILIA62070503***6304EFA2"
)
# A widely used static code with an e-mail key, amount, postal code (61) and a txid.
EMAIL_WITH_TXID = (
    "00020126470014BR.GOV.BCB.PIX0125guilhermeasn@yahoo.com.br5204000053039865406100.00"
    "5802BR5915Guilherme Neves6014Paraiba do Sul61082585000062110507TEST00163041DC8"
)


def decode(text: str) -> dict[str, str]:
    """A TLV decoder: {id: value}, nested templates (26, 62) as ``"26.00"``…"""
    fields: dict[str, str] = {}
    i = 0
    while i < len(text):
        tag, length = text[i : i + 2], int(text[i + 2 : i + 4])
        value = text[i + 4 : i + 4 + length]
        assert len(value) == length, f"field {tag} is cut short"
        fields[tag] = value
        if tag in ("26", "62"):
            for sub, sub_value in decode(value).items():
                fields[f"{tag}.{sub}"] = sub_value
        i += 4 + length
    return fields


def test_the_crc_is_ccitt_false():
    assert pix.crc16("123456789") == "29B1"  # the algorithm's check value


@pytest.mark.parametrize("example", [BCB_MANUAL, BCB_PHONE_AMOUNT, EMAIL_WITH_TXID])
def test_the_crc_of_published_payloads(example):
    assert pix.crc16(example[:-4]) == example[-4:]


def test_the_bcb_manual_example_byte_for_byte():
    assert (
        pix.payload("123e4567-e12b-12d1-a456-426655440000", "Fulano de Tal", "BRASILIA")
        == BCB_MANUAL
    )


def test_the_phone_key_example_with_an_amount_byte_for_byte():
    assert (
        pix.payload(
            "+5561988888888",
            "FULANO DE TAL",
            "BRASILIA",
            Decimal("10"),
            gui="BR.GOV.BCB.PIX",
        )
        == BCB_PHONE_AMOUNT
    )


def test_an_invoice_payload_round_trips_through_the_decoder():
    text = pix.payload(
        "financeiro@primecloud.com.br",
        "PrimeCloud Serviços de Nuvem Ltda",
        "São Paulo do Norte Grande",
        Decimal("1234.5"),
        pix.txid_of(1042),
        single_use=True,
    )
    fields = decode(text)
    assert fields["00"] == "01"
    assert fields["01"] == "12"
    assert fields["26.00"] == "br.gov.bcb.pix"
    assert fields["26.01"] == "financeiro@primecloud.com.br"
    assert (fields["52"], fields["53"], fields["58"]) == ("0000", "986", "BR")
    assert fields["54"] == "1234.50"
    assert fields["59"] == "PrimeCloud Servicos de Nu"  # ASCII, 25 characters
    assert fields["60"] == "Sao Paulo do No"  # 15
    assert fields["62.05"] == "FAT1042"
    assert text.endswith("6304" + fields["63"])
    assert fields["63"] == pix.crc16(text[:-4])
    assert list(fields)[-1] == "63"


def test_the_txid_is_alphanumeric_and_at_most_25():
    assert pix.txid_of(7) == "FAT7"
    assert pix.txid_of("12-34/56") == "FAT123456"
    assert len(pix.txid_of(10**30)) == 25


def test_the_qr_code_is_an_inline_svg():
    svg = pix.qr_svg(BCB_MANUAL, "QR")
    assert svg.startswith("<svg") and "<title>QR</title>" in svg
    assert "<?xml" not in svg and "width=" not in svg.split(">", 1)[0]
