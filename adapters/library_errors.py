"""What a library's exception means, in French, for the SA: never its English text.

openpyxl, pypdf and the e-mail package raise anything on a hostile file, with messages such as
``"There is no item named 'xl/workbook.xml' in the archive"``. The SA reads instead what kind of
damage it is; the exception's class and text stay out of every reason shown or stored.
"""
from __future__ import annotations

import binascii
import errno
import sys
import zipfile
import zlib
from email.errors import MessageError
from xml.etree.ElementTree import ParseError


try:  # defusedxml is a dependency; its refusals say the file tried something
    from defusedxml.common import DefusedXmlException
except ImportError:  # pragma: no cover
    DefusedXmlException = ()  # type: ignore[assignment,misc]

_MEANINGS: tuple[tuple[str | type[BaseException] | tuple[type[BaseException], ...], str], ...] = (
    (MemoryError, "contenu trop volumineux pour être lu"),
    (RecursionError, "structure interne trop imbriquée"),
    (DefusedXmlException, "contenu XML piégé refusé (entités ou références externes)"),
    ((ParseError, SyntaxError), "contenu XML interne invalide"),  # lxml's and ElementTree's errors are SyntaxErrors
    ("pypdf.errors.PyPdfError", "structure PDF invalide"),  # named: a process that reads no PDF does not load pypdf
    (MessageError, "structure du message invalide"),
    ((zipfile.BadZipFile, zlib.error, EOFError), "archive interne corrompue ou tronquée"),
    (KeyError, "une partie interne du fichier est absente"),
    (binascii.Error, "encodage base64 invalide"),
    (UnicodeError, "caractères mal encodés"),
    (LookupError, "jeu de caractères inconnu"),
    ((ValueError, TypeError, AttributeError, IndexError), "valeur interne invalide"),
)


def french_detail(exc: BaseException) -> str:
    """The kind of damage ``exc`` reveals, as a short French phrase (never the library's text).

    The most telling meaning wins along the chain of causes (openpyxl wraps defusedxml's refusal
    of an entity in a plain ``ValueError``)."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(chain) < 10:
        chain.append(current)
        current = current.__cause__ or current.__context__
    for kinds, meaning in _MEANINGS:
        if isinstance(kinds, str):
            kinds = _loaded_class(kinds)
        if kinds and any(isinstance(e, kinds) for e in chain):
            return meaning
    return "contenu interne invalide"


def _loaded_class(dotted: str) -> type[BaseException] | tuple[()]:
    """``module.Class`` if its module is loaded, else nothing: an exception of a module never loaded cannot be."""
    module_name, _, name = dotted.rpartition(".")
    module = sys.modules.get(module_name)
    return getattr(module, name) if module is not None else ()


_OS_MEANINGS = {
    errno.ENOENT: "fichier introuvable (déplacé ou supprimé entre-temps)",
    errno.EACCES: "droits de lecture insuffisants",
    errno.EPERM: "droits de lecture insuffisants",
    errno.EISDIR: "c'est un dossier, pas un fichier",
    errno.ENOTDIR: "un élément du chemin n'est pas un dossier",
    errno.ELOOP: "lien symbolique en boucle",
    errno.ENAMETOOLONG: "nom de fichier trop long",
    errno.EIO: "erreur d'entrée-sortie du disque",
}


def french_os_error(exc: OSError) -> str:
    """Why the file system refused, in French (``strerror`` is the C library's English)."""
    return _OS_MEANINGS.get(exc.errno, f"erreur du système de fichiers (code {exc.errno})")
