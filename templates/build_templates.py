"""Builds the .docx templates with python-docx (``python -m templates.build_templates``).

The generated files are kept in the repository; re-run this after editing it,
naming only the templates you changed (``python -m templates.build_templates
convention avenant``): every save stamps new bytes, even for an unchanged one.
Every jinja tag is written in a single run, so Word never splits it, and the
docxtpl paragraph/row tags (``{%p ...%}``, ``{%tr ...%}``) sit alone in their
paragraph or row, which docxtpl removes when rendering.
"""

from __future__ import annotations

import sys
from pathlib import Path

from docx import Document
from docx.document import Document as DocumentType
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_ROW_HEIGHT_RULE, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt, RGBColor
from docx.table import Table, _Cell, _Row
from docx.text.paragraph import Paragraph
from docx.text.run import Run

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


# --- convention de partenariat et avenant ------------------------------------------

CITATION = f"«{NBSP}{{{{ appel_titre }}}}{NBSP}»"
PARTIE_GIP = (
    "Le Groupement d'Intérêt Public (GIP) Creativ', qui porte le Plan Local pour l'Insertion et "
    "l'Emploi (PLIE) du bassin dijonnais, dont le siège est situé 24 avenue du Lac, 21000 Dijon, "
    f"représenté par sa direction, ci-après dénommé «{NBSP}le GIP Creativ'{NBSP}»,"
)
PARTIE_STRUCTURE = (
    "La structure {{ porteur_nom }}{% if porteur_siret %}, SIRET {{ porteur_siret }}{% endif %}"
    "{% if porteur_adresse %}, dont le siège est situé {{ porteur_adresse }}{% endif %}, "
    f"représentée par {{{{ represente_par }}}}, ci-après dénommée «{NBSP}la structure{NBSP}»,"
)
OBLIGATIONS_CONVENTION = (
    "fournir une situation budgétaire à mi-parcours et à la fin de l'action, avec les justificatifs "
    "de dépenses et de ressources ;",
    "fournir un bilan quantitatif et qualitatif à mi-parcours et à la fin de l'action, en suivant "
    "le plan du dossier ;",
    "faire émarger obligatoirement les participants sur une fiche de présence, signée à chaque "
    "entretien physique ou bilan d'action, et conserver ces fiches ;",
    "faire la publicité du cofinancement par le Fonds social européen (FSE) auprès des participants "
    "et des partenaires, et faire figurer la mention du FSE sur les documents de l'action ;",
    "faire saisir par les référents les données des participants dans le logiciel Up Viesion, "
    "conformément à la charte de saisie du PLIE ;",
    "tenir à disposition les agendas des référents et les pièces justificatives en cas de contrôle "
    "de service fait.",
)
RESILIATION = (
    "En cas de manquement de l'une des parties à ses engagements, l'autre partie peut résilier la "
    "présente convention par lettre recommandée avec accusé de réception, à l'expiration d'un délai "
    "d'un mois suivant une mise en demeure restée sans effet. La structure remet alors une situation "
    "budgétaire et un bilan arrêtés à la date de la résiliation ; les sommes perçues et non "
    "justifiées sont reversées."
)
DERNIER_RENOUVELLEMENT = (
    "Ce renouvellement est le dernier possible : à son terme, la poursuite de l'action nécessitera "
    "une réponse à un nouvel appel à projets."
)
COLONNES_REFERENTS_CONVENTION = (
    ("Référent de parcours", Cm(8.5), "{{ r.nom }}", "Total ({{ nb_referents }})"),
    ("ETP", Cm(2.5), "{{ r.etp }}", "{{ etp_total }}"),
    ("Salaire chargé annuel", Cm(5.0), "{{ r.salaire }}", "{{ total_salaires_referents }}"),
)
COLONNES_ECHEANCES = (
    ("Document à remettre", Cm(11.5), "{{ e.libelle }}", None),
    ("Au plus tard le", Cm(4.5), "{{ e.due_le }}", None),
)
LARGEURS_SIGNATURES = (Cm(8.5), Cm(8.5))


