"""The convention rules, as pure functions: renewals (at most two), the next action, one-year periods,
the pro-rata objectives, the reporting dates, and who must answer the next call."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from actions.conventions import echeances
from config.appel_config import load_appel_config
from models.convention import (
    ConventionNonSignee,
    ConventionStatut,
    Periode,
    RenouvellementsEpuises,
    next_action,
    objectifs_pro_rata,
    one_year_from,
    prolonger,
    requires_new_call,
)
from templates.mails import annonce_context, render_mail

EN_COURS, A_SIGNER = ConventionStatut.EN_COURS, ConventionStatut.A_SIGNER
A1 = "avenant CONV-2018-001-A1 du 15 novembre 2018"
A2 = "avenant CONV-2018-001-A2 du 14 novembre 2019"
OBJECTIFS = load_appel_config(2018).objectifs


def renew(renouvellements: int, fin: date, *, statut: ConventionStatut = EN_COURS, precedents: list[str] | None = None,
          maximum: int = 2) -> Periode:
    return prolonger(numero="CONV-2018-001", statut=statut, fin=fin, renouvellements=renouvellements,
                     renouvellements_max=maximum, precedents=precedents or [])


def pro_rata(etp: str) -> dict[str, Decimal]:
    return objectifs_pro_rata(Decimal(etp), entrees=OBJECTIFS.entrees, file_active=OBJECTIFS.file_active,
                              taux_sorties_positives=OBJECTIFS.taux_sorties_positives,
                              partenariats_par_binome=OBJECTIFS.partenariats_par_binome)


# --- renewals ------------------------------------------------------------------------------------


def test_first_renewal_covers_the_next_calendar_year():
    assert renew(0, date(2018, 12, 31)) == Periode(date(2019, 1, 1), date(2019, 12, 31))


def test_second_renewal_covers_the_year_after_and_crosses_a_leap_year():
    assert renew(1, date(2019, 12, 31), precedents=[A1]) == Periode(date(2020, 1, 1), date(2020, 12, 31))


def test_third_renewal_is_refused_naming_the_convention_and_its_two_earlier_avenants():
    with pytest.raises(RenouvellementsEpuises) as refus:
        renew(2, date(2020, 12, 31), precedents=[A1, A2])

    assert str(refus.value) == (
        "la convention CONV-2018-001 a déjà été renouvelée 2 fois (avenant CONV-2018-001-A1 du 15 novembre 2018 "
        "et avenant CONV-2018-001-A2 du 14 novembre 2019) : elle ne peut plus l'être ; "
        "la structure doit répondre à un nouvel appel à projets")
    assert (refus.value.numero, refus.value.maximum, refus.value.precedents) == ("CONV-2018-001", 2, [A1, A2])


def test_a_count_already_past_the_limit_is_refused_too():
    with pytest.raises(RenouvellementsEpuises):
        renew(3, date(2021, 12, 31), precedents=[A1, A2])


def test_a_call_allowing_no_renewal_refuses_the_first():
    with pytest.raises(RenouvellementsEpuises) as refus:
        renew(0, date(2018, 12, 31), maximum=0)
    assert "renouvelée 0 fois (aucun avenant enregistré)" in str(refus.value)


@pytest.mark.parametrize("renouvellements", [0, 2])
def test_unsigned_convention_cannot_be_renewed(renouvellements):
    with pytest.raises(ConventionNonSignee) as refus:
        renew(renouvellements, date(2018, 12, 31), statut=A_SIGNER)
    assert str(refus.value) == "la convention CONV-2018-001 n'est pas signée : elle ne peut pas être renouvelée"


# --- the next action, in French --------------------------------------------------------------------


@pytest.mark.parametrize(("statut", "renouvellements", "maximum", "action"), [
    (A_SIGNER, 0, 2, "à signer"),
    (EN_COURS, 0, 2, "renouvelable"),
    (EN_COURS, 1, 2, "dernier renouvellement possible"),
    (EN_COURS, 2, 2, "nouvel appel requis"),
    (EN_COURS, 0, 1, "dernier renouvellement possible"),
    (EN_COURS, 0, 0, "nouvel appel requis"),
])
def test_next_action_says_what_the_sa_does_next(statut, renouvellements, maximum, action):
    assert next_action(statut, renouvellements, maximum) == action


# --- one-year periods -------------------------------------------------------------------------------


@pytest.mark.parametrize(("debut", "fin"), [
    (date(2018, 1, 1), date(2018, 12, 31)),
    (date(2019, 7, 1), date(2020, 6, 30)),     # across a year end and over 29 February 2020
    (date(2019, 3, 1), date(2020, 2, 29)),     # ends on a leap day
    (date(2017, 12, 31), date(2018, 12, 30)),
    (date(2020, 2, 29), date(2021, 2, 28)),    # starts on a leap day: the year ends on 28 February
])
def test_one_year_from_ends_the_day_before_the_same_date_next_year(debut, fin):
    assert one_year_from(debut) == Periode(debut, fin)


def test_renewals_after_a_leap_day_start_do_not_drift():
    first = one_year_from(date(2020, 2, 29))
    second = renew(0, first.fin)
    third = renew(1, second.fin, precedents=[A1])

    assert [(p.debut, p.fin) for p in (first, second, third)] == [
        (date(2020, 2, 29), date(2021, 2, 28)), (date(2021, 3, 1), date(2022, 2, 28)),
        (date(2022, 3, 1), date(2023, 2, 28))]


# --- objectives, pro rata -------------------------------------------------------------------------------


def test_objectives_for_half_an_etp_are_half_the_call_s_in_decimal():
    objectifs = pro_rata("0.5")

    assert objectifs == {"entrees": Decimal("28.0"), "file_active": Decimal("35.0"),
                         "taux_sorties_positives": Decimal("0.50"), "partenariats": Decimal("1.5")}
    assert all(type(v) is Decimal for v in objectifs.values())


def test_objectives_for_one_point_eight_etp_round_to_a_tenth():
    objectifs = pro_rata("1.8")

    assert objectifs == {"entrees": Decimal("100.8"), "file_active": Decimal("126.0"),
                         "taux_sorties_positives": Decimal("0.50"), "partenariats": Decimal("5.4")}
    assert all(type(v) is Decimal for v in objectifs.values())


def test_a_binome_s_partnerships_are_shared_between_its_two_etp():
    assert pro_rata("2")["partenariats"] == Decimal(OBJECTIFS.partenariats_par_binome)


# --- reporting dates --------------------------------------------------------------------------------------


def test_reporting_dates_of_a_calendar_year():
    due = [d for _, d in echeances(date(2018, 1, 1), date(2018, 12, 31), load_appel_config(2018).suivi)]
    assert due == [date(2018, 7, 30), date(2019, 3, 1), date(2018, 12, 31)]


def test_mid_term_of_a_period_starting_on_the_31st_is_the_end_of_july_not_the_28th():
    [(_, mi_parcours), *_] = echeances(date(2018, 1, 31), date(2019, 1, 30), load_appel_config(2018).suivi)
    assert mi_parcours == date(2018, 8, 29)  # the half ends on 30 July (31 January + 6 months - 1 day), + 30 days


# --- who must answer the next call -----------------------------------------------------------------------------


@pytest.mark.parametrize(("renouvellements", "fin", "attendu"), [
    (2, date(2020, 12, 31), True),    # renewed twice, ends before the new call's conventions start
    (1, date(2020, 12, 31), False),   # can still be renewed
    (2, date(2021, 12, 31), False),   # still runs through the new call's first year
    (2, date(2019, 12, 31), False),   # already over before the call was published
])
def test_only_a_convention_that_cannot_be_renewed_and_ends_before_the_new_call_requires_it(renouvellements, fin, attendu):
    assert requires_new_call(renouvellements=renouvellements, renouvellements_max=2, fin=fin,
                             publie_le=date(2020, 11, 19), nouveau_debut=date(2021, 1, 1)) is attendu


def announcement(*conventions: tuple[str, date, date, int]) -> str:
    _, body = render_mail("annonce_appel", annonce_context(
        appel_titre="Appel à projets PLIE 2021", appel_annee=2021, date_limite=datetime(2020, 12, 10, 16, tzinfo=timezone.utc),
        formulaire_nom="dossier_reponse_2021.xlsx", comite_le=date(2020, 12, 14), conventions_epuisees=conventions))
    return body


def test_announcement_names_the_convention_that_cannot_be_renewed_and_asks_for_an_answer():
    body = announcement(("CONV-2018-001", date(2018, 1, 1), date(2020, 12, 31), 2))

    assert ("Votre convention CONV-2018-001 (du 1er janvier 2018 au 31 décembre 2020) a déjà été renouvelée 2 fois, "
            "le maximum autorisé : elle ne peut plus être renouvelée. Pour poursuivre l'action après le "
            "31 décembre 2020, votre structure doit répondre au présent appel à projets.") in body
    assert "pour l'année 2021.\n\nVotre convention" in body and "appel à projets.\n\nVous trouverez" in body


def test_announcement_lists_several_conventions_that_cannot_be_renewed():
    body = announcement(("CONV-2018-001", date(2018, 1, 1), date(2020, 12, 31), 2),
                        ("CONV-2018-004", date(2018, 1, 1), date(2020, 12, 31), 2))

    assert ("Vos conventions suivantes ont déjà été renouvelées le nombre maximal de fois autorisé et ne peuvent plus "
            "être renouvelées :\n"
            "  - CONV-2018-001 (du 1er janvier 2018 au 31 décembre 2020), renouvelée 2 fois\u202f;\n"
            "  - CONV-2018-004 (du 1er janvier 2018 au 31 décembre 2020), renouvelée 2 fois.\n"
            "Pour poursuivre ces actions après leur terme, votre structure doit répondre au présent appel à projets.\n\n"
            "Vous trouverez") in body


def test_announcement_without_such_convention_is_the_plain_one():
    body = announcement()

    assert "renouvel" not in body
    assert "pour l'année 2021.\n\nVous trouverez en pièce jointe" in body
