"""The intake's pure rules: SIRET, deadline, numbering, completeness, pièces, dossier states."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from adapters.pdf import RAISON_CHIFFRE
from config.appel_config import load_appel_config
from models.appel import attestation_numero, dossier_numero, is_late
from models.dossier import (
    DossierStatut,
    NaturePiece,
    PieceVue,
    TransitionInterdite,
    advance,
    assess_completeness,
    piece_motif,
)
from models.porteur import is_valid_siret, normalize_siret, siret_motif

PARIS = ZoneInfo("Europe/Paris")
UTC = timezone.utc
MAX = 10_485_760
EXTENSIONS = ["pdf", "docx"]
BOTH = ["courriel", "courrier"]


# --- SIRET ------------------------------------------------------------------------------


@pytest.mark.parametrize("siret", ["73282932000074", "44306184100047", "35600000052135"])
def test_real_looking_siret_with_a_right_key_is_valid(siret):
    assert is_valid_siret(siret)
    assert siret_motif(siret) is None


@pytest.mark.parametrize(
    "siret",
    ["73282932000079", "44306184100048", "7328293200007", "732829320000745", "7328293200007A", "35600000052136", ""],
)
def test_siret_with_a_wrong_key_length_or_character_is_invalid(siret):
    assert not is_valid_siret(siret)


def test_la_poste_head_office_siret_is_valid():
    assert is_valid_siret("35600000000048")


def test_la_poste_establishments_use_the_digit_sum_not_luhn():
    assert is_valid_siret("35600000052135")  # digits sum to 30; its Luhn key is wrong
    assert not is_valid_siret("35600000052136")


def test_siret_typed_with_spaces_is_valid_once_normalized():
    assert normalize_siret(" 732 829.320-00074 ") == "73282932000074"
    assert not is_valid_siret("732 829 320 00074")
    assert siret_motif("732 829 320 00074") is None


@pytest.mark.parametrize(
    ("raw", "motif"),
    [
        (None, "SIRET absent du formulaire"),
        ("  ", "SIRET absent du formulaire"),
        ("123 456 789", "SIRET invalide : « 123 456 789 » (14 chiffres attendus)"),
        ("7328293200007A", "SIRET invalide : « 7328293200007A » (14 chiffres attendus)"),
        ("732 829 320 00079", "SIRET invalide : « 732 829 320 00079 » (clé de contrôle incorrecte)"),
    ],
)
def test_invalid_siret_reason_shows_what_was_typed(raw, motif):
    assert siret_motif(raw) == motif


# --- deadline and numbers ---------------------------------------------------------------

DEADLINE = load_appel_config(2018).date_limite_utc()


def test_the_2018_deadline_is_17_h_paris_stored_as_16_h_utc():
    assert DEADLINE == datetime(2017, 12, 7, 16, 0, 0, tzinfo=UTC)


def test_depot_received_at_17_00_00_paris_is_in_time():
    assert not is_late(datetime(2017, 12, 7, 17, 0, 0, tzinfo=PARIS), DEADLINE)
    assert not is_late(datetime(2017, 12, 7, 16, 0, 0, tzinfo=UTC), DEADLINE)


def test_depot_received_at_17_00_01_paris_is_late():
    assert is_late(datetime(2017, 12, 7, 17, 0, 1, tzinfo=PARIS), DEADLINE)
    assert is_late(DEADLINE + timedelta(microseconds=1), DEADLINE)


def test_attestation_numbers_are_prefixed_and_zero_padded():
    assert attestation_numero(2018, 1) == "AAP-2018-0001"
    assert attestation_numero(2018, 42) == "AAP-2018-0042"
    assert attestation_numero(2018, 10_000) == "AAP-2018-10000"


def test_dossier_numbers_are_year_and_three_digits():
    assert dossier_numero(2018, 7) == "2018-007"
    assert dossier_numero(2018, 123) == "2018-123"


# --- completeness -----------------------------------------------------------------------

CV = "CV_Sophie_Durand.pdf"


def assess(**changes):
    """A complete dossier (both channels, valid form, one référent with their CV), then changes."""
    args = dict(
        any_in_time=True, canaux_recus=BOTH, canaux_requis=BOTH, formulaire_valide=True, formulaire_manquants=[],
        referents=[("Sophie Durand", CV)], pieces=[PieceVue(CV, NaturePiece.CV, True, None)],
    )
    return assess_completeness(**{**args, **changes})


def test_dossier_with_both_channels_form_and_cvs_is_complete():
    result = assess()
    assert (result.statut, result.canaux, result.manquants) == (DossierStatut.COMPLET, BOTH, [])


def test_dossier_received_only_by_mail_waits_for_the_postal_copy():
    result = assess(canaux_recus=["courriel", "courriel"])
    assert (result.statut, result.canaux) == (DossierStatut.INCOMPLET, ["courriel"])
    assert result.manquants == ["envoi postal (courrier) non reçu"]


def test_dossier_received_only_by_post_waits_for_the_mail():
    assert assess(canaux_recus=["courrier"]).manquants == ["envoi par courriel non reçu"]


def test_unreadable_form_makes_the_dossier_incomplete():
    result = assess(formulaire_valide=False, formulaire_manquants=["ignoré"])
    assert result.statut is DossierStatut.INCOMPLET
    assert result.manquants == ["dossier de réponse (formulaire Excel) absent ou illisible"]


def test_each_missing_form_field_is_listed():
    result = assess(formulaire_manquants=["Frais de déplacement (budget_deplacements)"])
    assert result.manquants == ["formulaire incomplet : Frais de déplacement (budget_deplacements)"]


def test_cv_is_matched_whatever_the_case_of_its_name():
    result = assess(referents=[("Sophie Durand", " cv_sophie_durand.PDF ")])
    assert result.statut is DossierStatut.COMPLET


def test_missing_cv_names_the_referent_and_the_file_expected():
    result = assess(pieces=[])
    assert result.manquants == [f"CV de Sophie Durand manquant (fichier attendu : {CV})"]


def test_cv_refused_gives_its_reason():
    result = assess(pieces=[PieceVue(CV, NaturePiece.CV, False, RAISON_CHIFFRE)])
    assert result.statut is DossierStatut.INCOMPLET
    assert result.manquants == [f"CV de Sophie Durand refusé : {RAISON_CHIFFRE}"]


def test_cv_refused_then_sent_again_readable_is_enough():
    refused, accepted = PieceVue(CV, NaturePiece.CV, False, RAISON_CHIFFRE), PieceVue(CV, NaturePiece.CV, True, None)
    assert assess(pieces=[refused, accepted]).statut is DossierStatut.COMPLET


def test_cv_file_name_left_blank_in_the_form_is_asked_for():
    result = assess(referents=[("Sophie Durand", "  ")])
    assert result.manquants == ["CV de Sophie Durand : nom du fichier non indiqué dans le formulaire"]


def test_dossier_without_any_depot_in_time_is_hors_delai():
    result = assess(any_in_time=False, canaux_recus=["courriel"], formulaire_valide=False)
    assert (result.statut, result.canaux) == (DossierStatut.HORS_DELAI, ["courriel"])
    assert result.manquants == ["aucun dépôt reçu dans les délais"]


# --- pièces -----------------------------------------------------------------------------


def check(nom: str, taille: int) -> str | None:
    return piece_motif(nom, taille, extensions=EXTENSIONS, taille_max=MAX)


def test_piece_of_exactly_the_maximum_size_is_accepted():
    assert check("cv.pdf", MAX) is None


def test_piece_one_byte_over_the_maximum_is_refused_and_does_not_read_as_the_maximum():
    assert check("cv.pdf", MAX + 1) == "fichier trop volumineux (10,1 Mo ; maximum 10 Mo)"


def test_piece_size_is_shown_in_french():
    assert check("cv.pdf", 25 * 1_048_576 + 300_000) == "fichier trop volumineux (25,3 Mo ; maximum 10 Mo)"
    assert check("cv.pdf", 20 * 1_048_576) == "fichier trop volumineux (20 Mo ; maximum 10 Mo)"


def test_piece_with_an_extension_not_accepted_is_refused_with_the_list():
    assert check("CV.pdf.exe", 10) == "type de fichier non accepté (« .exe ») ; formats acceptés : docx, pdf"


def test_piece_without_extension_is_refused():
    assert check("passwd", 10) == "type de fichier non accepté (sans extension) ; formats acceptés : docx, pdf"


def test_extension_is_compared_without_case():
    assert check("CV.PDF", 10) is None


def test_empty_file_is_refused_first():
    assert check("cv.pdf", 0) == "fichier vide"
    assert check("virus.exe", 0) == "fichier vide"


# --- dossier states ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (DossierStatut.INCOMPLET, DossierStatut.COMPLET),
        (DossierStatut.COMPLET, DossierStatut.INCOMPLET),
        (DossierStatut.HORS_DELAI, DossierStatut.COMPLET),
        (DossierStatut.HORS_DELAI, DossierStatut.HORS_DELAI),
    ],
)
def test_allowed_transition_returns_the_target(current, target):
    assert advance(current, target) is target


@pytest.mark.parametrize("current", [DossierStatut.INCOMPLET, DossierStatut.COMPLET])
def test_dossier_with_a_depot_in_time_cannot_become_hors_delai(current):
    with pytest.raises(TransitionInterdite, match=f"passage de « {current.value} » à « hors délai » interdit"):
        advance(current, DossierStatut.HORS_DELAI)


# --- SIRET typed with other digits than ASCII (issue 8, §4) -------------------------------


def test_a_siret_in_full_width_digits_is_the_same_siret_in_ascii():
    assert normalize_siret("７３２８２９３２００００７４") == "73282932000074"
    assert siret_motif("７３２\u3000８２９\u3000３２０\u3000０００７４") is None


def test_a_siret_with_invisible_characters_inside_is_the_same_siret():
    assert normalize_siret("732\u200b829\u2060320\u202e00074") == "73282932000074"


@pytest.mark.parametrize("siret", [
    "٧٣٢٨٢٩٣٢٠٠٠٠٧٤",  # Arabic-Indic digits: Luhn-valid if read as numbers, never a SIRET
    "۷۳۲۸۲۹۳۲۰۰۰۰۷۴",  # Extended Arabic-Indic
    "७३२८२९३२००००७४",  # Devanagari
    "7328293200007\u0664",  # one Arabic-Indic digit among ASCII ones
])
def test_a_siret_in_other_unicode_digits_is_invalid(siret):
    assert not is_valid_siret(normalize_siret(siret))
    assert siret_motif(siret) is not None and "14 chiffres" in siret_motif(siret)


def test_a_valid_siret_is_always_fourteen_ascii_digits():
    for raw in ["７３２８２９３２００００７４", "73282932000074", " 732 829 320 00074 ", "𝟕𝟑𝟐𝟖𝟐𝟗𝟑𝟐𝟎𝟎𝟎𝟎𝟕𝟒"]:
        siret = normalize_siret(raw)
        assert is_valid_siret(siret) and siret.isascii() and siret == "73282932000074"


# --- a Received: time that lies (issue 8, §4) -------------------------------------------------

from models.appel import reception_douteuse  # noqa: E402

RELEVE = datetime(2017, 12, 8, 9, 0, tzinfo=PARIS)
PUBLIE = datetime(2017, 11, 21, 9, 0, tzinfo=PARIS)
LIVRE = datetime(2017, 12, 7, 16, 58, tzinfo=PARIS)


def doubt(recu_le: datetime) -> str | None:
    return reception_douteuse(recu_le, maintenant=RELEVE, publie_le=PUBLIE, livre_le=LIVRE)


def test_a_received_time_between_publication_and_the_run_is_trusted():
    assert doubt(datetime(2017, 12, 7, 16, 59, tzinfo=PARIS)) is None
    assert doubt(PUBLIE) is None


def test_a_received_time_a_few_minutes_after_the_run_is_clock_skew():
    assert doubt(RELEVE + timedelta(minutes=5)) is None


def test_a_received_time_after_the_run_is_doubted_with_the_delivery_time_beside_it():
    assert doubt(RELEVE + timedelta(minutes=6)) == (
        "heure de réception douteuse : l'en-tête Received indique le 8 décembre 2017 à 9 h 06, "
        "postérieure à l'heure du relevé (8 décembre 2017 à 9 h 00) ; "
        "heure de dépôt du fichier retenue : 7 décembre 2017 à 16 h 58, à vérifier par l'assistante"
    )


def test_a_received_time_before_the_publication_is_doubted():
    assert doubt(datetime(2017, 11, 1, 10, 0, tzinfo=PARIS)) == (
        "heure de réception douteuse : l'en-tête Received indique le 1er novembre 2017 à 10 h 00, "
        "antérieure à la publication de l'appel (21 novembre 2017 à 9 h 00) ; "
        "heure de dépôt du fichier retenue : 7 décembre 2017 à 16 h 58, à vérifier par l'assistante"
    )
