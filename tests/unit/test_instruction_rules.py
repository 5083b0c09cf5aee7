"""The instruction rules on plain values: salary ceilings and their boundaries, ETP, travel costs,
the balance of the budget, and the avis they lead to (texts in French)."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from models.instruction import (
    Ajournement,
    Avis,
    Constat,
    Gravite,
    ajournement_bloquant,
    ajournement_etat,
    examine_budget,
    examine_dossier,
    propose_avis,
    salary_ceiling,
)

PLAFOND = Decimal("44500.00")
CEILING_TEXT = "Anne Dupont : salaire chargé de {salaire} supérieur au plafond de {plafond} pour {etp} ETP (44 500,00 € par ETP)"
NO_TRAVEL = "frais de déplacement absents du budget : ils sont exigés pour les rencontres avec les entreprises"


def fr(text: str) -> str:
    """Babel's U+202F / U+00A0 separators as plain spaces, for readable assertions."""
    return text.replace("\u202f", " ").replace("\xa0", " ")


def form(*referents: tuple[str | None, str | None], deplacements: str | None = "3000.00", **changes: str | None) -> dict:
    """A stored dossier de réponse (values as the intake keeps them: strings), balanced unless told otherwise."""
    refs = [{"nom": "Dupont" if i == 0 else f"Durand{i}", "prenom": "Anne" if i == 0 else "Paul", "etp": etp,
             "salaire_charge_annuel": salaire, "cv_fichier": f"cv{i}.pdf"} for i, (etp, salaire) in enumerate(referents)]
    salaires = sum((Decimal(s) for _, s in referents if s), Decimal("0"))
    total = salaires + Decimal(deplacements or "0")
    values = {
        "referents": refs, "budget_salaires": str(salaires), "budget_deplacements": deplacements, "budget_autres": "0.00",
        "ressources_fse": str(total / 2), "ressources_plie": str(total - total / 2), "ressources_autres": "0.00",
    }
    values.update(changes)
    return values


def findings(formulaire: dict, *, deplacements_requis: bool = True) -> list[tuple[Gravite, str]]:
    return [(c.gravite, fr(c.texte)) for c in examine_budget(formulaire, plafond_etp=PLAFOND, deplacements_requis=deplacements_requis)]


# --- the salary ceiling, pro rata of the ETP ------------------------------------------------


@pytest.mark.parametrize(("etp", "ceiling"), [
    ("1", "44500.00"), ("0.5", "22250.00"), ("0.8", "35600.00"), ("0.25", "11125.00"), ("0.1", "4450.00"),
])
def test_ceiling_is_the_per_etp_ceiling_pro_rata_to_the_cent(etp, ceiling):
    assert salary_ceiling(PLAFOND, Decimal(etp)) == Decimal(ceiling)


def test_full_time_referent_at_exactly_44_500_00_passes():
    assert findings(form(("1", "44500.00"))) == []


def test_full_time_referent_at_44_500_01_is_blocking_with_both_amounts():
    assert findings(form(("1", "44500.01"))) == [
        (Gravite.BLOQUANT, CEILING_TEXT.format(salaire="44 500,01 €", plafond="44 500,00 €", etp="1")),
    ]


def test_half_time_referent_at_exactly_22_250_00_passes():
    assert findings(form(("0.5", "22250.00"))) == []


def test_half_time_referent_at_22_250_01_is_blocking_against_the_pro_rata_ceiling():
    assert findings(form(("0.5", "22250.01"))) == [
        (Gravite.BLOQUANT, CEILING_TEXT.format(salaire="22 250,01 €", plafond="22 250,00 €", etp="0,5")),
    ]


def test_half_time_referent_paid_a_full_time_salary_is_blocking():
    [(gravite, texte)] = findings(form(("0.5", "44500.00")))
    assert gravite is Gravite.BLOQUANT and "plafond de 22 250,00 € pour 0,5 ETP" in texte


def test_each_referent_is_checked_on_its_own():
    result = findings(form(("1", "44500.00"), ("0.5", "22250.01")))
    assert result == [(Gravite.BLOQUANT, ("Paul Durand1 : salaire chargé de 22 250,01 € supérieur au plafond de 22 250,00 € "
                                         "pour 0,5 ETP (44 500,00 € par ETP)"))]


# --- ETP --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("etp", "shown"), [("0", "0"), ("1.01", "1,01"), ("-0.5", "-0,5"), ("", "absent"), (None, "absent"),
                                            ("un", "un")])
def test_etp_outside_zero_to_one_or_missing_is_blocking(etp, shown):
    result = findings(form((etp, "40000.00")))
    assert result == [(Gravite.BLOQUANT, f"Anne Dupont : ETP « {shown} » hors de l'intervalle ]0 ; 1]")]


def test_salary_of_a_referent_with_a_wrong_etp_still_counts_in_the_salaries_total():
    """The budget's salaries match the référents' salaries: only the ETP is wrong, nothing else is reported."""
    assert [g for g, _ in findings(form(("1.01", "40000.00"), ("1", "40000.00")))] == [Gravite.BLOQUANT]


