"""Documents per convention: the blank fiches de présence, and the FSE audit pack (one bookmarked PDF)."""
from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.appels import SaisieRefusee
from adapters.pdf import attach_file, convert_to_pdf, merge_pdfs, pdf_versions, soffice_path
from adapters.storage import Storage
from francais.formats import PARIS, format_date
from models.bilan import same_file_key
from models.conservation import FichierPurge
from models.convention import Convention, etat_en_vigueur
from models.dossier import Depot, NaturePiece
from models.instruction import DecisionComite, Instruction
from models.suivi import Echeance
from templates.fiche_presence import FichePresenceData, render_fiche
from templates.index_fse import IndexFseData, JustificatifIndex, render_index_fse
from templates.journal_fse import EntreeExtrait, JournalFseData, SceauExtrait, render_journal_fse


def _convention(session: Session, numero: str) -> Convention:
    c = session.scalar(select(Convention).where(Convention.numero == numero))
    if c is None:
        raise SaisieRefusee(f"aucune convention n° {numero}")
    return c


def render_fiches_presence(session: Session, storage: Storage, numero: str, mois: date, *, pdf: bool) -> list[Path]:
    """One blank attendance sheet per référent of the convention, for the month."""
    c = _convention(session, numero)
    folder = storage.ensure_dir(f"fiches_presence/{numero}")
    out = [
        render_fiche(FichePresenceData(convention_numero=c.numero, porteur_nom=c.dossier.porteur.nom,
                                       referent=r["nom_complet"], mois=mois.replace(day=1)),
                     folder / f"fiche_{mois:%Y-%m}_{i}.docx")
        for i, r in enumerate(etat_en_vigueur(c, mois.replace(day=1))["referents"], start=1)
    ]
    return list(pdf_versions(dict(enumerate(out)), folder, enabled=pdf).values())


JOURNAL_TITRE = "Journal des opérations du dossier et sceaux du jour"


@dataclass(frozen=True)
class ExtraitJournal:
    document: JournalFseData
    json: bytes  # the entries with their canonical forms, and the seals: what a recomputation needs


def journal_extract(session: Session, c: Convention, *, maintenant: datetime) -> ExtraitJournal:
    """The dossier's and its convention's entries, the seals that cover them, as a page and as a JSON file."""
    from actions.journal import covering_seals, dossier_history, seal_rows
    from models.journal import canonical, moment_text

    numero = c.dossier.numero
    _, entrees = dossier_history(session, dossier=numero, convention=None)
    sceaux = covering_seals(session, entrees)
    rows = seal_rows(session, sceaux)
    nom = f"journal_{numero}.json"
    document = JournalFseData(
        dossier_numero=numero, convention_numero=c.numero, porteur_nom=c.dossier.porteur.nom,
        entrees=tuple(EntreeExtrait(e.id, e.moment, e.texte, e.utilisateur, e.empreinte) for e in entrees),
        sceaux=tuple(SceauExtrait(s.jour, s.entree, s.empreinte, rows[s.entree].chemin) for s in sceaux),
        piece_jointe=nom, emis_le=maintenant)
    payload = {
        "format": "aap-extrait-journal-1", "dossier": numero, "convention": c.numero, "etabli_le": moment_text(maintenant),
        "calcul": "empreinte = SHA-256(UTF-8(precedente + canonique)), en hexadécimal minuscule",
        "entrees": [{"entree": e.id, "precedente": e.precedent, "empreinte": e.empreinte,
                     "canonique": canonical(id=e.id, moment=e.moment, genre=e.genre, appel=e.appel, dossier=e.dossier,
                                            convention=e.convention, utilisateur=e.utilisateur, texte=e.texte,
                                            donnees=e.donnees)} for e in entrees],
        "sceaux": [{"jour": s.jour.isoformat(), "entree": s.entree, "empreinte": s.empreinte,
                    "fichier": rows[s.entree].chemin} for s in sceaux],
    }
    return ExtraitJournal(document, json.dumps(payload, ensure_ascii=False, indent=1).encode("utf-8"))


