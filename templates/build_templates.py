"""Builds the .docx templates with python-docx (``python -m templates.build_templates``).

The generated files are kept in the repository; re-run this after editing it.
Every jinja tag is written in a single run, so Word never splits it, and the
docxtpl paragraph/row tags (``{%p ...%}``, ``{%tr ...%}``) sit alone in their
paragraph or row, which docxtpl removes when rendering.
"""

from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.document import Document as DocumentType
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt, RGBColor
from docx.table import Table, _Cell, _Row
from docx.text.paragraph import Paragraph

TEMPLATES_DIR = Path(__file__).resolve().parent
EMETTEUR = "PLIE du bassin dijonnais — GIP Creativ'"
ADRESSE_EMETTEUR = "24 avenue du Lac, 21000 Dijon"
SIGNATURE = "L'équipe d'animation du PLIE du bassin dijonnais"
NBSP = "\xa0"

HORS_DELAI = (
    "Dépôt reçu hors délai (date limite : {{ date_limite }}). Il est conservé mais "
    "ne sera pas instruit, sauf décision contraire du PLIE."
)
COLONNES_PIECES = (
    ("Pièce", Cm(4.6), "{{ p.nom }}"),
    ("Taille", Cm(1.9), "{{ p.taille }}"),
    ("Empreinte SHA-256", Cm(6.6), "{{ p.sha256 }}"),
    ("Statut / motif", Cm(3.9), "{{ p.statut_motif }}"),
)


def build_attestation_depot(out: Path) -> Path:
    """Writes the attestation de dépôt template (A4, French) to ``out``."""
    doc = Document()
    _setup_document(doc, titre="Attestation de dépôt")
    _header_footer(doc, pied="Attestation de dépôt n° {{ numero }} — appel à projets {{ appel_annee }}")

    _para(doc, "Attestation de dépôt n° {{ numero }}", bold=True, size=16,
          align=WD_ALIGN_PARAGRAPH.CENTER, after=2)
    _para(doc, f"Appel à projets {{{{ appel_annee }}}} — «{NBSP}{{{{ appel_titre }}}}{NBSP}»",
          size=11, align=WD_ALIGN_PARAGRAPH.CENTER, after=14)

    _para(doc, "Le PLIE du bassin dijonnais atteste avoir reçu, le {{ recu_le }}, par {{ canal }}, "
               "de la part de la structure {{ porteur_nom }}{% if porteur_siret %} (SIRET {{ porteur_siret }}){% endif %}, "
               f"un dépôt en réponse à l'appel à projets «{NBSP}{{{{ appel_titre }}}}{NBSP}».",
          align=WD_ALIGN_PARAGRAPH.JUSTIFY)
    _tag(doc, "{%p if porteur_adresse %}")
    _para(doc, "Adresse de la structure : {{ porteur_adresse }}")
    _tag(doc, "{%p endif %}")
    _tag(doc, "{%p if complement %}")
    _para(doc, "Ce dépôt complète le dossier déjà reçu de cette structure ; il en constitue "
               "la version {{ version }}.")
    _tag(doc, "{%p else %}")
    _para(doc, "Ce dépôt constitue la version {{ version }} du dossier de cette structure.")
    _tag(doc, "{%p endif %}")

    _titre_section(doc, "Pièces reçues")
    _table_pieces(doc)
    _tag(doc, "{%p if not pieces %}")
    _para(doc, "Aucun fichier n'a été reçu avec ce dépôt.")
    _tag(doc, "{%p endif %}")
    _para(doc, "L'empreinte SHA-256 identifie chaque fichier tel qu'il a été reçu : elle permet "
               "de vérifier que le fichier conservé par le PLIE est identique à celui envoyé.",
          size=8, italic=True)

    _titre_section(doc, "Canaux reçus / attendus")
    _para(doc, "L'appel à projets demande une réponse à la fois par courriel et par courrier postal.")
    _para(doc, "Reçu à ce jour : {{ canaux_recus }}.", after=0)
    _para(doc, "Encore attendu : {{ canaux_attendus }}.")

    _titre_section(doc, "Pièces manquantes ou refusées")
    _tag(doc, "{%p for anomalie in anomalies %}")
    _para(doc, "{{ anomalie }}", style="List Bullet", after=0)
    _tag(doc, "{%p endfor %}")
    _tag(doc, "{%p if not anomalies %}")
    _para(doc, "Aucune pièce manquante ni refusée.")
    _tag(doc, "{%p endif %}")

    _tag(doc, "{%p if hors_delai %}")
    _para(doc, HORS_DELAI, bold=True, before=10, align=WD_ALIGN_PARAGRAPH.JUSTIFY)
    _tag(doc, "{%p endif %}")

    _para(doc, "Fait à Dijon, le {{ emis_le }}", align=WD_ALIGN_PARAGRAPH.RIGHT, before=18, after=2)
    _para(doc, SIGNATURE, align=WD_ALIGN_PARAGRAPH.RIGHT, italic=True)

    out.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(out))
    return out


