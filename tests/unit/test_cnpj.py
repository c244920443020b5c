"""CNPJ normalization and validation, numeric and the 2026 alphanumeric format."""

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.br import cnpj as stdnum_cnpj

from portal import cnpj
from portal.templating import format_cnpj

ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


@pytest.mark.parametrize(
    ("typed", "normalized"),
    [
        ("11.222.333/0001-81", "11222333000181"),
        ("11222333000181", "11222333000181"),
        ("  11 222 333 0001 81  ", "11222333000181"),
        ("11.222.333/000181", "11222333000181"),
        ("12.ABC.345/01DE-35", "12ABC34501DE35"),
        ("12abc34501de35", "12ABC34501DE35"),
        ("12.abc.345/01De-35", "12ABC34501DE35"),
        ("１１２２２３３３０００１８１", "11222333000181"),  # full-width digits, pasted
    ],
)
def test_valid_cnpjs_are_normalized(typed, normalized):
    assert cnpj.validate(typed) == normalized
    assert len(normalized) == 14


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("", "required"),
        (None, "required"),
        ("   ", "required"),
        ("11.222.333/0001-82", "checksum"),
        ("11222333000180", "checksum"),
        ("12ABC34501DE36", "checksum"),
        ("12ABC34501DEAB", "checksum"),  # check digits are always numeric
        ("00000000000000", "checksum"),
        ("1122233300018", "length"),
        ("112223330001811", "length"),
        ("12.ABC", "length"),
        ("11.222.333/0001-8!", "format"),
        ("11_222_333_0001_81", "format"),
        ("11.222.333/0001-8é", "format"),
    ],
)
def test_invalid_cnpjs_say_why(typed, reason):
    with pytest.raises(cnpj.InvalidCNPJ) as caught:
        cnpj.validate(typed)
    assert caught.value.reason == reason
    assert caught.value.message  # a sentence for the person


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [("12.abc.345/01de-35", "12ABC34501DE35"), ("", ""), (None, ""), (" 1 2 ", "12")],
)
def test_normalize_does_not_validate(raw, normalized):
    assert cnpj.normalize(raw) == normalized


@pytest.mark.parametrize(
    ("stored", "printed"),
    [
        ("12ABC34501DE35", "12.ABC.345/01DE-35"),
        ("11222333000181", "11.222.333/0001-81"),
        ("", ""),
        (None, ""),
        ("123", "123"),  # not a stored CNPJ: shown as it is
    ],
)
def test_the_cnpj_filter_prints_the_usual_punctuation(stored, printed):
    assert format_cnpj(stored) == printed
    if printed.count(".") == 2:
        assert cnpj.validate(printed) == stored  # and reads back


@given(st.text(alphabet=ALNUM, min_size=12, max_size=12).filter(lambda b: b != "0" * 12))
def test_any_base_with_its_check_digits_is_valid_and_a_wrong_digit_is_not(base):
    number = base + stdnum_cnpj.calc_check_digits(base)
    assert cnpj.validate(number.lower()) == number
    wrong = number[:-1] + str((int(number[-1]) + 1) % 10)
    with pytest.raises(cnpj.InvalidCNPJ) as caught:
        cnpj.validate(wrong)
    assert caught.value.reason == "checksum"
