"""The échéancier's pure rules: when each bilan is due, what it is called, what goes out on a given day."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from config.appel_config import load_appel_config
from actions.conventions import echeances
from models.indicateurs import objectifs_au_prorata
from models.suivi import (
    Envoi,
    NatureEcheance,
    StatutBilan,
    due_mailings,
    fraction_couverte,
    is_late,
    jeton_echeance,
    planned_echeances,
    statut_bilan,
)

SUIVI = load_appel_config(2018).suivi
DEBUT, FIN = date(2018, 1, 1), date(2018, 12, 31)
MI_PARCOURS_DUE = date(2018, 7, 30)  # 30 June 2018 (the middle of the year) + 30 days
REQUEST_DAY = date(2018, 7, 15)  # 15 days before
DEMANDE = Envoi("demande", 0)
RELANCE_1, RELANCE_2 = Envoi("relance", 1), Envoi("relance", 2)


def planned(debut: date = DEBUT, fin: date = FIN):
    return planned_echeances(debut, fin, mi_parcours_mois=SUIVI.mi_parcours_mois,
                             delai_mi_parcours_jours=SUIVI.delai_mi_parcours_jours,
                             delai_final_jours=SUIVI.delai_final_jours)


def mailings(aujourd_hui: date, *, demande: date | None = None, relances: frozenset[int] = frozenset(),
             recu: bool = False, due_le: date = MI_PARCOURS_DUE) -> list[Envoi]:
    """What the 2018 config sends on ``aujourd_hui`` for the mid-term bilan, given what already went out
    (``demande``: the day the request went out)."""
    return due_mailings(aujourd_hui=aujourd_hui, due_le=due_le, demande_jours_avant=SUIVI.demande_jours_avant,
                        relances_jours_apres=SUIVI.relances_jours_apres, demande_le=demande,
                        relances_envoyees=set(relances), recu=recu)


class Echeancier:
    """Runs the rule day after day over one échéance, remembering what went out, as the flow does."""

    def __init__(self) -> None:
        self.demande: date | None = None
        self.relances, self.recu = set[int](), False
        self.journal: list[tuple[date, Envoi]] = []

    def run(self, jour: date) -> list[Envoi]:
        out = mailings(jour, demande=self.demande, relances=frozenset(self.relances), recu=self.recu)
        for envoi in out:
            if envoi.kind == "demande":
                self.demande = jour
            else:
                self.relances.add(envoi.rang)
            self.journal.append((jour, envoi))
        return out


# --- planned échéances ----------------------------------------------------------------------


def test_2018_config_is_the_one_these_rules_are_checked_against():
    assert (SUIVI.mi_parcours_mois, SUIVI.delai_mi_parcours_jours, SUIVI.delai_final_jours) == (6, 30, 60)
    assert (SUIVI.demande_jours_avant, SUIVI.relances_jours_apres) == (15, [7, 21])


def test_mid_term_bilan_of_2018_covers_january_to_june_and_is_due_30_days_after_30_june():
    mi, _ = planned()
    assert (mi.nature, mi.periode_debut, mi.periode_fin, mi.due_le) == (
        NatureEcheance.MI_PARCOURS, DEBUT, date(2018, 6, 30), date(2018, 7, 30))


def test_the_convention_and_the_echeancier_give_the_same_mid_term_date_for_a_period_starting_on_the_31st():
    [mi, final] = planned(date(2018, 1, 31), date(2019, 1, 30))
    [(_, mi_convention), (_, final_convention), _] = echeances(date(2018, 1, 31), date(2019, 1, 30), SUIVI)
    assert (mi.periode_fin, mi.due_le) == (date(2018, 7, 30), date(2018, 8, 29))
    assert (mi_convention, final_convention) == (mi.due_le, final.due_le)


def test_a_mid_term_bilan_is_measured_against_half_of_the_year_s_objectives():
    o = load_appel_config(2018).objectifs
    mi = fraction_couverte(NatureEcheance.MI_PARCOURS, mi_parcours_mois=SUIVI.mi_parcours_mois)
    final = fraction_couverte(NatureEcheance.FINAL, mi_parcours_mois=SUIVI.mi_parcours_mois)
    assert (mi, final) == (Decimal("0.5"), Decimal(1))
    assert objectifs_au_prorata(Decimal("1.8"), mi, **o.model_dump())["entrees"] == Decimal("50.4")
    assert objectifs_au_prorata(Decimal("1.8"), final, **o.model_dump())["entrees"] == Decimal("100.8")
    assert objectifs_au_prorata(Decimal("1.8"), mi, **o.model_dump())["file_active"] == Decimal("126.0")  # a stock


def test_final_bilan_of_2018_is_due_60_days_after_31_december():
    _, final = planned()
    assert (final.nature, final.periode_debut, final.periode_fin, final.due_le) == (
        NatureEcheance.FINAL, DEBUT, FIN, date(2019, 3, 1))


def test_renewed_year_2019_has_its_final_bilan_due_on_29_february_2020():
    mi, final = planned(date(2019, 1, 1), date(2019, 12, 31))
    assert (mi.due_le, final.due_le) == (date(2019, 7, 30), date(2020, 2, 29))


def test_a_period_starting_mid_year_has_its_mid_term_six_months_later():
    mi, final = planned(date(2018, 4, 1), date(2019, 3, 31))
    assert (mi.due_le, final.due_le) == (date(2018, 9, 30) + timedelta(days=30), date(2019, 5, 30))


# --- jeton ----------------------------------------------------------------------------------


def test_jeton_names_the_convention_the_kind_and_the_period_year():
    assert jeton_echeance("CONV-2018-003", NatureEcheance.MI_PARCOURS, date(2018, 1, 1)) == "BIL-CONV-2018-003-MI-2018"
    assert jeton_echeance("CONV-2018-003", NatureEcheance.FINAL, date(2019, 1, 1)) == "BIL-CONV-2018-003-FIN-2019"


def test_each_echeance_of_three_periods_has_its_own_jeton_that_fits_its_column():
    jetons = {jeton_echeance("CONV-2018-123", e.nature, e.periode_debut)
              for annee in (2018, 2019, 2020) for e in planned(date(annee, 1, 1), date(annee, 12, 31))}
    assert len(jetons) == 6
    assert max(len(j) for j in jetons) <= 60


# --- what goes out on a day -----------------------------------------------------------------


def test_nothing_goes_out_the_day_before_the_request_window():
    assert mailings(date(2018, 7, 14)) == []


def test_request_goes_out_fifteen_days_before_the_due_date():
    assert mailings(date(2018, 7, 15)) == [DEMANDE]


def test_request_already_sent_is_not_sent_again_before_the_due_date():
    assert mailings(date(2018, 7, 16), demande=REQUEST_DAY) == []
    assert mailings(date(2018, 7, 30), demande=REQUEST_DAY) == []


def test_a_missed_request_day_is_caught_up_the_next_run():
    echeancier = Echeancier()
    assert echeancier.run(date(2018, 7, 14)) == []
    # 15 and 16 July: the flow did not run
    assert echeancier.run(date(2018, 7, 17)) == [DEMANDE]
    assert echeancier.run(date(2018, 7, 18)) == []


def test_first_reminder_goes_out_seven_days_after_the_due_date_and_only_once():
    assert mailings(date(2018, 8, 5), demande=REQUEST_DAY) == []
    assert mailings(date(2018, 8, 6), demande=REQUEST_DAY) == [RELANCE_1]
    assert mailings(date(2018, 8, 7), demande=REQUEST_DAY, relances=frozenset({1})) == []
    assert mailings(date(2018, 8, 19), demande=REQUEST_DAY, relances=frozenset({1})) == []


def test_second_reminder_goes_out_21_days_after_the_due_date():
    assert mailings(date(2018, 8, 20), demande=REQUEST_DAY, relances=frozenset({1})) == [RELANCE_2]


def test_catching_up_after_both_reminder_days_sends_the_second_reminder_alone():
    assert mailings(date(2018, 8, 20), demande=REQUEST_DAY) == [RELANCE_2]
    assert mailings(date(2018, 10, 1), demande=REQUEST_DAY) == [RELANCE_2]


def test_the_first_reminder_is_never_sent_late_once_the_second_went_out():
    assert mailings(date(2018, 8, 21), demande=REQUEST_DAY, relances=frozenset({2})) == []
    assert mailings(date(2019, 1, 1), demande=REQUEST_DAY, relances=frozenset({2})) == []


def test_a_request_caught_up_after_the_due_date_goes_out_alone_and_the_latest_reminder_follows_next_run():
    echeancier = Echeancier()
    assert echeancier.run(date(2018, 8, 20)) == [DEMANDE]
    assert echeancier.run(date(2018, 8, 20)) == []  # run again the same day
    assert echeancier.run(date(2018, 8, 21)) == [RELANCE_2]
    assert echeancier.run(date(2018, 8, 22)) == []


def test_daily_runs_over_the_whole_summer_send_each_message_once_on_its_day():
    echeancier = Echeancier()
    jour = date(2018, 7, 1)
    while jour <= date(2018, 9, 30):
        echeancier.run(jour)
        jour += timedelta(days=1)
    assert echeancier.journal == [(date(2018, 7, 15), DEMANDE), (date(2018, 8, 6), RELANCE_1),
                                  (date(2018, 8, 20), RELANCE_2)]


def test_weekly_runs_catch_up_without_ever_sending_two_reminders_at_once():
    echeancier = Echeancier()
    jours = [date(2018, 7, 2) + timedelta(weeks=k) for k in range(12)]  # Mondays from 2 July
    for jour in jours:
        assert len(echeancier.run(jour)) <= 1
    assert echeancier.journal == [(date(2018, 7, 16), DEMANDE), (date(2018, 8, 6), RELANCE_1),
                                  (date(2018, 8, 20), RELANCE_2)]


@pytest.mark.parametrize("jour", [date(2018, 7, 15), date(2018, 8, 6), date(2018, 8, 20), date(2019, 1, 1)])
def test_nothing_goes_out_once_the_bilan_is_received(jour):
    assert mailings(jour, recu=True) == []
    assert mailings(jour, demande=REQUEST_DAY, recu=True) == []


def test_a_bilan_received_between_reminders_stops_the_second_one():
    echeancier = Echeancier()
    for jour in (date(2018, 7, 15), date(2018, 8, 6)):
        echeancier.run(jour)
    echeancier.recu = True
    assert echeancier.run(date(2018, 8, 20)) == []
    assert [envoi for _, envoi in echeancier.journal] == [DEMANDE, RELANCE_1]


def test_reminder_offsets_are_taken_from_the_config_in_any_order():
    out = due_mailings(aujourd_hui=date(2018, 8, 3), due_le=MI_PARCOURS_DUE, demande_jours_avant=15,
                       relances_jours_apres=[10, 3], demande_le=REQUEST_DAY, relances_envoyees=set(), recu=False)
    assert out == [RELANCE_1]


# --- late -----------------------------------------------------------------------------------


def test_bilan_is_late_from_the_day_after_its_due_date_until_it_is_received():
    assert not is_late(aujourd_hui=date(2018, 7, 30), due_le=MI_PARCOURS_DUE, recu=False)
    assert is_late(aujourd_hui=date(2018, 7, 31), due_le=MI_PARCOURS_DUE, recu=False)
    assert not is_late(aujourd_hui=date(2018, 7, 31), due_le=MI_PARCOURS_DUE, recu=True)


def statut(jour: date, *, accepte: bool = False, erreurs: bool = False) -> StatutBilan:
    return statut_bilan(aujourd_hui=jour, due_le=MI_PARCOURS_DUE, accepte=accepte, recu_avec_erreurs=erreurs)


def test_a_bilan_received_with_errors_eight_days_before_its_due_date_is_to_correct_not_late():
    assert statut(date(2018, 7, 22), erreurs=True) is StatutBilan.A_CORRIGER
    assert statut(date(2018, 8, 22), erreurs=True) is StatutBilan.A_CORRIGER


def test_late_means_after_the_due_date_with_nothing_received():
    assert statut(date(2018, 7, 30)) is StatutBilan.ATTENDU
    assert statut(date(2018, 7, 31)) is StatutBilan.EN_RETARD


def test_a_bilan_received_complete_is_received_whatever_else_came():
    assert statut(date(2018, 9, 1), accepte=True, erreurs=True) is StatutBilan.RECU