def build_fse_pack(session: Session, storage: Storage, numero: str, target: Path, *, maintenant: datetime) -> Path:
    """Everything of the convention's life, in its order, for a contrôle de service fait: the dossier de réponse
    of each dépôt and its attestation, the notes d'instruction, the comité's letters, the convention and its
    avenants, each bilan with its receipt and its justificatifs, after an index of them all, and last the
    dossier's journal extract with the seals that cover it — one PDF, A4 portrait throughout, one bookmark per
    document, the extract's entries also attached as a JSON file (their canonical forms, to recompute them)."""
    if soffice_path() is None:
        raise SaisieRefusee("LibreOffice (soffice) est nécessaire pour assembler le dossier FSE en PDF")
    c = _convention(session, numero)
    purged = session.scalar(select(FichierPurge).where(FichierPurge.numero == c.numero).limit(1))
    if purged is not None:
        raise SaisieRefusee(f"les pièces et documents de la convention {c.numero} ont été supprimés le "
                            f"{format_date(purged.purge_le.astimezone(PARIS).date())} au terme de leur durée de conservation ({purged.motif}) : "
                            "le dossier FSE ne peut plus être assemblé")
    parts: list[tuple[str, Path]] = []

    def add(title: str, relative: str | None) -> None:
        if relative and storage.path(relative).is_file():
            parts.append((title, storage.path(relative)))

    for d in session.scalars(select(Depot).where(Depot.dossier_id == c.dossier_id).order_by(Depot.recu_le, Depot.id)):
        jour = format_date(d.recu_le)
        for p in d.pieces:
            if p.nature is NaturePiece.FORMULAIRE and p.acceptee:
                add(f"Dossier de réponse ({d.canal.value}, reçu le {jour})", p.chemin)
        if d.attestation is not None:
            add(f"Attestation de dépôt {d.attestation.numero} ({d.canal.value}, reçu le {jour})", d.attestation.chemin)
    for i in session.scalars(select(Instruction).where(Instruction.dossier_id == c.dossier_id)
                             .order_by(Instruction.version)):
        add(f"Note d'instruction n° {i.version} du {format_date(i.instruit_le)}", i.note_chemin)
    for dc in session.scalars(select(DecisionComite).where(DecisionComite.dossier_id == c.dossier_id)
                              .order_by(DecisionComite.comite_le)):
        add(f"Décision du comité du {format_date(dc.comite_le)} ({dc.decision.value})", dc.lettre_chemin)
    add(f"Convention {c.numero}", c.chemin)
    for a in c.avenants:
        add(f"Avenant {a.numero} ({a.nature.value}{', à signer' if a.signe_le is None else ''})", a.chemin)
    justificatifs: list[JustificatifIndex] = []
    for e in session.scalars(select(Echeance).where(Echeance.convention_id == c.id).order_by(Echeance.due_le)):
        for b in e.bilans:
            label = f"bilan {e.nature.value} {e.periode_debut.year}"
            form = next((p for p in b.pieces if p["nom"].lower().endswith(".xlsx")), None)
            if form:
                add(f"Bilan {b.numero} — {label}", form["chemin"])
            add(f"Accusé de réception {b.numero}", b.accuse_chemin)
            by_name = {same_file_key(p["nom"]): p for p in b.pieces}
            for j in (b.contenu or {}).get("justificatifs", []):
                piece = by_name.get(same_file_key(j.get("fichier") or ""))
                justificatifs.append(JustificatifIndex(
                    bilan=b.numero, periode=label, categorie=j.get("categorie") or "", libelle=j.get("libelle") or "",
                    montant=j.get("montant"), fichier=j.get("fichier") or "",
                    sha256=piece["sha256"] if piece else None))
                if piece and piece["nom"].lower().endswith(".pdf"):
                    add(f"Justificatif {piece['nom']} ({b.numero})", piece["chemin"])
    work = Path(tempfile.mkdtemp(prefix="aap-fse-"))
    try:
        extrait = journal_extract(session, c, maintenant=maintenant)
        parts.append((JOURNAL_TITRE, render_journal_fse(extrait.document, work / "99_journal.docx")))
        index = render_index_fse(IndexFseData(
            convention_numero=c.numero, porteur_nom=c.dossier.porteur.nom, porteur_siret=c.dossier.porteur.siret,
            documents=tuple(title for title, _ in parts), justificatifs=tuple(justificatifs), emis_le=maintenant,
        ), work / "00_index.docx")
        parts.insert(0, ("Index du dossier et des justificatifs", index))
        to_convert = {}
        for i, (_, path) in enumerate(parts):
            if path.suffix.lower() != ".pdf":
                copy = work / f"{i:03d}{path.suffix.lower()}"  # unique names: one soffice call converts them all
                shutil.copyfile(path, copy)
                to_convert[i] = copy
        converted = convert_to_pdf(list(to_convert.values()), work / "pdf") if to_convert else {}
        ready = []
        for i, (title, path) in enumerate(parts):
            pdf = converted.get(to_convert[i].resolve()) if i in to_convert else path
            if pdf is not None:
                ready.append((title, pdf))
        return attach_file(merge_pdfs(ready, target, a4_portrait=True), extrait.document.piece_jointe, extrait.json)
    finally:
        shutil.rmtree(work, ignore_errors=True)
