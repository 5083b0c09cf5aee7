"""Tells the SA, in French, whether an edited Word template can be used, before it is used.

A template is checked against its entry in ``templates.catalogue``: it must open as a
Word document, its tags must be well formed, it may use only the variables its context
provides, it must keep its required sections, and it must render every specimen under
``StrictUndefined``.
"""
from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import Any, NoReturn

from docx.opc.exceptions import PackageNotFoundError
from docxtpl import DocxTemplate
from jinja2 import Environment, StrictUndefined, TemplateSyntaxError, UndefinedError
from lxml.etree import XMLSyntaxError

from config.organisme import current_organisme
from templates.catalogue import DOCUMENTS, Modele
from templates.render import TEMPLATES_DIR, read_docx_text, render_identity

_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)
_DOCXTPL_PREFIX = re.compile(r"^\{%\s*(?:p|tr|tc|r)\s")


class AttributInconnu(UndefinedError):
    def __init__(self, nom: str) -> None:
        super().__init__(nom)
        self.nom = nom


class _Recording(StrictUndefined):
    def _fail_with_undefined_error(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AttributInconnu(self._undefined_name or "?")

    __iter__ = __str__ = __len__ = __eq__ = __ne__ = __bool__ = __hash__ = __contains__ = (  # type: ignore[assignment]
        _fail_with_undefined_error)


_ENV = Environment(undefined=_Recording, autoescape=True)


def verifier_modele(path: Path) -> list[str]:
    """French problems of the template at ``path``, one line each; empty when it can be used."""
    modele = DOCUMENTS.get(path.name)
    if modele is None:
        return [f"« {path.name} » n'est pas un modèle connu ; les modèles sont : {', '.join(DOCUMENTS)}"]
    if not path.is_file():
        return [f"fichier introuvable : {path}"]
    try:
        variables = DocxTemplate(str(path)).get_undeclared_template_variables(_ENV)
    except (zipfile.BadZipFile, PackageNotFoundError, KeyError, XMLSyntaxError, ValueError):
        return [f"« {path.name} » n'est pas un document Word lisible (enregistrez-le au format .docx)"]
    except TemplateSyntaxError:
        return _balises_cassees(path) or [
            "balises mal imbriquées : un {% if %} ou un {% for %} sans son {% endif %} ou son {% endfor %}, "
            "ou l'inverse"]
    problemes = [f"variable inconnue : « {nom} » (variables possibles : {', '.join(sorted(modele.variables()))})"
                 for nom in sorted(variables - modele.variables())]
    problemes += [f"section manquante : {ce_qui_manque} (variable « {nom} »)"
                  for nom, ce_qui_manque in modele.requis.items() if nom not in variables]
    return problemes or _rendus(path, modele)


def verifier_tous() -> dict[str, list[str]]:
    """The problems of every shipped template, by file name."""
    return {nom: verifier_modele(TEMPLATES_DIR / nom) for nom in DOCUMENTS}


def _rendus(path: Path, modele: Modele) -> list[str]:
    for context in modele.specimens():
        tpl = DocxTemplate(str(path))
        try:
            tpl.render({**context, "organisme": render_identity(tpl, current_organisme())}, _ENV, autoescape=True)
            tpl.save(io.BytesIO())
        except AttributInconnu as exc:
            return [f"variable inconnue : « {exc.nom} » (un élément d'une liste ou d'une variable qui n'existe pas)"]
        except Exception as exc:  # an edited template can break the renderer in ways it does not name
            return [f"le modèle ne peut pas être rempli ({type(exc).__name__}) : vérifiez ses balises"]
    return []


def _balises_cassees(path: Path) -> list[str]:
    """The paragraphs holding a tag that does not parse on its own, or a ``{{``/``{%`` never closed."""
    problemes = []
    for ligne in read_docx_text(path).splitlines():
        reste = _TAG.sub("", ligne)
        if any(d in reste for d in ("{{", "}}", "{%", "%}")):
            problemes.append(f"balise ouverte sans fermeture (ou l'inverse) dans : « {ligne.strip()[:120]} »")
            continue
        for tag in _TAG.findall(ligne):
            if tag.startswith("{{") and not _parses(tag):
                problemes.append(f"balise cassée « {tag} » dans : « {ligne.strip()[:120]} »")
    return problemes


def _parses(tag: str) -> bool:
    try:
        _ENV.parse(_DOCXTPL_PREFIX.sub("{% ", tag))
    except TemplateSyntaxError:
        return False
    return True
