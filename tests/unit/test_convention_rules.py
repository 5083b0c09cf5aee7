"""The convention rules, as pure functions: renewals (at most two), the next action, one-year periods,
the pro-rata objectives, the reporting dates, and who must answer the next call."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from actions.conventions import echeances
from config.appel_config import load_appel_config
from models.convention import (
    ConventionEchue,
    ConventionNonSignee,
    ConventionStatut,
    Periode,
    PeriodeDejaRenouvelee,
    RenouvellementsEpuises,
    Avenant,
    AvenantNature,
    Convention,
    etat_en_vigueur,
    next_action,
    one_year_from,
    prolonger,
    requires_new_call,
    statut_convention,
)
from models.indicateurs import objectifs_au_prorata
from templates.mails import annonce_context, render_mail

EN_COURS, A_SIGNER = ConventionStatut.EN_COURS, ConventionStatut.A_SIGNER
A1 = "avenant CONV-2018-001-A1 du 15 novembre 2018"
A2 = "avenant CONV-2018-001-A2 du 14 novembre 2019"
OBJECTIFS = load_appel_config(2018).objectifs


def renew(renouvellements: int, fin: date, *, statut: ConventionStatut = EN_COURS, precedents: list[str] | None = None,
          maximum: int = 2, valide_le: date | None = None, par: dict[date, str] | None = None,
          debut: date = date(2018, 1, 1)) -> Periode:
    """A renewal of a convention that started on ``debut``, validated 46 days before its end by default
    (15 November for a year ending on 31 December)."""
    return prolonger(numero="CONV-2018-001", statut=statut, debut=debut, fin=fin,
                     renouvellements=renouvellements, renouvellements_max=maximum, precedents=precedents or [],
                     valide_le=valide_le or fin - timedelta(days=46), renouvelee_par=par)


def pro_rata(etp: str) -> dict[str, Decimal]:
    return objectifs_au_prorata(Decimal(etp), Decimal(1), **OBJECTIFS.model_dump())


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


def test_the_same_renewal_asked_again_finds_its_year_renewed_and_changes_nothing():
    with pytest.raises(PeriodeDejaRenouvelee) as deja:  # A1 validated on 15 November 2018 gave 2019
        renew(1, date(2019, 12, 31), valide_le=date(2018, 11, 15), par={date(2019, 1, 1): A1})

    assert str(deja.value) == ("la convention CONV-2018-001 est déjà renouvelée pour la période du 1er janvier 2019 "
                               "au 31 décembre 2019 par l'avenant CONV-2018-001-A1 du 15 novembre 2018 : rien n'a changé")
    assert deja.value.periode == Periode(date(2019, 1, 1), date(2019, 12, 31))


def test_a_renewal_validated_at_any_time_of_a_year_renews_the_next_year_only():
    assert renew(0, date(2018, 12, 31), valide_le=date(2018, 1, 1)) == Periode(date(2019, 1, 1), date(2019, 12, 31))
    assert renew(0, date(2018, 12, 31), valide_le=date(2017, 12, 20)) == Periode(date(2019, 1, 1), date(2019, 12, 31))
    with pytest.raises(PeriodeDejaRenouvelee):  # 2019 is renewed; a validation in 2018 cannot reach 2020
        renew(1, date(2019, 12, 31), valide_le=date(2018, 12, 31))
    assert renew(1, date(2019, 12, 31), valide_le=date(2019, 1, 1)) == Periode(date(2020, 1, 1), date(2020, 12, 31))


def test_the_same_request_after_the_last_renewal_says_it_is_done_rather_than_exhausted():
    with pytest.raises(PeriodeDejaRenouvelee):
        renew(2, date(2020, 12, 31), valide_le=date(2019, 11, 14), precedents=[A1, A2])


def test_a_renewal_validated_after_the_convention_ended_is_refused():
    with pytest.raises(ConventionEchue) as echue:
        renew(0, date(2018, 12, 31), valide_le=date(2019, 1, 10))
    assert str(echue.value) == ("la convention CONV-2018-001 a pris fin le 31 décembre 2018 : un renouvellement validé "
                                "le 10 janvier 2019 ne peut plus la prolonger")


@pytest.mark.parametrize("renouvellements", [0, 2])
def test_unsigned_convention_cannot_be_renewed(renouvellements):
    with pytest.raises(ConventionNonSignee) as refus:
        renew(renouvellements, date(2018, 12, 31), statut=A_SIGNER)
    assert str(refus.value) == "la convention CONV-2018-001 n'est pas signée : elle ne peut pas être renouvelée"


# --- the next action, in French --------------------------------------------------------------------


INITIAL = {"referents": [{"nom_complet": "Anne Dupont", "etp": "1", "salaire": "40000.00"}], "etp": "1"}
APRES = {"referents": [{"nom_complet": "Anne Dupont", "etp": "0.8", "salaire": "35600.00"}], "etp": "0.8"}


def convention(*, signee_le: date | None = date(2017, 12, 28), renouvellements: int = 0, maximum: int = 2,
               avenants: tuple[Avenant, ...] = ()) -> Convention:
    """A 2018 convention as the database holds it (no session: the rules only read it)."""
    fin = one_year_from(date(2018 + renouvellements, 1, 1)).fin
    return Convention(numero="CONV-2018-001", debut=date(2018, 1, 1), fin=fin, signee_le=signee_le,
                      statut=A_SIGNER if signee_le is None else EN_COURS, renouvellements=renouvellements,
                      renouvellements_max=maximum, etat_initial=INITIAL, avenants=list(avenants))


def renouvellement(rang: int, *, signe_le: date | None) -> Avenant:
    debut = date(2018 + rang, 1, 1)
    return Avenant(ordre=rang, numero=f"CONV-2018-001-A{rang}", nature=AvenantNature.PROLONGATION, renouvellement=rang,
                   valide_le=date(2017 + rang, 11, 15), periode_debut=debut, periode_fin=one_year_from(debut).fin,
                   etat=INITIAL, signe_le=signe_le)


def modification(ordre: int, *, valide_le: date, signe_le: date | None) -> Avenant:
    return Avenant(ordre=ordre, numero=f"CONV-2018-001-A{ordre}", nature=AvenantNature.MODIFICATION, renouvellement=None,
                   valide_le=valide_le, periode_debut=date(2018, 1, 1), periode_fin=date(2018, 12, 31),
                   changements=["ETP de Anne Dupont : 1 → 0,8"], etat=APRES, signe_le=signe_le)


@pytest.mark.parametrize(("c", "jour", "action"), [
    (convention(signee_le=None), date(2017, 12, 21), "à signer"),
    (convention(), date(2018, 6, 1), "renouvelable"),
    (convention(renouvellements=1, avenants=(renouvellement(1, signe_le=date(2018, 11, 29)),)), date(2019, 6, 1),
     "dernier renouvellement possible"),
    (convention(renouvellements=1, avenants=(renouvellement(1, signe_le=None),)), date(2018, 11, 20),
     "avenant CONV-2018-001-A1 à signer"),
    (convention(maximum=0), date(2018, 6, 1), "nouvel appel requis"),
    (convention(maximum=1), date(2018, 6, 1), "dernier renouvellement possible"),
    (convention(), date(2019, 1, 1), "bilan final à obtenir"),  # its year is over: too late to renew it
])
def test_next_action_says_what_the_sa_does_next_on_that_day(c, jour, action):
    assert next_action(c, jour, bilan_final_recu=False) == action


def test_renewable_only_while_a_renewal_can_still_be_decided_before_the_end_of_the_period():
    c = convention()
    assert next_action(c, date(2018, 12, 31), bilan_final_recu=False) == "renouvelable"
    assert next_action(c, date(2019, 1, 1), bilan_final_recu=True) == "aucune (convention échue)"


def test_a_convention_s_status_follows_the_calendar():
    prolongee = convention(renouvellements=1, avenants=(renouvellement(1, signe_le=date(2018, 11, 29)),))
    assert statut_convention(convention(signee_le=None), date(2017, 12, 21), bilan_final_recu=False) == "à signer"
    assert statut_convention(convention(), date(2017, 12, 29), bilan_final_recu=False) == "à venir"
    assert statut_convention(convention(), date(2018, 3, 1), bilan_final_recu=False) == "en cours"
    assert statut_convention(prolongee, date(2018, 12, 1), bilan_final_recu=False) == "en cours"
    assert statut_convention(prolongee, date(2019, 3, 1), bilan_final_recu=False) == "prolongée par avenant"
    assert statut_convention(prolongee, date(2020, 1, 1), bilan_final_recu=False) == "échue, bilan final non reçu"
    assert statut_convention(prolongee, date(2020, 3, 1), bilan_final_recu=True) == "échue, bilan final reçu"


def test_in_december_2026_a_2018_convention_renewed_twice_is_no_longer_in_progress():
    c = convention(renouvellements=2, avenants=(renouvellement(1, signe_le=date(2018, 11, 29)),
                                                renouvellement(2, signe_le=date(2019, 11, 28))))
    assert statut_convention(c, date(2026, 12, 1), bilan_final_recu=True) == "échue, bilan final reçu"
    assert next_action(c, date(2026, 12, 1), bilan_final_recu=True) == "aucune (convention échue)"


def test_an_unsigned_renewal_does_not_extend_the_convention():
    c = convention(renouvellements=1, avenants=(renouvellement(1, signe_le=None),))
    assert statut_convention(c, date(2019, 2, 1), bilan_final_recu=False) == "échue, bilan final non reçu"


def test_a_modification_avenant_counts_from_its_signature_and_its_effective_date():
    unsigned = convention(avenants=(modification(1, valide_le=date(2018, 3, 1), signe_le=None),))
    signed = convention(avenants=(modification(1, valide_le=date(2018, 3, 1), signe_le=date(2018, 3, 15)),))
    ahead = convention(avenants=(modification(1, valide_le=date(2018, 5, 1), signe_le=date(2018, 3, 15)),))
    assert etat_en_vigueur(unsigned, date(2018, 12, 1))["etp"] == "1"
    assert [etat_en_vigueur(signed, d)["etp"] for d in (date(2018, 3, 14), date(2018, 3, 15))] == ["1", "0.8"]
    assert [etat_en_vigueur(ahead, d)["etp"] for d in (date(2018, 4, 30), date(2018, 5, 1))] == ["1", "0.8"]


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
    second = renew(0, first.fin, debut=first.debut)
    third = renew(1, second.fin, precedents=[A1], debut=first.debut)

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
