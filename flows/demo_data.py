"""The demo's sample dépôts: a realistic, deterministic mailbox for the 2018 call.

Every case the SA meets in a real November is here: a complete answer, a missing CV, a dépôt
one minute late, the same mail to the three addresses, a complément, an unknown sender,
a postal dépôt, an encrypted CV, a porteur named ``Emploi & Insertion <Côte-d'Or>``, and a
stranger posing as a known structure.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from pypdf import PdfReader, PdfWriter

from adapters.eml_samples import build_depot_email, write_maildir_message
from forms.dossier_reponse import FormulaireReponse, Referent, fill_dossier_reponse

PARIS = ZoneInfo("Europe/Paris")
ADRESSES = ("plie-aap@example.org", "coordination.plie@example.org", "assistante.plie@example.org")
USURPATEUR = "direction.tremplin@example.org"  # not Tremplin's: a stranger posing as its new direction


def luhn_siret(base13: str) -> str:
    """Complete 13 digits into a SIRET whose Luhn key is right."""
    for last in "0123456789":
        candidate = base13 + last
        total = sum((d * 2 - 9 if d * 2 > 9 else d * 2) if i % 2 else d for i, d in enumerate(int(c) for c in reversed(candidate)))
        if total % 10 == 0:
            return candidate
    raise AssertionError("unreachable")


def cv_pdf(title: str) -> bytes:
    """A small, valid one-page PDF whose text names the person (a stand-in for a real CV)."""
    text = title.encode("latin-1", "replace").replace(b"(", b"[").replace(b")", b"]")
    stream = b"BT /F1 14 Tf 72 760 Td (" + text + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    out.writelines(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def encrypted_pdf(title: str) -> bytes:
    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(cv_pdf(title))))
    writer.encrypt(user_password="secret", owner_password="secret")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@dataclass(frozen=True)
class SamplePorteur:
    nom: str
    siret: str
    email: str
    referents: tuple[tuple[str, str, str, str], ...]  # nom, prénom, ETP, salaire chargé
    adresse: str = "12 rue de la Liberté\n21000 Dijon"  # two lines, as on an envelope
    contact: str = "Claire Martin"  # who signs for the structure
    telephone: str = "03 53 01 00 00"  # in the range ARCEP keeps for fiction (03 53 01 xx xx)
    deplacements: str = "3000.00"

    def formulaire(self, **changes: object) -> FormulaireReponse:
        refs = tuple(
            Referent(nom=n, prenom=p, etp=Decimal(e), salaire_charge_annuel=Decimal(s), cv_fichier=cv_name(p, n))
            for n, p, e, s in self.referents
        )
        salaires = sum((r.salaire_charge_annuel for r in refs), Decimal("0"))
        total = salaires + Decimal(self.deplacements)
        form = FormulaireReponse(
            porteur_nom=self.nom, porteur_siret=self.siret, porteur_adresse=self.adresse,
            contact_nom=self.contact, contact_email=self.email, contact_telephone=self.telephone,
            budget_salaires=salaires, budget_deplacements=Decimal(self.deplacements), budget_autres=Decimal("0.00"),
            ressources_fse=(total / 2).quantize(Decimal("0.01")), ressources_plie=total - (total / 2).quantize(Decimal("0.01")),
            ressources_autres=Decimal("0.00"), referents=refs, champs_manquants=(), anomalies=(),
        )
        return replace(form, **changes)


def cv_name(prenom: str, nom: str) -> str:
    return f"CV_{prenom}_{nom}.pdf".replace(" ", "_")


PORTEURS = (
    SamplePorteur("Association Tremplin Emploi", luhn_siret("4123456780001"), "direction@tremplin.example.org",
                  (("Durand", "Sophie", "1", "44500.00"), ("Petit", "Karim", "1", "43800.00")),
                  "12 rue de la Liberté\n21000 Dijon", "Claire Martin", "03 53 01 12 40"),
    SamplePorteur("Régie de quartier Fontaine d'Ouche", luhn_siret("5234567890001"), "contact@regie-fo.example.org",
                  (("Bernard", "Lucie", "1", "42000.00"), ("Moreau", "Yann", "0.5", "22250.00")),
                  "4 place de la Fontaine d'Ouche\n21000 Dijon", "Hervé Bonnot", "03 53 01 27 15"),
    SamplePorteur("ACODEGE Insertion", luhn_siret("3345678900002"), "aap@acodege.example.org",
                  (("Garnier", "Paul", "1", "41000.00"),),
                  "2 rue Professeur Louis Neel\n21600 Longvic", "Isabelle Perrin", "03 53 01 33 02"),
    SamplePorteur("Mission Locale du bassin dijonnais", luhn_siret("3456789010003"), "ml@missionlocale.example.org",
                  (("Roux", "Emma", "1", "44000.00"), ("Faure", "Hugo", "1", "44100.00")),
                  "29 rue de Mulhouse\n21000 Dijon", "Nadia Belkacem", "03 53 01 45 61"),
    SamplePorteur("Emploi & Insertion <Côte-d'Or>", luhn_siret("7567890120004"), "contact@emploi-insertion.example.org",
                  (("Lefèvre", "Éloïse", "1", "44500.00"),),
                  "8 avenue du Drapeau\n21000 Dijon", "Jean-Luc Marchal", "03 53 01 50 88"),
    SamplePorteur("IDEES 21", luhn_siret("3678901230005"), "idees21@idees.example.org",
                  (("Blanc", "Nora", "1", "40000.00"), ("Chevalier", "Marc", "0.8", "35600.00")),
                  "17 rue des Ateliers\n21800 Quetigny", "Sandrine Guyot", "03 53 01 62 19"),
    SamplePorteur("Coopérative Alpha Services", luhn_siret("8789012340006"), "alpha@coop-alpha.example.org",
                  (("Girard", "Inès", "1", "45200.00"),),  # over the 44 500 € ceiling
                  "5 allée des Peupliers\n21300 Chenôve", "Olivier Ribeiro", "03 53 01 71 47"),
    SamplePorteur("Entreprise d'insertion Le Pont", luhn_siret("4890123450007"), "lepont@ei-lepont.example.org",
                  (("Lambert", "Théo", "0.5", "22000.00"),),
                  "41 route de Gray\n21850 Saint-Apollinaire", "Martine Colin", "03 53 01 84 30"),
    SamplePorteur("Chantier École Bourgogne", luhn_siret("5901234560008"), "ce@chantier-ecole.example.org",
                  (("Mercier", "Julie", "1", "39000.00"),),
                  "3 boulevard de Chicago\n21000 Dijon", "Yves Lemoine", "03 53 01 96 05"),
)
KNOWN = PORTEURS[:2] + PORTEURS[5:6]  # structures that answered earlier calls


@dataclass
class Sample:
    maildir: Path
    postal: list[tuple[str, str, list[Path]]] = field(default_factory=list)  # siret, recu_le ISO, scans
    messages: int = 0


def paris(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2017, 11 if day > 20 else 12, day, hour, minute, tzinfo=PARIS)


def build_sample(out: Path, blank_form: Path) -> Sample:
    """Write the demo mailbox and the postal scans under ``out`` (deterministic, idempotent)."""
    sample = Sample(maildir=out / "boite-depots")
    if (sample.maildir / "new").is_dir() and any((sample.maildir / "new").iterdir()):
        sample.postal = _postal(out)
        return sample
    forms = out / "formulaires"
    forms.mkdir(parents=True, exist_ok=True)

    def deliver(p: SamplePorteur | None, *, when: datetime, attachments: list[tuple[str, bytes]], n: int,
                to: str = ADRESSES[0], sender: str | None = None, lie: bool = False, mid: str | None = "auto") -> None:
        sender = sender or (p.email if p else "inconnu@example.org")
        raw = build_depot_email(
            sender=sender, sender_name=p.nom if p else "Expéditeur inconnu", to=to,
            subject=f"Réponse à l'appel à projets PLIE 2018 — {p.nom if p else 'candidature'}", received_at=when,
            date_header=when - timedelta(days=6) if lie else None,
            message_id=(f"<depot-{n}@{sender.split('@')[1]}>" if mid == "auto" else mid), attachments=attachments,
        )
        write_maildir_message(sample.maildir, raw, delivered_at=when)
        sample.messages += 1

    filled: dict[tuple[str, str], tuple[str, bytes]] = {}

    def form_bytes(p: SamplePorteur, **changes: object) -> tuple[str, bytes]:
        key = (p.siret, repr(sorted(changes.items())))
        if key not in filled:  # the same form attached twice must be the same bytes
            path = fill_dossier_reponse(blank_form, forms / f"{p.siret}-{len(filled)}.xlsx", p.formulaire(**changes))
            filled[key] = (f"Dossier_reponse_{p.nom.split()[0]}.xlsx".replace("&", "et"), path.read_bytes())
        return filled[key]

    def cvs(p: SamplePorteur, skip: int | None = None) -> list[tuple[str, bytes]]:
        return [(cv_name(pr, n), cv_pdf(f"Curriculum vitae - {pr} {n}")) for i, (n, pr, _, _) in enumerate(p.referents) if i != skip]

    tremplin, regie, acodege, mission, emploi, idees, alpha, pont, chantier = PORTEURS
    deliver(tremplin, when=paris(4, 10, 12), attachments=[form_bytes(tremplin), *cvs(tremplin)], n=1, lie=True)
    deliver(regie, when=paris(6, 15, 40), attachments=[form_bytes(regie), *cvs(regie, skip=1)], n=2)
    deliver(acodege, when=paris(7, 17, 1), attachments=[form_bytes(acodege), *cvs(acodege)], n=3)
    for i, address in enumerate(ADRESSES):  # the same message, copied to the three addresses
        deliver(mission, when=paris(5, 9, 30) + timedelta(seconds=i), attachments=[form_bytes(mission), *cvs(mission)], n=4, to=address)
    deliver(emploi, when=paris(7, 11, 5), attachments=[form_bytes(emploi), *cvs(emploi)], n=5)
    deliver(idees, when=paris(1, 14, 0), attachments=[form_bytes(idees), *cvs(idees, skip=1)], n=6)
    deliver(idees, when=paris(6, 16, 20), attachments=cvs(idees)[1:], n=7)  # the complément brings the missing CV
    deliver(None, when=paris(7, 12, 0), attachments=[("presentation.pdf", cv_pdf("Présentation de la structure"))], n=8,
            sender="inconnu@example.org")
    alpha_cv = [(cv_name("Inès", "Girard"), encrypted_pdf("CV Inès Girard"))]
    deliver(alpha, when=paris(7, 16, 58), attachments=[form_bytes(alpha), *alpha_cv], n=9)
    deliver(pont, when=paris(3, 8, 45), attachments=[form_bytes(pont), *cvs(pont)], n=10)
    deliver(chantier, when=paris(7, 9, 0), attachments=[form_bytes(chantier, porteur_siret="123 456 789"), *cvs(chantier)], n=11)
    deliver(pont, when=paris(3, 9, 10), attachments=[form_bytes(pont), *cvs(pont)], n=12, mid="<transfert-12@ei-lepont.example.org>")
    # a stranger sends a form with Tremplin's SIRET, a new name and itself as contact: held for verification
    deliver(tremplin, when=paris(6, 10, 0), n=13, sender=USURPATEUR, attachments=[
        form_bytes(tremplin, porteur_nom="Tremplin Emploi (nouvelle direction)", contact_email=USURPATEUR,
                   contact_nom="Nouvelle direction"), *cvs(tremplin)])
    sample.postal = _postal(out)
    return sample


def _postal(out: Path) -> list[tuple[str, str, list[Path]]]:
    """Envelopes the SA scanned: three in time, one late."""
    scans = out / "courrier"
    scans.mkdir(parents=True, exist_ok=True)
    entries = []
    for p, when in ((PORTEURS[0], paris(6, 9, 30)), (PORTEURS[4], paris(7, 10, 0)), (PORTEURS[7], paris(5, 9, 15)),
                    (PORTEURS[1], paris(8, 9, 0))):
        scan = scans / f"scan-{p.siret}.pdf"
        if not scan.exists():
            scan.write_bytes(cv_pdf(f"Courrier de {p.nom} reçu le {when:%d/%m/%Y}"))
        entries.append((p.siret, when.isoformat(), [scan]))
    return entries


def build_answers(out: Path) -> Sample:
    """After the first comité: the Mission Locale answers the questions by e-mail and posts its paper copy."""
    sample = Sample(maildir=out / "boite-reponses")
    mission = PORTEURS[3]
    scans = out / "courrier"
    scans.mkdir(parents=True, exist_ok=True)
    scan = scans / f"scan-reponse-{mission.siret}.pdf"
    if not scan.exists():
        scan.write_bytes(cv_pdf(f"Courrier de {mission.nom} reçu le 14/12/2017"))
    sample.postal = [(mission.siret, paris(14, 9, 0).isoformat(), [scan])]
    if (sample.maildir / "new").is_dir() and any((sample.maildir / "new").iterdir()):
        return sample
    raw = build_depot_email(
        sender=mission.email, sender_name=mission.nom, to=ADRESSES[0],
        subject="Réponse aux questions du comité de pilotage — Mission Locale", received_at=paris(14, 11, 30),
        message_id="<reponse-1@missionlocale.example.org>",
        attachments=[("reponse_questions_comite.pdf", cv_pdf("Reponse aux questions complementaires du comite"))],
    )
    write_maildir_message(sample.maildir, raw, delivered_at=paris(14, 11, 30))
    sample.messages += 1
    return sample