def _setup_document(doc: DocumentType, *, titre: str) -> None:
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = Cm(2)
    section.top_margin, section.bottom_margin = Cm(2.2), Cm(2)
    normal = doc.styles["Normal"]
    normal.font.name = "Arial"
    normal.font.size = Pt(10)
    normal.paragraph_format.space_after = Pt(6)
    _set_default_language(doc, "fr-FR")
    props = doc.core_properties
    props.title, props.author, props.language = titre, "PLIE du bassin dijonnais", "fr-FR"
    props.comments = "Modèle généré par templates/build_templates.py"


def _set_default_language(doc: DocumentType, lang: str) -> None:
    """Sets w:lang on the document defaults, so spelling and hyphenation are French."""
    r_pr = doc.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    for old in r_pr.findall(qn("w:lang")):
        r_pr.remove(old)
    lang_el = OxmlElement("w:lang")
    for attr in ("w:val", "w:eastAsia", "w:bidi"):
        lang_el.set(qn(attr), lang)
    r_pr.append(lang_el)


def _header_footer(doc: DocumentType, *, pied: str) -> None:
    section = doc.sections[0]
    entete = section.header.paragraphs[0]
    run = entete.add_run(EMETTEUR)
    run.bold, run.font.size = True, Pt(11)
    adresse = section.header.add_paragraph()
    run = adresse.add_run(ADRESSE_EMETTEUR)
    run.font.size, run.font.color.rgb = Pt(9), RGBColor(0x44, 0x44, 0x44)
    _bottom_border(adresse)
    pied_p = section.footer.paragraphs[0]
    pied_p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = pied_p.add_run(pied)
    run.font.size, run.font.color.rgb = Pt(8), RGBColor(0x66, 0x66, 0x66)


def _bottom_border(p: Paragraph) -> None:
    p_pr = p._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for attr, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "4"), ("w:color", "1F3864")):
        bottom.set(qn(attr), value)
    borders.append(bottom)
    p_pr.append(borders)


def _para(doc: DocumentType, text: str, *, bold: bool = False, italic: bool = False,
          size: float | None = None, align: int | None = None, style: str | None = None,
          before: float | None = None, after: float | None = None) -> Paragraph:
    p = doc.add_paragraph(style=style)
    run = p.add_run(text)
    run.bold, run.italic = bold or None, italic or None
    if size:
        run.font.size = Pt(size)
    if align is not None:
        p.alignment = align
    if before is not None:
        p.paragraph_format.space_before = Pt(before)
    if after is not None:
        p.paragraph_format.space_after = Pt(after)
    return p


def _tag(doc: DocumentType, tag: str) -> Paragraph:
    """A docxtpl paragraph tag alone in its paragraph (removed at render time)."""
    return _para(doc, tag)


def _titre_section(doc: DocumentType, text: str) -> Paragraph:
    p = _para(doc, text, bold=True, size=11, before=12, after=4)
    p.runs[0].font.color.rgb = RGBColor(0x1F, 0x38, 0x64)
    p.paragraph_format.keep_with_next = True
    return p


