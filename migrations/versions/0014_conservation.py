"""retention of personal data: holds, purged files, last payment of a convention, anonymised contacts

Revision ID: 0014
Revises: 0013
"""
from alembic import op
import sqlalchemy as sa

from models.base import UTCDateTime

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('conservation_blocage',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('numero', sa.String(length=30), nullable=False),
    sa.Column('motif', sa.String(length=1000), nullable=False),
    sa.Column('bloque_par', sa.String(length=100), nullable=False),
    sa.Column('bloque_le', UTCDateTime(), nullable=False),
    sa.Column('debloque_par', sa.String(length=100), nullable=True),
    sa.Column('debloque_le', UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conservation_blocage'))
    )
    op.create_index('uq_conservation_blocage_en_vigueur', 'conservation_blocage', ['numero'], unique=True,
                    sqlite_where=sa.text('debloque_le IS NULL'), postgresql_where=sa.text('debloque_le IS NULL'))
    op.create_table('fichier_purge',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('nature', sa.String(length=30), nullable=False),
    sa.Column('objet_id', sa.Integer(), nullable=False),
    sa.Column('numero', sa.String(length=30), nullable=False),
    sa.Column('chemin', sa.String(length=500), nullable=False),
    sa.Column('nom', sa.String(length=500), nullable=False),
    sa.Column('taille', sa.BigInteger(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('motif', sa.Text(), nullable=False),
    sa.Column('purge_le', UTCDateTime(), nullable=False),
    sa.Column('efface_le', UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fichier_purge')),
    sa.UniqueConstraint('nature', 'objet_id', 'chemin', name=op.f('uq_fichier_purge_nature_objet_id_chemin'))
    )
    op.create_index(op.f('ix_fichier_purge_numero'), 'fichier_purge', ['numero'], unique=False)
    op.create_index(op.f('ix_fichier_purge_chemin'), 'fichier_purge', ['chemin'], unique=False)
    with op.batch_alter_table('convention') as batch:
        batch.add_column(sa.Column('dernier_paiement_le', sa.Date(), nullable=True))
    with op.batch_alter_table('porteur') as batch:
        batch.add_column(sa.Column('anonymise_le', UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('porteur') as batch:
        batch.drop_column('anonymise_le')
    with op.batch_alter_table('convention') as batch:
        batch.drop_column('dernier_paiement_le')
    op.drop_index(op.f('ix_fichier_purge_chemin'), table_name='fichier_purge')
    op.drop_index(op.f('ix_fichier_purge_numero'), table_name='fichier_purge')
    op.drop_table('fichier_purge')
    op.drop_index('uq_conservation_blocage_en_vigueur', table_name='conservation_blocage')
    op.drop_table('conservation_blocage')
