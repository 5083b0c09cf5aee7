"""Between what the person types and the commands: typer's own words in French, and the one place
where every mistake becomes one French line on stderr.

A command never prints an error itself: it raises ``Refus`` (the request is refused, for a French
reason) and ``Commandes.main`` prints ``Erreur : <reason>`` and exits 1. Mistakes in the command line
itself (unknown command, missing option, value that cannot be read) are typer's exceptions; they
become one French line too, exit 2, before anything is done. A Prefect run that ends on a ``Refus``
does not also print Prefect's English traceback.
"""
from __future__ import annotations

import errno
import logging
import os
import re
import sys
from typing import Any

import typer
import typer.core
from typer._click import decorators as _decorators
from typer._click import exceptions as _exc
from typer._click import formatting as _formatting

from config.refus import Refus

# typer's words (typer.core translates them through gettext), as French people write them.
MOTS = {
    "Options": "Options\u00a0",  # the heading is followed by « : », after a space in French
    "Commands": "Commandes\u00a0",
    "Arguments": "Arguments\u00a0",
    "default: {default}": "par défaut : {default}",
    "required": "obligatoire",
    "env var: {var}": "variable d'environnement : {var}",
    "(dynamic)": "(calculé)",
    "Aborted!": "Interrompu.",
    "Missing command.": "commande manquante",
    "No such command {name!r}.": "commande inconnue : « {name} »",
}
AIDE = "Afficher ce message et quitter."
UTILISATION = "Utilisation\u00a0: "
SOUS_COMMANDE = "COMMANDE [ARGUMENTS]..."
DEBUG = "AAP_DEBUG"  # AAP_DEBUG=1: an unexpected error shows its traceback (for the developer)

# The few sentences typer raises as bare text, without anything to tell them apart but the text.
_PHRASES = (
    (re.compile(r"(?:commande inconnue : « |No such command ')(?P<x>.*?)(?: »|'\.)(?:\. Did you mean (?P<s>.*)\?)?", re.S),
     lambda x, s=None: f"commande inconnue : « {x} »" + (f" (vouliez-vous dire {_guillemets(s)} ?)" if s else "")),
    (re.compile(r"commande manquante|Missing command\.", re.S), lambda: "commande manquante"),
    (re.compile(r"Got unexpected extra argument\(s\) \((?P<x>.*)\)", re.S), lambda x: f"en trop sur la ligne : « {x} »"),
    (re.compile(r"Option '(?P<x>.*)' requires (an argument|\d+ arguments)\.", re.S),
     lambda x: f"l'option « {x} » attend une valeur"),
    (re.compile(r"Option '(?P<x>.*)' does not take a value\.", re.S), lambda x: f"l'option « {x} » ne prend pas de valeur"),
    (re.compile(r"Argument '(?P<x>.*)' takes (?P<n>\d+) values\.", re.S), lambda x, n: f"l'argument « {x} » attend {n} valeurs"),
)
_ERRNO = {
    errno.ENOENT: "fichier ou dossier introuvable",
    errno.EACCES: "accès refusé",
    errno.EPERM: "opération non permise",
    errno.EISDIR: "c'est un dossier, pas un fichier",
    errno.ENOTDIR: "un élément du chemin n'est pas un dossier",
    errno.ENOSPC: "plus de place sur le disque",
    errno.EROFS: "disque en lecture seule",
    errno.EEXIST: "le fichier existe déjà",
    errno.ENAMETOOLONG: "nom de fichier trop long",
}


class ValeurInvalide(typer.BadParameter):
    """A value typed on the command line that cannot be used; the message is French."""


