"""The retention rules (pure: facts and a day in, a date and a French reason out) and their configuration."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from config.appel_config import CONFIG_DIR, ConfigurationIllisible, load_appel_config
from models.conservation import (
    contacts_conservation, convention_conservation, dossier_conservation, hold_on, years_after,
)
from models.dossier import DossierStatut

COMITE = date(2017, 12, 11)


def test_a_dossier_not_retained_goes_two_years_after_its_comite():
    c = dossier_conservation(statut=DossierStatut.NON_RETENU, examine_le=COMITE, reponse_avant=None,
                             a_une_convention=False, jour=date(2019, 12, 10), annees=2)
    assert c.depuis == date(2019, 12, 11) and not c.purgeable(date(2019, 12, 10)) and c.purgeable(date(2019, 12, 11))
    assert c.raison == "non retenu au comité du 11 décembre 2017 ; pièces conservées 2 ans"


def test_a_retained_dossier_is_never_purged_on_its_own():
    for statut, convention in ((DossierStatut.RETENU, True), (DossierStatut.RETENU, False)):
        c = dossier_conservation(statut=statut, examine_le=COMITE, reponse_avant=None, a_une_convention=convention,
                                 jour=date(2040, 1, 1), annees=2)
        assert c.depuis is None and not c.purgeable(date(2040, 1, 1))


def test_an_ajourne_dossier_waits_for_its_answer_then_counts_from_its_deadline():
    waiting = dossier_conservation(statut=DossierStatut.AJOURNE, examine_le=COMITE, reponse_avant=date(2017, 12, 26),
                                   a_une_convention=False, jour=date(2017, 12, 20), annees=2)
    assert waiting.depuis is None and waiting.en_cours and "réponse attendue avant le 26 décembre 2017" in waiting.raison
    lapsed = dossier_conservation(statut=DossierStatut.AJOURNE, examine_le=COMITE, reponse_avant=date(2017, 12, 26),
                                  a_une_convention=False, jour=date(2020, 1, 1), annees=2)
    assert lapsed.depuis == date(2019, 12, 26)


def test_a_late_dossier_goes_with_the_others_and_the_comite_must_have_passed():
    late = dossier_conservation(statut=DossierStatut.HORS_DELAI, examine_le=COMITE, reponse_avant=None,
                                a_une_convention=False, jour=date(2020, 1, 1), annees=2)
    assert late.depuis == date(2019, 12, 11) and "hors délai" in late.raison
    before = dossier_conservation(statut=DossierStatut.COMPLET, examine_le=COMITE, reponse_avant=None,
                                  a_une_convention=False, jour=date(2017, 12, 8), annees=2)
    assert before.depuis is None and before.en_cours


def test_an_fse_convention_is_kept_until_31_december_of_the_fifth_year_after_its_last_payment():
    c = convention_conservation(cofinancee_fse=True, fin=date(2018, 12, 31), dernier_paiement_le=date(2019, 3, 15),
                                jour=date(2024, 12, 31), fse_annees=5, sans_fse_annees=5)
    assert c.depuis == date(2025, 1, 1) and not c.purgeable(date(2024, 12, 31)) and c.purgeable(date(2025, 1, 1))
    assert "conservée jusqu'au 31 décembre 2024 (règlement (UE) 2021/1060, art. 82)" in c.raison


def test_an_fse_convention_without_its_last_payment_or_still_running_is_kept():
    unpaid = convention_conservation(cofinancee_fse=True, fin=date(2018, 12, 31), dernier_paiement_le=None,
                                     jour=date(2050, 1, 1), fse_annees=5, sans_fse_annees=5)
    assert unpaid.depuis is None and "dernier paiement non enregistrée" in unpaid.raison
    running = convention_conservation(cofinancee_fse=True, fin=date(2020, 12, 31), dernier_paiement_le=date(2019, 1, 1),
                                      jour=date(2020, 6, 1), fse_annees=5, sans_fse_annees=5)
    assert running.depuis is None and running.en_cours


def test_a_convention_without_fse_counts_from_its_end():
    c = convention_conservation(cofinancee_fse=False, fin=date(2018, 12, 31), dernier_paiement_le=None,
                                jour=date(2030, 1, 1), fse_annees=5, sans_fse_annees=5)
    assert c.depuis == date(2024, 1, 1)


def test_contacts_stay_while_something_is_in_progress_then_three_years():
    assert contacts_conservation(garde="convention CONV-2018-001 : en cours", derniere_activite=date(2018, 1, 1),
                                 annees=3).depuis is None
    c = contacts_conservation(garde=None, derniere_activite=date(2018, 12, 31), annees=3)
    assert c.depuis == date(2021, 12, 31) and "contacts conservés 3 ans" in c.raison


def test_a_hold_on_a_dossier_or_its_convention_keeps_both():
    assert hold_on({"2018-001", "CONV-2018-001"}, {"CONV-2018-001": "contrôle FSE"}) == "bloqué (CONV-2018-001) : contrôle FSE"
    assert hold_on({"2018-003"}, {"CONV-2018-001": "contrôle FSE"}) is None


def test_29_february_plus_years_is_1_march():
    assert years_after(date(2020, 2, 29), 3) == date(2023, 3, 1)


def test_the_2018_call_says_its_durations():
    r = load_appel_config(2018).conservation
    assert (r.non_retenus_annees, r.fse_annees, r.sans_fse_annees, r.contacts_annees) == (2, 5, 5, 3)


def _with_conservation(tmp_path: Path, table: str) -> Path:
    text = (CONFIG_DIR / "2018.toml").read_text(encoding="utf-8").split("[conservation]")[0]
    path = tmp_path / "appel.toml"
    path.write_text(text + table, encoding="utf-8")
    return path


def test_a_negative_or_missing_duration_is_refused_in_french(tmp_path):
    with pytest.raises(ConfigurationIllisible) as exc:
        load_appel_config(_with_conservation(tmp_path, "[conservation]\nnon_retenus_annees = -1\nfse_annees = 5\n"
                                                       "sans_fse_annees = 5\ncontacts_annees = 3\n"))
    assert "conservation.non_retenus_annees (négatif : une durée est positive ou nulle)" in str(exc.value)
    with pytest.raises(ConfigurationIllisible) as exc:
        load_appel_config(_with_conservation(tmp_path, "[conservation]\nnon_retenus_annees = 2\nfse_annees = 5\n"
                                                       "sans_fse_annees = 5\n"))
    assert "conservation.contacts_annees (manquant)" in str(exc.value)


def test_a_call_without_a_conservation_table_still_loads_and_purges_nothing(tmp_path):
    assert load_appel_config(_with_conservation(tmp_path, "")).conservation is None


def test_the_digest_names_the_first_purgeable_items_and_counts_them_all():
    from templates.suivi_mails import digest_context

    c = digest_context(jour=date(2025, 1, 15), envois=(), retards=(), fins_prochaines=(),
                       purgeables=["Dossier 2018-003", "Dépôt n° 5"], purgeables_total=10_017)
    assert c["resume"].endswith("10017 éléments purgeables")
    assert c["purgeables"] == ["Dossier 2018-003", "Dépôt n° 5", "et 10\u202f015 autres (détail : « aap purge --simulation »)"]
    assert digest_context(jour=date(2025, 1, 15), envois=(), retards=(), fins_prochaines=())["purgeables"] == []
