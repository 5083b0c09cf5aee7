"""Bounded work per message (issue 8, §5): hostile messages are kept with a French reason, the
batch goes on, later runs skip them; files with active content are refused with their reason."""
from __future__ import annotations

import hashlib
import time
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from adapters.eml_samples import write_maildir_message
from adapters.mailbox import SUITE_LIMITE, Limites, iter_mailbox
from adapters.pdf import RAISON_BOMBE, RAISON_FICHIERS_JOINTS, RAISON_JAVASCRIPT
from forms.xlsx_safety import MOTIF_LIENS_EXTERNES
from models import Reception
from tests.conftest import run_intake
from tests.hostile_messages import deeply_nested, huge_header, many_headers, many_parts, pdf_bomb, slow_parse
from tests.integration.test_bad_input import (
    Attendu,
    check_seen_by_the_sa,
    first_cv,
    recipients,
    refusee,
    rows_of,
    with_member,
)
from tests.samples import cvs, deliver, deliver_complete, form_bytes, paris, porteur
from tests.unit.test_hostile_files import pdf_with_embedded_file, pdf_with_javascript

MIO = 1024 * 1024


def test_a_cv_with_javascript_or_embedded_files_is_refused_as_a_cv_with_its_reason(
    factory, storage, appel, mail, maildir, tmp_path
):
    p = porteur(61, referents=2)
    (c1, n1), (c2, n2) = first_cv(p, 0), first_cv(p, 1)
    bad = {c1: pdf_with_javascript(), c2: pdf_with_embedded_file()}
    deliver(maildir, sender=p.email, when=paris(6, 9), message_id="<js@example.org>",
            attachments=[("dossier.xlsx", form_bytes(tmp_path / "f", p)), *bad.items()])

    report, _ = run_intake(factory, storage, maildir, mail)

    assert (report.depots, report.erreurs) == (1, [])
    check_seen_by_the_sa(factory, storage, [Attendu(
        "CV actifs", siret=p.siret, motifs=(refusee(c1, RAISON_JAVASCRIPT), refusee(c2, RAISON_FICHIERS_JOINTS)),
        manquants=(f"CV de {n1} refusé : {RAISON_JAVASCRIPT}", f"CV de {n2} refusé : {RAISON_FICHIERS_JOINTS}"),
        gardees=bad,
    )])


def test_a_form_linked_to_an_outside_workbook_is_refused_as_the_form(factory, storage, appel, mail, maildir, tmp_path):
    p = porteur(62)
    linked = with_member(form_bytes(tmp_path / "f", p), "xl/externalLinks/externalLink1.xml",
                         b'<externalLink><externalBook r:id="rId1"/></externalLink>')
    deliver(maildir, sender="liens@example.org", when=paris(6, 9), message_id="<liens@example.org>",
            attachments=[("dossier.xlsx", linked), *cvs(p)])

    report, _ = run_intake(factory, storage, maildir, mail)

    assert (report.non_identifies, report.erreurs) == (1, [])
    check_seen_by_the_sa(factory, storage, [Attendu(
        "liaisons externes", expediteur="liens@example.org", motifs=(refusee("dossier.xlsx", MOTIF_LIENS_EXTERNES),),
        gardees={"dossier.xlsx": linked},
    )])


# --- hostile messages in one batch ------------------------------------------------------------

HOSTILES = {
    "imbrication": (deeply_nested, "structure MIME trop imbriquée (5\u202f001 parties multiples ou messages joints ; au plus 100)"),
    "parties": (many_parts, "trop de parties MIME (10\u202f000 ; au plus 1\u202f000)"),
    "en-tete": (huge_header, "en-têtes trop volumineux (plus de 256 Ko)"),
    "en-tetes": (many_headers, "trop d'en-têtes (10\u202f006 ; au plus 500)"),
}


def held_rows(factory, storage) -> dict[str, dict]:
    return {r["expediteur"]: r for r in rows_of(factory, storage) if r["numero"] is None}


def assert_kept_with_its_bytes(factory, storage, maildir: Path, expected: int) -> None:
    with factory() as s:
        receptions = {r.sha256: r for r in s.scalars(select(Reception))}
    files = iter_mailbox(maildir)
    assert len(receptions) == len(files) == expected
    for f in files:
        digest = hashlib.sha256(f.read_bytes()).hexdigest()
        assert digest in receptions, f.name
        assert storage.path(receptions[digest].chemin).read_bytes() == f.read_bytes()


