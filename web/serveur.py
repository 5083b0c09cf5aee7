"""``aap web`` and ``aap demo --web``: the back office served by uvicorn."""
from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime, timezone

from flows.runtime import runtime

DEMO_COMPTE = "demo"


def serve(hote: str, port: int, *, echo: Callable[[str], None]) -> None:
    """Serve until interrupted. Behind a reverse proxy on this machine, its X-Forwarded-Proto says HTTPS,
    so that the session cookie is marked Secure."""
    import uvicorn

    from web.app import create_app

    app = create_app(runtime())
    echo(f"Back office : http://{hote}:{port}/ (Ctrl+C pour arrêter)")
    uvicorn.run(app, host=hote, port=port, proxy_headers=True, forwarded_allow_ips="127.0.0.1",
                log_level="warning", access_log=False, server_header=False)


def serve_demo(port: int, *, echo: Callable[[str], None]) -> None:
    """After the demo: a demo account with a fresh password (printed), then the back office on 127.0.0.1."""
    from actions.utilisateurs import add_user
    from models.utilisateur import Role

    mot_de_passe = secrets.token_urlsafe(12)
    add_user(runtime().factory, DEMO_COMPTE, mot_de_passe, Role.GESTION, maintenant=datetime.now(timezone.utc),
             remplacer=True)
    echo("")
    echo(f"Compte de démonstration : identifiant « {DEMO_COMPTE} », mot de passe « {mot_de_passe} »")
    serve("127.0.0.1", port, echo=echo)
