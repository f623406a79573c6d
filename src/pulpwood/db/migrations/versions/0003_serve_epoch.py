"""serve epoch and content leases

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 00:00:00

On PostgreSQL a content app answers from memory while it holds a lease, and every writer
bumps the epoch after it commits (models/serving.py, content/fast/lease.py). The tables exist
on SQLite too, unused: there the content app sees commits in the WAL index.

On PostgreSQL the tables a content app's memory depends on also NOTIFY (with no epoch) after
every statement: a writer that could not announce (an error on the way to a 500) is still
heard, a moment after its commit, and so is anyone who changes them by hand.
"""

from alembic import op
import sqlalchemy as sa

import pulpwood.db.base  # noqa: F401  (column types used below)


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


CHANNEL = 'pulpwood_serve'
WATCHED = ('core_distribution', 'core_repository', 'core_repositoryversion', 'core_publication')


def upgrade() -> None:
    epoch = op.create_table(
        'core_serveepoch',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('epoch', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_core_serveepoch')),
    )
    op.bulk_insert(epoch, [{'id': 1, 'epoch': 0}])
    op.create_table(
        'core_contentlease',
        sa.Column('pulp_id', sa.Uuid(), nullable=False),
        sa.Column('seen_epoch', sa.BigInteger(), nullable=False),
        sa.Column('lease_until', pulpwood.db.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('pulp_id', name=op.f('pk_core_contentlease')),
    )
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f"""CREATE FUNCTION pulpwood_serve_changed() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN PERFORM pg_notify('{CHANNEL}', ''); RETURN NULL; END $$""")
        for table in WATCHED:
            op.execute(f"CREATE TRIGGER serve_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                       "FOR EACH STATEMENT EXECUTE FUNCTION pulpwood_serve_changed()")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for table in WATCHED:
            op.execute(f"DROP TRIGGER serve_changed ON {table}")
        op.execute("DROP FUNCTION pulpwood_serve_changed()")
    op.drop_table('core_contentlease')
    op.drop_table('core_serveepoch')
