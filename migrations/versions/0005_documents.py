"""documents: each produced document and the SHA-256 of its template

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('nature', sa.String(length=40), nullable=False),
    sa.Column('objet_id', sa.Integer(), nullable=False),
    sa.Column('chemin', sa.String(length=500), nullable=False),
    sa.Column('modele', sa.String(length=100), nullable=False),
    sa.Column('modele_sha256', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document')),
    sa.UniqueConstraint('nature', 'objet_id', name=op.f('uq_document_nature_objet_id'))
    )


def downgrade() -> None:
    op.drop_table('document')
