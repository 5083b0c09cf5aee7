"""Checks on an Excel container sent by a porteur, before openpyxl opens it.

The file is hostile until proven otherwise: these checks look only at the
first bytes and at the zip central directory, never decompress a member, and
raise ``FormulaireIllisible`` with a French reason meant for the SA.

Python's ``zipfile`` never yields more bytes than a member's declared size,
so bounding the declared sizes bounds what openpyxl will later decompress.
"""

from __future__ import annotations

import zipfile
from io import BytesIO

from defusedxml import ElementTree

from config.refus import Refus


class FormulaireIllisible(Refus):
    """A form that cannot be read; ``motif`` is the French reason shown to the SA."""

    def __init__(self, motif: str) -> None:
        super().__init__(motif)
        self.motif = motif


TAILLE_DECOMPRESSEE_MAX = 50 * 1024 * 1024
"""Sum of the declared uncompressed sizes of all members, in bytes."""

TAUX_COMPRESSION_MAX = 200
"""Largest uncompressed/compressed ratio accepted for one member…"""

TAUX_COMPRESSION_TAILLE_MIN = 1024 * 1024
"""…once that member exceeds this uncompressed size (small parts compress a lot, harmlessly)."""

MEMBRES_MAX = 2_000
"""Most members a form's archive may hold."""

MAGIC_ZIP = b"PK\x03\x04"
MAGIC_OLE = b"\xd0\xcf\x11\xe0"
EXTENSIONS_MACROS = (".xlsm", ".xlsb", ".xltm", ".xlam")

MOTIF_CORROMPU = "le fichier n'est pas un classeur Excel valide (fichier corrompu ou tronqué)"
MOTIF_MACROS = "classeur avec macros (.xlsm) refusé : enregistrez-le au format .xlsx sans macros"
MOTIF_BOMBE = "fichier refusé : contenu compressé anormalement volumineux (archive piégée ?)"
MOTIF_OLE = (
    "classeur protégé par un mot de passe ou au format Excel 97-2003 (.xls) : "
    "enregistrez-le au format .xlsx, sans mot de passe"
)
MOTIF_LIENS_EXTERNES = (
    "classeur avec des liaisons vers d'autres fichiers ou des données externes refusé : "
    "supprimez les liaisons (Données > Modifier les liens) et enregistrez-le à nouveau"
)
MOTIF_ODS = (
    "classeur au format OpenDocument (.ods) : enregistrez-le au format Excel .xlsx"
)


def check_xlsx_container(data: bytes, filename: str) -> None:
    """Raise ``FormulaireIllisible`` unless ``data`` looks like a plain, sane .xlsx."""
    if data[:4] == MAGIC_OLE:
        raise FormulaireIllisible(MOTIF_OLE)
    if filename.lower().endswith(EXTENSIONS_MACROS):
        raise FormulaireIllisible(MOTIF_MACROS)
    if data[:4] != MAGIC_ZIP:
        raise FormulaireIllisible(MOTIF_CORROMPU)
    try:
        with zipfile.ZipFile(BytesIO(data)) as archive:
            membres = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise FormulaireIllisible(MOTIF_CORROMPU) from None
    check_membres(membres)


def check_membres(membres: list[zipfile.ZipInfo]) -> None:
    """Refuse macros, OpenDocument files, external links and zip bombs, from the central directory alone."""
    if len(membres) > MEMBRES_MAX:
        raise FormulaireIllisible(MOTIF_BOMBE)
    noms = {m.filename.lower() for m in membres}
    if any(n.endswith("vbaproject.bin") for n in noms) or "xl/workbook.bin" in noms:
        raise FormulaireIllisible(MOTIF_MACROS)
    if "mimetype" in noms and "content.xml" in noms:
        raise FormulaireIllisible(MOTIF_ODS)
    if any(n.startswith("xl/externallinks/") for n in noms) or "xl/connections.xml" in noms:
        raise FormulaireIllisible(MOTIF_LIENS_EXTERNES)
    total = 0
    for membre in membres:
        total += membre.file_size
        if total > TAILLE_DECOMPRESSEE_MAX:
            raise FormulaireIllisible(MOTIF_BOMBE)
        if (
            membre.file_size > TAUX_COMPRESSION_TAILLE_MIN
            and membre.file_size > TAUX_COMPRESSION_MAX * max(membre.compress_size, 1)
        ):
            raise FormulaireIllisible(MOTIF_BOMBE)


def defines_name(data: bytes, name: str, limit: int = 2 * 1024 * 1024) -> bool:
    """Whether ``data`` is a zip whose ``xl/workbook.xml`` defines ``name`` (which form it is).

    Cheap and safe on any input: reads one bounded member, never the whole workbook."""
    if data[:4] != MAGIC_ZIP:
        return False
    try:
        with zipfile.ZipFile(BytesIO(data)) as archive:
            info = archive.getinfo("xl/workbook.xml")
            if info.file_size > limit:
                return False
            with archive.open(info) as membre:
                xml = membre.read(limit + 1)
        racine = ElementTree.fromstring(xml)
    except Exception:  # noqa: BLE001 - anything unreadable defines nothing
        return False
    return any(
        element.tag.rsplit("}", 1)[-1] == "definedName" and element.get("name") == name for element in racine.iter()
    )