def test_hostile_messages_are_kept_unread_with_their_reason_and_the_batch_goes_on(
    factory, storage, appel, sink, mail, maildir, tmp_path
):
    good = porteur(63)
    deliver_complete(maildir, tmp_path / "f", good, paris(6, 12))
    for i, (cas, (build, _)) in enumerate(HOSTILES.items()):
        builder = {"en-tetes": lambda s, w, m: many_headers(s, w, m, count=10_000)}.get(cas, build)
        write_maildir_message(maildir, builder(f"{cas}@example.org", paris(6, 9, i), f"<{cas}@example.org>"),
                              delivered_at=paris(6, 9, i))

    report, sent = run_intake(factory, storage, maildir, mail)

    assert (report.depots, report.non_identifies, report.hors_limites, report.erreurs) == (1, 4, 4, [])
    assert sent.envoyes == 1 and recipients(sink) == [good.email]
    rows = held_rows(factory, storage)
    for i, (cas, (_, motif)) in enumerate(HOSTILES.items()):
        row = rows[f"{cas}@example.org"]
        assert row["motifs"][:2] == [motif, SUITE_LIMITE], (cas, row["motifs"])
        assert datetime.fromisoformat(row["recu_le"]) == paris(6, 9, i), cas  # its Received: header
    assert_kept_with_its_bytes(factory, storage, maildir, 5)

    started = time.monotonic()
    again, _ = run_intake(factory, storage, maildir, mail)
    assert (again.deja_vus, again.depots, again.non_identifies) == (5, 0, 0)
    assert time.monotonic() - started < 5  # nothing is parsed again


def test_a_message_over_its_time_is_kept_with_its_reason_and_the_next_ones_are_registered(
    factory, storage, appel, sink, mail, maildir, tmp_path
):
    slow = "lent@example.org"
    write_maildir_message(maildir, slow_parse(slow, paris(6, 9), "<lent@example.org>"), delivered_at=paris(6, 9))
    after = porteur(65)
    deliver_complete(maildir, tmp_path / "f", after, paris(6, 10))

    started = time.monotonic()
    report, _ = run_intake(factory, storage, maildir, mail, limites=Limites(secondes=3))

    assert (report.depots, report.hors_limites, report.erreurs) == (1, 1, [])
    assert time.monotonic() - started < 60  # unbounded, this one message takes minutes
    row = held_rows(factory, storage)[slow]
    assert row["motifs"][:2] == ["lecture interrompue : plus de 3 s de travail pour ce seul message", SUITE_LIMITE]
    assert datetime.fromisoformat(row["recu_le"]) == paris(6, 9)
    assert_kept_with_its_bytes(factory, storage, maildir, 2)


def test_a_message_over_its_memory_is_kept_with_its_reason_and_the_next_ones_are_registered(
    factory, storage, appel, sink, mail, maildir, tmp_path
):
    big = porteur(66)
    deliver(maildir, sender=big.email, when=paris(6, 9), message_id="<gros@example.org>",
            attachments=[("dossier.xlsx", form_bytes(tmp_path / "f", big)), ("annexe.pdf", b"%PDF-1.4\n" + bytes(12 * MIO))])
    after = porteur(67)
    deliver_complete(maildir, tmp_path / "f", after, paris(6, 10))

    report, _ = run_intake(factory, storage, maildir, mail, limites=Limites(memoire=32 * MIO))

    assert (report.depots, report.hors_limites, report.erreurs) == (1, 1, [])
    row = held_rows(factory, storage)[big.email]
    assert row["motifs"][:2] == ["lecture interrompue : plus de 32 Mo de mémoire pour ce seul message", SUITE_LIMITE]
    assert_kept_with_its_bytes(factory, storage, maildir, 2)


def test_a_message_over_the_size_limit_is_kept_without_being_read(factory, storage, appel, sink, mail, maildir, tmp_path):
    big = porteur(68)
    deliver(maildir, sender=big.email, when=paris(6, 9), message_id="<enorme@example.org>",
            attachments=[("annexe.pdf", b"%PDF-1.4\n" + bytes(3 * MIO))])

    report, _ = run_intake(factory, storage, maildir, mail, limites=Limites(taille_message=2 * MIO))

    assert (report.hors_limites, report.erreurs) == (1, [])
    row = held_rows(factory, storage)[big.email]
    assert row["motifs"][0].startswith("message trop volumineux (4,1 Mo ; au plus 2 Mo)")
    assert_kept_with_its_bytes(factory, storage, maildir, 1)


def test_a_cv_that_inflates_to_hundreds_of_megabytes_is_refused_and_the_depot_registered(
    factory, storage, appel, sink, mail, maildir, tmp_path
):
    p = porteur(69)
    cv, _ = first_cv(p)
    bomb = pdf_bomb()
    deliver(maildir, sender=p.email, when=paris(6, 9), message_id="<bombe-pdf@example.org>",
            attachments=[("dossier.xlsx", form_bytes(tmp_path / "f", p)), (cv, bomb)])

    report, _ = run_intake(factory, storage, maildir, mail)

    assert (report.depots, report.erreurs) == (1, [])
    check_seen_by_the_sa(factory, storage, [Attendu("bombe PDF", siret=p.siret, motifs=(refusee(cv, RAISON_BOMBE),),
                                                    gardees={cv: bomb})])
