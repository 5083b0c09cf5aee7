"""suivi: a mid-term échéance covers the period's first months, not the whole year

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 09:30:00

Rows written before this revision stored the whole year as the mid-term bilan's period; each
gets the period it covers (``models.suivi.mid_term_end``, with its call's ``mi_parcours_mois``).
"""
import json
from datetime import date

import sqlalchemy as sa
from alembic import op

from models.suivi import mid_term_end

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

MI_PARCOURS = "mi-parcours"


def upgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT e.id, e.periode_debut, a.config FROM echeance e JOIN convention c ON c.id = e.convention_id "
        "JOIN appel a ON a.id = c.appel_id WHERE e.nature = :nature"), {"nature": MI_PARCOURS}).all()
    for echeance_id, debut, config in rows:
        config = json.loads(config) if isinstance(config, str) else config
        mois = int(((config or {}).get("suivi") or {}).get("mi_parcours_mois", 6))
        debut = date.fromisoformat(debut) if isinstance(debut, str) else debut
        bind.execute(sa.text("UPDATE echeance SET periode_fin = :fin WHERE id = :id"),
                     {"fin": mid_term_end(debut, mi_parcours_mois=mois), "id": echeance_id})


def downgrade() -> None:
    op.execute(sa.text(
        "UPDATE echeance SET periode_fin = (SELECT f.periode_fin FROM echeance f WHERE f.convention_id = "
        "echeance.convention_id AND f.periode_debut = echeance.periode_debut AND f.nature = 'final') "
        "WHERE nature = 'mi-parcours'"))
