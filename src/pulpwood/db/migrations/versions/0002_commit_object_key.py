"""ostree commit -> object links keyed by the pair

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06 04:00:00

The link rows had an id of their own plus a unique (commit, object) constraint: two indexes
and an id to generate for each of the hundreds of thousands of rows a sync writes. The pair
becomes the primary key (and SQLite stores the rows in it, WITHOUT ROWID). Rows are copied.
"""

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

TABLE = 'ostree_ostreecommitobject'


def _create(name: str, with_id: bool) -> None:
    columns = [sa.Column('pulp_id', sa.Uuid(), nullable=False)] if with_id else []
    key = ['pulp_id'] if with_id else ['commit_id', 'obj_id']
    constraints = [sa.UniqueConstraint('commit_id', 'obj_id', name=op.f(f'uq_{TABLE}_commit_id_obj_id'))] if with_id else []
    op.create_table(
        name,
        *columns,
        sa.Column('commit_id', sa.Uuid(), nullable=False),
        sa.Column('obj_id', sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(['commit_id'], ['ostree_ostreecommit.pulp_id'],
                                name=op.f(f'fk_{TABLE}_commit_id_ostree_ostreecommit'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['obj_id'], ['ostree_ostreeobject.pulp_id'],
                                name=op.f(f'fk_{TABLE}_obj_id_ostree_ostreeobject'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint(*key, name=op.f(f'pk_{TABLE}')),
        *constraints,
        sqlite_with_rowid=with_id,
    )


def _swap(with_id: bool) -> None:
    new = f'{TABLE}_new'
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        # Constraint names are schema-wide on PostgreSQL: free them before the copy is made.
        op.drop_index('ix_ostree_commitobject_obj', table_name=TABLE)
        op.execute(f'ALTER TABLE {TABLE} RENAME TO {TABLE}_old')
        for constraint in (f'pk_{TABLE}', f'fk_{TABLE}_commit_id_ostree_ostreecommit',
                           f'fk_{TABLE}_obj_id_ostree_ostreeobject', f'uq_{TABLE}_commit_id_obj_id'):
            op.execute(f'ALTER TABLE {TABLE}_old DROP CONSTRAINT IF EXISTS {constraint}')
        _create(TABLE, with_id)
        select_id = 'gen_random_uuid(), ' if with_id else ''
        op.execute(f'INSERT INTO {TABLE} SELECT {select_id}commit_id, obj_id FROM {TABLE}_old')
        op.drop_table(f'{TABLE}_old')
    else:
        _create(new, with_id)
        select_id = "lower(hex(randomblob(16))), " if with_id else ''
        op.execute(f'INSERT INTO {new} SELECT {select_id}commit_id, obj_id FROM {TABLE}')
        op.drop_index('ix_ostree_commitobject_obj', table_name=TABLE)
        op.drop_table(TABLE)
        op.rename_table(new, TABLE)
    op.create_index('ix_ostree_commitobject_obj', TABLE, ['obj_id'], unique=False)


def upgrade() -> None:
    _swap(with_id=False)


def downgrade() -> None:
    _swap(with_id=True)