def _table_pieces(doc: DocumentType) -> None:
    table = doc.add_table(rows=1, cols=len(COLONNES_PIECES))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for column, (_, largeur, _) in zip(table.columns, COLONNES_PIECES):
        column.width = largeur  # w:gridCol, which LibreOffice follows
    for cell, (titre, largeur, _) in zip(table.rows[0].cells, COLONNES_PIECES):
        _cell_text(cell, titre, largeur, bold=True)
        _shade(cell, "D9E2F3")
    _repeat_header(table.rows[0])
    debut = table.add_row()
    _cell_text(debut.cells[0], "{%tr for p in pieces %}", COLONNES_PIECES[0][1])
    ligne = table.add_row()
    for cell, (_, largeur, champ) in zip(ligne.cells, COLONNES_PIECES):
        monospace = champ == "{{ p.sha256 }}"
        _cell_text(cell, champ, largeur, size=7 if monospace else 9,
                   font="Courier New" if monospace else None)
    fin = table.add_row()
    _cell_text(fin.cells[0], "{%tr endfor %}", COLONNES_PIECES[0][1])


def _cell_text(cell: _Cell, text: str, width: Cm, *, bold: bool = False,
               size: float = 9, font: str | None = None) -> None:
    cell.width = width
    run = cell.paragraphs[0].add_run(text)
    run.bold = bold or None
    run.font.size = Pt(size)
    if font:
        run.font.name = font
    cell.paragraphs[0].paragraph_format.space_after = Pt(0)


def _shade(cell: _Cell, fill: str) -> None:
    shd = OxmlElement("w:shd")
    for attr, value in (("w:val", "clear"), ("w:color", "auto"), ("w:fill", fill)):
        shd.set(qn(attr), value)
    cell._tc.get_or_add_tcPr().append(shd)


def _repeat_header(row: _Row) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    tr_pr.append(header)


# --- note d'instruction --------------------------------------------------------

COLONNES_REFERENTS = (
    ("Référent", Cm(5.4), "{{ r.nom }}", "Total ({{ nb_referents }})"),
    ("ETP", Cm(1.6), "{{ r.etp }}", "{{ etp_total }}"),
    ("Salaire chargé", Cm(3.6), "{{ r.salaire }}", "{{ total_salaires_referents }}"),
    ("Plafond au prorata", Cm(3.6), "{{ r.plafond }}", "{{ total_plafonds_referents }}"),
    ("Conforme", Cm(2.8), "{{ r.conforme }}", "{{ referents_conformes }}"),
)
LARGEURS_BUDGET = (Cm(5.0), Cm(3.5), Cm(5.0), Cm(3.5))
LIGNES_BUDGET = (
    ("Dépenses", "Montant", "Ressources", "Montant"),
    ("Salaires chargés", "{{ budget_salaires }}", "FSE", "{{ ressources_fse }}"),
    ("Frais de déplacement", "{{ budget_deplacements }}", "PLIE", "{{ ressources_plie }}"),
    ("Autres dépenses", "{{ budget_autres }}", "Autres ressources", "{{ ressources_autres }}"),
    ("Total des dépenses", "{{ total_depenses }}", "Total des ressources", "{{ total_ressources }}"),
)