def build_convention(out: Path) -> Path:
    """Writes the convention de partenariat template (A4, French) to ``out``."""
    doc = Document()
    _setup_document(doc, titre="Convention de partenariat")
    _header_footer(doc, pied="Convention n° {{ numero }} — appel à projets {{ appel_annee }} — page ")
    _pagination(doc)
    justifie = WD_ALIGN_PARAGRAPH.JUSTIFY

    _para(doc, "Convention de partenariat n° {{ numero }}", bold=True, size=16,
          align=WD_ALIGN_PARAGRAPH.CENTER, after=2)
    _para(doc, f"Portage de référents de parcours PLIE — appel à projets {{{{ appel_annee }}}} {CITATION}",
          size=11, align=WD_ALIGN_PARAGRAPH.CENTER, after=2)
    _para(doc, "Dossier n° {{ dossier_numero }}", italic=True, align=WD_ALIGN_PARAGRAPH.CENTER, after=14)

    _parties(doc)
    _para(doc, f"Vu le cahier des charges de l'appel à projets {{{{ appel_annee }}}} {CITATION} "
               "du PLIE du bassin dijonnais ;", align=justifie, after=0)
    _para(doc, "Vu la réponse de la structure à cet appel à projets (dossier n° {{ dossier_numero }}) "
               "et sa sélection par le comité de pilotage du PLIE ;", align=justifie)
    _para(doc, "Il est convenu ce qui suit :", bold=True, before=6)

    _titre_section(doc, "Article 1 — Objet")
    _para(doc, "La présente convention a pour objet le portage, par la structure, de référents de "
               f"parcours du PLIE du bassin dijonnais, pour {{{{ etp_total }}}}{NBSP}ETP, en réponse à "
               f"l'appel à projets {CITATION}. Elle détaille les engagements de la structure porteuse et "
               "les modalités du travail des référents de parcours.", align=justifie)
    _para(doc, "Les référents assurent l'accompagnement renforcé et personnalisé vers l'emploi des "
               "participants du PLIE, selon les missions décrites à l'annexe 3 du cahier des charges, "
               "sous l'autorité fonctionnelle de la coordinatrice du PLIE.", align=justifie)
    _para(doc, "L'action est cofinancée par le Fonds social européen (FSE) : la structure dépose à ce "
               "titre un dossier de demande FSE auprès du service gestionnaire du FSE.", align=justifie)

    _titre_section(doc, "Article 2 — Durée")
    _para(doc, "La présente convention est conclue pour une durée d'un an, du {{ debut }} au {{ fin }}.",
          align=justifie)
    _tag(doc, "{%p if renouvelable %}")
    _para(doc, "Elle est prolongeable par voie d'avenant après validation par les instances du PLIE, "
               "dans la limite {{ limite_renouvellements }}. Au-delà, la poursuite de l'action "
               "nécessite une réponse à un nouvel appel à projets.", align=justifie)
    _tag(doc, "{%p else %}")
    _para(doc, "Elle n'est pas renouvelable.")
    _tag(doc, "{%p endif %}")

    _titre_section(doc, "Article 3 — Référents de parcours")
    _para(doc, f"La structure porte les référents de parcours suivants, pour un total de "
               f"{{{{ etp_total }}}}{NBSP}ETP :", after=4)
    _table_repetee(doc, COLONNES_REFERENTS_CONVENTION, "{%tr for r in referents %}")
    _para(doc, "Le salaire chargé indiqué est annuel, pour le temps de travail mentionné. Tout "
               "changement de référent ou de temps de travail est soumis à l'accord préalable du PLIE "
               "et fait l'objet d'un avenant.", align=justifie, before=6)

    _titre_section(doc, "Article 4 — Engagements financiers")
    _para(doc, "Le budget prévisionnel de l'action, pour la durée de la convention, s'établit comme suit :",
          after=4)
    _table_budget(doc)
    _para(doc, "La structure affecte ces moyens à l'action et en justifie l'emploi. Le PLIE exerce un "
               "suivi d'action relatif aux financements qui lui sont propres ; les dépenses déclarées "
               "au FSE peuvent faire l'objet d'un contrôle de service fait.", align=justifie, before=6)

    _titre_section(doc, "Article 5 — Objectifs")
    _para(doc, f"Au prorata des {{{{ etp_total }}}}{NBSP}ETP conventionnés, la structure s'engage, par ses "
               "référents, sur les objectifs annuels suivants :", align=justifie, after=2)
    _liste(doc, "o", "objectifs_lignes")

    _titre_section(doc, "Article 6 — Obligations de suivi")
    _para(doc, "La structure s'engage à :", after=2)
    for obligation in OBLIGATIONS_CONVENTION:
        _para(doc, obligation, style="List Bullet", after=0, align=justifie)
    _para(doc, "Les documents de suivi sont à remettre à la structure d'animation du PLIE aux "
               "échéances suivantes :", before=6, after=4)
    _echeances(doc)

    _titre_section(doc, "Article 7 — Résiliation")
    _para(doc, RESILIATION, align=justifie)

    _signatures(doc, "Fait à Dijon, le {{ emise_le }}, en deux exemplaires originaux.")
    return _save(doc, out)


