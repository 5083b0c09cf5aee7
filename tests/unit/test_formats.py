"""French formats: exact strings, babel's no-break spaces, Paris time and DST."""

from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from francais.formats import (
    format_date,
    format_datetime_paris,
    format_decimal_fr,
    format_euros,
    format_taille,
)

UTC = timezone.utc


def plain(text: str) -> str:
    return text.replace("\u202f", " ").replace("\xa0", " ")


def test_euros_read_as_french_amount():
    assert plain(format_euros(Decimal("44500"))) == "44 500,00 €"


def test_euros_keep_babel_no_break_spaces():
    raw = format_euros(Decimal("44500"))
    assert raw == "44\u202f500,00\xa0€"


def test_euros_of_half_etp_ceiling():
    assert plain(format_euros(Decimal("44500") * Decimal("0.5"))) == "22 250,00 €"


def test_euros_round_cents_and_show_sign():
    assert plain(format_euros(Decimal("1234.5"))) == "1 234,50 €"
    assert plain(format_euros(Decimal("-12"))) == "-12,00 €"


def test_euros_refuse_float():
    with pytest.raises(TypeError):
        format_euros(44500.0)  # type: ignore[arg-type]


def test_decimal_uses_comma():
    assert format_decimal_fr(Decimal("0.5")) == "0,5"


def test_decimal_keeps_every_significant_digit_and_groups_thousands():
    assert format_decimal_fr(Decimal("0.12345")) == "0,12345"
    raw = format_decimal_fr(Decimal("12345.678"))
    assert raw == "12\u202f345,678"
    assert plain(raw) == "12 345,678"


def test_decimal_refuses_float():
    with pytest.raises(TypeError):
        format_decimal_fr(0.5)  # type: ignore[arg-type]


def test_deadline_16h_utc_in_winter_is_17h_in_paris():
    assert format_datetime_paris(datetime(2017, 12, 7, 16, 0, tzinfo=UTC)) == "7 décembre 2017 à 17 h 00"


def test_summer_time_is_utc_plus_two():
    assert format_datetime_paris(datetime(2018, 7, 2, 15, 5, tzinfo=UTC)) == "2 juillet 2018 à 17 h 05"


def test_late_utc_evening_is_next_day_after_midnight_in_paris():
    assert format_datetime_paris(datetime(2017, 12, 7, 23, 30, tzinfo=UTC)) == "8 décembre 2017 à 0 h 30"


def test_spring_dst_change_skips_an_hour():
    assert format_datetime_paris(datetime(2018, 3, 25, 0, 59, tzinfo=UTC)) == "25 mars 2018 à 1 h 59"
    assert format_datetime_paris(datetime(2018, 3, 25, 1, 0, tzinfo=UTC)) == "25 mars 2018 à 3 h 00"


def test_naive_datetime_is_refused():
    with pytest.raises(ValueError):
        format_datetime_paris(datetime(2017, 12, 7, 17, 0))


def test_date_in_french():
    assert format_date(date(2017, 12, 7)) == "7 décembre 2017"


def test_first_day_of_month_is_premier():
    assert format_date(date(2018, 1, 1)) == "1er janvier 2018"
    assert format_datetime_paris(datetime(2018, 6, 30, 22, 0, tzinfo=UTC)) == "1er juillet 2018 à 0 h 00"


def test_date_of_aware_datetime_is_the_paris_day():
    assert format_date(datetime(2017, 12, 31, 23, 30, tzinfo=UTC)) == "1er janvier 2018"


@pytest.mark.parametrize(
    ("n_octets", "attendu"),
    [
        (0, "0 o"),
        (999, "999 o"),
        (1000, "1 ko"),
        (12_345, "12,3 ko"),
        (999_949, "999,9 ko"),
        (999_950, "1 Mo"),
        (2_560_000, "2,6 Mo"),
        (3_000_000_000, "3 Go"),
    ],
)
def test_sizes_in_french_units(n_octets, attendu):
    assert plain(format_taille(n_octets)) == attendu


def test_size_unit_is_not_split_from_its_number():
    assert format_taille(12_345) == "12,3\xa0ko"


def test_negative_size_is_refused():
    with pytest.raises(ValueError):
        format_taille(-1)


@pytest.mark.parametrize(("valeur", "attendu"), [
    (Decimal("100.8"), "101"), (Decimal("50.4"), "51"), (Decimal("56"), "56"), (Decimal("56.0"), "56"),
    (Decimal("0.3"), "1"), (Decimal("1400.2"), "1\u202f401"),
])
def test_an_objective_is_the_whole_number_that_meets_it(valeur, attendu):
    from francais.formats import format_objectif

    assert format_objectif(valeur) == attendu


@pytest.mark.parametrize(("texte", "attendu"), [
    ("ressources ; bilan", "ressources\u202f; bilan"), ("constat; autre", "constat\u202f; autre"),
    ("fin ;", "fin\u202f;"), ("]0 ; 1]", "]0\u202f; 1]"), ("Emploi & Insertion <Côte-d'Or>", "Emploi & Insertion <Côte-d'Or>"),
    ("a;b", "a;b"),
])
def test_a_semicolon_gets_a_narrow_no_break_space_before_it(texte, attendu):
    from francais.formats import espace_avant_point_virgule

    assert espace_avant_point_virgule(texte) == attendu


def test_no_word_template_has_a_plain_space_before_a_semicolon():
    import glob
    import re
    import zipfile

    for path in glob.glob(str(Path(__file__).resolve().parents[2] / "templates" / "*.docx")):
        xml = zipfile.ZipFile(path).read("word/document.xml").decode("utf-8")
        texte = "".join(re.findall(r"<w:t[^>]*>([^<]*)</w:t>", xml))
        assert " ;" not in texte, path
