"""passages: each run of a stage, recorded by the application whether Prefect orchestrated it or not

Revision ID: 0009
Revises: 0008
"""
from alembic import op
import sqlalchemy as sa

from models.base import UTCDateTime

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('passage',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('etape', sa.String(length=60), nullable=False),
    sa.Column('nom', sa.String(length=120), nullable=False),
    sa.Column('appel', sa.Integer(), nullable=True),
    sa.Column('orchestrateur', sa.String(length=20), nullable=False),
    sa.Column('flow_run_id', sa.String(length=40), nullable=True),
    sa.Column('parametres', sa.JSON(), nullable=False),
    sa.Column('debut', UTCDateTime(), nullable=False),
    sa.Column('fin', UTCDateTime(), nullable=True),
    sa.Column('statut', sa.Enum('en cours', 'terminé', 'courriels non envoyés', 'échoué', name='passagestatut',
                                native_enum=False, length=30), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('resume', sa.Text(), nullable=True),
    sa.Column('journal', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_passage'))
    )


def downgrade() -> None:
    op.drop_table('passage')