def build_avenant(out: Path) -> Path:
    """Writes the avenant template (prolongation or modification; A4, French) to ``out``."""
    doc = Document()
    _setup_document(doc, titre="Avenant à une convention de partenariat")
    _header_footer(doc, pied="Avenant n° {{ ordre }} ({{ numero }}) à la convention n° {{ convention_numero }}"
                             " — page ")
    _pagination(doc)
    justifie = WD_ALIGN_PARAGRAPH.JUSTIFY

    _para(doc, "Avenant n° {{ ordre }} à la convention n° {{ convention_numero }}", bold=True, size=16,
          align=WD_ALIGN_PARAGRAPH.CENTER, after=2)
    _para(doc, "{% if prolongation %}Prolongation — renouvellement n° {{ renouvellement }} sur "
               "{{ renouvellements_max }}{% else %}Modification de la convention{% endif %}",
          size=11, align=WD_ALIGN_PARAGRAPH.CENTER, after=2)
    _para(doc, "Référence : {{ numero }} — appel à projets {{ appel_annee }}", italic=True,
          align=WD_ALIGN_PARAGRAPH.CENTER, after=14)

    _parties(doc)
    _para(doc, "Vu la convention n° {{ convention_numero }} conclue entre les parties à compter du "
               "{{ convention_debut }} ;", align=justifie, after=0)
    _tag(doc, "{%p if prolongation %}")
    _para(doc, "Vu l'article 2 de la convention, qui permet sa prolongation par voie d'avenant après "
               "validation par les instances du PLIE, dans la limite {{ limite_renouvellements }} ;",
          align=justifie, after=0)
    _tag(doc, "{%p endif %}")
    _para(doc, "Vu la validation du présent avenant par les instances du PLIE le {{ valide_le }}"
               "{% if instance %} ({{ instance }}){% endif %} ;", align=justifie)
    _para(doc, "Il est convenu ce qui suit :", bold=True, before=6)

    _titre_section(doc, "Article 1 — Objet")
    _tag(doc, "{%p if prolongation %}")
    _para(doc, "La convention est renouvelée pour la période du {{ periode_debut }} au {{ periode_fin }} "
               "(renouvellement n° {{ renouvellement }} sur {{ renouvellements_max }}).", align=justifie)
    _tag(doc, "{%p if dernier_renouvellement %}")
    _para(doc, DERNIER_RENOUVELLEMENT, bold=True, align=justifie)
    _tag(doc, "{%p endif %}")
    _tag(doc, "{%p if changements %}")
    _para(doc, "Le présent avenant apporte les changements suivants :", after=2)
    _liste(doc, "c", "changements")
    _tag(doc, "{%p endif %}")
    _tag(doc, "{%p else %}")
    _para(doc, "La convention est modifiée comme suit, sans changement de sa période, qui reste celle "
               "du {{ periode_debut }} au {{ periode_fin }} :", align=justifie, after=2)
    _liste(doc, "c", "changements")
    _tag(doc, "{%p endif %}")

    _titre_section(doc, "Article 2 — Référents, engagements financiers et objectifs")
    _para(doc, "{% if prolongation %}Pour la période du {{ periode_debut }} au {{ periode_fin }}, les "
               "{% else %}À compter de la signature du présent avenant, les {% endif %}articles 3, 4 et 5 "
               "de la convention sont remplacés par ce qui suit.", align=justifie)
    _para(doc, f"Référents de parcours ({{{{ etp_total }}}}{NBSP}ETP)", bold=True, before=4, after=4)
    _table_repetee(doc, COLONNES_REFERENTS_CONVENTION, "{%tr for r in referents %}")
    _para(doc, "Budget prévisionnel", bold=True, before=8, after=4)
    _table_budget(doc)
    _para(doc, "Objectifs annuels", bold=True, before=8, after=2)
    _para(doc, f"Au prorata des {{{{ etp_total }}}}{NBSP}ETP conventionnés, la structure s'engage, par ses "
               "référents, sur les objectifs annuels suivants :", align=justifie, after=2)
    _liste(doc, "o", "objectifs_lignes")

    _titre_section(doc, "Article 3 — Échéances de suivi")
    _para(doc, "Pour la période du {{ periode_debut }} au {{ periode_fin }}, la structure remet à la "
               "structure d'animation du PLIE les documents de suivi prévus à l'article 6 de la "
               "convention aux échéances suivantes :", align=justifie, after=4)
    _echeances(doc)
    _para(doc, "Les autres dispositions de la convention demeurent inchangées.", before=10)

    _signatures(doc, "Fait à Dijon, le {{ emis_le }}, en deux exemplaires originaux.")
    return _save(doc, out)


