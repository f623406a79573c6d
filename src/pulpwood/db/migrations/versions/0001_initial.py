"""Initial schema.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    from alembic import op

    from pulpwood.db.base import Base

    Base.metadata.create_all(op.get_bind())


def downgrade() -> None:
    from alembic import op

    from pulpwood.db.base import Base

    Base.metadata.drop_all(op.get_bind())
