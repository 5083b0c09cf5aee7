"""back office: accounts, sessions, failed sign-ins; who asked for each passage

Revision ID: 0011
Revises: 0010
"""
from alembic import op
import sqlalchemy as sa

from models.base import UTCDateTime

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('utilisateur',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('identifiant', sa.String(length=60), nullable=False),
    sa.Column('mot_de_passe', sa.String(length=200), nullable=False),
    sa.Column('role', sa.Enum('gestion', 'lecture', name='role', native_enum=False, length=30), nullable=False),
    sa.Column('actif', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('cree_le', UTCDateTime(), nullable=False),
    sa.Column('desactive_le', UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_utilisateur')),
    sa.UniqueConstraint('identifiant', name=op.f('uq_utilisateur_identifiant'))
    )
    op.create_table('session_web',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('utilisateur_id', sa.Integer(), nullable=False),
    sa.Column('csrf', sa.String(length=64), nullable=False),
    sa.Column('cree_le', UTCDateTime(), nullable=False),
    sa.Column('vu_le', UTCDateTime(), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['utilisateur_id'], ['utilisateur.id'], name=op.f('fk_session_web_utilisateur_id_utilisateur')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_session_web'))
    )
    op.create_index(op.f('ix_session_web_utilisateur_id'), 'session_web', ['utilisateur_id'], unique=False)
    op.create_table('echec_connexion',
    sa.Column('identifiant', sa.String(length=200), nullable=False),
    sa.Column('echecs', sa.Integer(), nullable=False),
    sa.Column('dernier_le', UTCDateTime(), nullable=False),
    sa.Column('bloque_jusqu_a', UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('identifiant', name=op.f('pk_echec_connexion'))
    )
    with op.batch_alter_table('passage') as batch:
        batch.add_column(sa.Column('utilisateur', sa.String(length=60), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('passage') as batch:
        batch.drop_column('utilisateur')
    op.drop_table('echec_connexion')
    op.drop_index(op.f('ix_session_web_utilisateur_id'), table_name='session_web')
    op.drop_table('session_web')
    op.drop_table('utilisateur')