def _parties(doc: DocumentType) -> None:
    """« Entre … d'une part, et … d'autre part » — the GIP and the structure."""
    justifie = WD_ALIGN_PARAGRAPH.JUSTIFY
    _para(doc, "Entre", bold=True, after=4)
    _para(doc, PARTIE_GIP, align=justifie, after=2)
    _para(doc, "d'une part,", italic=True, align=WD_ALIGN_PARAGRAPH.RIGHT, after=4)
    _para(doc, "Et", bold=True, after=4)
    _para(doc, PARTIE_STRUCTURE, align=justifie, after=2)
    _para(doc, "d'autre part,", italic=True, align=WD_ALIGN_PARAGRAPH.RIGHT, after=10)


def _liste(doc: DocumentType, variable: str, liste: str) -> None:
    """One bullet per item of ``liste`` (the loop tags vanish at render time)."""
    _tag(doc, f"{{%p for {variable} in {liste} %}}")
    _para(doc, f"{{{{ {variable} }}}}", style="List Bullet", after=0, align=WD_ALIGN_PARAGRAPH.JUSTIFY)
    _tag(doc, "{%p endfor %}")


def _echeances(doc: DocumentType) -> None:
    _table_repetee(doc, COLONNES_ECHEANCES, "{%tr for e in echeances %}")
    _tag(doc, "{%p if not echeances %}")
    _para(doc, "Les échéances seront communiquées par la structure d'animation du PLIE.", italic=True)
    _tag(doc, "{%p endif %}")


def _table_repetee(doc: DocumentType, colonnes: tuple[tuple[str, Cm, str, str | None], ...],
                   boucle: str) -> Table:
    """A header row, one row per item (``boucle`` is the ``{%tr for %}`` tag), and a total row when
    every column names one."""
    table = _grille(doc, [largeur for _, largeur, _, _ in colonnes])
    for cell, (titre, largeur, _, _) in zip(table.rows[0].cells, colonnes):
        _cell_text(cell, titre, largeur, bold=True)
        _shade(cell, "D9E2F3")
    _repeat_header(table.rows[0])
    _cell_text(table.add_row().cells[0], boucle, colonnes[0][1])
    ligne = table.add_row()
    for cell, (_, largeur, champ, _) in zip(ligne.cells, colonnes):
        _cell_text(cell, champ, largeur)
    _cell_text(table.add_row().cells[0], "{%tr endfor %}", colonnes[0][1])
    if all(total for _, _, _, total in colonnes):
        total_row = table.add_row()
        for cell, (_, largeur, _, total) in zip(total_row.cells, colonnes):
            _cell_text(cell, total or "", largeur, bold=True)
            _shade(cell, "F2F2F2")
    return table


