"""back office: who changed which row, written in the same transaction as the change

Revision ID: 0012
Revises: 0011
"""
from alembic import op
import sqlalchemy as sa

from models.base import UTCDateTime

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('action_utilisateur',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('utilisateur', sa.String(length=60), nullable=False),
    sa.Column('moment', UTCDateTime(), nullable=False),
    sa.Column('table_nom', sa.String(length=60), nullable=False),
    sa.Column('ligne', sa.String(length=200), nullable=False),
    sa.Column('operation', sa.String(length=20), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_action_utilisateur'))
    )
    op.create_index('ix_action_utilisateur_table_ligne', 'action_utilisateur', ['table_nom', 'ligne'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_action_utilisateur_table_ligne', table_name='action_utilisateur')
    op.drop_table('action_utilisateur')
