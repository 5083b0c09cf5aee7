"""Bad input gets a reason, nothing is lost: hostile or broken dépôts next to good ones.

Every case is a builder that delivers one or more messages into the Maildir and says what
the SA must then read in ``list_dossiers``. The family tests run a few builders each; the
last test runs all of them in one mailbox with two good dépôts.
"""
from __future__ import annotations

import base64
import hashlib
import io
import re
import stat
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import func, select

from actions.depots import NON_IDENTIFIE
from actions.listing import list_dossiers
from adapters.eml_samples import write_maildir_message
from adapters.mailbox import (
    PROBLEME_EXPEDITEUR,
    PROBLEME_RECEIVED,
    PROBLEME_SANS_PIECE,
    PROBLEME_VIDE,
    iter_mailbox,
)
from adapters.pdf import RAISON_CHIFFRE, RAISON_ILLISIBLE
from flows.demo_data import SamplePorteur, cv_name, encrypted_pdf
from forms.dossier_reponse import Referent
from forms.xlsx_safety import MOTIF_BOMBE, MOTIF_CORROMPU, MOTIF_MACROS, MOTIF_OLE
from models import Attestation, Depot, Piece, Porteur, Reception
from templates.render import read_docx_text
from tests.conftest import run_intake
from tests.samples import PARIS, cv_pdf, cvs, deliver, deliver_complete, form_bytes, paris, porteur

TAILLE_MAX = 10_485_760  # config/appels/2018.toml, [pieces] taille_max_octets
TYPE_REFUSE_SANS_EXTENSION = (
    "type de fichier non accepté (sans extension) ; formats acceptés : docx, jpeg, jpg, odt, pdf, png, xlsx"
)
GENERATED_NAME = re.compile(r"[0-9a-f]{64}(\.[a-z0-9]{1,5})?")


# --- hostile files ----------------------------------------------------------------------


def _noise(seed: str, size: int) -> bytes:
    """Deterministic bytes that look like nothing (no two cases share them)."""
    out = b""
    while len(out) < size:
        out += hashlib.sha256(f"{seed}:{len(out)}".encode()).digest()
    return out[:size]


def pdf_corrompu(seed: str) -> bytes:
    return b"%PDF-1.4\n" + _noise(seed, 3000) + b"\n%%EOF\n"


