"""The command line's edge: a fault of the program, or a file the system refuses, is one French line too —
no traceback, no temporary file name."""
from __future__ import annotations

import tempfile

import typer
from typer.testing import CliRunner

from flows.cli_edge import Commandes


def _app(error: Exception) -> typer.Typer:
    app = typer.Typer(cls=Commandes, rich_markup_mode=None, add_completion=False)

    @app.command("casse")
    def casse() -> None:
        raise error

    @app.command("autre")
    def autre() -> None:
        pass

    return app


def test_a_fault_of_the_program_is_one_french_line_without_traceback():
    result = CliRunner().invoke(_app(KeyError("clé interne")), ["casse"], prog_name="aap")

    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "Erreur inattendue (KeyError) : la commande n'a pas abouti. Relancez-la avec AAP_DEBUG=1 pour le détail "
        "technique et transmettez-le à l'équipe."]


def test_a_refused_file_is_said_in_french_without_a_name_the_person_did_not_type():
    temporaire = f"{tempfile.gettempdir()}/.export.x1y2z3.tmp"
    result = CliRunner().invoke(_app(PermissionError(13, "Permission denied", temporaire)), ["casse"], prog_name="aap")

    assert result.exit_code == 1
    assert result.output == "Erreur : un fichier n'a pas pu être lu ou écrit (accès refusé)\n"