def test_exactly_one_etp_and_a_small_part_time_are_accepted():
    assert findings(form(("1", "40000.00"), ("0.01", "445.00"))) == []


def test_missing_salary_is_blocking():
    result = findings(form(("1", None)))
    assert result == [(Gravite.BLOQUANT, "Anne Dupont : salaire chargé annuel non renseigné")]


def test_referent_without_a_name_is_named_as_such():
    formulaire = form(("2", "40000.00"))
    formulaire["referents"][0].update(nom="", prenom="")
    assert findings(formulaire) == [(Gravite.BLOQUANT, "référent sans nom : ETP « 2 » hors de l'intervalle ]0 ; 1]")]


# --- travel costs -----------------------------------------------------------------------------


@pytest.mark.parametrize("deplacements", [None, "", "0", "0.00"])
def test_travel_costs_absent_or_zero_are_blocking_when_the_call_requires_them(deplacements):
    assert findings(form(("1", "40000.00"), deplacements=deplacements)) == [(Gravite.BLOQUANT, NO_TRAVEL)]


@pytest.mark.parametrize("deplacements", ["0.01", "3000.00"])
def test_any_travel_costs_are_enough(deplacements):
    assert findings(form(("1", "40000.00"), deplacements=deplacements)) == []


def test_travel_costs_are_not_checked_when_the_call_does_not_require_them():
    assert findings(form(("1", "40000.00"), deplacements="0"), deplacements_requis=False) == []


# --- the budget -------------------------------------------------------------------------------


def test_expenses_equal_to_resources_to_the_cent_pass():
    assert findings(form(("1", "40000.00"), ressources_fse="21500.00", ressources_plie="21500.00")) == []


def test_one_cent_gap_between_expenses_and_resources_is_blocking_with_the_gap():
    result = findings(form(("1", "40000.00"), ressources_fse="21500.00", ressources_plie="21499.99"))
    assert result == [(Gravite.BLOQUANT, "budget non équilibré : dépenses 43 000,00 €, ressources 42 999,99 € (écart de 0,01 €)")]


def test_resources_over_expenses_are_unbalanced_too():
    result = findings(form(("1", "40000.00"), ressources_autres="0.01"))
    assert result == [(Gravite.BLOQUANT, "budget non équilibré : dépenses 43 000,00 €, ressources 43 000,01 € (écart de 0,01 €)")]


def test_budget_salaries_different_from_the_referents_salaries_is_a_reserve():
    result = findings(form(("1", "40000.00"), ("0.5", "20000.00"), budget_salaires="59000.00", budget_autres="1000.00"))
    assert result == [(Gravite.RESERVE, ("salaires du budget (59 000,00 €) différents de la somme des salaires des référents "
                                        "(60 000,00 €)"))]


def test_amounts_typed_with_more_decimals_are_compared_exactly():
    assert findings(form(("1", "44500.001"))) != []


# --- the whole dossier, and the avis ------------------------------------------------------------


def test_complete_conforming_dossier_is_said_so():
    constats = examine_dossier(formulaire=form(("1", "40000.00")), pieces_manquantes=[], siret="73282932000074",
                               contact_email="contact@example.org", plafond_etp=PLAFOND, deplacements_requis=True)
    assert constats == [Constat(Gravite.INFORMATION, "dossier complet, budget conforme au cahier des charges")]
    assert propose_avis(constats) == (Avis.FAVORABLE, [])


def test_missing_postal_copy_or_cv_is_a_reserve_and_a_missing_form_field_blocks():
    constats = examine_dossier(
        formulaire=form(("1", "40000.00")), siret="73282932000074", contact_email="contact@example.org",
        pieces_manquantes=["envoi postal (courrier) non reçu", "CV de Anne Dupont manquant (fichier attendu : cv0.pdf)",
                           "formulaire incomplet : Nom de la structure"],
        plafond_etp=PLAFOND, deplacements_requis=True,
    )
    assert [(c.gravite, c.texte) for c in constats] == [
        (Gravite.RESERVE, "dossier incomplet : envoi postal (courrier) non reçu"),
        (Gravite.RESERVE, "dossier incomplet : CV de Anne Dupont manquant (fichier attendu : cv0.pdf)"),
        (Gravite.BLOQUANT, "dossier incomplet : formulaire incomplet : Nom de la structure"),
    ]


def test_invalid_siret_blocks_and_a_missing_contact_address_is_a_reserve():
    constats = examine_dossier(formulaire=form(("1", "40000.00")), pieces_manquantes=[], siret="73282932000075",
                               contact_email=None, plafond_etp=PLAFOND, deplacements_requis=True)
    gravites = [c.gravite for c in constats]
    assert gravites == [Gravite.BLOQUANT, Gravite.RESERVE]
    assert "SIRET" in constats[0].texte and constats[1].texte == "aucune adresse électronique de contact"