def pdf_tronque(title: str) -> bytes:
    whole = cv_pdf(title)
    return whole[: len(whole) // 2]


def pdf_trop_gros(seed: str, taille: int) -> bytes:
    head, tail = b"%PDF-1.4\n%" + seed.encode() + b"\n", b"\n%%EOF\n"
    return head + b"0" * (taille - len(head) - len(tail)) + tail


def xlsx_corrompu(seed: str) -> bytes:
    return b"PK\x03\x04" + _noise(seed, 4000)


def with_member(xlsx: bytes, name: str, data: bytes) -> bytes:
    """A copy of a real workbook with one more member (e.g. a VBA project)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        dst.writestr(name, data)
    return out.getvalue()


def zip_bomb(uncompressed: int, seed: str) -> bytes:
    """An .xlsx-looking archive whose sheet inflates ``uncompressed`` zeros (written in chunks)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", f"<Types><!-- {seed} --></Types>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            chunk = b"\0" * 1_048_576
            for _ in range(uncompressed // len(chunk)):
                sheet.write(chunk)
    return out.getvalue()


def raw_message(from_line: bytes, *, when, message_id: str, attachments: list[tuple[str, bytes]]) -> bytes:
    """A message written byte by byte (LF line ends), for headers no library would write."""
    boundary = b"limite-" + hashlib.sha256(message_id.encode()).hexdigest()[:16].encode()
    lines = [
        b"Received: from mail.example.org (mail.example.org [192.0.2.25]) by mx.plie.example.org "
        b"with ESMTPS id 4ABC; " + format_datetime(when.astimezone(PARIS)).encode(),
        from_line,
        b"To: plie-aap@example.org",
        b"Subject: =?utf-8?q?R=C3=A9ponse_=C3=A0_l=27appel_=C3=A0_projets?=",
        b"Date: " + format_datetime(when.astimezone(PARIS)).encode(),
        b"Message-ID: " + message_id.encode(),
        b"MIME-Version: 1.0",
        b'Content-Type: multipart/mixed; boundary="' + boundary + b'"',
        b"",
        b"--" + boundary,
        b"Content-Type: text/plain; charset=utf-8",
        b"",
        b"Bonjour, voici notre dossier.",
    ]
    for name, data in attachments:
        lines += [
            b"--" + boundary,
            b"Content-Type: application/octet-stream",
            b'Content-Disposition: attachment; filename="' + name.encode() + b'"',
            b"Content-Transfer-Encoding: base64",
            b"",
            base64.encodebytes(data).rstrip(b"\n"),
        ]
    lines += [b"--" + boundary + b"--", b""]
    return b"\n".join(lines)


# --- what the SA must see ---------------------------------------------------------------


@dataclass
class Attendu:
    """One bad dépôt as the SA must find it: on its dossier (by SIRET) or waiting (by sender)."""

    cas: str
    siret: str | None = None
    expediteur: str | None = None
    motifs: tuple[str, ...] = ()
    manquants: tuple[str, ...] = ()
    champs: dict[str, Any] = field(default_factory=dict)
    gardees: dict[str, bytes] = field(default_factory=dict)  # refused pièce name -> bytes kept

    @property
    def en_attente(self) -> bool:
        return self.siret is None


Cas = Callable[[Path, Path], list[Attendu]]


def rows_of(factory, storage) -> list[dict[str, Any]]:
    with factory() as s:
        return list_dossiers(s, 2018, str(storage.root))


def check_seen_by_the_sa(factory, storage, attendus: list[Attendu]) -> None:
    rows = rows_of(factory, storage)
    dossiers = {r["siret"]: r for r in rows if r["numero"] is not None}
    waiting = {r["expediteur"]: r for r in rows if r["numero"] is None}
    for a in attendus:
        row = waiting.get(a.expediteur) if a.en_attente else dossiers.get(a.siret)
        assert row is not None, f"{a.cas} : absent de la liste"
        if a.en_attente:
            assert row["statut"] == "non identifié", a.cas
            assert NON_IDENTIFIE in row["motifs"], a.cas
        for motif in a.motifs:
            assert motif in row["motifs"], f"{a.cas} : {motif!r} absent de {row['motifs']}"
        for manquant in a.manquants:
            assert manquant in row["pieces_manquantes"], f"{a.cas} : {manquant!r} absent de {row['pieces_manquantes']}"
        for key, value in a.champs.items():
            assert row[key] == value, f"{a.cas} : {key}"
    with factory() as s:
        for a in attendus:
            for nom, data in a.gardees.items():
                piece = s.scalar(select(Piece).where(Piece.nom == nom, Piece.sha256 == hashlib.sha256(data).hexdigest()))
                assert piece is not None and not piece.acceptee, f"{a.cas} : pièce {nom} non conservée"
                assert storage.path(piece.chemin).read_bytes() == data, f"{a.cas} : octets de {nom}"


def refusee(nom: str, motif: str) -> str:
    return f"pièce « {nom} » refusée : {motif}"


def first_cv(p: SamplePorteur, i: int = 0) -> tuple[str, str]:
    """(file name, display name) of the porteur's i-th référent CV."""
    nom, prenom, _, _ = p.referents[i]
    return cv_name(prenom, nom), f"{prenom} {nom}"


# --- the cases --------------------------------------------------------------------------


def cas_pdfs_illisibles(maildir: Path, forms: Path) -> list[Attendu]:
    """Corrupt, truncated and password-protected CVs next to a good form."""
    p = porteur(31, referents=3)
    (c1, n1), (c2, n2), (c3, n3) = (first_cv(p, i) for i in range(3))
    bad = {c1: pdf_corrompu("31"), c2: pdf_tronque("CV 31"), c3: encrypted_pdf("CV 31")}
    deliver(maildir, sender=p.email, when=paris(6, 9, 31), message_id="<pdf-31@example.org>",
            attachments=[("dossier.xlsx", form_bytes(forms, p)), *bad.items()])
    return [Attendu(
        "PDF corrompu, tronqué, chiffré", siret=p.siret,
        motifs=(refusee(c1, RAISON_ILLISIBLE), refusee(c2, RAISON_ILLISIBLE), refusee(c3, RAISON_CHIFFRE)),
        manquants=(f"CV de {n1} refusé : {RAISON_ILLISIBLE}", f"CV de {n2} refusé : {RAISON_ILLISIBLE}",
                   f"CV de {n3} refusé : {RAISON_CHIFFRE}"),
        champs={"statut": "incomplet"}, gardees=bad,
    )]


def cas_xlsx_corrompu(maildir: Path, forms: Path) -> list[Attendu]:
    data = xlsx_corrompu("corrompu")
    deliver(maildir, sender="corrompu@inconnu.example.org", when=paris(6, 9, 40), message_id="<xc@example.org>",
            attachments=[("dossier.xlsx", data)])
    return [Attendu("xlsx corrompu", expediteur="corrompu@inconnu.example.org",
                    motifs=(refusee("dossier.xlsx", MOTIF_CORROMPU),), gardees={"dossier.xlsx": data})]


def cas_xlsm_macros(maildir: Path, forms: Path) -> list[Attendu]:
    """A real, filled form saved with a VBA project: refused, kept."""
    data = with_member(form_bytes(forms, porteur(41)), "xl/vbaProject.bin", b"\xd0\xcf\x11\xe0 Attribut VB_Name")
    deliver(maildir, sender="macros@inconnu.example.org", when=paris(6, 9, 41), message_id="<xm@example.org>",
            attachments=[("dossier.xlsm", data)])
    return [Attendu(".xlsm avec macros", expediteur="macros@inconnu.example.org",
                    motifs=(refusee("dossier.xlsm", MOTIF_MACROS),), gardees={"dossier.xlsm": data})]


def cas_zip_bomb(maildir: Path, forms: Path) -> list[Attendu]:
    data = zip_bomb(60 * 1_048_576, "bombe")
    deliver(maildir, sender="bombe@inconnu.example.org", when=paris(6, 9, 42), message_id="<zb@example.org>",
            attachments=[("dossier.xlsx", data)])
    return [Attendu("bombe zip en .xlsx", expediteur="bombe@inconnu.example.org",
                    motifs=(refusee("dossier.xlsx", MOTIF_BOMBE),), gardees={"dossier.xlsx": data})]


def cas_chemin_passwd(maildir: Path, forms: Path) -> list[Attendu]:
    p = porteur(34)
    deliver(maildir, sender=p.email, when=paris(6, 9, 34), message_id="<passwd@example.org>",
            attachments=[("dossier.xlsx", form_bytes(forms, p)), *cvs(p),
                         ("../../etc/passwd", b"root:x:0:0:root:/root:/bin/bash\n")])
    return [Attendu("pièce nommée ../../etc/passwd", siret=p.siret,
                    motifs=(refusee("passwd", TYPE_REFUSE_SANS_EXTENSION),),
                    champs={"pieces_manquantes": ["envoi postal (courrier) non reçu"]})]


def cas_message_vide(maildir: Path, forms: Path) -> list[Attendu]:
    write_maildir_message(maildir, b"", delivered_at=paris(6, 12))
    return [Attendu("message vide", expediteur=None, motifs=(PROBLEME_VIDE, PROBLEME_RECEIVED),
                    champs={"recu_le": "2017-12-06T11:00:00+00:00", "hors_delai": False})]


def cas_sans_piece(maildir: Path, forms: Path) -> list[Attendu]:
    deliver(maildir, sender="oubli@inconnu.example.org", when=paris(6, 12, 5), message_id="<vide@example.org>",
            attachments=[])
    return [Attendu("message sans pièce jointe", expediteur="oubli@inconnu.example.org", motifs=(PROBLEME_SANS_PIECE,))]


def cas_siret_invalide(maildir: Path, forms: Path) -> list[Attendu]:
    p = porteur(43)
    faux = p.siret[:-1] + str((int(p.siret[-1]) + 1) % 10)
    deliver(maildir, sender="siret@inconnu.example.org", when=paris(6, 9, 43), message_id="<siret@example.org>",
            attachments=[("dossier.xlsx", form_bytes(forms, p, porteur_siret=faux)), *cvs(p)])
    return [Attendu("SIRET invalide", expediteur="siret@inconnu.example.org",
                    motifs=(f"SIRET invalide : « {faux} » (clé de contrôle incorrecte)",), champs={"siret": faux})]


def cas_date_mensongere(maildir: Path, forms: Path) -> list[Attendu]:
    """Received 16:59 with Date: 1 Dec → in time; received 17:05 with Date: 16:00 → late."""
    early, late = porteur(38), porteur(39)
    deliver_complete(maildir, forms, early, paris(7, 16, 59), date_header=paris(1, 10))
    deliver_complete(maildir, forms, late, paris(7, 17, 5), date_header=paris(7, 16))
    return [
        Attendu("Date: antidaté mais reçu à temps", siret=early.siret,
                champs={"hors_delai": False, "statut": "incomplet", "recu_le": "2017-12-07T15:59:00+00:00"}),
        Attendu("Date: qui ment, reçu après 17 h", siret=late.siret,
                motifs=("courriel du 7 décembre 2017 à 17 h 05 reçu hors délai : conservé, non instruit",),
                champs={"hors_delai": True, "statut": "hors délai", "recu_le": "2017-12-07T16:05:00+00:00",
                        "pieces_manquantes": ["aucun dépôt reçu dans les délais"]}),
    ]


def cas_expediteur_multiligne(maildir: Path, forms: Path) -> list[Attendu]:
    """``From: "Jean<LF>Dupont" <…>``: one line, and the MIME parts after it are all read."""
    p = porteur(37)
    raw = raw_message(b'From: "Jean\nDupont" <' + p.email.encode() + b">", when=paris(6, 9, 37),
                      message_id="<nl-37@example.org>", attachments=[("dossier.xlsx", form_bytes(forms, p)), *cvs(p)])
    write_maildir_message(maildir, raw, delivered_at=paris(6, 9, 37))
    return [Attendu("nom d'expéditeur avec saut de ligne", siret=p.siret,
                    champs={"statut": "incomplet", "pieces_manquantes": ["envoi postal (courrier) non reçu"]})]


FORMULE = '=HYPERLINK("http://example.org/x","Cliquez ici")'


def cas_nom_formule(maildir: Path, forms: Path) -> list[Attendu]:
    p = porteur(36, nom=FORMULE)
    deliver_complete(maildir, forms, p, paris(6, 9, 36))
    return [Attendu("nom de porteur commençant par =", siret=p.siret, champs={"porteur": FORMULE})]


def cas_piece_trop_grosse(maildir: Path, forms: Path) -> list[Attendu]:
    p = porteur(35)
    cv, nom = first_cv(p)
    big = pdf_trop_gros("35", TAILLE_MAX + 1)
    deliver(maildir, sender=p.email, when=paris(6, 9, 35), message_id="<big-35@example.org>",
            attachments=[("dossier.xlsx", form_bytes(forms, p)), (cv, big)])
    motif = "fichier trop volumineux (10,1 Mo ; maximum 10 Mo)"
    return [Attendu("pièce trop volumineuse", siret=p.siret, motifs=(refusee(cv, motif),),
                    manquants=(f"CV de {nom} refusé : {motif}",), gardees={cv: big})]


ALL_CASES: tuple[Cas, ...] = (
    cas_pdfs_illisibles, cas_xlsx_corrompu, cas_xlsm_macros, cas_zip_bomb, cas_chemin_passwd, cas_message_vide,
    cas_sans_piece, cas_siret_invalide, cas_date_mensongere, cas_expediteur_multiligne, cas_nom_formule,
    cas_piece_trop_grosse,
)


def deliver_cases(maildir: Path, forms: Path, *cases: Cas) -> list[Attendu]:
    return [a for case in cases for a in case(maildir, forms)]


def recipients(sink) -> list[str]:
    return [m["To"].addresses[0].addr_spec for m in sink.messages()]


def assert_every_file_accounted_for(factory, storage, maildir: Path) -> None:
    files = {f.name: f.read_bytes() for f in iter_mailbox(maildir)}
    with factory() as s:
        receptions = list(s.scalars(select(Reception)))
        depots = s.scalar(select(func.count()).select_from(Depot))
    assert sorted(r.source for r in receptions) == sorted(files)
    assert depots == len(files)  # no two files of these batches are the same dépôt
    for r in receptions:
        assert storage.path(r.chemin).read_bytes() == files[r.source]  # the raw message, verbatim


def assert_storage_private_and_named_by_us(storage, tmp_path: Path) -> None:
    stored = [p for p in storage.root.rglob("*") if p.is_file()]
    assert stored
    for p in stored:
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, p
    for kind in ("messages", "pieces"):
        for p in (storage.root / kind).rglob("*"):
            if p.is_file():
                assert GENERATED_NAME.fullmatch(p.name), p
    assert not [p for p in tmp_path.rglob("passwd")]


# --- family tests -----------------------------------------------------------------------


def test_unreadable_pdfs_are_refused_with_their_reason_kept_and_listed_on_the_attestation(
    factory, storage, appel, sink, mail, maildir, tmp_path
):
    good = porteur(1)
    deliver_complete(maildir, tmp_path / "f", good, paris(6, 8))
    attendus = deliver_cases(maildir, tmp_path / "f", cas_pdfs_illisibles)

    report, sent = run_intake(factory, storage, maildir, mail)

    assert (report.depots, report.erreurs, sent.envoyes) == (2, [], 2)
    check_seen_by_the_sa(factory, storage, attendus)
    with factory() as s:
        numero = s.scalar(select(Attestation.numero).join(Depot).where(Depot.message_id == "<pdf-31@example.org>"))
    text = read_docx_text(storage.root / f"attestations/2018/{numero}.docx")
    assert RAISON_CHIFFRE in text and RAISON_ILLISIBLE in text


def test_unsafe_spreadsheets_are_refused_kept_and_explained(factory, storage, appel, sink, mail, maildir, tmp_path):
    forms = tmp_path / "f"
    form = form_bytes(forms, porteur(50))
    hostile = {
        "corrompu": ("dossier.xlsx", xlsx_corrompu("a"), MOTIF_CORROMPU),
        "tronque": ("dossier.xlsx", form[: len(form) // 2], MOTIF_CORROMPU),
        "html": ("dossier.xlsx", b"<html><body>Erreur 404</body></html>", MOTIF_CORROMPU),
        "xlsm": ("dossier.xlsm", with_member(form, "xl/vbaProject.bin", b"VBA"), MOTIF_MACROS),
        "vba-deguise": ("dossier.xlsx", with_member(form, "xl/vbaProject.bin", b"VBA!"), MOTIF_MACROS),
        "bombe-taux": ("dossier.xlsx", zip_bomb(4 * 1_048_576, "taux"), MOTIF_BOMBE),
        "bombe-total": ("dossier.xlsx", zip_bomb(60 * 1_048_576, "total"), MOTIF_BOMBE),
        "ole": ("dossier.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + _noise("ole", 2000), MOTIF_OLE),
    }
    attendus = []
    for i, (cas, (nom, data, motif)) in enumerate(hostile.items()):
        sender = f"{cas}@inconnu.example.org"
        deliver(maildir, sender=sender, when=paris(6, 10, i), message_id=f"<{cas}@example.org>",
                attachments=[(nom, data)])
        attendus.append(Attendu(cas, expediteur=sender, motifs=(refusee(nom, motif),), gardees={nom: data}))
    known = porteur(2)
    deliver_complete(maildir, forms, known, paris(5, 8))
    macro = with_member(form_bytes(forms, known), "xl/vbaProject.bin", b"VBA known")
    deliver(maildir, sender=known.email, when=paris(6, 11), message_id="<v2-xlsm@example.org>",
            attachments=[("dossier-v2.xlsm", macro)])
    attendus.append(Attendu("xlsm d'un porteur connu", siret=known.siret,
                            motifs=(refusee("dossier-v2.xlsm", MOTIF_MACROS),), gardees={"dossier-v2.xlsm": macro},
                            champs={"pieces_manquantes": ["envoi postal (courrier) non reçu"]}))

    report, _ = run_intake(factory, storage, maildir, mail)

    assert (report.lus, report.non_identifies, report.erreurs) == (len(hostile) + 2, len(hostile), [])
    check_seen_by_the_sa(factory, storage, attendus)
    assert recipients(sink) == [known.email, known.email]  # nobody unidentified gets mail
    assert_every_file_accounted_for(factory, storage, maildir)


def test_attachment_names_are_never_paths_and_the_name_sent_is_kept(factory, storage, appel, mail, maildir, tmp_path):
    p = porteur(34)
    deliver(maildir, sender=p.email, when=paris(6, 9), message_id="<noms@example.org>",
            attachments=[("dossier.xlsx", form_bytes(tmp_path / "f", p)), *cvs(p),
                         ("../../etc/passwd", b"root:x:0:0:root:/root:/bin/bash\n"),
                         ("..\\..\\Windows\\win.ini", b"[fonts]\n"),
                         ("/tmp/annexe.pdf", cv_pdf("Annexe"))])

    run_intake(factory, storage, maildir, mail)

    with factory() as s:
        pieces = {pc.nom: pc for pc in s.scalars(select(Piece))}
    assert pieces["passwd"].nom_origine == "../../etc/passwd" and not pieces["passwd"].acceptee
    assert pieces["win.ini"].nom_origine == "..\\..\\Windows\\win.ini"
    assert pieces["annexe.pdf"].acceptee and pieces["annexe.pdf"].nom_origine == "/tmp/annexe.pdf"
    for pc in pieces.values():
        assert storage.path(pc.chemin).resolve().is_relative_to(storage.root)
    check_seen_by_the_sa(factory, storage, [Attendu("chemins", siret=p.siret, motifs=(
        refusee("passwd", TYPE_REFUSE_SANS_EXTENSION),
        refusee("win.ini", "type de fichier non accepté (« .ini ») ; formats acceptés : docx, jpeg, jpg, odt, pdf, png, xlsx"),
    ))])
    assert_storage_private_and_named_by_us(storage, tmp_path)
    assert not (tmp_path / "Windows").exists() and not Path("/tmp/annexe.pdf").exists()


def test_empty_and_attachmentless_messages_are_kept_with_their_reason(factory, storage, appel, sink, mail, maildir, tmp_path):
    known = porteur(3)
    deliver_complete(maildir, tmp_path / "f", known, paris(5, 8))
    deliver(maildir, sender=known.email, when=paris(6, 9), message_id="<oubli@example.org>", attachments=[])
    attendus = deliver_cases(maildir, tmp_path / "f", cas_message_vide, cas_sans_piece)
    attendus.append(Attendu("porteur connu sans pièce jointe", siret=known.siret,
                            motifs=(f"courriel du 6 décembre 2017 à 9 h 00 : {PROBLEME_SANS_PIECE}",)))

    report, _ = run_intake(factory, storage, maildir, mail)

    assert (report.lus, report.non_identifies, report.erreurs) == (4, 2, [])
    check_seen_by_the_sa(factory, storage, attendus)
    assert recipients(sink) == [known.email, known.email]
    assert_every_file_accounted_for(factory, storage, maildir)


def test_invalid_siret_is_reported_and_the_depot_waits_or_follows_its_sender(factory, storage, appel, mail, maildir, tmp_path):
    forms = tmp_path / "f"
    short = porteur(44)
    deliver(maildir, sender="court@inconnu.example.org", when=paris(6, 10), message_id="<court@example.org>",
            attachments=[("dossier.xlsx", form_bytes(forms, short, porteur_siret="123 456 789"))])
    known = porteur(4)
    deliver_complete(maildir, forms, known, paris(5, 8))
    deliver(maildir, sender=known.email, when=paris(6, 11), message_id="<v2-siret@example.org>",
            attachments=[("dossier.xlsx", form_bytes(forms, known, porteur_siret="73282932000079"))])
    attendus = deliver_cases(maildir, forms, cas_siret_invalide) + [
        Attendu("SIRET trop court", expediteur="court@inconnu.example.org", motifs=(
            "SIRET de la structure illisible : « 123 456 789 » (14 chiffres attendus)",
            "SIRET invalide : « 123456789 » (14 chiffres attendus)",
        )),
        Attendu("SIRET invalide d'un expéditeur connu", siret=known.siret, motifs=(
            "courriel du 6 décembre 2017 à 11 h 00 : SIRET invalide : « 73282932000079 » (clé de contrôle incorrecte)",
        )),
    ]

    report, _ = run_intake(factory, storage, maildir, mail)

    assert (report.non_identifies, report.erreurs) == (2, [])
    check_seen_by_the_sa(factory, storage, attendus)
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(Porteur)) == 1


def test_received_header_not_the_date_header_decides_the_deadline(factory, storage, appel, sink, mail, maildir, tmp_path):
    attendus = deliver_cases(maildir, tmp_path / "f", cas_date_mensongere)

    report, sent = run_intake(factory, storage, maildir, mail)

    assert (report.depots, report.hors_delai, sent.envoyes) == (2, 1, 2)
    check_seen_by_the_sa(factory, storage, attendus)


def test_sender_name_with_a_newline_is_one_line_and_nothing_after_it_is_lost(factory, storage, appel, sink, mail, maildir, tmp_path):
    forms = tmp_path / "f"
    attendus = deliver_cases(maildir, forms, cas_expediteur_multiligne)
    encoded, injected = porteur(45), porteur(46)
    for p, from_line, when in (
        (encoded, b"From: =?utf-8?q?Jean=0ADupont?= <" + encoded.email.encode() + b">", paris(6, 10)),
        (injected, b'From: "Jean\nBcc: cible@example.org" <' + injected.email.encode() + b">", paris(6, 11)),
    ):
        raw = raw_message(from_line, when=when, message_id=f"<nl-{p.siret}@example.org>",
                          attachments=[("dossier.xlsx", form_bytes(forms, p)), *cvs(p)])
        write_maildir_message(maildir, raw, delivered_at=when)
    attendus += [
        Attendu("nom encodé avec saut de ligne", siret=encoded.siret,
                champs={"pieces_manquantes": ["envoi postal (courrier) non reçu"]}),
        Attendu("saut de ligne suivi d'un faux en-tête", siret=injected.siret,
                motifs=(f"courriel du 6 décembre 2017 à 11 h 00 : {PROBLEME_EXPEDITEUR}",)),
    ]

    report, sent = run_intake(factory, storage, maildir, mail)

    assert (report.depots, report.erreurs, sent.envoyes) == (3, [], 3)
    check_seen_by_the_sa(factory, storage, attendus)
    with factory() as s:
        depots = {d.message_id: d for d in s.scalars(select(Depot))}
    assert depots["<nl-37@example.org>"].expediteur_nom == "Jean Dupont"
    assert depots[f"<nl-{encoded.siret}@example.org>"].expediteur_nom == "Jean Dupont"
    assert depots["<nl-37@example.org>"].sujet == "Réponse à l'appel à projets"
    assert all("\n" not in (d.expediteur_nom or "") and "\n" not in (d.sujet or "") for d in depots.values())
    assert "cible@example.org" not in recipients(sink)  # the form's contact is written to instead
    assert sorted(recipients(sink)) == sorted(p.email for p in (porteur(37), encoded, injected))


def test_porteur_name_starting_with_equals_is_kept_as_text(factory, storage, appel, sink, mail, maildir, tmp_path):
    forms = tmp_path / "f"
    attendus = deliver_cases(maildir, forms, cas_nom_formule)
    live = porteur(47)  # the same text, but as a live formula in the cell: no value to read
    filled = forms / "formule.xlsx"
    filled.write_bytes(form_bytes(forms, live))
    wb = openpyxl.load_workbook(filled)
    feuille, cell = next(iter(wb.defined_names["porteur_nom"].destinations))
    wb[feuille][cell.replace("$", "")].value = FORMULE
    wb.save(filled)
    deliver(maildir, sender=live.email, when=paris(6, 10), message_id="<formule@example.org>",
            attachments=[("dossier.xlsx", filled.read_bytes()), *cvs(live)])
    attendus.append(Attendu("formule vivante dans le nom", siret=live.siret,
                            manquants=("formulaire incomplet : Nom de la structure",),
                            champs={"porteur": f"Structure SIRET {live.siret}"}))

    run_intake(factory, storage, maildir, mail)

    check_seen_by_the_sa(factory, storage, attendus)
    with factory() as s:
        assert s.scalar(select(Porteur.nom).where(Porteur.siret == porteur(36).siret)) == FORMULE
        numero = s.scalar(select(Attestation.numero).order_by(Attestation.seq).limit(1))
    assert FORMULE in read_docx_text(storage.root / f"attestations/2018/{numero}.docx")
    assert any(FORMULE in m["Subject"] for m in sink.messages())


def test_oversized_attachment_is_refused_with_its_size_and_kept(factory, storage, appel, mail, maildir, tmp_path):
    attendus = deliver_cases(maildir, tmp_path / "f", cas_piece_trop_grosse)

    report, _ = run_intake(factory, storage, maildir, mail)

    assert (report.depots, report.erreurs) == (1, [])
    check_seen_by_the_sa(factory, storage, attendus)


# --- everything at once -----------------------------------------------------------------


def test_every_bad_message_in_one_mailbox_gets_its_reason_and_the_good_ones_are_attested(
    factory, storage, appel, sink, mail, maildir, tmp_path
):
    forms = tmp_path / "f"
    good = [porteur(1, referents=2), porteur(2)]
    for n, p in enumerate(good):
        deliver_complete(maildir, forms, p, paris(6, 8, n))
    attendus = deliver_cases(maildir, forms, *ALL_CASES)
    assert len(iter_mailbox(maildir)) == 2 + len(ALL_CASES) + 1  # cas_date_mensongere delivers two

    report, sent = run_intake(factory, storage, maildir, mail)

    assert report.erreurs == []
    assert report.lus == len(iter_mailbox(maildir))
    with factory() as s:
        attested = set(s.scalars(select(Depot.expediteur).join(Attestation)))
        assert s.scalar(select(func.count()).select_from(Reception)) == len(iter_mailbox(maildir))
    for p in good:
        assert p.email in attested
        assert p.email in recipients(sink)
    assert sent.envoyes == len(sink.messages()) == len(attested)
    assert not any(a.expediteur in recipients(sink) for a in attendus if a.en_attente)
    check_seen_by_the_sa(factory, storage, attendus)
    rows = rows_of(factory, storage)
    for p in good:
        [row] = [r for r in rows if r["siret"] == p.siret]
        assert (row["statut"], row["pieces_manquantes"], row["motifs"]) == ("incomplet", ["envoi postal (courrier) non reçu"], [])
    assert_every_file_accounted_for(factory, storage, maildir)
    assert_storage_private_and_named_by_us(storage, tmp_path)
    with factory() as s:
        passwd = s.scalar(select(Piece).where(Piece.nom == "passwd"))
        xlsm = s.scalar(select(Piece).where(Piece.nom == "dossier.xlsm"))
    assert passwd.nom_origine == "../../etc/passwd"
    assert (xlsm.acceptee, xlsm.motif) == (False, MOTIF_MACROS)
    assert storage.path(xlsm.chemin).stat().st_size == xlsm.taille



# --- values longer than their column ---------------------------------------------------
# SQLite ignores VARCHAR widths; PostgreSQL refuses the row, and then the whole dépôt failed
# and no Reception was written. Each case below must still be registered on its dossier.


def depot_long_message_id(maildir: Path, forms: Path, p: SamplePorteur) -> None:
    deliver(maildir, sender=p.email, when=paris(6, 9), message_id="<" + "m" * 400 + "@example.org>",
            attachments=[("dossier.xlsx", form_bytes(forms, p)), *cvs(p)])


def depot_long_telephone(maildir: Path, forms: Path, p: SamplePorteur) -> None:
    telephone = "03 80 00 00 00 (standard) ou 06 12 34 56 78 (portable de la directrice), de 9 h à 17 h"
    deliver(maildir, sender=p.email, when=paris(6, 9), message_id="<tel@example.org>",
            attachments=[("dossier.xlsx", form_bytes(forms, p, contact_telephone=telephone)), *cvs(p)])


def depot_long_referent(maildir: Path, forms: Path, p: SamplePorteur) -> None:
    referent = Referent(nom="Nom-" + "tres-long-" * 12, prenom="Prénom-" + "tres-long-" * 10, etp=Decimal("1"),
                        salaire_charge_annuel=Decimal("40000.00"), cv_fichier="cv.pdf")
    deliver(maildir, sender=p.email, when=paris(6, 9), message_id="<ref@example.org>",
            attachments=[("dossier.xlsx", form_bytes(forms, p, referents=(referent,))), ("cv.pdf", cv_pdf("CV"))])


@pytest.mark.parametrize("cas", ["message_id", "telephone", "referent"])
@pytest.mark.database_matters("SQLite ignores column lengths")
def test_a_value_longer_than_its_column_does_not_block_the_depot(
    cas, factory, storage, appel, mail, maildir, tmp_path
):
    p = porteur(60)
    {"message_id": depot_long_message_id, "telephone": depot_long_telephone, "referent": depot_long_referent}[cas](
        maildir, tmp_path / "f", p)

    report, _ = run_intake(factory, storage, maildir, mail)

    assert (report.depots, report.erreurs) == (1, [])
    assert_every_file_accounted_for(factory, storage, maildir)
    [row] = rows_of(factory, storage)
    assert row["siret"] == p.siret and not [m for m in row["pieces_manquantes"] if m.startswith("CV")]


@pytest.mark.database_matters("SQLite ignores column lengths")
def test_an_attachment_name_longer_than_its_column_is_kept_cut(factory, storage, appel, mail, maildir, tmp_path):
    p = porteur(61)
    sent_name = "annexe-" + "a" * 600 + ".pdf"
    deliver(maildir, sender=p.email, when=paris(6, 9), message_id="<long-name@example.org>",
            attachments=[("dossier.xlsx", form_bytes(tmp_path / "f", p)), *cvs(p), (sent_name, cv_pdf("Annexe"))])

    report, _ = run_intake(factory, storage, maildir, mail)

    assert (report.depots, report.erreurs) == (1, [])
    with factory() as s:
        piece = s.scalar(select(Piece).where(Piece.nom.like("annexe-%")))
    assert piece.acceptee and piece.nom.endswith(".pdf") and len(piece.nom) == 150
    assert piece.nom_origine == sent_name[:500]