class Commandes(typer.core.TyperGroup):
    """The root command: runs the command asked for, and turns every failure into one French line."""

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        franciser()
        _sous_commandes_en_francais(self)
        sans_trace_des_refus()
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except _exc.NoArgsIsHelpError as exc:
            typer.echo(exc.ctx.get_help())
            sys.exit(0)
        except _exc.UsageError as exc:
            typer.echo(f"Erreur : {ligne_usage(exc)}", err=True)
            sys.exit(2)
        except typer.Abort:
            typer.echo("Interrompu.", err=True)
            sys.exit(1)
        except Refus as exc:
            typer.echo(f"Erreur : {une_ligne(str(exc))}", err=True)
            sys.exit(1)
        except OSError as exc:
            if os.environ.get(DEBUG):
                raise
            typer.echo(f"Erreur : {ligne_systeme(exc, args)}", err=True)
            sys.exit(1)
        except Exception as exc:  # noqa: BLE001 - the edge: a fault of the program, said in French
            if os.environ.get(DEBUG):
                raise
            typer.echo(f"Erreur inattendue ({type(exc).__name__}) : la commande n'a pas abouti. "
                       f"Relancez-la avec {DEBUG}=1 pour le détail technique et transmettez-le à l'équipe.", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


def _sous_commandes_en_francais(group: typer.core.TyperGroup) -> None:
    group.subcommand_metavar = SOUS_COMMANDE
    for command in group.commands.values():
        if isinstance(command, typer.core.TyperGroup):
            _sous_commandes_en_francais(command)


def ligne_usage(exc: _exc.UsageError) -> str:
    """One French line for a mistake in the command line, with where to find the help."""
    aide = f" ; aide : « {exc.ctx.command_path} --help »" if exc.ctx is not None else ""
    if isinstance(exc, ValeurInvalide):
        option = _option(exc.param)
        return (f"option {option} : " if option else "") + exc.message + aide
    if isinstance(exc, _exc.MissingParameter):
        option = _option(exc.param)
        return f"option {option} manquante{aide}" if option else f"argument {_nom(exc.param)} manquant{aide}"
    if isinstance(exc, _exc.NoSuchOption):
        proches = ", ".join(f"« {p} »" for p in sorted(exc.possibilities or ()))
        return f"option inconnue : « {exc.option_name} »" + (f" (vouliez-vous dire {proches} ?)" if proches else "") + aide
    if isinstance(exc, _exc.BadParameter):  # typer's own check, worded in English: say what was expected
        return f"valeur invalide pour {_nom(exc.param)}{_attendu(exc.param)}{aide}"
    for phrase, francais in _PHRASES:
        found = phrase.fullmatch(exc.message.strip())
        if found:
            return francais(**{k: v for k, v in found.groupdict().items() if v is not None}) + aide
    return f"ligne de commande incorrecte{aide}"


def ligne_systeme(exc: OSError, args: Any) -> str:
    """A file the system refused: its French reason, and its name only if the person typed it."""
    raison = _ERRNO.get(exc.errno or 0, "erreur du système de fichiers")
    typed = {os.path.abspath(a) for a in (args if args is not None else sys.argv[1:]) if isinstance(a, str)}
    nom = exc.filename if isinstance(exc.filename, str) and os.path.abspath(exc.filename) in typed else None
    return f"{raison} : {nom}" if nom else f"un fichier n'a pas pu être lu ou écrit ({raison})"


def _guillemets(noms: str) -> str:
    """``"'dossiers', 'dossier'"`` (typer's suggestions) -> ``« dossiers » ou « dossier »``."""
    quoted = [f"« {n.strip().strip(chr(39))} »" for n in noms.split(",")]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " ou " + quoted[-1]


def une_ligne(text: str) -> str:
    return " ; ".join(part.strip() for part in text.splitlines() if part.strip())


def _option(param: Any) -> str | None:
    if param is not None and param.param_type_name == "option" and param.opts:
        return f"« {param.opts[0]} »"
    return None


def _nom(param: Any) -> str:
    if param is None:
        return "la valeur"
    return _option(param) or f"« {(param.metavar or param.name or '').upper()} »"


def _attendu(param: Any) -> str:
    annotation = getattr(getattr(param, "type_descriptor", None), "annotation", None)
    attendu = {int: "un nombre entier", float: "un nombre", bool: "oui ou non"}.get(annotation)
    return f" : {attendu} attendu" if attendu else ""


class _RefusSansTrace(logging.Filter):
    """Drops, from Prefect's run loggers, the traceback of a run that ended on a ``Refus`` and the
    « Finished in state Failed » line that follows it: the command says it once, in French."""

    def __init__(self) -> None:
        super().__init__()
        self.refused: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        run = str(getattr(record, "task_run_id", None) or getattr(record, "flow_run_id", None))
        if record.exc_info and isinstance(record.exc_info[1], Refus):
            self.refused.add(run)
            return False
        return not (record.levelno >= logging.ERROR and run in self.refused)


_FILTRE = _RefusSansTrace()


def sans_trace_des_refus() -> None:
    """Install the filter on Prefect's run loggers (before Prefect is imported: it keeps them)."""
    for name in ("prefect.flow_runs", "prefect.task_runs"):
        logger = logging.getLogger(name)
        if _FILTRE not in logger.filters:
            logger.addFilter(_FILTRE)


def franciser() -> None:
    """typer's help and messages in French: section titles, the help option, « Utilisation : »."""
    typer.core._ = lambda message: MOTS.get(message, message)
    if not getattr(_decorators.help_option, "francais", False):
        original = _decorators.help_option

        def help_option(param_decls: list[str]):  # noqa: ANN202
            decorate = original(param_decls)

            def apply(command):  # noqa: ANN001, ANN202
                command = decorate(command)
                command.params[-1].help = AIDE
                return command
            return apply

        help_option.francais = True
        _decorators.help_option = help_option
    write_usage = _formatting.HelpFormatter.write_usage
    if not getattr(write_usage, "francais", False):
        def write_usage_fr(self, prog: str, args: str = "", prefix: str | None = None) -> None:  # noqa: ANN001
            write_usage(self, prog, args, UTILISATION if prefix is None else prefix)

        write_usage_fr.francais = True
        _formatting.HelpFormatter.write_usage = write_usage_fr
    argument = typer.core.TyperArgument
    if not getattr(argument.display_type_rich, "francais", False):
        def sans_type(self, ctx):  # noqa: ANN001, ANN202 - a named argument needs no « <list[Path]> »
            return None

        def nom_dans_usage(self) -> str:  # noqa: ANN001 - NAME, [NAME], NAME... (no braces)
            name = self.display_name_raw if self.required else f"[{self.display_name_raw}]"
            return name + ("..." if self.nargs != 1 else "")

        sans_type.francais = True
        argument.display_type_rich = sans_type
        argument._usage_display_name = nom_dans_usage
    rich = sys.modules.get("typer.rich_utils")  # only if someone turned rich help on
    if rich is not None:
        rich.ARGUMENTS_PANEL_TITLE, rich.OPTIONS_PANEL_TITLE, rich.COMMANDS_PANEL_TITLE = "Arguments", "Options", "Commandes"
        rich.ERRORS_PANEL_TITLE, rich.ABORTED_TEXT = "Erreur", "Interrompu."
        rich.DEFAULT_STRING, rich.REQUIRED_LONG_STRING = "[par défaut : {}]", "[obligatoire]"
        rich.RICH_HELP = "Aide : [blue]« {command_path} {help_option} »[/]"