def build_note_instruction(out: Path) -> Path:
    """Writes the note d'instruction template (A4, French) to ``out``."""
    doc = Document()
    _setup_document(doc, titre="Note d'instruction")
    _header_footer(doc, pied="Note d'instruction — dossier n° {{ dossier_numero }} — version {{ version }}"
                             " — appel à projets {{ appel_annee }}")

    _para(doc, "Note d'instruction — dossier n° {{ dossier_numero }}", bold=True, size=16,
          align=WD_ALIGN_PARAGRAPH.CENTER, after=2)
    _para(doc, f"Appel à projets {{{{ appel_annee }}}} — «{NBSP}{{{{ appel_titre }}}}{NBSP}»",
          size=11, align=WD_ALIGN_PARAGRAPH.CENTER, after=2)
    _para(doc, "Version {{ version }} — instruite le {{ instruit_le }}", italic=True,
          align=WD_ALIGN_PARAGRAPH.CENTER, after=14)

    _titre_section(doc, "La structure")
    _para(doc, "Structure : {{ porteur_nom }}", bold=True, after=0)
    _para(doc, "SIRET : {{ porteur_siret }}", after=0)
    _para(doc, "Adresse : {{ porteur_adresse }}", after=0)
    _para(doc, "Contact : {{ contact }}", after=0)
    _para(doc, "Dossier reçu le {{ recu_le }} ; canaux reçus : {{ canaux }}.")
    _tag(doc, "{%p if admission_hors_delai %}")
    _para(doc, "Dossier reçu hors délai, admis à l'instruction par le PLIE : {{ admission_hors_delai }}",
          bold=True, align=WD_ALIGN_PARAGRAPH.JUSTIFY)
    _tag(doc, "{%p endif %}")

    _titre_section(doc, "Référents de parcours proposés")
    _table_referents(doc)
    _tag(doc, "{%p if not referents %}")
    _para(doc, "Aucun référent n'est proposé dans le dossier.")
    _tag(doc, "{%p endif %}")
    _para(doc, "Plafond du coût salarial chargé : {{ plafond_etp }} par ETP, au prorata du temps de travail.",
          size=9, italic=True, before=4)

    _titre_section(doc, "Budget prévisionnel")
    _table_budget(doc)
    _para(doc, "Équilibre du budget : {{ equilibre }}.", bold=True, before=6, after=0)
    _para(doc, "Coût total par ETP : {{ cout_par_etp }} ; salaire chargé moyen par ETP : "
               "{{ salaire_par_etp }} (plafond : {{ plafond_etp }}).")

    _titre_section(doc, "Rappel des objectifs de l'appel à projets")
    _tag(doc, "{%p for o in objectifs %}")
    _para(doc, "{{ o }}", style="List Bullet", after=0)
    _tag(doc, "{%p endfor %}")

    _titre_section(doc, "Constats de l'instruction")
    _tag(doc, "{%p for g in constats_groupes %}")
    _para(doc, "{{ g.titre }}", bold=True, before=4, after=2)
    _tag(doc, "{%p for t in g.textes %}")
    _para(doc, "{{ t }}", style="List Bullet", after=0)
    _tag(doc, "{%p endfor %}")
    _tag(doc, "{%p endfor %}")
    _tag(doc, "{%p if not constats %}")
    _para(doc, "Aucun constat.")
    _tag(doc, "{%p endif %}")

    _titre_section(doc, "Avis")
    _avec_suivant(_para(doc, "Avis {{ avis }}", bold=True, size=12, after=4))
    _tag(doc, "{%p for m in avis_motifs %}")
    _avec_suivant(_para(doc, "{{ m }}", style="List Bullet", after=0))
    _tag(doc, "{%p endfor %}")

    _tag(doc, "{%p if version_anterieure %}")
    _titre_section(doc, "Historique")
    _tag(doc, "{%p for h in historique %}")
    _avec_suivant(_para(doc, "{{ h }}", after=0))
    _tag(doc, "{%p endfor %}")
    _tag(doc, "{%p endif %}")

    _avec_suivant(_para(doc, "Instruit à Dijon, le {{ instruit_le }}", align=WD_ALIGN_PARAGRAPH.RIGHT,
                        before=18, after=2))
    _para(doc, "La structure d'animation du PLIE du bassin dijonnais", align=WD_ALIGN_PARAGRAPH.RIGHT,
          italic=True)

    out.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(out))
    return out


def _avec_suivant(p: Paragraph) -> Paragraph:
    """Keeps ``p`` on the page of the next paragraph (the signature never stands alone)."""
    p.paragraph_format.keep_with_next = True
    return p


