"""The helper that holds one LibreOffice and converts documents to PDF through UNO (unoserver's approach).

Run by the system's ``/usr/bin/python3 -I`` (Debian's ``python3-uno`` is there, not in the venv), never
imported by the application: standard library and ``uno`` only. ``adapters.libreoffice`` starts it as
``python3 -I libreoffice_uno.py <soffice> <profile directory> <pipe name> <start timeout>`` and talks JSON lines:

- first line written: ``{"uno": false}`` (``import uno`` failed), ``{"ready": false, "raison": …}`` or
  ``{"ready": true, "pgid": <LibreOffice's process group>}``;
- then, for each line read ``{"src": …, "dst": …}``, one line ``{"ok": true}`` or ``{"ok": false, "raison": …,
  "mort": <LibreOffice is gone>}``, with ``"essaye": false`` when LibreOffice was gone before the document.

LibreOffice runs in its own process group; the helper kills it and removes its profile when its stdin closes
or its parent dies (a killed command: the parent changes), the parent's ``atexit`` having not run. Everything is made under umask 077.
"""
from __future__ import annotations

import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import threading
import time

MACROS_NEVER = 0  # com.sun.star.document.MacroExecMode.NEVER_EXECUTE
UPDATE_NEVER = 0  # com.sun.star.document.UpdateDocMode.NO_UPDATE: no link is fetched
FILTERS = (  # the PDF export filter of each kind of document, in the order to test them
    ("com.sun.star.text.WebDocument", "writer_web_pdf_Export"),
    ("com.sun.star.text.GenericTextDocument", "writer_pdf_Export"),
    ("com.sun.star.sheet.SpreadsheetDocument", "calc_pdf_Export"),
    ("com.sun.star.presentation.PresentationDocument", "impress_pdf_Export"),
    ("com.sun.star.drawing.GenericDrawingDocument", "draw_pdf_Export"),
    ("com.sun.star.formula.FormulaProperties", "math_pdf_Export"),
)


def reply(message: dict) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


def watch_parent(proc: subprocess.Popen, profile: str) -> None:
    """Kills LibreOffice, removes its profile (the parent's ``atexit`` did not run) and ends the helper once the
    process that started it is gone."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        kill_group(proc)
        shutil.rmtree(profile, ignore_errors=True)
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


def alive(desktop: object, proc: subprocess.Popen) -> bool:
    """LibreOffice still runs and answers over the bridge."""
    if proc.poll() is not None:
        return False
    try:
        desktop.getFrames()
        return True
    except Exception:
        return False


def main() -> int:
    os.umask(0o077)
    try:
        import uno
        from com.sun.star.beans import PropertyValue
        from com.sun.star.connection import NoConnectException
    except ImportError:
        reply({"uno": False})
        return 3
    soffice, profile, pipe, start_timeout = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])

    def prop(name: str, value: object) -> PropertyValue:
        p = PropertyValue()
        p.Name, p.Value = name, value
        return p

    proc = subprocess.Popen(
        [soffice, f"-env:UserInstallation={pathlib.Path(profile).as_uri()}", "--headless", "--invisible",
         "--norestore", "--nologo", "--nodefault", "--nolockcheck",
         f"--accept=pipe,name={pipe};urp;StarOffice.ComponentContext"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, process_group=0,
    )
    watch_parent(proc, profile)
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    deadline = time.monotonic() + start_timeout
    desktop = None
    while desktop is None:
        try:
            ctx = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
            desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        except NoConnectException:
            if proc.poll() is not None or time.monotonic() > deadline:
                kill_group(proc)
                reply({"ready": False, "raison": "LibreOffice n'a pas démarré" if proc.returncode is None
                       else f"LibreOffice s'est arrêté au démarrage (code {proc.returncode})"})
                return 4
            time.sleep(0.1)
    reply({"ready": True, "pgid": proc.pid})

    load = (prop("Hidden", True), prop("ReadOnly", True), prop("MacroExecutionMode", MACROS_NEVER),
            prop("UpdateDocMode", UPDATE_NEVER))
    try:
        for line in sys.stdin:
            request = json.loads(line)
            if not alive(desktop, proc):  # died since the last document: not tried, the parent restarts it
                reply({"ok": False, "raison": "LibreOffice arrêté", "mort": True, "essaye": False})
                continue
            try:
                doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(request["src"]), "_blank", 0, load)
            except Exception as exc:  # a document LibreOffice cannot open, or LibreOffice gone
                reply({"ok": False, "raison": type(exc).__name__, "mort": not alive(desktop, proc)})
                continue
            if doc is None:
                reply({"ok": False, "raison": "document illisible", "mort": False})
                continue
            try:
                filtre = next((f for service, f in FILTERS if doc.supportsService(service)), "writer_pdf_Export")
                doc.storeToURL(uno.systemPathToFileUrl(request["dst"]),
                               (prop("FilterName", filtre), prop("Overwrite", True)))
                reply({"ok": True})
            except Exception as exc:
                reply({"ok": False, "raison": type(exc).__name__, "mort": not alive(desktop, proc)})
            finally:
                try:
                    doc.close(True)
                except Exception:
                    try:
                        doc.dispose()
                    except Exception:
                        pass
    finally:  # stdin closed: the parent is gone (its stop() kills the helper before closing it)
        kill_group(proc)
        shutil.rmtree(profile, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