def test_form_anomalies_are_reserves():
    formulaire = form(("1", "40000.00"), anomalies=None)
    formulaire["anomalies"] = ["montant saisi en texte"]
    constats = examine_dossier(formulaire=formulaire, pieces_manquantes=[], siret="73282932000074",
                               contact_email="contact@example.org", plafond_etp=PLAFOND, deplacements_requis=True)
    assert [(c.gravite, c.texte) for c in constats] == [(Gravite.RESERVE, "formulaire : montant saisi en texte")]


def test_dossier_without_a_readable_form_is_judged_on_what_is_missing():
    constats = examine_dossier(formulaire=None, pieces_manquantes=["dossier de réponse (formulaire Excel) absent ou illisible"],
                               siret="73282932000074", contact_email="contact@example.org", plafond_etp=PLAFOND,
                               deplacements_requis=True)
    assert propose_avis(constats) == (
        Avis.DEFAVORABLE, ["dossier incomplet : dossier de réponse (formulaire Excel) absent ou illisible"])


def test_anything_blocking_makes_the_avis_defavorable_with_only_the_blocking_reasons():
    constats = [Constat(Gravite.RESERVE, "r"), Constat(Gravite.BLOQUANT, "b1"), Constat(Gravite.INFORMATION, "i"),
                Constat(Gravite.BLOQUANT, "b2")]
    assert propose_avis(constats) == (Avis.DEFAVORABLE, ["b1", "b2"])


def test_reserves_without_anything_blocking_make_the_avis_reserve():
    assert propose_avis([Constat(Gravite.INFORMATION, "i"), Constat(Gravite.RESERVE, "r")]) == (Avis.RESERVE, ["r"])


def test_information_only_or_nothing_is_favorable():
    assert propose_avis([Constat(Gravite.INFORMATION, "i")]) == (Avis.FAVORABLE, [])
    assert propose_avis([]) == (Avis.FAVORABLE, [])


# --- negative amounts (issue 8, §4) ----------------------------------------------------------


@pytest.mark.parametrize("champ", ["budget_autres", "ressources_autres", "budget_deplacements", "ressources_fse"])
def test_a_negative_amount_in_the_budget_is_blocking(champ):
    values = form(("1", "40000.00"))
    values[champ] = "-500.00"
    found = findings(values)
    assert any(g is Gravite.BLOQUANT and "montant négatif" in t and "-500,00 €" in t for g, t in found), found


def test_negative_travel_costs_are_blocking_as_negative_not_as_absent():
    assert findings(form(("1", "40000.00"), deplacements="-10.00")) == [
        (Gravite.BLOQUANT, "montant négatif pour les frais de déplacement : -10,00 €"),
    ]


def test_a_negative_salary_is_blocking_even_when_the_budget_balances():
    values = form(("1", "-40000.00"), ("1", "40000.00"))
    found = findings(values)
    assert (Gravite.BLOQUANT, "Anne Dupont : montant négatif pour le salaire chargé annuel (-40 000,00 €)") in found


# --- an ajourné dossier's answer -------------------------------------------------------------------------------


def test_an_ajourne_dossier_without_answer_cannot_be_decided_up_to_its_last_day_to_answer():
    a = Ajournement(date(2017, 12, 11), date(2017, 12, 26), None)

    assert ajournement_bloquant(a, date(2017, 12, 20)) is not None
    assert ajournement_bloquant(a, date(2017, 12, 26)) is not None  # the porteur may still answer that evening
    assert ajournement_bloquant(a, date(2017, 12, 27)) is None
    assert ajournement_etat(a, date(2017, 12, 26)).endswith(": pas de réponse à ce jour")
    assert ajournement_etat(a, date(2017, 12, 27)).endswith(": aucune réponse dans le délai")


def test_an_ajourne_dossier_that_answered_can_be_decided_before_its_deadline():
    a = Ajournement(date(2017, 12, 11), date(2017, 12, 26), datetime(2017, 12, 14, 8, 0, tzinfo=timezone.utc))

    assert ajournement_bloquant(a, date(2017, 12, 20)) is None
    assert ajournement_etat(a, date(2017, 12, 20)) == (
        "réponse attendue au plus tard le 26 décembre 2017 : reçue le 14 décembre 2017")


def test_a_decision_is_read_whatever_its_case_accents_and_spaces_and_nothing_else_is():
    from models.instruction import Decision, decision_lue

    assert [decision_lue(t) for t in ("Retenu", "retenu", " RETENU ", "Non  retenu", "non retenu", "Ajourné", "ajourne")] == [
        Decision.RETENU, Decision.RETENU, Decision.RETENU, Decision.NON_RETENU, Decision.NON_RETENU,
        Decision.AJOURNE, Decision.AJOURNE]
    assert [decision_lue(t) for t in ("Accepté", "Oui", "", "Retenus", "Non-retenu")] == [None] * 5