def _table_referents(doc: DocumentType) -> None:
    table = _grille(doc, [largeur for _, largeur, _, _ in COLONNES_REFERENTS])
    for cell, (titre, largeur, _, _) in zip(table.rows[0].cells, COLONNES_REFERENTS):
        _cell_text(cell, titre, largeur, bold=True)
        _shade(cell, "D9E2F3")
    _repeat_header(table.rows[0])
    debut = table.add_row()
    _cell_text(debut.cells[0], "{%tr for r in referents %}", COLONNES_REFERENTS[0][1])
    ligne = table.add_row()
    for cell, (_, largeur, champ, _) in zip(ligne.cells, COLONNES_REFERENTS):
        _cell_text(cell, champ, largeur)
    fin = table.add_row()
    _cell_text(fin.cells[0], "{%tr endfor %}", COLONNES_REFERENTS[0][1])
    total = table.add_row()
    for cell, (_, largeur, _, champ) in zip(total.cells, COLONNES_REFERENTS):
        _cell_text(cell, champ, largeur, bold=True)
        _shade(cell, "F2F2F2")


def _table_budget(doc: DocumentType) -> None:
    table = _grille(doc, list(LARGEURS_BUDGET))
    for numero, textes in enumerate(LIGNES_BUDGET):
        row = table.rows[0] if numero == 0 else table.add_row()
        entete_ou_total = numero in (0, len(LIGNES_BUDGET) - 1)
        for cell, texte, largeur in zip(row.cells, textes, LARGEURS_BUDGET):
            _cell_text(cell, texte, largeur, bold=entete_ou_total)
            if entete_ou_total:
                _shade(cell, "D9E2F3" if numero == 0 else "F2F2F2")


def _grille(doc: DocumentType, largeurs: list[Cm]) -> Table:
    """A one-row bordered table with fixed column widths (w:gridCol, which LibreOffice follows)."""
    table = doc.add_table(rows=1, cols=len(largeurs))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for column, largeur in zip(table.columns, largeurs):
        column.width = largeur
    return table


# --- lettre de notification de décision ------------------------------------------

RETRAIT_DESTINATAIRE = Cm(9)
RETRAIT_CITATION = Cm(1)
COMITE_A_EXAMINE = (
    "Le comité de pilotage du PLIE du bassin dijonnais, réuni le {{ comite_le }}, a examiné la "
    "réponse de votre structure (dossier n° {{ dossier_numero }}) à l'appel à projets "
    f"«{NBSP}{{{{ appel_titre }}}}{NBSP}»."
)
OBLIGATIONS_SUIVI = (
    "fournir une situation budgétaire à mi-parcours et à la fin de l'action, avec les justificatifs "
    "de dépenses et de ressources ;",
    "fournir un bilan quantitatif et qualitatif à mi-parcours et à la fin de l'action, en suivant "
    "le plan du dossier ;",
    "faire émarger obligatoirement les participants sur une fiche de présence.",
)


