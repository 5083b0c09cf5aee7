"""Text that lies (issue 8, §4): SIRETs in other digits, invisible characters, lying dates, hidden
cells, library errors — each is kept, cleaned or flagged with a French reason the SA reads."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select

from adapters.eml_samples import build_depot_email, write_maildir_message
from models import Depot, Dossier, Porteur
from tests.conftest import run_intake
from tests.hostile_messages import top
from tests.integration.test_bad_input import rows_of
from tests.samples import cvs, deliver, deliver_complete, form_bytes, paris, porteur

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


@pytest.mark.database_matters("a unique key on the normalised SIRET")
def test_a_siret_typed_in_full_width_digits_files_on_the_same_structure(factory, storage, appel, mail, maildir, tmp_path):
    forms = tmp_path / "f"
    p = porteur(81)
    deliver_complete(maildir, forms, p, paris(5, 9))
    deliver(maildir, sender=p.email, when=paris(6, 9), message_id="<pleine-chasse@example.org>",
            attachments=[("dossier.xlsx", form_bytes(forms, p, porteur_siret=p.siret.translate(FULL_WIDTH))), *cvs(p)])

    report, _ = run_intake(factory, storage, maildir, mail)

    assert (report.depots, report.non_identifies, report.erreurs) == (2, 0, [])
    with factory() as s:
        assert s.scalars(select(Porteur.siret)).all() == [p.siret]
        assert s.scalar(select(func.count()).select_from(Dossier)) == 1
        assert [d.siret_lu for d in s.scalars(select(Depot).order_by(Depot.recu_le))] == [p.siret, p.siret]


def test_a_siret_typed_in_arabic_indic_digits_creates_no_structure(factory, storage, appel, mail, maildir, tmp_path):
    forms = tmp_path / "f"
    p = porteur(82)
    deliver(maildir, sender="inconnu@example.org", when=paris(6, 9), message_id="<arabe@example.org>",
            attachments=[("dossier.xlsx", form_bytes(forms, p, porteur_siret=p.siret.translate(ARABIC_INDIC))), *cvs(p)])

    report, _ = run_intake(factory, storage, maildir, mail)

    assert (report.non_identifies, report.erreurs) == (1, [])
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(Porteur)) == 0
    (row,) = rows_of(factory, storage)
    assert any("SIRET" in m and "14 chiffres attendus" in m for m in row["motifs"]), row["motifs"]


# --- a Received: time that lies ------------------------------------------------------------


def deliver_at(maildir, forms, p, *, received, delivered, n: int):
    raw = build_depot_email(sender=p.email, sender_name=p.nom, to="plie-aap@example.org", subject="Dossier",
                            received_at=received, message_id=f"<recu-{n}@example.org>",
                            attachments=[("dossier.xlsx", form_bytes(forms, p)), *cvs(p)])
    return write_maildir_message(maildir, raw, delivered_at=delivered)


def test_a_received_time_before_the_publication_is_flagged_and_the_delivery_time_decides(
    factory, storage, appel, mail, maildir, tmp_path
):
    p = porteur(83)
    deliver_at(maildir, tmp_path / "f", p, received=paris(1, 10).replace(month=11), delivered=paris(8, 6), n=1)

    report, _ = run_intake(factory, storage, maildir, mail)

    assert (report.depots, report.hors_delai, report.erreurs) == (1, 1, [])
    (row,) = rows_of(factory, storage)
    assert datetime.fromisoformat(row["depots"][0]["recu_le"]) == paris(8, 6) and row["hors_delai"]
    assert any(m.startswith("courriel du 8 décembre 2017 à 6 h 00 : heure de réception douteuse : "
                            "l'en-tête Received indique le 1er novembre 2017 à 10 h 00, antérieure à la publication")
               and "heure de dépôt du fichier retenue : 8 décembre 2017 à 6 h 00" in m for m in row["motifs"]), row["motifs"]


def test_a_received_time_after_the_run_is_flagged_and_the_delivery_time_decides(
    factory, storage, appel, mail, maildir, tmp_path
):
    p = porteur(84)
    deliver_at(maildir, tmp_path / "f", p, received=paris(9, 10).replace(year=2030), delivered=paris(6, 9), n=2)

    report, _ = run_intake(factory, storage, maildir, mail)

    assert (report.depots, report.hors_delai, report.erreurs) == (1, 0, [])
    (row,) = rows_of(factory, storage)
    assert datetime.fromisoformat(row["depots"][0]["recu_le"]) == paris(6, 9) and not row["hors_delai"]
    assert any("l'en-tête Received indique le 9 décembre 2030 à 10 h 00, postérieure à l'heure du relevé "
               "(8 décembre 2017 à 8 h 30)" in m for m in row["motifs"]), row["motifs"]


# --- invisible characters --------------------------------------------------------------------


@pytest.mark.database_matters("text PostgreSQL refuses (NUL)")
def test_bidi_controls_and_invisible_characters_are_removed_before_storing_and_the_depot_says_so(
    factory, storage, appel, mail, maildir, tmp_path
):
    p = porteur(85, nom="Association Tremplin")
    form = form_bytes(tmp_path / "f", p, porteur_nom="Association \u202eTremplin\u202c", contact_nom="Claire\u200b Martin",
                      porteur_adresse="12 rue\u2066 de la Liberté\u2069\n21000 Dijon")
    cv_nom, cv = cvs(p)[0]
    deliver(maildir, sender=p.email, when=paris(6, 9), message_id="<bidi@example.org>", sender_name="Tremplin\u200f",
            subject="Dossier \u202eelbatpecca\u202c", attachments=[("dossier.xlsx", form), (cv_nom, cv),
                                                                 ("statuts\u202etxt.pdf", cv)])

    report, _ = run_intake(factory, storage, maildir, mail)

    assert (report.depots, report.erreurs) == (1, [])
    with factory() as s:
        porteur_row = s.scalar(select(Porteur))
        assert (porteur_row.nom, porteur_row.contact_nom) == ("Association Tremplin", "Claire Martin")
        assert porteur_row.adresse == "12 rue de la Liberté\n21000 Dijon"
        depot = s.scalar(select(Depot))
        assert (depot.expediteur_nom, depot.sujet) == ("Tremplin", "Dossier elbatpecca")
        assert "statutstxt.pdf" in [piece.nom for piece in depot.pieces]
        motifs = list(depot.motifs)
    invisibles = "caractères invisibles (contrôles du sens d'écriture, espaces sans largeur…) retirés de : "
    assert invisibles + "nom de l'expéditeur, objet du message, nom de la pièce jointe « statutstxt.pdf »" in motifs
    assert (invisibles + "Nom de la structure, Adresse postale de la structure, "
            "Nom et prénom de la personne à contacter") in motifs


# --- a dossier forwarded as an attached e-mail (§3) -------------------------------------------


def test_a_dossier_forwarded_as_an_attached_email_is_opened_and_its_files_are_the_pieces(
    factory, storage, appel, mail, maildir, tmp_path
):
    p = porteur(86, referents=2)
    original = build_depot_email(sender="secretariat@example.org", sender_name="Secrétariat", to=p.email,
                                 subject="Dossier AAP 2018 à envoyer", received_at=paris(5, 15), message_id="<orig@example.org>",
                                 attachments=[("dossier.xlsx", form_bytes(tmp_path / "f", p)), *cvs(p)])
    outer = (top(p.email, paris(6, 9), "<transfert@example.org>") + b'Content-Type: multipart/mixed; boundary="t"\r\n\r\n'
             b"--t\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nVoici notre dossier.\r\n"
             b'--t\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment; filename="dossier.eml"\r\n\r\n'
             + original + b"\r\n--t--\r\n")
    write_maildir_message(maildir, outer, delivered_at=paris(6, 9))

    report, _ = run_intake(factory, storage, maildir, mail)

    assert (report.depots, report.erreurs) == (1, [])
    (row,) = rows_of(factory, storage)
    assert row["siret"] == p.siret and row["statut"] == "incomplet"
    assert row["pieces_manquantes"] == ["envoi postal (courrier) non reçu"]  # form and both CVs found inside
    assert any(m.endswith("dossier transféré : les pièces jointes du message joint « Dossier AAP 2018 à envoyer » "
                          "de secretariat@example.org sont lues comme pièces du dépôt") for m in row["motifs"]), row["motifs"]
