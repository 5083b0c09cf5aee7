"""The rules about a run's record and what it tells the SA: its French mail message, when a failure is mailed,
which runs the daily digest lists."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from actions.passages import mail_problem
from models.passage import PassageStatut, failure_mail_due, is_abandoned, is_recent_failure

NOW = datetime(2017, 12, 8, 9, 0, tzinfo=timezone.utc)


def test_mail_left_unsent_says_how_many_why_in_french_and_when_it_leaves():
    report = {"envoyes": 0, "en_attente": 4, "echecs": 0, "causes_attente": ["serveur SMTP injoignable"],
              "causes_echecs": []}

    assert mail_problem(report) == "4 courriels non envoyés : serveur SMTP injoignable ; ils partiront au prochain passage."


def test_one_mail_left_unsent_is_singular_and_given_up_mail_points_to_the_listing():
    report = {"envoyes": 3, "en_attente": 1, "echecs": 2, "causes_attente": ["connexion SMTP perdue"],
              "causes_echecs": ["destinataire refusé"]}

    assert mail_problem(report) == (
        "1 courriel non envoyé : connexion SMTP perdue ; il partira au prochain passage ; "
        "2 courriels en échec : destinataire refusé (détail : « aap courriels --statut en-echec »).")


def test_a_send_that_left_nothing_behind_is_no_problem():
    assert mail_problem({"envoyes": 5, "en_attente": 0, "echecs": 0}) is None
    assert mail_problem(None) is None


def test_the_first_failure_of_a_deployment_is_mailed():
    assert failure_mail_due(None, False, maintenant=NOW)


def test_no_second_failure_mail_while_the_first_is_unsent():
    assert not failure_mail_due(NOW - timedelta(days=2), True, maintenant=NOW)


def test_a_failure_within_six_hours_of_the_last_mail_is_not_mailed_again_later_ones_are():
    assert not failure_mail_due(NOW - timedelta(hours=5, minutes=59), False, maintenant=NOW)
    assert failure_mail_due(NOW - timedelta(hours=6), False, maintenant=NOW)


def test_a_run_still_running_after_an_hour_is_abandoned_and_listed_for_a_week():
    assert not is_abandoned(PassageStatut.EN_COURS, NOW - timedelta(minutes=59), au=NOW)
    assert is_abandoned(PassageStatut.EN_COURS, NOW - timedelta(hours=1), au=NOW)
    assert is_abandoned(PassageStatut.EN_COURS, NOW - timedelta(days=7), au=NOW)
    assert not is_abandoned(PassageStatut.EN_COURS, NOW - timedelta(days=7, seconds=1), au=NOW)
    assert not is_abandoned(PassageStatut.ECHOUE, NOW - timedelta(hours=2), au=NOW)


def test_failures_and_unsent_mail_of_the_last_day_are_recent_failures():
    assert is_recent_failure(PassageStatut.ECHOUE, NOW - timedelta(hours=23), au=NOW)
    assert is_recent_failure(PassageStatut.COURRIELS_EN_ATTENTE, NOW - timedelta(hours=1), au=NOW)
    assert not is_recent_failure(PassageStatut.ECHOUE, NOW - timedelta(hours=25), au=NOW)
    assert not is_recent_failure(PassageStatut.TERMINE, NOW - timedelta(hours=1), au=NOW)
    assert not is_recent_failure(PassageStatut.EN_COURS, None, au=NOW)


def test_runs_overlapping_in_threads_give_the_terminal_back_only_when_the_last_one_ends():
    import logging

    from flows.passage import _terminal_left_to_the_command

    logger = logging.getLogger("aap")
    assert logger.propagate
    first, second = _terminal_left_to_the_command(), _terminal_left_to_the_command()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)  # the first run ends while the second goes on
    assert not logger.propagate
    second.__exit__(None, None, None)
    assert logger.propagate
