"""wake idle workers when a task is dispatched or ends

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 05:10:00

On PostgreSQL, core_task NOTIFYs `pulp_worker_wakeup` when a task is inserted waiting and when
a task reaches a final state (it may have held resources a waiting task needs). Idle workers
listen instead of polling the table (worker/wakeup.py). The trigger is in the database rather
than in the dispatching code, so every way a task is created or ends is heard, and NOTIFY
goes out only when the transaction commits. Nothing on SQLite: workers poll there.
"""

from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

CHANNEL = 'pulp_worker_wakeup'
FUNCTION = 'pulpwood_worker_wakeup'
FINAL = "('completed', 'failed', 'canceled', 'skipped')"
TRIGGERS = {
    'worker_wakeup_dispatched': "AFTER INSERT ON core_task FOR EACH ROW WHEN (NEW.state = 'waiting')",
    'worker_wakeup_ended': ("AFTER UPDATE OF state ON core_task FOR EACH ROW "
                            f"WHEN (NEW.state IN {FINAL} AND OLD.state IS DISTINCT FROM NEW.state)"),
}


def upgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute(f"""CREATE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN PERFORM pg_notify('{CHANNEL}', ''); RETURN NULL; END $$""")
    for name, when in TRIGGERS.items():
        op.execute(f'CREATE TRIGGER {name} {when} EXECUTE FUNCTION {FUNCTION}()')


def downgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    for name in TRIGGERS:
        op.execute(f'DROP TRIGGER {name} ON core_task')
    op.execute(f'DROP FUNCTION {FUNCTION}()')