def build_lettre_decision(out: Path) -> Path:
    """Writes the decision notification letter template (A4, French) to ``out``."""
    doc = Document()
    _setup_document(doc, titre="Notification de décision")
    _header_footer(doc, pied="Courrier n° {{ numero_courrier }} — dossier n° {{ dossier_numero }}")
    justifie = WD_ALIGN_PARAGRAPH.JUSTIFY

    _para(doc, "{{ lieu_date }}", align=WD_ALIGN_PARAGRAPH.RIGHT, after=14)
    _retrait(_para(doc, "{{ porteur_nom }}", bold=True, after=0), RETRAIT_DESTINATAIRE)
    _tag(doc, "{%p if contact_nom %}")
    _retrait(_para(doc, "À l'attention de {{ contact_nom }}", after=0), RETRAIT_DESTINATAIRE)
    _tag(doc, "{%p endif %}")
    _tag(doc, "{%p for a in adresse_lignes %}")
    _retrait(_para(doc, "{{ a }}", after=0), RETRAIT_DESTINATAIRE)
    _tag(doc, "{%p endfor %}")

    _para(doc, "Réf. : courrier n° {{ numero_courrier }}", size=9, before=24, after=2)
    _para(doc, f"Objet : Appel à projets {{{{ appel_annee }}}} «{NBSP}{{{{ appel_titre }}}}{NBSP}» — "
               "décision du comité de pilotage du {{ comite_le }}", bold=True, after=18)
    _para(doc, "Madame, Monsieur,", after=10)
    _para(doc, COMITE_A_EXAMINE, align=justifie)

    _tag(doc, '{%p if decision == "retenu" %}')
    _para(doc, "J'ai le plaisir de vous informer que le comité a retenu votre dossier, pour "
               "{{ etp_retenus }} de référent de parcours PLIE.", bold=True, align=justifie)
    _para(doc, "Une convention d'une durée d'un an, à compter du {{ debut_convention }}, vous sera "
               "adressée prochainement pour signature. Elle détaillera les engagements de votre "
               "structure et les modalités du travail des référents de parcours.", align=justifie)
    _para(doc, "Cette sélection vous conduit à déposer un dossier de demande FSE auprès du service "
               "gestionnaire du FSE.", align=justifie)
    _para(doc, "Pour le suivi de l'action, votre structure devra :", after=2)
    for obligation in OBLIGATIONS_SUIVI:
        _para(doc, obligation, style="List Bullet", after=0)
    _tag(doc, "{%p endif %}")

    _tag(doc, '{%p if decision == "non retenu" %}')
    _para(doc, "J'ai le regret de vous informer que le comité n'a pas retenu votre dossier, pour le "
               "motif suivant :", align=justifie, after=2)
    _tag(doc, "{%p for m in motif_lignes %}")
    _retrait(_para(doc, "{{ m }}", italic=True, after=0), RETRAIT_CITATION)
    _tag(doc, "{%p endfor %}")
    _para(doc, "Je vous remercie de l'intérêt que vous avez porté à cet appel à projets.",
          align=justifie, before=8)
    _tag(doc, "{%p endif %}")

    _tag(doc, '{%p if decision == "ajourné" %}')
    _para(doc, "Le comité a ajourné sa décision : avant de se prononcer, il vous pose les questions "
               "complémentaires suivantes :", bold=True, align=justifie, after=2)
    _tag(doc, "{%p for q in questions_lignes %}")
    _retrait(_para(doc, "{{ q }}", after=0), RETRAIT_CITATION)
    _tag(doc, "{%p endfor %}")
    _para(doc, "Merci de nous adresser vos réponses par courriel, à l'adresse à laquelle vous avez "
               "envoyé votre dossier, au plus tard le {{ reponse_avant }}. Elles seront examinées "
               "lors du prochain comité de pilotage, qui statuera sur votre dossier.",
          align=justifie, before=8)
    _tag(doc, "{%p endif %}")

    _para(doc, "Je reste à votre disposition pour toute information complémentaire.", before=8)
    _para(doc, "Je vous prie d'agréer, Madame, Monsieur, l'expression de mes salutations distinguées.",
          align=justifie)
    _para(doc, "La coordinatrice du PLIE", align=WD_ALIGN_PARAGRAPH.RIGHT, before=24, after=0)
    _para(doc, "PLIE du bassin dijonnais", align=WD_ALIGN_PARAGRAPH.RIGHT, italic=True)

    out.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(out))
    return out


def _retrait(p: Paragraph, retrait: Cm) -> Paragraph:
    p.paragraph_format.left_indent = retrait
    return p


def main() -> None:
    """Regenerates every .docx template beside this module."""
    print(build_attestation_depot(TEMPLATES_DIR / "attestation_depot.docx"))
    print(build_note_instruction(TEMPLATES_DIR / "note_instruction.docx"))
    print(build_lettre_decision(TEMPLATES_DIR / "lettre_decision.docx"))


if __name__ == "__main__":
    main()
