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
from docx.table import _Cell, _Row
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


def main() -> None:
    """Regenerates every .docx template beside this module."""
    print(build_attestation_depot(TEMPLATES_DIR / "attestation_depot.docx"))


if __name__ == "__main__":
    main()