def _signatures(doc: DocumentType, fait_a: str) -> None:
    """« Fait à Dijon, le … » and two borderless columns: the GIP, the structure."""
    _avec_suivant(_para(doc, fait_a, before=18, after=10))
    table = doc.add_table(rows=3, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for column, largeur in zip(table.columns, LARGEURS_SIGNATURES):
        column.width = largeur
    lignes = (
        (("Pour le GIP Creativ'", True), ("Pour la structure {{ porteur_nom }}", True)),
        (("La direction du GIP Creativ' — PLIE du bassin dijonnais", False),
         ("{% if representant %}{{ representant }}{% else %}Son représentant légal{% endif %}", False)),
        (("(signature et cachet)", False), ("(signature et cachet)", False)),
    )
    for row, cellules in zip(table.rows, lignes):
        _garder_entiere(row)
        for cell, (texte, gras), largeur in zip(row.cells, cellules, LARGEURS_SIGNATURES):
            _cell_text(cell, texte, largeur, bold=gras, size=10)
            cell.paragraphs[0].paragraph_format.keep_with_next = True
    for cell in table.rows[2].cells:
        cell.paragraphs[0].runs[0].italic = True
        cell.paragraphs[0].runs[0].font.size = Pt(8)
        cell.paragraphs[0].paragraph_format.space_before = Pt(4)
        cell.paragraphs[0].paragraph_format.space_after = Pt(60)  # room to sign


def _garder_entiere(row: _Row) -> None:
    """The row never splits across two pages."""
    cant_split = OxmlElement("w:cantSplit")
    row._tr.get_or_add_trPr().append(cant_split)


def _pagination(doc: DocumentType) -> None:
    """Appends « <PAGE> sur <NUMPAGES> » to the footer's first paragraph (fields Word/LibreOffice update)."""
    pied = doc.sections[0].footer.paragraphs[0]
    _champ(pied, "PAGE")
    _run_pied(pied, " sur ")
    _champ(pied, "NUMPAGES")


def _champ(p: Paragraph, instruction: str) -> None:
    """A field (PAGE, NUMPAGES) as fldChar runs, with ``1`` as its cached value."""
    _fld_char(_run_pied(p, ""), "begin")
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {instruction} "
    _run_pied(p, "")._r.append(instr)
    _fld_char(_run_pied(p, ""), "separate")
    _run_pied(p, "1")
    _fld_char(_run_pied(p, ""), "end")


def _fld_char(run: Run, kind: str) -> None:
    fld = OxmlElement("w:fldChar")
    fld.set(qn("w:fldCharType"), kind)
    run._r.append(fld)


def _run_pied(p: Paragraph, texte: str) -> Run:
    run = p.add_run(texte)
    run.font.size, run.font.color.rgb = Pt(8), RGBColor(0x66, 0x66, 0x66)
    return run


def _save(doc: DocumentType, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(out))
    return out


# --- suivi : accusé de réception de bilan, fiche de présence, synthèse ------------------

COLONNES_PIECES_BILAN = (
    ("Pièce", Cm(4.7), "{{ p.nom }}", None),
    ("Taille", Cm(1.9), "{{ p.taille }}", None),
    ("Empreinte SHA-256", Cm(10.4), "{{ p.sha256 }}", None),
)
MENTION_FSE = (
    "Cette action est cofinancée par le Fonds social européen dans le cadre du programme "
    f"opérationnel national «{NBSP}Emploi et Inclusion{NBSP}»"
)
COLONNES_FICHE = (
    ("Date", Cm(2.6)),
    ("Nom", Cm(4.2)),
    ("Prénom", Cm(3.8)),
    ("Objet de l'entretien", Cm(6.6)),
    ("Signature du participant", Cm(4.3)),
    ("Signature du référent", Cm(4.3)),
)
HAUTEUR_LIGNE_FICHE = Cm(1.1)
INTRO_SYNTHESE = (
    "Cette synthèse consolide le suivi de {{ nb_conventions }} de l'appel à projets {{ appel_annee }}, "
    "arrêté au {{ arrete_au }}. Pour chaque convention, puis pour l'ensemble du PLIE, elle compare "
    "les indicateurs réalisés aux objectifs au prorata de la période écoulée et des ETP "
    "conventionnés, et le budget consommé au budget prévu."
)
LEGENDE_SYNTHESE = (
    "Appréciation : satisfaisant (vert), à surveiller (orange), insuffisant (rouge) ; "
    "non évaluable (—) quand l'objectif ou le réalisé manque."
)


def build_accuse_bilan(out: Path) -> Path:
    """Writes the accusé de réception de bilan template (A4, French) to ``out``."""
    doc = Document()
    _setup_document(doc, titre="Accusé de réception de bilan")
    _header_footer(doc, pied="Accusé de réception n° {{ numero }} — convention n° {{ convention_numero }}")
    justifie = WD_ALIGN_PARAGRAPH.JUSTIFY

    _para(doc, "Accusé de réception n° {{ numero }} — {{ bilan }}", bold=True, size=16,
          align=WD_ALIGN_PARAGRAPH.CENTER, after=2)
    _para(doc, "Convention n° {{ convention_numero }} — période du {{ periode_debut }} au {{ periode_fin }}",
          size=11, align=WD_ALIGN_PARAGRAPH.CENTER, after=14)
    _para(doc, "Le PLIE du bassin dijonnais accuse réception, le {{ recu_le }}, du {{ bilan }} de la "
               "structure {{ porteur_nom }}, au titre de la convention n° {{ convention_numero }}, pour la "
               "période du {{ periode_debut }} au {{ periode_fin }}.", align=justifie)

    _titre_section(doc, "Pièces reçues")
    table = _table_repetee(doc, COLONNES_PIECES_BILAN, "{%tr for p in pieces %}")
    empreinte = table.rows[2].cells[2].paragraphs[0].runs[0]
    empreinte.font.name, empreinte.font.size = "Courier New", Pt(7)
    _tag(doc, "{%p if not pieces %}")
    _para(doc, "Aucun fichier n'a été reçu avec ce bilan.")
    _tag(doc, "{%p endif %}")
    _para(doc, "L'empreinte SHA-256 identifie chaque fichier tel qu'il a été reçu : elle permet "
               "de vérifier que le fichier conservé par le PLIE est identique à celui envoyé.",
          size=8, italic=True, before=4)

    _titre_section(doc, "Examen du bilan")
    _tag(doc, "{%p if accepte %}")
    _para(doc, "Le bilan est complet et cohérent.", bold=True)
    _tag(doc, "{%p else %}")
    _avec_suivant(_para(doc, "Le bilan ne peut pas être accepté en l'état :", bold=True, after=2))
    _liste(doc, "erreur", "erreurs")
    _para(doc, "Merci de renvoyer un bilan corrigé en répondant à ce message.", before=6)
    _tag(doc, "{%p endif %}")

    _avec_suivant(_para(doc, "Fait à Dijon, le {{ emis_le }}", align=WD_ALIGN_PARAGRAPH.RIGHT,
                        before=18, after=2))
    _para(doc, SIGNATURE, align=WD_ALIGN_PARAGRAPH.RIGHT, italic=True)
    return _save(doc, out)


def build_fiche_presence(out: Path) -> Path:
    """Writes the blank fiche de présence template (A4 landscape, French) to ``out``."""
    doc = Document()
    _setup_document(doc, titre="Fiche de présence")
    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Mm(297), Mm(210)
    section.left_margin = section.right_margin = Cm(1.5)
    section.top_margin, section.bottom_margin = Cm(2), Cm(1.6)
    _header_footer(doc, pied="À conserver : pièce justificative pour le contrôle de service fait du FSE.")

    _para(doc, "Fiche de présence — {{ mois }}", bold=True, size=16, align=WD_ALIGN_PARAGRAPH.CENTER, after=2)
    _para(doc, "Plan Local pour l'Insertion et l'Emploi (PLIE) du bassin dijonnais — accompagnement "
               "des participants par leur référent de parcours", size=10,
          align=WD_ALIGN_PARAGRAPH.CENTER, after=2)
    _para(doc, MENTION_FSE, italic=True, size=9, align=WD_ALIGN_PARAGRAPH.CENTER, after=10)
    _para(doc, "Convention n° {{ convention_numero }} — structure : {{ porteur_nom }}", bold=True, after=0)
    _para(doc, "Référent de parcours : {{ referent }}", bold=True, after=4)
    _para(doc, "Chaque participant signe cette fiche à chaque entretien physique, en face à face ou lors "
               "d'un bilan d'action ; le référent contresigne.", size=9, italic=True, after=6)

    table = _grille(doc, [largeur for _, largeur in COLONNES_FICHE])
    for cell, (titre, largeur) in zip(table.rows[0].cells, COLONNES_FICHE):
        _cell_text(cell, titre, largeur, bold=True)
        _shade(cell, "D9E2F3")
    _repeat_header(table.rows[0])
    _cell_text(table.add_row().cells[0], "{%tr for n in lignes %}", COLONNES_FICHE[0][1])
    ligne = table.add_row()
    ligne.height, ligne.height_rule = HAUTEUR_LIGNE_FICHE, WD_ROW_HEIGHT_RULE.AT_LEAST
    _garder_entiere(ligne)
    for cell, (_, largeur) in zip(ligne.cells, COLONNES_FICHE):
        _cell_text(cell, "", largeur)
    _cell_text(table.add_row().cells[0], "{%tr endfor %}", COLONNES_FICHE[0][1])
    return _save(doc, out)


def build_synthese_suivi(out: Path) -> Path:
    """Writes the synthèse du suivi des conventions template (A4, French) to ``out``."""
    doc = Document()
    _setup_document(doc, titre="Suivi des conventions")
    _header_footer(doc, pied="Suivi des conventions — appel à projets {{ appel_annee }} — situation au "
                             "{{ arrete_au }} — page ")
    _pagination(doc)

    _para(doc, "Suivi des conventions — situation au {{ arrete_au }}", bold=True, size=16,
          align=WD_ALIGN_PARAGRAPH.CENTER, after=2)
    _para(doc, "Appel à projets {{ appel_annee }} — synthèse pour le comité de pilotage", size=11,
          align=WD_ALIGN_PARAGRAPH.CENTER, after=2)
    _para(doc, "Établie le {{ emise_le }}", italic=True, align=WD_ALIGN_PARAGRAPH.CENTER, after=14)
    _para(doc, INTRO_SYNTHESE, align=WD_ALIGN_PARAGRAPH.JUSTIFY)
    _para(doc, LEGENDE_SYNTHESE, size=8, italic=True)

    _tag(doc, "{%p for c in conventions %}")
    _bloc_suivi(doc, "c", "Convention n° {{ c.convention_numero }} — {{ c.porteur_nom }}")
    _tag(doc, "{%p endfor %}")
    _tag(doc, "{%p if not conventions %}")
    _para(doc, "Aucune convention n'est en cours de suivi.", before=8)
    _tag(doc, "{%p endif %}")
    _bloc_suivi(doc, "total", "Ensemble du PLIE")

    _titre_section(doc, "Points d'attention")
    _liste(doc, "p", "points_attention")
    _tag(doc, "{%p if not points_attention %}")
    _para(doc, "Aucun point d'attention.")
    _tag(doc, "{%p endif %}")

    _avec_suivant(_para(doc, "Établie à Dijon, le {{ emise_le }}", align=WD_ALIGN_PARAGRAPH.RIGHT,
                        before=18, after=2))
    _para(doc, "La structure d'animation du PLIE du bassin dijonnais", align=WD_ALIGN_PARAGRAPH.RIGHT,
          italic=True)
    return _save(doc, out)


def _bloc_suivi(doc: DocumentType, var: str, titre: str) -> None:
    """One follow-up block: title, period and ETP, indicators (appréciation cell shaded by docxtpl's
    ``cellbg``), budget sentence, comment lines."""
    _titre_section(doc, titre)
    _avec_suivant(_para(doc, f"Période : {{{{ {var}.periode }}}} — effectif conventionné : {{{{ {var}.etp }}}}",
                        after=4))
    colonnes = (
        ("Indicateur", Cm(6.5), "{{ i.libelle }}", None),
        ("Réalisé", Cm(2.8), "{{ i.realise }}", None),
        ("Objectif au prorata", Cm(3.5), "{{ i.objectif }}", None),
        ("Appréciation", Cm(4.2), "{% cellbg i.fond %}{{ i.appreciation }}", None),
    )
    _table_repetee(doc, colonnes, f"{{%tr for i in {var}.indicateurs %}}")
    _para(doc, f"{{{{ {var}.budget }}}}", before=6, after=2)
    _tag(doc, f"{{%p for l in {var}.commentaire_lignes %}}")
    _para(doc, "{{ l }}", italic=True, after=0, align=WD_ALIGN_PARAGRAPH.JUSTIFY)
    _tag(doc, "{%p endfor %}")


COLONNES_JUSTIFICATIFS = (
    ("Bilan", Cm(2.6), "{{ j.bilan }}", None),
    ("Catégorie", Cm(2.4), "{{ j.categorie }}", None),
    ("Libellé", Cm(4.4), "{{ j.libelle }}", None),
    ("Montant", Cm(2.4), "{{ j.montant }}", None),
    ("Fichier", Cm(3.2), "{{ j.fichier }}", None),
    ("Empreinte", Cm(2.0), "{{ j.empreinte }}", None),
)


def build_index_fse(out: Path) -> Path:
    """Writes the first page of the FSE audit pack (A4, French) to ``out``."""
    doc = Document()
    _setup_document(doc, titre="Dossier de contrôle de service fait")
    _header_footer(doc, pied="Dossier FSE — convention n° {{ convention_numero }}")
    _para(doc, "Dossier de contrôle de service fait — convention n° {{ convention_numero }}", bold=True, size=15,
          align=WD_ALIGN_PARAGRAPH.CENTER, after=2)
    _para(doc, "{{ porteur_nom }} — SIRET {{ porteur_siret }}", size=11, align=WD_ALIGN_PARAGRAPH.CENTER, after=12)
    _para(doc, MENTION_FSE, italic=True, size=9, align=WD_ALIGN_PARAGRAPH.CENTER, after=12)
    _titre_section(doc, "Documents rassemblés (un signet par document)")
    _liste(doc, "d", "documents")
    _titre_section(doc, "Justificatifs déclarés dans les bilans")
    _table_repetee(doc, COLONNES_JUSTIFICATIFS, "{%tr for j in justificatifs %}")
    _tag(doc, "{%p if not justificatifs %}")
    _para(doc, "Aucun justificatif déclaré à ce jour.")
    _tag(doc, "{%p endif %}")
    _para(doc, "Total des justificatifs déclarés : {{ total }}", bold=True, before=6)
    _para(doc, "Document établi le {{ emis_le }}.", align=WD_ALIGN_PARAGRAPH.RIGHT, before=18)
    return _save(doc, out)


BUILDERS = {
    "attestation_depot": build_attestation_depot,
    "note_instruction": build_note_instruction,
    "lettre_decision": build_lettre_decision,
    "convention": build_convention,
    "avenant": build_avenant,
    "accuse_bilan": build_accuse_bilan,
    "fiche_presence": build_fiche_presence,
    "synthese_suivi": build_synthese_suivi,
    "index_fse": build_index_fse,
}


def main(argv: list[str] | None = None) -> None:
    """Regenerates the named .docx templates beside this module, or all of them without a name.

    ``python -m templates.build_templates convention avenant`` rebuilds only those
    two; the others keep their bytes (python-docx stamps every save anew).
    """
    noms = list(sys.argv[1:] if argv is None else argv) or list(BUILDERS)
    inconnus = [nom for nom in noms if nom not in BUILDERS]
    if inconnus:
        raise SystemExit(f"modèle inconnu : {', '.join(inconnus)} (connus : {', '.join(BUILDERS)})")
    for nom in noms:
        print(BUILDERS[nom](TEMPLATES_DIR / f"{nom}.docx"))


if __name__ == "__main__":
    main()
