"""the journal: a hash chain of every change that matters, and its daily seals, both insert-only

Revision ID: 0013
Revises: 0012
"""
from alembic import op
import sqlalchemy as sa

from models.base import UTCDateTime

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

TABLES = ("journal", "sceau_journal")
SQLITE_TRIGGERS = (
    "CREATE TRIGGER {table}_sans_modification BEFORE UPDATE ON {table} BEGIN SELECT RAISE(ABORT, "
    "'le journal ne se modifie pas : une entrée ou un sceau écrit est définitif'); END",
    "CREATE TRIGGER {table}_sans_suppression BEFORE DELETE ON {table} BEGIN SELECT RAISE(ABORT, "
    "'le journal ne se supprime pas : une entrée ou un sceau écrit est définitif'); END",
)
PG_FUNCTION = """
CREATE FUNCTION journal_immuable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'le journal ne se modifie ni ne se supprime : une entrée ou un sceau écrit est définitif (table %, %)',
    TG_TABLE_NAME, TG_OP USING ERRCODE = 'integrity_constraint_violation';
END
$$
"""
PG_TRIGGERS = """
CREATE TRIGGER {table}_immuable BEFORE UPDATE OR DELETE ON {table} FOR EACH ROW EXECUTE FUNCTION journal_immuable();
CREATE TRIGGER {table}_sans_vidage BEFORE TRUNCATE ON {table} FOR EACH STATEMENT EXECUTE FUNCTION journal_immuable()
"""


def upgrade() -> None:
    op.create_table('journal',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('moment', UTCDateTime(), nullable=False),
    sa.Column('genre', sa.String(length=40), nullable=False),
    sa.Column('appel', sa.Integer(), nullable=True),
    sa.Column('dossier', sa.String(length=20), nullable=True),
    sa.Column('convention', sa.String(length=40), nullable=True),
    sa.Column('utilisateur', sa.String(length=60), nullable=True),
    sa.Column('texte', sa.Text(), nullable=False),
    sa.Column('donnees', sa.JSON(), nullable=False),
    sa.Column('precedent', sa.String(length=64), nullable=False),
    sa.Column('empreinte', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_journal')),
    sa.UniqueConstraint('precedent', name=op.f('uq_journal_precedent'))
    )
    op.create_index('ix_journal_appel', 'journal', ['appel'], unique=False)
    op.create_index('ix_journal_convention', 'journal', ['convention'], unique=False)
    op.create_index('ix_journal_dossier', 'journal', ['dossier'], unique=False)
    op.create_table('sceau_journal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('jour', sa.Date(), nullable=False),
    sa.Column('entree', sa.Integer(), nullable=False),
    sa.Column('empreinte', sa.String(length=64), nullable=False),
    sa.Column('chemin', sa.String(length=300), nullable=False),
    sa.Column('scelle_le', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sceau_journal')),
    sa.UniqueConstraint('entree', name=op.f('uq_sceau_journal_entree'))
    )
    op.create_index(op.f('ix_sceau_journal_jour'), 'sceau_journal', ['jour'], unique=False)
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        for table in TABLES:
            for statement in PG_TRIGGERS.format(table=table).split(";"):
                op.execute(statement)
    else:
        for table in TABLES:
            for statement in SQLITE_TRIGGERS:
                op.execute(statement.format(table=table))


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_immuable ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_sans_vidage ON {table}")
        op.execute("DROP FUNCTION IF EXISTS journal_immuable()")
    op.drop_index(op.f('ix_sceau_journal_jour'), table_name='sceau_journal')
    op.drop_table('sceau_journal')
    op.drop_index('ix_journal_dossier', table_name='journal')
    op.drop_index('ix_journal_convention', table_name='journal')
    op.drop_index('ix_journal_appel', table_name='journal')
    op.drop_table('journal')
