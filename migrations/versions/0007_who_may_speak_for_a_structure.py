"""who may speak for a structure: an address may be known for several structures; the same files or
Message-ID are a duplicate only from the same sender or structure; a bilan may wait for verification

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 09:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('porteur_adresse', schema=None) as batch_op:
        batch_op.drop_constraint('uq_porteur_adresse_email', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_porteur_adresse_porteur_id_email'), ['porteur_id', 'email'])
        batch_op.create_index(batch_op.f('ix_porteur_adresse_email'), ['email'], unique=False)
    with op.batch_alter_table('depot', schema=None) as batch_op:
        batch_op.drop_constraint('uq_depot_appel_id_empreinte_pieces', type_='unique')
        batch_op.create_index(batch_op.f('ix_depot_empreinte_pieces'), ['empreinte_pieces'], unique=False)
        batch_op.create_index(batch_op.f('ix_depot_message_id'), ['message_id'], unique=False)
    with op.batch_alter_table('bilan', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'verification', sa.Enum('à vérifier', 'confirmé', 'rejeté', name='verification', native_enum=False, length=30),
            nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('bilan', schema=None) as batch_op:
        batch_op.drop_column('verification')
    with op.batch_alter_table('depot', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_depot_message_id'))
        batch_op.drop_index(batch_op.f('ix_depot_empreinte_pieces'))
        batch_op.create_unique_constraint('uq_depot_appel_id_empreinte_pieces', ['appel_id', 'empreinte_pieces'])
    with op.batch_alter_table('porteur_adresse', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_porteur_adresse_email'))
        batch_op.drop_constraint(batch_op.f('uq_porteur_adresse_porteur_id_email'), type_='unique')
        batch_op.create_unique_constraint('uq_porteur_adresse_email', ['email'])
