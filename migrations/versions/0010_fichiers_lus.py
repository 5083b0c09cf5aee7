"""fichier_lu: the message files the intake has read (stable name, size, modification time), so that a
re-scan opens only what is new or changed

Revision ID: 0010
Revises: 0009
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('fichier_lu',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appel_id', sa.Integer(), nullable=False),
    sa.Column('nom', sa.String(length=500), nullable=False),
    sa.Column('taille', sa.BigInteger(), nullable=False),
    sa.Column('modifie_ns', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['appel_id'], ['appel.id'], name=op.f('fk_fichier_lu_appel_id_appel')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fichier_lu')),
    sa.UniqueConstraint('appel_id', 'nom', name=op.f('uq_fichier_lu_appel_id_nom'))
    )


def downgrade() -> None:
    op.drop_table('fichier_lu')
