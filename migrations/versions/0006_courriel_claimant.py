"""courriel: the process that claimed a row (a crash releases its claims at once)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 09:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('courriel') as batch:
        batch.add_column(sa.Column('reserve_par', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('courriel') as batch:
        batch.drop_column('reserve_par')
